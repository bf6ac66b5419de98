"""Workers on other machines: the engine's heavy work as Celery tasks over Redis (docs/SCALING.md)."""

"""The Celery application: Redis as broker and result backend, settings for at-least-once delivery.

Celery delivers a task at least once. What makes that safe here:
- `task_acks_late`: a task's message is acknowledged after it ran, so a worker that dies
  mid-task (kill -9, machine gone) leaves it unacknowledged;
- the Redis transport's `visibility_timeout`: an unacknowledged message goes back on the queue
  after that long, so it must be longer than the longest task (BROKER_VISIBILITY_TIMEOUT_S);
- `task_reject_on_worker_lost`: a pool process that dies hands its task back at once;
- the sweep that puts such messages back runs every tenth of the visibility timeout (1 to 10 s),
  scanning each time: kombu's default scans every 100 s, which would keep a dead worker's task
  waiting well past a short timeout;
- prefetch 1: a worker holds only the task it runs, so a busy worker does not sit on others' work;
- tasks write to keys made from the job id and attempt, and the bot applies a result only while
  that job is still running that attempt (workers are stateless compute; the bot decides).
"""
from __future__ import annotations

from celery import Celery

QUEUE = "shortsbot"
CANCELLED_PREFIX = "shortsbot:cancelled:"


def make_app(broker_url: str, visibility_timeout_s: float = 3600.0) -> Celery:
    app = Celery("shortsbot", broker=broker_url, backend=broker_url, include=["workers.tasks"])
    transport = {"visibility_timeout": int(visibility_timeout_s),
                 "unacked_restore_interval": restore_interval_s(visibility_timeout_s), "unacked_restore_throttle": 1}
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_track_started=True,
        task_default_queue=QUEUE,
        broker_transport_options=transport,
        result_backend_transport_options=transport,
        result_expires=int(max(visibility_timeout_s, 3600) * 2),
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
    )
    return app


def restore_interval_s(visibility_timeout_s: float) -> int:
    """How often a worker looks for messages whose visibility timeout has passed (kombu takes whole seconds)."""
    return int(min(10, max(1, visibility_timeout_s // 10)))


def app_from_settings(settings) -> Celery:
    if not settings.broker_url:
        raise ValueError("BROKER_URL is not set: with no broker the bot does its work itself")
    return make_app(settings.broker_url, settings.broker_visibility_timeout_s)

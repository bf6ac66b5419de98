"""`shortsbot worker`: a Celery worker that runs the engine's tasks. Start as many as you like, on
any machine that reaches BROKER_URL and MEDIA_STORE; each is stateless."""
from __future__ import annotations

import os
import socket
import sys

from workers.app import QUEUE, app_from_settings


def run_worker(settings, concurrency: int | None = None, name: str | None = None) -> int:
    if not settings.broker_url:
        print("shortsbot worker: set BROKER_URL (e.g. redis://localhost:6379/0) to the bot's broker.", file=sys.stderr)
        return 2
    app = app_from_settings(settings)
    # No mingle: at start it waits a second for the other workers' revoked lists, and a task
    # revoked before this worker started is stopped by its cancel mark in Redis (workers.tasks).
    hostname = name or f"shortsbot-{os.getpid()}@{socket.gethostname()}"
    app.worker_main(["worker", f"--loglevel={settings.log_level}", f"--concurrency={concurrency or settings.worker_concurrency}",
                     "--pool=prefork", f"--hostname={hostname}", f"--queues={QUEUE}", "-O", "fair",
                     "--without-gossip", "--without-mingle"])
    return 0

"""Where the local clip service's engine work runs: in this process (no BROKER_URL, the default),
or as Celery tasks on `shortsbot worker` processes (BROKER_URL set; see workers/).

Both offer the same three calls, so the service does not ask which it has:
- `analyse(path, config, progress, cancel, language)`: blocking, for the service's analysis pool;
- `await render(spec, out, config, progress, cancel)`: the clip and its thumbnail, at `out` in this
  process; with workers, where the worker put them in the media store (storage.media_store.find_render
  reads them there: a file in a directory store, an object in S3);
- `ahead(spec, out, config, cancel)`: a clip that renders soon (in this process its faces are found
  meanwhile, engine.ahead; workers take each render as it comes).

With workers, the bot stays the system of record: a render is keyed by the running job's id and
attempt, and its result is applied only while the job table says that job is still running that
attempt; a late or repeated delivery changes nothing.
"""
from __future__ import annotations

import asyncio
import logging
import threading
from functools import partial
from pathlib import Path

from bot.jobs import current_job
from engine.ahead import Ahead
from engine.models import Cancelled, ProgressCallback, RenderedClip, RenderSpec
from engine.pipeline import analyse as analyse_here
from engine.render import render_clip

log = logging.getLogger(__name__)


class InProcessEngine:
    analyse = staticmethod(analyse_here)

    def __init__(self) -> None:
        self._ahead = Ahead()               # one for every chat: two prepares at once at most

    def ahead(self, spec: RenderSpec, out: Path, config, cancel: threading.Event | None) -> None:
        """Start finding the faces of a clip that renders soon (engine.ahead)."""
        self._ahead.start(str(out), spec, config, cancel)

    async def render(self, spec: RenderSpec, out: Path, config, progress: ProgressCallback | None,
                     cancel: threading.Event | None) -> RenderedClip:
        return await asyncio.to_thread(render_clip, spec, out, config, progress, cancel, self._ahead)

    def close(self) -> None:
        self._ahead.close()


class WorkerEngine:
    def __init__(self, settings, repos):
        from storage.media_store import serve_renders_from, store_from_settings
        from workers.app import app_from_settings
        from workers.dispatch import RemoteEngine

        self.remote = RemoteEngine(app_from_settings(settings), store_from_settings(settings))
        self.repos = repos
        serve_renders_from(self.remote.store)       # clips are read where the workers wrote them
        threading.Thread(target=self._warm_up, name="broker-warm-up", daemon=True).start()

    def _warm_up(self) -> None:
        from workers.dispatch import warm_up

        try:
            warm_up(self.remote.app)
        except Exception as exc:  # noqa: BLE001 - the first task connects again and reports what is wrong
            log.warning("could not reach the broker at start (%s); tasks will try again", exc)

    @property
    def analyse(self):
        """The analysis call, keyed by the job asking for it. Read where the service hands the call
        to its thread pool, so in the job's own context (a pool thread does not inherit it); the
        analysis started at upload has no job and is keyed by the upload."""
        ctx = current_job.get()
        job_id, attempt = (ctx.job.id, ctx.job.attempts) if ctx is not None else (0, 0)
        return partial(self.remote.analyse, job_id=job_id, attempt=attempt)

    def ahead(self, spec: RenderSpec, out: Path, config, cancel: threading.Event | None) -> None:
        """Nothing: each render is a task of its own, and the workers take them as they come."""

    def close(self) -> None:
        """Nothing: the workers' connections close with the process."""

    async def render(self, spec: RenderSpec, out: Path, config, progress: ProgressCallback | None,
                     cancel: threading.Event | None) -> RenderedClip:
        ctx = current_job.get()
        job_id, attempt = (ctx.job.id, ctx.job.attempts) if ctx is not None else (0, 0)
        rendered = await asyncio.to_thread(self.remote.render_clip, spec, out, config, progress, cancel,
                                           job_id=job_id, attempt=attempt)
        if ctx is not None:
            row = await self.repos.jobs.get(job_id)
            if row is None or row.state != "running" or row.attempts != attempt:
                raise Cancelled(f"job {job_id} is no longer running attempt {attempt}; its render is not applied")
        return rendered


def engine_for(settings, repos) -> InProcessEngine | WorkerEngine:
    return WorkerEngine(settings, repos) if settings.broker_url else InProcessEngine()

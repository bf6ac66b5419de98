"""The bot's side of the workers: send a task, follow its progress, cancel it, read its result.

`RemoteEngine.render` and `.analyse` have the shape of the in-process engine calls (a progress
callback, a cancel event, the engine's dataclasses back), so the clip service can use either.
The files come back as keys in the media store; `store.local_path` gives ffmpeg-ready paths.
"""
from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from celery import Celery

from engine import models
from engine.models import Cancelled, LayoutStretch, ProgressCallback, RenderedClip, RenderFailed, RenderSpec
from workers.app import CANCELLED_PREFIX
from workers.codec import from_json, to_json
from workers.tasks import analysis_key, task_id

POLL_S = 0.2                    # how often the bot reads a running task's state from Redis


@dataclass(frozen=True)
class TaskRun:
    id: str
    worker: str
    seconds: float              # from sending to the result, as the bot saw it


class RemoteEngine:
    def __init__(self, app: Celery, store, poll_s: float = POLL_S):
        self.app, self.store, self.poll_s = app, store, poll_s
        self.runs: list[TaskRun] = []

    async def render(self, job_id: int, attempt: int, name: str, spec: RenderSpec, source_key: str,
                     music_key: str | None = None, progress: ProgressCallback | None = None,
                     cancel: threading.Event | None = None) -> RenderedClip:
        tid = task_id("render", job_id, attempt, Path(name).stem)
        payload = to_json(spec)
        payload["media"]["path"] = source_key          # the worker's own path replaces it
        payload["music"] = None
        result = await self._run("shortsbot.render", tid, [job_id, attempt, name, payload, source_key, music_key],
                                 progress, cancel)
        return RenderedClip(path=self.store.local_path(result["video_key"]),
                            thumbnail=self.store.local_path(result["thumbnail_key"]),
                            width=result["width"], height=result["height"], duration=result["duration"],
                            size_bytes=result["size_bytes"],
                            layout=from_json(tuple[LayoutStretch, ...], result.get("layout") or []))

    async def analyse(self, job_id: int, attempt: int, source_key: str, language: str | None = None,
                      progress: ProgressCallback | None = None, cancel: threading.Event | None = None):
        from engine.pipeline import Analysis

        key = analysis_key(source_key, language)
        if not self.store.exists(key):
            tid = task_id("analyse", job_id, attempt, language or "")
            result = await self._run("shortsbot.analyse", tid, [job_id, attempt, source_key, language],
                                     progress, cancel)
            key = result["analysis_key"]
        data = json.loads(await asyncio.to_thread(self.store.get_bytes, key))
        analysis = from_json(Analysis, data)
        analysis.media = from_json(models.MediaInfo, {**data["media"],
                                                      "path": str(self.store.local_path(source_key))})
        return analysis

    async def _run(self, name: str, tid: str, args: list, progress: ProgressCallback | None,
                   cancel: threading.Event | None) -> dict:
        sent = time.monotonic()
        result = self.app.send_task(name, args=args, task_id=tid)
        shown = None
        while not result.ready():
            if cancel is not None and cancel.is_set():
                self.cancel(tid)
                raise Cancelled("cancelled")
            info = result.info if result.state == "PROGRESS" else None
            if progress is not None and isinstance(info, dict) and info != shown:
                shown = info
                progress(float(info.get("fraction", 0.0)), str(info.get("label", "")))
            await asyncio.sleep(self.poll_s)
        if result.failed():
            raise RenderFailed(f"the worker could not finish {name}: {result.result!r}")
        value = result.result
        result.forget()
        if value.get("cancelled"):
            raise Cancelled("cancelled")
        if "error" in value:
            kind = getattr(models, value["error"], None)
            if isinstance(kind, type) and issubclass(kind, Exception):
                raise kind(value["message"])
            raise RenderFailed(value["message"])
        self.runs.append(TaskRun(tid, value.get("worker", ""), time.monotonic() - sent))
        return value

    def cancel(self, tid: str) -> None:
        """Mark the task cancelled (a copy delivered later finds the mark and does nothing), then
        revoke it with SIGTERM: its pool process kills its process group, ffmpeg with it."""
        client = getattr(self.app.backend, "client", None)
        if client is not None:
            ttl = int(self.app.conf.broker_transport_options.get("visibility_timeout", 3600)) * 2
            client.set(CANCELLED_PREFIX + tid, b"1", ex=ttl)
        self.app.control.revoke(tid, terminate=True, signal="SIGTERM")

"""The bot's side of the workers: send a task, follow its progress, cancel it, read its result.

`RemoteEngine.render_clip` and `.analyse` have the shape of engine.render.render_clip and
engine.pipeline.analyse (a progress callback, a cancel event, the engine's dataclasses back),
so the clip service runs either in the same thread it would have used. They block while the
task runs, polling its state in Redis; the files come back as keys in the media store.
"""
from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from celery import Celery

from engine import models
from engine.models import Cancelled, LayoutStretch, ProgressCallback, RenderedClip, RenderFailed, RenderSpec
from storage.media_store import DirectoryStore
from workers.app import CANCELLED_PREFIX
from workers.codec import error_from_json, from_json, to_json
from workers.tasks import analysis_key, task_id, upload_analysis_task_id

POLL_S = 0.1                    # how often the bot reads a running task's state from Redis


@dataclass(frozen=True)
class TaskRun:
    id: str
    worker: str
    seconds: float              # from sending to the result, as the bot saw it
    work_s: float               # the engine's own work inside the task (the rest is overhead)


def warm_up(app: Celery) -> None:
    """Opens the bot's connections to the broker and the result backend (and imports what they
    use), so the first task a user waits for does not pay for them (about half a second)."""
    app.backend.client.ping()
    with app.producer_or_acquire() as producer:
        producer.connection.ensure_connection(max_retries=1)
        app.amqp.queues[app.conf.task_default_queue].declare(channel=producer.channel)


class RemoteEngine:
    def __init__(self, app: Celery, store, poll_s: float = POLL_S):
        self.app, self.store, self.poll_s = app, store, poll_s
        self.runs: list[TaskRun] = []

    # --- in the engine's own shapes ---------------------------------------------------------------

    def render_clip(self, spec: RenderSpec, out_path: Path, config=None, progress: ProgressCallback | None = None,
                    cancel: threading.Event | None = None, *, job_id: int = 0, attempt: int = 0) -> RenderedClip:
        """Renders on a worker. The clip stays where the worker put it, in the media store: with a
        directory store its path is the file itself; with S3 its path is where `local_path` would
        keep a copy, which nobody makes unless a reader must have a file (storage.media_store.StoredFile).
        `out_path` gives only the file's name (and, outside a job, its session's folder)."""
        out_path = Path(out_path)
        name = out_path.name if job_id else f"{out_path.parent.name}/{out_path.name}"
        return self.render(job_id, attempt, name, spec, self.key_for(spec.media.path),
                           self.key_for(spec.music) if spec.music else None, progress, cancel,
                           background_key=self.key_for(spec.background) if spec.background else None)

    def analyse(self, path: Path | str, config=None, progress: ProgressCallback | None = None,
                cancel: threading.Event | None = None, language: str | None = None, *,
                job_id: int = 0, attempt: int = 0):
        return self.analyse_key(job_id, attempt, self.key_for(Path(path)), language, progress, cancel)

    def key_for(self, path: Path) -> str:
        """The store key of a file the bot holds: its place in a directory store, or sources/NAME
        (uploads are named by their content hash) put into the store once."""
        path = Path(path)
        if isinstance(self.store, DirectoryStore):
            try:
                return path.resolve().relative_to(self.store.root.resolve()).as_posix()
            except ValueError:
                pass
        key = "sources/" + re.sub(r"[^A-Za-z0-9._-]", "_", path.name)
        if not self.store.exists(key):
            self.store.put_file(key, path)
        return key

    # --- by store key -------------------------------------------------------------------------

    def render(self, job_id: int, attempt: int, name: str, spec: RenderSpec, source_key: str,
               music_key: str | None = None, progress: ProgressCallback | None = None,
               cancel: threading.Event | None = None, background_key: str | None = None) -> RenderedClip:
        tid = task_id("render", job_id, attempt, str(Path(name).with_suffix("")))
        payload = to_json(spec)
        payload["media"]["path"] = source_key          # the worker's own paths replace these
        payload["music"] = payload["background"] = None
        result = self._run("shortsbot.render", tid,
                           [job_id, attempt, name, payload, source_key, music_key, background_key], progress, cancel)
        return RenderedClip(path=self.store.place_of(result["video_key"]),
                            thumbnail=self.store.local_path(result["thumbnail_key"]),   # small; sent as a file
                            width=result["width"], height=result["height"], duration=result["duration"],
                            size_bytes=result["size_bytes"],
                            layout=from_json(tuple[LayoutStretch, ...], result.get("layout") or []))

    def analyse_key(self, job_id: int, attempt: int, source_key: str, language: str | None = None,
                    progress: ProgressCallback | None = None, cancel: threading.Event | None = None):
        """The analysis started at upload (no job) is keyed by the upload. A job's analysis is that
        same one whenever it is stored (the job asked after it finished, or the bot restarted since);
        otherwise the job's own, keyed by its id and attempt."""
        from engine.pipeline import Analysis

        key = analysis_key(source_key, language)
        if job_id and not self.store.exists(key):
            key = analysis_key(source_key, language, job_id, attempt)
        if not self.store.exists(key):
            tid = (task_id("analyse", job_id, attempt, language or "auto") if job_id
                   else upload_analysis_task_id(source_key, language))
            result = self._run("shortsbot.analyse", tid, [job_id, attempt, source_key, language], progress, cancel)
            key = result["analysis_key"]
        data = json.loads(self.store.get_bytes(key))
        analysis = from_json(Analysis, data)
        analysis.media = from_json(models.MediaInfo, {**data["media"], "path": str(self.store.local_path(source_key))})
        return analysis

    def _run(self, name: str, tid: str, args: list, progress: ProgressCallback | None,
             cancel: threading.Event | None) -> dict:
        sent = time.monotonic()
        result = self.app.send_task(name, args=args, task_id=tid)
        shown = None
        while not result.ready():
            if cancel is not None and cancel.is_set():
                self.cancel(tid)
                result.forget()         # ends its subscription to the result now, not whenever it is collected
                raise Cancelled("cancelled")
            # One read of the task's state and its info: two reads could pair PROGRESS with the final result.
            meta = self.app.backend.get_task_meta(tid, cache=False)
            info = meta.get("result") if meta.get("status") == "PROGRESS" else None
            if progress is not None and isinstance(info, dict) and info != shown:
                shown = info
                progress(float(info.get("fraction", 0.0)), str(info.get("label", "")))
            time.sleep(self.poll_s)
        if result.failed():
            raise RenderFailed(f"the worker could not finish {name}: {result.result!r}", "render_worker_failed",
                               name=name)
        value = result.result
        result.forget()
        if value.get("cancelled"):
            raise Cancelled("cancelled")
        if "error" in value:
            raise error_from_json(value)
        self.runs.append(TaskRun(tid, value.get("worker", ""), time.monotonic() - sent, float(value.get("work_s", 0.0))))
        return value

    def cancel(self, tid: str) -> None:
        """Mark the task cancelled (a copy delivered later finds the mark and does nothing), then
        revoke it with SIGTERM: its pool process kills its process group, ffmpeg with it."""
        client = getattr(self.app.backend, "client", None)
        if client is not None:
            ttl = int(self.app.conf.broker_transport_options.get("visibility_timeout", 3600)) * 2
            client.set(CANCELLED_PREFIX + tid, b"1", ex=ttl)
        self.app.control.revoke(tid, terminate=True, signal="SIGTERM")

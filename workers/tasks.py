"""The engine's heavy work as Celery tasks: analysis of an upload, rendering of one clip.

A task only computes. It reads its source from the media store, writes its output to keys made
from the job id, attempt and clip name (`render_keys`, `analysis_key`), and returns where they
are. Media never travels through the broker: messages carry keys and the engine's dataclasses
as JSON. A task delivered twice finds its result file and returns it without working again.

Cancel: each pool process leads its own process group, which every ffmpeg the engine starts
joins. The bot revokes a task with SIGTERM; the pool process then kills its whole group, so
no ffmpeg is left running on the worker. The same happens when the worker's main process dies
(the parent-death signal).
"""
from __future__ import annotations

import ctypes
import json
import logging
import os
import signal
import socket
import tempfile
import time
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

from celery import shared_task
from celery.signals import worker_init, worker_process_init

from workers import preload
from workers.app import CANCELLED_PREFIX
from workers.codec import error_to_json, from_json, to_json

log = logging.getLogger("shortsbot.worker")
PROGRESS_EVERY_S = 0.5          # at most this often a task's progress is written to Redis
PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class RenderKeys:
    video: str
    thumbnail: str
    result: str                 # written last: its presence means the render is complete


def render_keys(job_id: int, attempt: int, name: str) -> RenderKeys:
    """`name` is the clip's file name; a render outside any job (job 0) names its session's folder
    too ("loc_ab12/clip-01-….mp4"), so two sessions' renders never share a key."""
    stem = str(Path(name).with_suffix(""))
    folder = f"renders/job-{int(job_id)}/attempt-{int(attempt)}"
    return RenderKeys(f"{folder}/{stem}.mp4", f"{folder}/{stem}.jpg", f"{folder}/{stem}.json")


def analysis_key(source_key: str, language: str | None, job_id: int = 0, attempt: int = 0) -> str:
    """A job's analysis is keyed by the job and attempt; the one started at upload (no job yet)
    by the upload, which is its content-hashed source key."""
    heard = language or "auto"
    if job_id:
        return f"analyses/job-{int(job_id)}/attempt-{int(attempt)}/{heard}.json"
    from engine.transcribe import CACHE_VERSION     # versioned as the transcript cache is: an
                                                    # upload's analysis made by older code is not reused
    return f"analyses/upload-{source_key.replace('/', '--')}/v{CACHE_VERSION}/{heard}.json"


def task_id(kind: str, job_id: int, attempt: int, name: str = "") -> str:
    """One id per piece of work: the same job, attempt and clip always name the same task."""
    return f"shortsbot-{kind}-{int(job_id)}-{int(attempt)}" + (f"-{name.replace('/', '-')}" if name else "")


def upload_analysis_task_id(source_key: str, language: str | None) -> str:
    return f"shortsbot-analyse-upload-{source_key.replace('/', '-')}-{language or 'auto'}"


# --- the worker process ------------------------------------------------------------------------

@worker_init.connect
def _import_engine(**_) -> None:
    log.info("engine imported in %.2f s, before the pool starts", preload.import_engine())


@worker_process_init.connect
def _own_process_group(**_) -> None:
    os.setpgrp()
    signal.signal(signal.SIGTERM, _kill_own_group)
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass                    # not Linux: a dead worker's ffmpeg finishes its clip and exits
    preload.load_in_pool_process()


def _kill_own_group(signum, frame) -> None:
    os.killpg(os.getpgrp(), signal.SIGKILL)


@dataclass(frozen=True)
class WorkerContext:
    store: object
    config: object
    preload_model: bool = True


@cache
def context() -> WorkerContext:
    from bot.settings import load_settings
    from storage.media_store import store_from_settings

    settings = load_settings()
    return WorkerContext(store_from_settings(settings), settings.engine_config(), settings.worker_preload_model)


def _reporter(task):
    # ffmpeg's progress arrives on another thread, where task.request (thread-local) is empty.
    tid, last = task.request.id, [0.0]

    def report(fraction: float, label: str) -> None:
        now = time.monotonic()
        if now - last[0] >= PROGRESS_EVERY_S or fraction >= 1.0:
            last[0] = now
            task.update_state(task_id=tid, state="PROGRESS",
                              meta={"fraction": round(float(fraction), 4), "label": label})
    return report


def _cancelled(task) -> bool:
    client = getattr(task.backend, "client", None)
    return bool(client is not None and client.exists(CANCELLED_PREFIX + str(task.request.id)))


# --- the tasks ---------------------------------------------------------------------------------

@shared_task(bind=True, name="shortsbot.render")
def render(task, job_id: int, attempt: int, name: str, spec: dict, source_key: str,
           music_key: str | None = None, background_key: str | None = None) -> dict:
    from engine.models import EngineError, RenderFailed, RenderSpec
    from engine.render import render_clip

    ctx = context()
    keys = render_keys(job_id, attempt, name)
    if _cancelled(task):
        return {"cancelled": True}
    if ctx.store.exists(keys.result):
        log.info("render job=%s attempt=%s clip=%s already done", job_id, attempt, name)
        return json.loads(ctx.store.get_bytes(keys.result))
    started, started_at = time.monotonic(), time.time()
    render_spec = from_json(RenderSpec, spec)
    media = replace(render_spec.media, path=ctx.store.local_path(source_key))
    music = ctx.store.local_path(music_key) if music_key else None
    background = ctx.store.local_path(background_key) if background_key else None
    render_spec = replace(render_spec, media=media, music=music, background=background)
    try:
        with tempfile.TemporaryDirectory(prefix="shortsbot-task-") as tmp:
            began = time.monotonic()
            rendered = render_clip(render_spec, Path(tmp) / Path(name).with_suffix(".mp4").name, ctx.config,
                                   progress=_reporter(task))
            render_s = time.monotonic() - began
            ctx.store.put_file(keys.video, rendered.path)
            ctx.store.put_file(keys.thumbnail, rendered.thumbnail)
    except (EngineError, RenderFailed) as exc:
        return error_to_json(exc)
    result = {"video_key": keys.video, "thumbnail_key": keys.thumbnail, "width": rendered.width,
              "height": rendered.height, "duration": rendered.duration, "size_bytes": rendered.size_bytes,
              "layout": to_json(rendered.layout), "worker": f"{socket.gethostname()}:{os.getpid()}",
              "seconds": round(time.monotonic() - started, 3), "work_s": round(render_s, 3),
              "started_at": started_at, "finished_at": time.time()}
    ctx.store.put_bytes(keys.result, json.dumps(result).encode())
    log.info("rendered job=%s attempt=%s clip=%s in %.2f s -> %s", job_id, attempt, name, result["seconds"], keys.video)
    return result


@shared_task(bind=True, name="shortsbot.analyse")
def analyse(task, job_id: int, attempt: int, source_key: str, language: str | None = None) -> dict:
    from engine.models import EngineError
    from engine.pipeline import analyse as analyse_source

    ctx = context()
    key = analysis_key(source_key, language, job_id, attempt)
    if _cancelled(task):
        return {"cancelled": True}
    if not ctx.store.exists(key):
        started = time.monotonic()
        try:
            analysis = analyse_source(ctx.store.local_path(source_key), ctx.config, progress=_reporter(task),
                                      language=language)
        except EngineError as exc:
            return error_to_json(exc)
        ctx.store.put_bytes(key, json.dumps(to_json(analysis)).encode())
        log.info("analysed job=%s attempt=%s source=%s in %.2f s -> %s", job_id, attempt, source_key,
                 time.monotonic() - started, key)
        return {"analysis_key": key, "worker": f"{socket.gethostname()}:{os.getpid()}",
                "work_s": round(time.monotonic() - started, 3)}
    log.info("analysis job=%s attempt=%s source=%s already done", job_id, attempt, source_key)
    return {"analysis_key": key, "worker": f"{socket.gethostname()}:{os.getpid()}", "work_s": 0.0}

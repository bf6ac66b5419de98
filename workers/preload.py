"""The engine loaded before a worker's first task, so that task does not pay for it.

Two of Celery's worker signals, in the order a worker starts:
- `worker_init`, in the worker's main process before the pool forks: the engine's modules
  (faster-whisper with CTranslate2 and PyAV, OpenCV, numpy, the render and analysis code) are
  imported once there, and every pool process inherits them already imported;
- `worker_process_init`, in each pool process after the fork: the speech model and the task
  context (settings, media store client) load on a background thread. Not before the fork:
  CTranslate2 starts its own threads when a model loads, and a forked child has none of them,
  so a model loaded in the parent would hang in the child. Not on the signal's own thread either:
  Celery kills a pool process whose start takes longer than `worker_proc_alive_timeout` (4 s).
  A task that needs the model meanwhile waits for it on the engine's model lock.
  WORKER_PRELOAD_MODEL=false leaves the model to the first analysis (a worker that only renders
  then never spends the CPU and memory on it).
"""
from __future__ import annotations

import importlib
import logging
import threading
import time

log = logging.getLogger("shortsbot.worker")

# engine first: it sets how the speech model's threads wait before CTranslate2 loads (engine/__init__.py)
ENGINE_MODULES = ("engine", "numpy", "faster_whisper", "ctranslate2", "av", "boto3", "engine.pipeline", "engine.render",
                  "engine.reframe.detection")


def import_engine() -> float:
    """Imports what every task needs; returns how long it took."""
    started = time.monotonic()
    for name in ENGINE_MODULES:
        importlib.import_module(name)
    from engine.reframe.detection import _opencv_import

    with _opencv_import:                        # OpenCV finishes its import in steps (cv2.data last)
        import cv2  # noqa: F401
        import cv2.data  # noqa: F401
    return time.monotonic() - started


def load_in_pool_process() -> threading.Thread:
    """Starts loading the task context and the speech model on a background thread."""
    def load() -> None:
        started = time.monotonic()
        try:
            from engine.transcribe import load_model
            from workers.tasks import context

            ctx = context()
            if not ctx.preload_model:
                return
            load_model(ctx.config)
        except Exception as exc:  # noqa: BLE001 - the first analysis reports a missing model in its own words
            log.warning("could not load the speech model ahead of the first task: %s", exc)
            return
        log.info("speech model loaded in %.2f s", time.monotonic() - started)

    thread = threading.Thread(target=load, name="shortsbot-preload", daemon=True)
    thread.start()
    return thread

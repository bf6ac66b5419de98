"""Finding a clip's faces and loudness (render.prepare) ahead of its encode.

A prepare runs on one core: a small decode, the cascades, the speaking scores. x264 rarely keeps
both cores of a small machine full, and before the first encode of a cut the second core would
idle. So the clips of a cut are prepared up to `AHEAD` at once, each on a thread of its own (the
face detector is per thread, see reframe.detection.shared_detector), and an encode takes its
clip's prepare when it starts: it waits for it, or prepares there when it was never started or
its spec changed since (an edit in between).

The command line renders its clips through this (render.render_specs), and so does the bot's
in-process engine, one `Ahead` for all its chats: a cut starts the next clips while the current
one encodes.
"""
from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from engine.models import EngineConfig, RenderSpec

log = logging.getLogger(__name__)

AHEAD = 2                   # prepares at once: the first two clips of a cut, then the next ones
KEPT = 8                    # prepares started and not yet taken (by cuts stopped since): the oldest go


class Stop:
    """Set when the caller's cancel event is, or when the prepare is no longer wanted (its cut
    stopped, or it was dropped). Offers the is_set() the stages poll."""

    def __init__(self, outer: threading.Event | None) -> None:
        self.outer, self.inner = outer, threading.Event()

    def is_set(self) -> bool:
        return self.inner.is_set() or (self.outer is not None and self.outer.is_set())

    def set(self) -> None:
        self.inner.set()


@dataclass
class _Started:
    spec: RenderSpec
    config: EngineConfig
    future: Future
    stop: Stop


class Ahead:
    """Prepares started by key (the clip's output path) and taken by the encode of that key."""

    def __init__(self, workers: int = AHEAD) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="prepare")
        self._started: dict[str, _Started] = {}
        self._lock = threading.Lock()

    def start(self, key: str, spec: RenderSpec, config: EngineConfig,
              cancel: threading.Event | None = None) -> None:
        """Begin preparing `spec` on a pool thread, unless it is already begun (or has no picture:
        an audiogram has no faces to find)."""
        from engine.render import prepare

        if not spec.media.has_video:
            return
        with self._lock:
            if key in self._started and self._started[key].spec == spec:
                return
            stop = Stop(cancel)
            self._started[key] = _Started(spec, config, self._pool.submit(prepare, spec, config, stop), stop)
            log.debug("finding the faces of %s ahead", key)
            while len(self._started) > KEPT:
                self._drop(next(iter(self._started)))

    def take(self, key: str, spec: RenderSpec, config: EngineConfig, cancel: threading.Event | None = None):
        """The Prepared of `spec`: the one started under `key` when it is for this very spec and
        config and under way or done, else prepared here and now (one still queued behind other
        prepares would only make this encode wait)."""
        from engine.render import prepare

        with self._lock:
            started = self._started.pop(key, None)
        if started is not None:
            if started.spec == spec and started.config == config and not started.future.cancel():
                return started.future.result()
            started.stop.set()
        return prepare(spec, config, cancel)

    def close(self) -> None:
        """Stop every prepare not taken and let the pool's threads go."""
        with self._lock:
            for key in list(self._started):
                self._drop(key)
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _drop(self, key: str) -> None:
        started = self._started.pop(key)
        started.stop.set()                  # a prepare under way stops at its next check
        started.future.cancel()

"""The local service's analyses, run in the background: one per source (and spoken language),
started at upload so the slow part is done when the request comes; progress for whoever waits."""
from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, AsyncIterator, Callable

from bot.backends.base import ChatEvent
from engine.models import Cancelled
from storage.repos import MediaRecord

log = logging.getLogger(__name__)

ANALYSES_KEPT = 8                # analyses kept in memory (the transcripts are also cached on disk)


class _Outcome:
    """The value at the end of an event stream that reports progress on the way."""

    def __init__(self, value: Any):
        self.value = value


@dataclass
class _AnalysisRun:
    future: Future | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    listeners: list[Callable[[float, str], None]] = field(default_factory=list)
    last: float = 0.0
    sessions: set[str] = field(default_factory=set)     # who wants it; when the last one cancels, it stops

    def unwanted_by(self, session_id: str) -> bool:
        """Drops one session's interest; stops the run when nobody else wants it. True when it stopped."""
        self.sessions.discard(session_id)
        if self.sessions or self.future.done():
            return False
        self.cancel.set()
        return True

    def report(self, fraction: float, label: str) -> None:
        self.last = fraction
        for listener in list(self.listeners):
            listener(fraction, label)


class Analyses:
    """LocalBackend's analyses (a mixin: it owns config, _pool and _analyses)."""

    def _analysis_run(self, media: MediaRecord, session_id: str, language: str | None = None) -> _AnalysisRun:
        """The analysis started at upload, or (when the user named the spoken language) one with it."""
        key = media.sha256 if language is None else f"{media.sha256}:{language}"
        heard = self._analyses.get(media.sha256)
        if (language is not None and heard is not None and heard.future.done() and not heard.future.cancelled()
                and heard.future.exception() is None and heard.future.result().transcript.language == language):
            key = media.sha256                  # detection heard what the user says: no second pass
        run = self._analyses.get(key)
        failed = run is not None and (run.cancel.is_set() or run.future.done() and (
            run.future.cancelled() or run.future.exception() is not None))
        if run is not None and not failed:
            self._analyses.move_to_end(key)
            run.sessions.add(session_id)
            return run
        run = _AnalysisRun(sessions={session_id})
        run.future = self._pool.submit(self.engine.analyse, Path(media.path), self.config, run.report, run.cancel,
                                       language)
        self._analyses[key] = run
        while len(self._analyses) > ANALYSES_KEPT:
            oldest = next(iter(self._analyses))
            if not self._analyses[oldest].future.done():
                break
            self._analyses.pop(oldest)
        return run

    async def _analysis(self, media: MediaRecord, cancel: threading.Event,
                        session_id: str, language: str | None = None) -> AsyncIterator[ChatEvent | _Outcome]:
        """Progress events while the media's analysis finishes (it may have started at upload), then the Analysis."""
        run = self._analysis_run(media, session_id, language)
        loop = asyncio.get_running_loop()
        updates: asyncio.Queue[float] = asyncio.Queue()

        def listener(fraction: float, label: str) -> None:
            loop.call_soon_threadsafe(updates.put_nowait, fraction)

        run.listeners.append(listener)
        try:
            done = asyncio.wrap_future(run.future)
            stage = "analyse_sound" if media.kind == "audio" else "analyse"
            yield ChatEvent("progress", fraction=run.last, stage=stage)
            while not done.done():
                getter = asyncio.ensure_future(updates.get())
                finished, _ = await asyncio.wait({done, getter}, timeout=0.25, return_when=asyncio.FIRST_COMPLETED)
                if getter in finished:
                    yield ChatEvent("progress", fraction=getter.result(), stage=stage)
                else:
                    getter.cancel()
                if cancel.is_set():
                    run.unwanted_by(session_id)
                    raise Cancelled("cancelled")
            yield _Outcome(done.result())
        finally:
            run.listeners.remove(listener)

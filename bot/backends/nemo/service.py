"""NemoBackend: the NemoVideo cloud as a clip service. The conversation asks it for a `Who`;
everything the cloud needs besides is found and repaired in here:

- the person's account (a token: NEMO_TOKEN, or their anonymous one, kept in storage) and their
  session in this chat (a row in storage, started on the cloud when there is none);
- the one-time recovery of every call: a refused token (1001) gets a new one, a lost session
  (1002) a new session, a rate limit (429) a wait of NEMO_RETRY_AFTER_S; then the call is tried
  again. A stream is retried only while nothing of it has arrived. Any other error goes up;
- edits go to the cloud's chat as the person's words (or, without them, the Edits said in words);
  "undo" and "redo" are answered here: the cloud has no undo;
- exports: renders started, polled every NEMO_POLL_INTERVAL_S until they finish or
  NEMO_EXPORT_TIMEOUT_S passes (then they are stopped and reported as too slow), and each
  finished file downloaded when it fits the platform (else its link is given).
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable, Sequence, TypeVar

import httpx

from bot.backends.base import (
    BackendError,
    ChatEvent,
    Clip,
    Credits,
    Media,
    RateLimited,
    Reason,
    Sentence,
    SessionMissing,
    State,
    TokenInvalid,
    Who,
)
from bot.backends.nemo.client import BACKEND, Account, RenderRef, RenderStatus, SessionRef
from bot.backends.nemo.cloud import NemoCloud
from bot.jobs import current_job
from bot.texts import say
from bot.vocabulary import Edit
from engine.models import Cancelled, ClipRequest

log = logging.getLogger(__name__)

T = TypeVar("T")
RECOVERABLE = (TokenInvalid, SessionMissing, RateLimited)
Call = Callable[[Account, "SessionRef | None"], Awaitable[T]]


class NemoBackend:
    name = BACKEND
    takes_links = True           # the cloud fetches a link itself

    def __init__(self, settings, repos, *, transport: httpx.AsyncBaseTransport | None = None):
        self.settings = settings
        self.repos = repos
        self.cloud = NemoCloud(settings, repos, transport=transport)

    def __repr__(self) -> str:
        return f"NemoBackend({self.cloud!r})"

    # ---------------------------------------------------------------- the clip service

    async def upload(self, who: Who, source: Path | str) -> Media:
        return await self._calling(who, lambda account, session: self.cloud.upload(account, session, source))

    def cut(self, who: Who, words: str, request: ClipRequest) -> AsyncIterator[ChatEvent]:
        return self._chat(who, words)

    def edit(self, who: Who, edits: Sequence[Edit], words: str = "") -> AsyncIterator[ChatEvent]:
        """The cloud's agent reads the person's own words (it understands more than our vocabulary);
        without them, the edits are said in words for it. "Undo" is not sent: the cloud's API has no
        undo (nemo-api.md), and its agent asked to undo might pretend to, and charge for the turn; nor "redo"."""
        if any(edit.kind in ("undo", "redo") for edit in edits):
            return _cannot_undo("redo" if edits[0].kind == "redo" else "undo")
        return self._chat(who, words.strip() or in_words(edits))

    async def state(self, who: Who) -> State:
        rows: list[int | None] = []

        async def read(account: Account, session: SessionRef | None):
            rows.append(await self._row(session))
            return await self.cloud.state(account, session)

        timeline = await self._calling(who, read)
        return timeline.state(rows[-1])

    async def credits(self, who: Who) -> Credits:
        return await self._calling(who, lambda account, _: self.cloud.credits(account), session=False)

    async def start_over(self, who: Who) -> None:
        record = await self.repos.sessions.active(who.user_id, who.chat_key, BACKEND)
        if record is not None:
            await self.repos.sessions.end(record.id)
        await self._calling(dataclasses.replace(who, session=None), _nothing)     # a new session on the cloud

    async def cancel(self, who: Who) -> bool:
        record = (await self.repos.sessions.get(who.session) if who.session is not None
                  else await self.repos.sessions.active(who.user_id, who.chat_key, BACKEND))
        if record is None:
            return False
        account = await self.cloud.open_account(who.user_id)
        return await self.cloud.cancel(account, SessionRef(record.remote_session_id, record.task_id, who.chat_key))

    async def close(self) -> None:
        await self.cloud.close()

    async def export(self, who: Who, number: int | None = None,
                     max_bytes: int | None = None) -> AsyncIterator[ChatEvent]:
        """Progress while the cloud renders, then each clip with its file (or only its link), or why it failed."""
        refs = await self._calling(who, lambda account, session: self.cloud.export(
            account, session, None if number is None else number - 1))
        state = await self.state(who)
        statuses: dict[str, RenderStatus] = {}
        async for event in self._poll(who, refs, statuses):
            yield event
        for ref in refs:
            status = statuses[ref.render_id]
            clip = state.clips[ref.draft_index] if ref.draft_index < len(state.clips) else Clip(ref.draft_index + 1)
            if status.status != "completed":
                too_slow = status.reported == "too_slow"
                ours = Sentence("export_failed", reasons=(Reason(status.error or "", status.error_key),)) \
                    if status.error_key else None      # the cloud's own words go as they are
                yield ChatEvent("failed", text="" if too_slow else (status.error or ""), clip=clip,
                                sentence=Sentence("export_too_slow", seconds=self.settings.nemo_export_timeout_s)
                                if too_slow else ours)
                continue
            yield ChatEvent("clip", clip=await self._downloaded(clip, status, max_bytes))

    # ---------------------------------------------------------------- exports

    async def _poll(self, who: Who, refs: list[RenderRef], done: dict[str, RenderStatus]) -> AsyncIterator[ChatEvent]:
        """Each render's final status into `done`. An export still unfinished after NEMO_EXPORT_TIMEOUT_S is
        stopped, so one stuck render cannot hold a worker (and everyone queued behind it) forever."""
        interval = float(self.settings.nemo_poll_interval_s)
        timeout = self.settings.nemo_export_timeout_s
        deadline = time.monotonic() + timeout
        job = current_job.get()
        while True:
            for ref in refs:
                if ref.render_id in done:
                    continue
                status = await self._calling(who, lambda account, _: self.cloud.render_status(account, ref),
                                             session=False)
                if status.status in ("completed", "failed"):
                    done[ref.render_id] = status
                else:
                    yield ChatEvent("progress", fraction=status.progress / 100, stage="export")
            if len(done) == len(refs):
                return
            if time.monotonic() >= deadline:
                log.warning("export of user %s unfinished after %.0f s; stopping it", who.user_id, timeout)
                await self._stop(who)
                for ref in refs:
                    done.setdefault(ref.render_id, RenderStatus(ref.render_id, "failed", reported="too_slow"))
                return
            pause = max(0.0, min(interval, deadline - time.monotonic()))
            waited = 0.0
            while waited < pause:
                if job is not None and job.cancel.is_set():
                    await self._stop(who)
                    raise Cancelled("export cancelled")
                step = min(0.2, pause - waited)
                await asyncio.sleep(step)
                waited += step

    async def _stop(self, who: Who) -> None:
        try:
            await self.cancel(who)
        except BackendError as exc:             # the person hears of the timeout or cancel either way
            log.info("cancel of the renders of user %s failed: %s", who.user_id, exc)

    async def _downloaded(self, clip: Clip, status: RenderStatus, max_bytes: int | None) -> Clip:
        """The clip with its render: the downloaded file when it fits `max_bytes` (None: any size), and its URL."""
        target = self.settings.output_dir / "exports" / f"{status.render_id}.mp4"
        path = None
        try:
            path = await self.cloud.fetch_result(status.url, target, max_bytes)
        except BackendError as exc:
            log.info("could not download the render %s: %s", status.render_id, exc)
        if path is None:
            return dataclasses.replace(clip, url=status.url, path=None)
        size = await asyncio.to_thread(_video_size, Path(path))
        return dataclasses.replace(clip, url=status.url, path=Path(path), width=int(size.get("width") or 0),
                                   height=int(size.get("height") or 0), duration=float(size.get("duration") or 0))

    # ---------------------------------------------------------------- who -> account and session, with recovery

    async def _session(self, who: Who, account: Account, pinned: int | None) -> SessionRef:
        """The session a button named, else the person's active one in this chat, else a new one on the cloud."""
        record = await self.repos.sessions.get(pinned) if pinned is not None else None
        if record is None or record.user_id != who.user_id or record.backend != BACKEND:
            record = await self.repos.sessions.active(who.user_id, who.chat_key, BACKEND)
        if record is not None:
            return SessionRef(record.remote_session_id, record.task_id, who.chat_key)
        return await self.cloud.open_session(account, who.chat_key, who.language)

    async def _row(self, session: SessionRef | None) -> int | None:
        record = await self.repos.sessions.by_remote_id(BACKEND, session.session_id) if session else None
        return record.id if record is not None else None

    async def _recover(self, who: Who, exc: BackendError, tried: set[int]) -> None:
        """Repairs what the error says is broken, once per kind; raises when it cannot. The cloud has
        already put aside a refused token and ended the lost session's row (client.HttpClient._raised),
        so the retry gets a new token, or the person's active session, or a new one."""
        if exc.code in tried:
            raise exc
        tried.add(exc.code)
        if isinstance(exc, TokenInvalid):
            log.info("token of user %s refused; getting a new one", who.user_id)
        elif isinstance(exc, SessionMissing):
            log.info("session of user %s in %s is gone; opening a new one", who.user_id, who.chat_key)
        elif isinstance(exc, RateLimited):
            await asyncio.sleep(self.settings.nemo_retry_after_s)

    async def _calling(self, who: Who, call: Call, session: bool = True) -> Any:
        """A cloud call with the one-time recovery from 1001, 1002 and 429."""
        tried: set[int] = set()
        pinned = who.session
        while True:
            try:
                account = await self.cloud.open_account(who.user_id)
                ref = await self._session(who, account, pinned) if session else None
                return await call(account, ref)
            except RECOVERABLE as exc:
                await self._recover(who, exc, tried)
                if isinstance(exc, SessionMissing):
                    pinned = None

    async def _chat(self, who: Who, words: str) -> AsyncIterator[ChatEvent]:
        """The cloud's chat stream with the same recovery, as long as nothing of it has arrived."""
        tried: set[int] = set()
        pinned = who.session
        while True:
            started = False
            try:
                account = await self.cloud.open_account(who.user_id)
                session = await self._session(who, account, pinned)
                events = self.cloud.chat(account, session, words)
                try:
                    async for event in events:
                        started = True
                        yield event
                finally:
                    await events.aclose()
                return
            except RECOVERABLE as exc:
                if started:
                    raise
                await self._recover(who, exc, tried)
                if isinstance(exc, SessionMissing):
                    pinned = None


async def _cannot_undo(asked: str) -> AsyncIterator[ChatEvent]:
    yield ChatEvent("text", say("en", f"{asked}_cloud"), sentence=Sentence(f"{asked}_cloud"))
    yield ChatEvent("done")


async def _nothing(account: Account, session: SessionRef | None) -> None:
    """A call that only needs the account and session to exist (_calling makes them)."""


def _video_size(path: Path) -> dict:
    from engine.render import probe_output

    try:
        return probe_output(path)
    except Exception:  # noqa: BLE001 - a reply without its size is still a reply
        return {}


# ---------------------------------------------------------------- edits as the cloud's chat words

def in_words(edits: Sequence[Edit]) -> str:
    """What the edits ask, as a person would say it to the cloud's agent: "make clip 2 shorter by 5 seconds"."""
    return "; ".join(_said(edit) for edit in edits)


def _said(edit: Edit) -> str:
    which = f"clip {edit.clip}" if edit.clip is not None else "the clips"
    by = f" by {edit.seconds:g} seconds" if edit.seconds else ""
    moves = {"longer": f"make {which} longer{by}", "shorter": f"make {which} shorter{by}",
             "start_earlier": f"start {which} earlier{by}", "start_later": f"start {which} later{by}",
             "end_earlier": f"end {which} earlier{by}", "end_later": f"end {which} later{by}"}
    if edit.kind in moves:
        return moves[edit.kind]
    if edit.kind == "length":
        return f"make {which} {edit.seconds:g} seconds long"
    if edit.kind == "captions" and edit.on and edit.value:
        return f"use {edit.value} captions on {which}"
    if edit.kind == "captions":
        return f"add captions to {which}" if edit.on else f"remove the captions from {which}"
    if edit.kind == "aspect":
        return f"make {which} {edit.value}"
    if edit.kind == "title":
        return f'set the title of {which} to "{edit.value}"' if edit.on else f"remove the title from {which}"
    if edit.kind == "music":
        if not edit.on:
            return f"remove the background music from {which}"
        volume = f" at {round(edit.volume * 100)}% volume" if edit.volume is not None else ""
        return f"add background music to {which}{volume}"
    if edit.kind == "more":
        return f"make {edit.count or 2} more clips like these"
    if edit.kind == "reel":
        length = f" of {edit.seconds:g} seconds" if edit.seconds else ""
        return f"compile the clips into one highlight reel{length}"
    return edit.kind

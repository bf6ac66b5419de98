"""NemoCloud: the NemoVideo cloud API (see ../shared/nemo-api.md) in its own words: accounts,
sessions, a chat stream, drafts and renders. Only NemoBackend (service.py) uses it.

One httpx.AsyncClient per process. Every request carries the attribution headers
(X-Skill-Source / -Version / -Platform); every request but the anonymous-token one
carries `Authorization: Bearer <token>`, and only to the API host.

Tokens: NEMO_TOKEN when the operator set one (shared by every user), otherwise one
anonymous token per user, fetched with a stable X-Client-Id and kept in storage
(AccountRepo). The stored token is the source of truth: an Account is a handle, so a
token refreshed after expiry or a 1001 is used by the next call without a new Account.

Recovery is split with NemoBackend: on 1001 this module forgets the stored token, on 1002
it retires the stored session, and raises the typed error; the service retries the person's
action once (a fresh token / session is made on that retry). The one retry this module does
by itself is for GETs after a network error, with backoff.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, AsyncIterator

import httpx
from httpx_sse import aconnect_sse

from bot.backends.base import (
    BackendError,
    BackendUnavailable,
    ChatEvent,
    Credits,
    Media,
    NothingUploaded,
    OutOfCredits,
    RateLimited,
    Sentence,
    SessionMissing,
    TokenInvalid,
)
from bot.fetch import DownloadFailed, TooLarge, stream_to_file
from engine.probe import mime_type_for

log = logging.getLogger(__name__)

from bot.backends.nemo.accounts import Accounts

from bot.backends.nemo.client import (
    APP_NAME,
    Account,
    RenderRef,
    RenderStatus,
    SessionRef,
    BACKEND,
    PATH_CHAT,
    PATH_CREDITS,
    PATH_RENDER,
    PATH_RENDER_CANCEL,
    PATH_RENDER_STATUS,
    PATH_SESSION,
    PATH_STATE,
    PATH_UPLOAD,
    SAFE_RENDER_ID,
    STILL_WORKING,
    TIMEOUT_DEFAULT,
    TIMEOUT_UPLOAD,
    DuplicateRenderId,
    HttpClient,
    _cloud_file_name,
    _json,
    error_for,
    multipart_file,
)
from bot.backends.nemo.stream import parse_event, _text_event
from bot.backends.nemo.timeline import (Timeline, describe_changes, read_render_status, read_state, ready_to_export,
                                        timeline_edits)


@dataclass
class _Stream:
    """A chat stream in flight, so that cancel() can end it."""

    response: httpx.Response | None = None
    cancelled: bool = False


@dataclass
class _Inflight:
    renders: set[str] = field(default_factory=set)
    streams: list[_Stream] = field(default_factory=list)


class NemoCloud(Accounts, HttpClient):

    def __init__(self, settings, repos, *, transport: httpx.AsyncBaseTransport | None = None):
        self.settings = settings
        self.repos = repos
        self._shared_token = settings.nemo_token.get_secret_value() if settings.nemo_token else None
        self._client = httpx.AsyncClient(
            base_url=settings.nemo_api_url.rstrip("/"),
            headers={
                "X-Skill-Source": settings.nemo_skill_source,
                "X-Skill-Version": settings.nemo_skill_version,
                "X-Skill-Platform": settings.nemo_skill_platform,
            },
            timeout=TIMEOUT_DEFAULT,
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=16),
            transport=transport,
        )
        self._token_locks: dict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._inflight: dict[str, _Inflight] = defaultdict(_Inflight)
        self._last_render_ms = 0

    def __repr__(self) -> str:
        return f"NemoCloud(api={self.settings.nemo_api_url!r}, shared_token={self._shared_token is not None})"


    # ---------------------------------------------------------------- sessions

    async def open_session(self, account: Account, chat_key: str, language: str = "en") -> SessionRef:
        """The user's active session in this chat, or a new one on the cloud."""
        active = await self.repos.sessions.active(account.user_id, chat_key, BACKEND)
        if active is not None:
            return SessionRef(active.remote_session_id, active.task_id, chat_key)
        data = await self._call(account, "POST", PATH_SESSION, json={"task_name": "project", "language": language})
        session_id = str(data["session_id"])
        record = await self.repos.sessions.start(account.user_id, chat_key, BACKEND, session_id,
                                                 task_id=data.get("task_id"), language=language)
        await self._remember_remote_user(account, data.get("user_id"))
        return SessionRef(record.remote_session_id, record.task_id, chat_key)

    async def _remember_remote_user(self, account: Account, remote_user_id: Any) -> None:
        if self._shared_token or not remote_user_id:
            return
        record = await self.repos.accounts.get(account.user_id, BACKEND)
        if record is not None and not record.remote_user_id:
            await self.repos.accounts.save(account.user_id, BACKEND, record.client_id, token=record.token,
                                           remote_user_id=str(remote_user_id), expires_at=record.expires_at,
                                           anonymous=record.anonymous)

    # ---------------------------------------------------------------- upload

    async def upload(self, account: Account, session: SessionRef, source: Path | str) -> Media:
        """A file streamed from disk as multipart `files`, or a link the cloud fetches itself."""
        path = PATH_UPLOAD.format(sid=session.session_id)
        if isinstance(source, str) and source.lower().startswith(("http://", "https://")):
            data = await self._call(account, "POST", path, session=session,
                                    json={"urls": [source], "source_type": "url"})
        else:
            file_path = Path(source)
            name = await _cloud_file_name(file_path, self.settings.max_upload_mb)
            headers, body = multipart_file("files", file_path, name, mime_type_for(Path(name).suffix))
            data = await self._call(account, "POST", path, session=session, timeout=TIMEOUT_UPLOAD,
                                    headers=headers, content=body)
        files = data.get("files") if isinstance(data, dict) else None
        if not files:
            raise BackendError("The video service accepted the upload but returned no file.",
                               reason_key="backend_no_file")
        first = files[0]
        return Media(
            media_id=str(first.get("hash") or first.get("filename") or ""),
            filename=str(first.get("filename") or ""),
            kind=str(first.get("file_type") or "video"),
            duration=float(first.get("duration") or 0.0),
            width=int(first.get("width") or 0),
            height=int(first.get("height") or 0),
            fps=float(first.get("fps") or 0.0),
            url=first.get("cdn_url") or first.get("url"),
        )

    # ---------------------------------------------------------------- chat

    async def chat(self, account: Account, session: SessionRef, text: str) -> AsyncIterator[ChatEvent]:
        """Sends one message and yields what comes back: text (GUI talk translated), tool events
        (internal, no text), "⏳ Still working..." at most every nemo_still_working_s while the
        cloud sends heartbeats, and for a stream that closes without a word, a summary of what
        the edit changed on the timeline."""
        before = await self._drafts_before_chat(account, session)
        token = await self._token(account)
        body = {"app_name": APP_NAME, "user_id": "me", "session_id": session.session_id,
                "new_message": {"parts": [{"text": text}]}}
        timeout = httpx.Timeout(connect=10.0, read=self.settings.nemo_sse_timeout_s, write=30.0, pool=30.0)
        deadline = time.monotonic() + self.settings.nemo_sse_timeout_s
        interval = self.settings.nemo_still_working_s
        stream = _Stream()
        inflight = self._inflight[session.session_id]
        inflight.streams.append(stream)
        texts = 0
        partial: list[str] = []
        last_notice = time.monotonic()
        try:
            async with aconnect_sse(self._client, "POST", PATH_CHAT, json=body, timeout=timeout,
                                    headers=self._auth(token)) as source:
                stream.response = source.response
                await self._raise_unless_stream(account, session, source.response, token)
                async for sse in source.aiter_sse():
                    if stream.cancelled:
                        break
                    if time.monotonic() > deadline:
                        raise BackendUnavailable("The edit took longer than the time limit; say \"status\" "
                                                 "to see what was done.", reason_key="cloud_edit_too_long")
                    for item in parse_event(sse.data):
                        if item.kind == "text" and item.partial:
                            partial.append(item.text)
                            continue
                        if item.kind == "text":
                            partial.clear()               # an ADK final event repeats the streamed chunks
                            event = _text_event(item.text)
                            if event:
                                texts += 1
                                last_notice = time.monotonic()
                                yield event
                            continue
                        if partial and item.kind in ("tool_call", "tool_result"):
                            event = _text_event("".join(partial))
                            partial.clear()
                            if event:
                                texts += 1
                                yield event
                        if item.kind == "error":
                            raise await self._raised(account, session, error_for(item.code, 200, item.text), token)
                        if item.kind in ("tool_call", "tool_result"):
                            yield ChatEvent("tool", tool=item.name, phase=item.kind.split("_")[1])
                        if item.kind in ("heartbeat", "tool_call", "tool_result"):
                            if time.monotonic() - last_notice >= interval:
                                last_notice = time.monotonic()
                                yield ChatEvent("heartbeat", STILL_WORKING)
        except (httpx.TransportError, httpx.StreamError) as exc:
            if not stream.cancelled:
                log.warning("chat stream of session %s broke: %s", session.session_id, type(exc).__name__)
                raise BackendUnavailable("The connection to the video service dropped during the edit; "
                                         "say \"status\" to see what was done.",
                                         reason_key="cloud_edit_dropped") from None
        finally:
            inflight.streams.remove(stream)
            if not inflight.streams and not inflight.renders:
                self._inflight.pop(session.session_id, None)
        if stream.cancelled:
            yield ChatEvent("done", cancelled=True)
            return
        if partial:
            event = _text_event("".join(partial))
            if event:
                texts += 1
                yield event
        if texts == 0:
            after = await self.state(account, session)
            # the typed changes, worded in the person's language by bot.replies; the text: the documented English
            yield ChatEvent("text", describe_changes(before, after.drafts), silent=True,
                            sentence=Sentence("timeline_edited", edited=timeline_edits(before, after.drafts)))
        yield ChatEvent("done")

    async def _drafts_before_chat(self, account: Account, session: SessionRef) -> list[dict] | None:
        """The timeline before an edit, to tell the user what a silent edit changed."""
        try:
            return (await self.state(account, session)).drafts
        except (TokenInvalid, SessionMissing, OutOfCredits, RateLimited):
            raise
        except BackendError as exc:
            log.info("no state before the chat of session %s: %s", session.session_id, exc)
            return None

    async def _raise_unless_stream(self, account: Account, session: SessionRef, response: httpx.Response,
                                   token: str) -> None:
        content_type = response.headers.get("content-type", "")
        if response.status_code < 400 and "text/event-stream" in content_type:
            return
        await response.aread()
        try:
            self._unwrap(response, _json(response), secret=token)
        except BackendError as exc:
            raise await self._raised(account, session, exc, token) from None
        raise BackendUnavailable("The video service answered the chat without a stream.",
                                 reason_key="cloud_no_stream")

    # ---------------------------------------------------------------- state, credits

    async def state(self, account: Account, session: SessionRef) -> Timeline:
        data = await self._call(account, "GET", PATH_STATE.format(sid=session.session_id), session=session)
        return read_state(session.session_id, data)

    async def credits(self, account: Account) -> Credits:
        data = await self._call(account, "GET", PATH_CREDITS)
        available = int(data.get("available") or 0)
        frozen = int(data.get("frozen") or 0)
        total = data.get("total")
        return Credits(available=available, frozen=frozen, total=int(total) if total is not None else available + frozen)

    # ---------------------------------------------------------------- export

    async def export(self, account: Account, session: SessionRef, draft_index: int | None = None) -> list[RenderRef]:
        """Starts one cloud render per ready draft (or the one asked for); export costs no credits."""
        state = await self.state(account, session)
        indexes = range(len(state.drafts)) if draft_index is None else [draft_index]
        ready = [(i, state.drafts[i]) for i in indexes if 0 <= i < len(state.drafts) and ready_to_export(state.drafts[i])]
        if not ready:
            raise NothingUploaded("There is nothing on the timeline to export yet: send a video and tell me "
                                  "what to make first.")
        refs = []
        for index, draft in ready:
            render_id = await self._start_render(account, session, draft)
            self._inflight[session.session_id].renders.add(render_id)
            refs.append(RenderRef(render_id, index))
        return refs

    async def _start_render(self, account: Account, session: SessionRef, draft: dict) -> str:
        for attempt in range(2):
            render_id = self._new_render_id()
            body = {"id": render_id, "sessionId": session.session_id, "draft": draft,
                    "output": {"format": "mp4", "quality": "high"}}
            try:
                data = await self._call(account, "POST", PATH_RENDER, session=session, json=body)
            except DuplicateRenderId:
                log.info("render id %s was taken; %s", render_id, "trying a new one" if attempt == 0 else "giving up")
                continue
            answered = str(data.get("id") or "") if isinstance(data, dict) else ""
            if answered and not SAFE_RENDER_ID.fullmatch(answered):
                log.warning("the render of %s came back with an id I will not use: %r", render_id, answered[:80])
                answered = ""
            return answered or render_id
        raise BackendError("The video service would not start the export; please try again.",
                           reason_key="backend_no_export")

    def _new_render_id(self) -> str:
        """`render_<ms>`, never the same twice in this process."""
        now_ms = max(int(time.time() * 1000), self._last_render_ms + 1)
        self._last_render_ms = now_ms
        return f"render_{now_ms}"

    async def render_status(self, account: Account, ref: RenderRef) -> RenderStatus:
        payload = await self._call(account, "GET", PATH_RENDER_STATUS.format(rid=ref.render_id), whole=True)
        status = read_render_status(ref.render_id, payload)
        if status.status in ("completed", "failed"):
            for inflight in self._inflight.values():
                inflight.renders.discard(ref.render_id)
        return status

    async def fetch_result(self, url: str, dest: Path, max_bytes: int | None = None) -> Path | None:
        """Downloads a finished render (streamed) when it fits max_bytes; None when it is larger.
        No Authorization header goes with it: the result lives on a CDN, not the API host.
        Nothing is left at `dest` (or beside it) when the download fails."""
        try:
            return await stream_to_file(self._client, url, dest, max_bytes, timeout=TIMEOUT_UPLOAD)
        except TooLarge:
            return None
        except DownloadFailed as exc:
            log.warning("the finished render could not be downloaded: %s", exc)
            raise BackendUnavailable("The finished video could not be downloaded. Please try again in a minute.",
                                     reason=str(exc), reason_key="cloud_result_download") from None

    # ---------------------------------------------------------------- cancel, close

    async def cancel(self, account: Account, session: SessionRef) -> bool:
        """Stops listening to a running chat and cancels this session's renders."""
        inflight = self._inflight.get(session.session_id)
        if inflight is None:
            return False
        cancelled = False
        for stream in list(inflight.streams):
            stream.cancelled = True
            cancelled = True
            if stream.response is not None:
                await stream.response.aclose()
        token = await self._token(account)
        for render_id in list(inflight.renders):
            inflight.renders.discard(render_id)
            try:
                response = await self._send("POST", PATH_RENDER_CANCEL.format(rid=render_id), token=token)
                self._unwrap(response, _json(response), secret=token)
                cancelled = True
            except BackendError as exc:
                log.info("cancel of render %s failed: %s", render_id, exc)
        return cancelled

    async def close(self) -> None:
        await self._client.aclose()


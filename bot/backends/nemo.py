"""NemoBackend: the NemoVideo cloud API (see ../shared/nemo-api.md) behind the Backend protocol.

One httpx.AsyncClient per process. Every request carries the attribution headers
(X-Skill-Source / -Version / -Platform); every request but the anonymous-token one
carries `Authorization: Bearer <token>`, and only to the API host.

Tokens: NEMO_TOKEN when the operator set one (shared by every user), otherwise one
anonymous token per user, fetched with a stable X-Client-Id and kept in storage
(AccountRepo). The stored token is the source of truth: an Account is a handle, so a
token refreshed after expiry or a 1001 is used by the next call without a new Account.

Recovery is split with the conversation: on 1001 this module forgets the stored token,
on 1002 it retires the stored session, and raises the typed error; the conversation
retries the user's action once (a fresh token / session is made on that retry). The
one retry this module does by itself is for GETs after a network error, with backoff.
"""
from __future__ import annotations

import asyncio
import difflib
import json
import logging
import re
import secrets
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, AsyncIterator, NamedTuple
from urllib.parse import urlsplit

import httpx
from httpx_sse import aconnect_sse

from bot.backends.base import (
    ACCEPTED_TYPES,
    Account,
    BackendError,
    BackendUnavailable,
    ChatEvent,
    Clip,
    Credits,
    ERRORS_BY_CODE,
    ExportBlocked,
    FileTooLarge,
    Media,
    MissingClientId,
    NothingUploaded,
    OutOfCredits,
    RateLimited,
    RenderRef,
    RenderStatus,
    SessionMissing,
    SessionRef,
    State,
    TokenInvalid,
    UnsupportedFile,
)
from bot.edits import ready_to_export
from bot.fetch import DownloadFailed, TooLarge, stream_to_file
from engine.probe import media_type_of_file, mime_type_for

log = logging.getLogger(__name__)

BACKEND = "nemo"
APP_NAME = "nemo_agent"
REGISTER_URL = "https://nemovideo.com/register?bind={user_id}"
STILL_WORKING = "⏳ Still working..."
ANONYMOUS_TOKEN_DAYS = 7
TOKEN_REFRESH_MARGIN = timedelta(minutes=1)   # a token this close to expiry is refreshed before use

PATH_ANONYMOUS_TOKEN = "/api/auth/anonymous-token"
PATH_SESSION = "/api/tasks/me/with-session/nemo_agent"
PATH_CHAT = "/run_sse"
PATH_UPLOAD = "/api/upload-video/nemo_agent/me/{sid}"
PATH_CREDITS = "/api/credits/balance/simple"
PATH_STATE = "/api/state/nemo_agent/me/{sid}/latest"
PATH_RENDER = "/api/render/proxy/lambda"
PATH_RENDER_STATUS = "/api/render/proxy/lambda/{rid}"
PATH_RENDER_CANCEL = "/api/render/proxy/lambda/{rid}/cancel"

TIMEOUT_DEFAULT = httpx.Timeout(30.0, connect=10.0)
TIMEOUT_UPLOAD = httpx.Timeout(connect=10.0, read=300.0, write=300.0, pool=30.0)
UPLOAD_CHUNK_BYTES = 256 * 1024
# Render ids end up in file names (exports/<render id>.mp4): only these characters are taken from the cloud.
SAFE_RENDER_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")


# ====================================================================== pure parts

# ---------------------------------------------------------------- envelopes and errors

def error_message(payload: Any) -> str:
    """The server's own words, from whichever key this copy of the API uses."""
    if not isinstance(payload, dict):
        return ""
    for key in ("message", "msg", "error", "errorMessage", "detail"):
        value = payload.get(key)
        if isinstance(value, str) and value:
            return value
        if isinstance(value, dict):
            return error_message(value)
    return ""


def unwrap(status_code: int, payload: Any) -> Any:
    """The `data` of a response in either envelope; a failure raises the typed error.

    `{"code": 0, "data": ...}` / `{"code": n, "message"|"msg": ...}` and
    `{"success": true, "data": ...}` / `{"success": false, ...}` are both understood;
    an HTTP error without an envelope is mapped by its status.
    """
    if isinstance(payload, dict):
        code = payload.get("code")
        if isinstance(code, str) and code.lstrip("-").isdigit():
            code = int(code)
        failed = (isinstance(code, int) and code != 0 and code != 200) or payload.get("success") is False
        if not failed and status_code < 400:
            return payload.get("data", payload) if ("data" in payload or "code" in payload
                                                    or "success" in payload) else payload
        if not isinstance(code, int) or code in (0, 200):
            code = status_code if status_code >= 400 else 0
        raise error_for(code, status_code, error_message(payload))
    if status_code >= 400:
        raise error_for(status_code, status_code, "")
    raise BackendUnavailable("The video service sent an answer I could not read.")


def error_for(code: int, status_code: int, server_message: str) -> BackendError:
    """A typed error for a cloud code (or an HTTP status when the body has none)."""
    if code == 0 or code not in ERRORS_BY_CODE:
        code = status_code if status_code in ERRORS_BY_CODE else code
    if status_code == 401 and code not in ERRORS_BY_CODE:
        code = TokenInvalid.code
    if _looks_like_duplicate_id(status_code, server_message):
        return DuplicateRenderId("That render id is taken.", server_message=server_message)
    cls = ERRORS_BY_CODE.get(code)
    if cls is None:
        if status_code >= 500:
            return BackendUnavailable("The video service is having trouble right now. Please try again in a minute.",
                                      server_message=server_message, status=status_code)
        error = BackendError(f"The video service refused that ({code}).", server_message=server_message,
                             reason_key="backend_refused", code=code)
        error.code = code
        return error
    return cls(USER_SENTENCES.get(cls, ""), server_message=server_message)


class DuplicateRenderId(BackendError):
    """A render id the cloud has seen before: retried with a new id, never shown to a user."""

    code = 409


def _looks_like_duplicate_id(status_code: int, server_message: str) -> bool:
    text = server_message.lower()
    return status_code == 409 or ("duplicate" in text) or ("already exists" in text)


USER_SENTENCES: dict[type[BackendError], str] = {
    TokenInvalid: "My access to the video service expired; I am reconnecting.",
    SessionMissing: "The video service lost our editing session; I am starting a new one.",
    OutOfCredits: "You are out of credits on the video service.",
    UnsupportedFile: "That file type is not supported. Send one of: " + ", ".join(ACCEPTED_TYPES) + ".",
    FileTooLarge: "That file is too large (the limit is 500 MB). Trim or compress it and send it again.",
    MissingClientId: "The video service did not accept my client id.",
    ExportBlocked: "Exporting is not included in the free plan: register or upgrade your plan to export.",
    RateLimited: "The video service is busy; please try again in a little while.",
    BackendUnavailable: "The video service is not reachable right now. Please try again in a minute.",
}


def redact(text: str, secret: str | None) -> str:
    return text.replace(secret, "***") if secret and text else text


# ---------------------------------------------------------------- GUI translation

class Translation(NamedTuple):
    text: str
    actions: tuple[str, ...]          # what the bot can do for the user: "export", "status"


_Q_OPEN, _Q_CLOSE = "[\"'“「]", "[\"'”」]"

# (pattern, replacement, action). Order matters: the specific phrases come before the generic "click X".
GUI_PHRASES: tuple[tuple[re.Pattern[str], str, str | None], ...] = (
    (re.compile(rf"\b(?:click|tap|press|hit|use)(?:\s+on)?\s+(?:the\s+)?{_Q_OPEN}?export{_Q_CLOSE}?(?:\s+button)?",
                re.I), 'say "export"', "export"),
    (re.compile(r"\bthe\s+export\s+button\b", re.I), '"export"', "export"),
    (re.compile(rf"[点单]击\s*{_Q_OPEN}?导出{_Q_CLOSE}?(?:按钮)?"), "发送“导出”", "export"),
    (re.compile(r"\bpreview(?:\s+(?:it|this|them|the\s+\w+))?\s+in\s+(?:the\s+)?timeline\b", re.I),
     'say "status" to see the tracks', "status"),
    (re.compile(r"在时间线(?:上|中)?预览"), "发送“状态”查看轨道", "status"),
    (re.compile(r"\bopen\s+(?:the\s+)?(?:[\w-]+\s+){0,2}(?:panel|tab|sidebar|menu|window|view|timeline)\b", re.I),
     'say "status"', "status"),
    (re.compile(r"打开\s*(?:[^\s，。,.!！；;]{0,12}?)(?:面板|窗口|标签页|菜单|时间线)"), "发送“状态”", "status"),
    (re.compile(r"\bdrag(?:\s*(?:and|&|/)\s*drop)?(?:\s+and\s+drop)?\b", re.I), "tell me to move", None),
    (re.compile(r"拖拽|拖动"), "告诉我移动", None),
    (re.compile(rf"\b(?:click|tap|press)(?:\s+on)?\s+(?:the\s+)?{_Q_OPEN}([^\"'”」]+){_Q_CLOSE}(?:\s+button)?", re.I),
     r'say "\1"', None),
    (re.compile(r"\b(?:click|tap|press)(?:\s+on)?\s+(?:the\s+)?([\w-]+(?:\s[\w-]+)?)\s+button\b", re.I),
     r'say "\1"', None),
    (re.compile(r"\bclick(?:\s+on)?\s+(?:the\s+)?([\w-]+)", re.I), r'say "\1"', None),
    (re.compile(rf"[点单]击\s*{_Q_OPEN}([^\"'”」]+){_Q_CLOSE}(?:按钮)?"), r"发送“\1”", None),
    (re.compile(r"[点单]击\s*([^\s，。,.!！；;“”\"]{1,10}?)(?:按钮|键)"), r"发送“\1”", None),
    (re.compile(r"[点单]击"), "发送", None),
)


def translate_gui(text: str) -> Translation:
    """Rewrites the cloud's GUI talk ("click Export", "打开面板", "drag") for a chat user.

    What the bot can do itself is returned as actions, so the conversation can offer
    a button or run it.
    """
    actions: list[str] = []
    for pattern, replacement, action in GUI_PHRASES:
        def substitute(match: re.Match[str], replacement: str = replacement) -> str:
            out = match.expand(replacement)
            first = match.group(0)[:1]
            return out[:1].upper() + out[1:] if first.isupper() else out

        text, count = pattern.subn(substitute, text)
        if count and action and action not in actions:
            actions.append(action)
    return Translation(text, tuple(actions))


# ---------------------------------------------------------------- drafts (the timeline)

TRACK_KINDS = {0: "Video", 1: "BGM", 7: "Title"}
# The segment keys are not documented; these are the spellings accepted for each field.
_LABEL_KEYS = ("n", "name", "title", "text", "tx", "content")
_SOURCE_KEYS = ("src", "url", "source", "file")
_START_KEYS = ("s", "st", "start", "ts")
_END_KEYS = ("e", "et", "end", "te")
_VOLUME_KEYS = ("v", "vol", "volume")


def _first(mapping: dict, keys: tuple[str, ...]) -> Any:
    for key in keys:
        value = mapping.get(key)
        if value not in (None, ""):
            return value
    return None


def _seconds(ms: Any) -> str:
    seconds = round(float(ms) / 1000.0, 1)
    return f"{seconds:g}"


def segment_text(segment: dict, track: dict, kind: str) -> str:
    label = _first(segment, _LABEL_KEYS)
    if label is None and (source := _first(segment, _SOURCE_KEYS)):
        label = Path(urlsplit(str(source)).path).name or str(source)
    if label is None:
        label = _first(track, _LABEL_KEYS) or "clip"
    label = f'"{label}"' if kind == "Title" else str(label)
    start = _first(segment, _START_KEYS)
    end = _first(segment, _END_KEYS)
    if end is None and start is not None and isinstance(segment.get("d"), (int, float)):
        end = float(start) + segment["d"]
    details = []
    if start is not None and end is not None:
        details.append(f"{_seconds(start)}-{_seconds(end)}s")
    volume = _first(segment, _VOLUME_KEYS)
    if volume is None:
        volume = _first(track, _VOLUME_KEYS)
    if isinstance(volume, (int, float)):
        details.append(f"{round(volume * 100 if volume <= 1 else volume)}%")
    return f"{label} ({', '.join(details)})" if details else label


def track_texts(draft: dict) -> list[str]:
    """One "Kind: label (range)" per track, without numbers."""
    texts = []
    for track in draft.get("t") or []:
        if not isinstance(track, dict):
            continue
        kind = TRACK_KINDS.get(track.get("tt"), "Track")
        segments = [s for s in track.get("sg") or [] if isinstance(s, dict)]
        body = ", ".join(segment_text(s, track, kind) for s in segments) or "empty"
        texts.append(f"{kind}: {body}")
    return texts


def draft_summary(draft: dict) -> str:
    """`Timeline (3 tracks): 1. Video: city timelapse (0-10s) 2. BGM: Lo-fi (0-10s, 35%) ...`"""
    texts = track_texts(draft)
    noun = "track" if len(texts) == 1 else "tracks"
    numbered = " ".join(f"{i}. {text}" for i, text in enumerate(texts, 1))
    return f"Timeline ({len(texts)} {noun}): {numbered or 'empty'}"


def describe_changes(before: list[dict] | None, after: list[dict]) -> str:
    """What an edit changed, for a stream that closed without a word: a diff of the track lines."""
    if not after:
        return "Done. The timeline is empty so far."
    lines: list[str] = []
    for index, draft in enumerate(after):
        old = track_texts(before[index]) if before and index < len(before) else []
        new = track_texts(draft)
        changes = []
        for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
            if op == "replace":
                pairs = list(zip(old[i1:i2], new[j1:j2]))
                changes += [f"changed {a} → {b.split(': ', 1)[-1]}" for a, b in pairs]
                changes += [f"added {b}" for b in new[j1 + len(pairs):j2]]
                changes += [f"removed {a}" for a in old[i1 + len(pairs):i2]]
            elif op == "insert":
                changes += [f"added {b}" for b in new[j1:j2]]
            elif op == "delete":
                changes += [f"removed {a}" for a in old[i1:i2]]
        if changes:
            lines.append("✅ Done: " + "; ".join(changes) + ".")
        else:
            lines.append("The edit finished and the timeline is unchanged.")
        lines.append(draft_summary(draft))
    return "\n".join(lines)


def read_state(session_id: str, data: Any) -> State:
    """A State from the state endpoint's `data` (`{"state": {"draft": ..., "video_infos": ...}}`)."""
    data = data if isinstance(data, dict) else {}
    inner = data.get("state") if isinstance(data.get("state"), dict) else data
    drafts_value = inner.get("drafts")
    if isinstance(drafts_value, list):
        drafts = [d for d in drafts_value if isinstance(d, dict) and d]
    else:
        draft = inner.get("draft")
        drafts = [draft] if isinstance(draft, dict) and draft else []
    media = [m for key in ("video_infos", "generated_media") for m in inner.get(key) or [] if isinstance(m, dict)]
    return State(session_id=str(data.get("session_id") or session_id), media=[_media_of(m) for m in media],
                 clips=[_clip_of(i, d) for i, d in enumerate(drafts, start=1)], drafts=drafts)


def _media_of(info: dict) -> Media:
    return Media(media_id=str(info.get("hash") or info.get("media_id") or info.get("filename") or ""),
                 filename=str(info.get("filename") or info.get("name") or info.get("media_id") or "file"),
                 kind=str(info.get("file_type") or info.get("kind") or "video"),
                 duration=_number(info.get("duration")), width=int(_number(info.get("width"))),
                 height=int(_number(info.get("height"))), url=info.get("cdn_url") or info.get("url"))


def _clip_of(number: int, draft: dict) -> Clip:
    """A cloud draft as a Clip: what the draft's metadata says of it (the file comes with its export)."""
    meta = draft.get("m") if isinstance(draft.get("m"), dict) else {}
    hashtags = meta.get("hashtags") if isinstance(meta.get("hashtags"), list) else []
    return Clip(number=number, title=str(meta.get("title") or ""), start=_optional_number(meta.get("start")),
                end=_optional_number(meta.get("end")), score=_optional_number(meta.get("score")),
                hashtags=tuple(str(h) for h in hashtags), summary=draft_summary(draft),
                duration=_number(draft.get("d")) / 1000, ready=ready_to_export(draft))


def _optional_number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _number(value: Any) -> float:
    return _optional_number(value) or 0.0


# ---------------------------------------------------------------- render status

_STATUS_WORDS = {
    "pending": "pending", "queued": "pending", "waiting": "pending",
    "processing": "processing", "rendering": "processing", "running": "processing", "in_progress": "processing",
    "completed": "completed", "complete": "completed", "succeeded": "completed", "success": "completed",
    "done": "completed", "finished": "completed",
    "failed": "failed", "failure": "failed", "error": "failed", "errored": "failed", "cancelled": "failed",
    "canceled": "failed", "timeout": "failed", "timed_out": "failed", "timedout": "failed", "aborted": "failed",
    "rejected": "failed", "expired": "failed",
}


def read_render_status(render_id: str, payload: Any) -> RenderStatus:
    """Status and result URL from either documented shape: `data.status` + `data.outputUrl`,
    or a top-level `status` + `output.url`.

    A status word not known here counts as "processing" (the cloud may add words); the word
    itself is kept in `reported`, and the caller's deadline ends a render that never finishes.
    The render id is the one asked about: the answer's own id never names a file."""
    payload = payload if isinstance(payload, dict) else {}
    data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
    word = str(data.get("status") or payload.get("status") or "pending").strip().lower()
    known = _STATUS_WORDS.get(re.sub(r"[\s-]+", "_", word))
    if known is None:
        log.info("render %s: unknown status %r, taken as processing", render_id, word[:40])
    status = known or "processing"
    url = None
    for holder in (data, payload):
        output = holder.get("output") if isinstance(holder.get("output"), dict) else {}
        url = url or holder.get("outputUrl") or holder.get("output_url") or output.get("url")
    progress = data.get("progress", payload.get("progress"))
    progress = float(progress) if isinstance(progress, (int, float)) else (100.0 if status == "completed" else 0.0)
    error = None
    if status == "failed":
        error = error_message(data) or error_message(payload) or ("cancelled" if word.startswith("cancel") else "failed")
    elif status == "completed" and not url:
        status, error = "failed", "The render finished without a download link."
    return RenderStatus(render_id=render_id, status=status, progress=progress, url=url, error=error,
                        reported=word)


# ---------------------------------------------------------------- SSE events

class StreamItem(NamedTuple):
    kind: str                         # "heartbeat" | "text" | "tool_call" | "tool_result" | "error" | "ignored"
    text: str = ""
    partial: bool = False             # an ADK streaming chunk: the final event repeats the whole text
    name: str = ""
    code: int = 0


def parse_event(data: str) -> list[StreamItem]:
    """One `data:` payload -> what it means. Both the documented `{"type": ...}` events and
    Google ADK events (`{"content": {"parts": [...]}, "partial": ...}`) are understood."""
    if not data.strip():
        return [StreamItem("heartbeat")]
    try:
        event = json.loads(data)
    except ValueError:
        return [StreamItem("ignored", text=data)]
    if not isinstance(event, dict):
        return [StreamItem("ignored")]
    kind = event.get("type")
    if isinstance(kind, str):
        kind = kind.lower()
        if kind in ("heartbeat", "ping", "keepalive", "keep_alive"):
            return [StreamItem("heartbeat")]
        if kind in ("text", "message", "text_delta"):
            content = event.get("content", event.get("text", ""))
            return [StreamItem("text", text=content if isinstance(content, str) else "",
                               partial=bool(event.get("partial")) or kind == "text_delta")]
        if kind in ("tool_call", "tool_result"):
            return [StreamItem(kind, name=str(event.get("name") or ""))]
        if kind == "error":
            return [StreamItem("error", text=error_message(event), code=_int(event.get("code")))]
        return [StreamItem("ignored")]
    if event.get("errorCode") or event.get("error_code"):
        code = _int(event.get("errorCode") or event.get("error_code"))
        return [StreamItem("error", text=error_message(event) or str(event.get("errorCode", "")), code=code)]
    content = event.get("content")
    if isinstance(content, dict) and isinstance(content.get("parts"), list):
        items = []
        for part in content["parts"]:
            if not isinstance(part, dict) or part.get("thought"):
                continue
            if isinstance(part.get("text"), str):
                items.append(StreamItem("text", text=part["text"], partial=bool(event.get("partial"))))
            call = part.get("functionCall") or part.get("function_call")
            if isinstance(call, dict):
                items.append(StreamItem("tool_call", name=str(call.get("name") or "")))
            response = part.get("functionResponse") or part.get("function_response")
            if isinstance(response, dict):
                items.append(StreamItem("tool_result", name=str(response.get("name") or "")))
        return items or [StreamItem("ignored")]
    code = _int(event.get("code"))
    if code not in (0, 200):
        return [StreamItem("error", text=error_message(event), code=code)]
    return [StreamItem("ignored")]


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


# ====================================================================== the backend

@dataclass
class _Stream:
    """A chat stream in flight, so that cancel() can end it."""

    response: httpx.Response | None = None
    cancelled: bool = False


@dataclass
class _Inflight:
    renders: set[str] = field(default_factory=set)
    streams: list[_Stream] = field(default_factory=list)


class NemoBackend:
    name = BACKEND
    takes_links = True           # the cloud fetches a link itself

    def __init__(self, settings, repos, *, transport: httpx.AsyncBaseTransport | None = None):
        self.settings = settings
        self.repos = repos
        self.export_deadline_s = settings.nemo_export_timeout_s
        self.poll_interval = settings.nemo_poll_interval_s
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
        return f"NemoBackend(api={self.settings.nemo_api_url!r}, shared_token={self._shared_token is not None})"

    # ---------------------------------------------------------------- accounts

    async def open_account(self, user_id: int, client_id: str = "") -> Account:
        """The user's account with a usable token: NEMO_TOKEN, the stored one, or a fresh anonymous one."""
        if self._shared_token:
            return Account(user_id=user_id, token=self._shared_token, anonymous=False)
        record = await self._fresh_record(user_id, client_id)
        return Account(user_id=user_id, token=record.token, expires_at=record.expires_at,
                       remote_user_id=record.remote_user_id, anonymous=record.anonymous)

    async def _fresh_record(self, user_id: int, client_id: str = ""):
        record = await self.repos.accounts.get(user_id, BACKEND)
        if record is not None and not record.expired(_now() + TOKEN_REFRESH_MARGIN):
            return record
        async with self._token_locks[user_id]:
            record = await self.repos.accounts.get(user_id, BACKEND)   # another call may have refreshed it
            if record is not None and not record.expired(_now() + TOKEN_REFRESH_MARGIN):
                return record
            stable_id = record.client_id if record else (client_id or str(uuid.uuid4()))
            return await self._anonymous_token(user_id, stable_id, renewing=record is not None)

    async def _anonymous_token(self, user_id: int, client_id: str, renewing: bool = False):
        """POST /api/auth/anonymous-token; a 400 (bad client id) gets a new id and one more try.

        So does a 429 when a token is being replaced: the cloud issues one anonymous token per
        client id per 7 days, so a token lost to a 1001 cannot be replaced under the same id for
        a week. The new id is a new anonymous user on the cloud (its old sessions answer 1002,
        which the conversation recovers from); it is stored with the new token.
        """
        for attempt in range(2):
            response = await self._send("POST", PATH_ANONYMOUS_TOKEN, token=None,
                                        headers={"X-Client-Id": client_id})
            payload = _json(response)
            code = payload.get("code") if isinstance(payload, dict) else None
            if attempt == 0 and (response.status_code == 400 or code == 400):
                log.warning("anonymous token refused the client id of user %s; trying a new one", user_id)
                client_id = str(uuid.uuid4())
                continue
            if attempt == 0 and renewing and (response.status_code == 429 or code == 429):
                log.warning("the client id of user %s has had its anonymous token for this week; "
                            "renewing under a new client id", user_id)
                client_id = str(uuid.uuid4())
                continue
            data = self._unwrap(response, payload, secret=None)
            token = str(data["token"])
            expires_at = _parse_time(data.get("expires_at")) or _now() + timedelta(days=ANONYMOUS_TOKEN_DAYS)
            log.info("new anonymous NemoVideo token for user %s (expires %s)", user_id, expires_at.isoformat())
            return await self.repos.accounts.save(
                user_id, BACKEND, client_id, token=token,
                remote_user_id=str(data.get("user_id") or "") or None, expires_at=expires_at, anonymous=True)
        raise AssertionError("unreachable")

    async def _token(self, account: Account) -> str:
        if self._shared_token:
            return self._shared_token
        record = await self.repos.accounts.get(account.user_id, BACKEND)
        if record is None and account.token:
            return account.token
        return (await self._fresh_record(account.user_id)).token

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
                                                 "to see what was done.")
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
                            yield ChatEvent("tool", data={"name": item.name, "phase": item.kind.split("_")[1]})
                        if item.kind in ("heartbeat", "tool_call", "tool_result"):
                            if time.monotonic() - last_notice >= interval:
                                last_notice = time.monotonic()
                                yield ChatEvent("heartbeat", STILL_WORKING)
        except (httpx.TransportError, httpx.StreamError) as exc:
            if not stream.cancelled:
                log.warning("chat stream of session %s broke: %s", session.session_id, type(exc).__name__)
                raise BackendUnavailable("The connection to the video service dropped during the edit; "
                                         "say \"status\" to see what was done.") from None
        finally:
            inflight.streams.remove(stream)
            if not inflight.streams and not inflight.renders:
                self._inflight.pop(session.session_id, None)
        if stream.cancelled:
            yield ChatEvent("done", data={"cancelled": True, "texts": texts})
            return
        if partial:
            event = _text_event("".join(partial))
            if event:
                texts += 1
                yield event
        if texts == 0:
            after = await self.state(account, session)
            yield ChatEvent("text", describe_changes(before, after.drafts), data={"silent": True, "actions": []})
        yield ChatEvent("done", data={"texts": texts})

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
        raise BackendUnavailable("The video service answered the chat without a stream.")

    # ---------------------------------------------------------------- state, credits

    async def state(self, account: Account, session: SessionRef) -> State:
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
                                     reason=str(exc)) from None

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

    # ---------------------------------------------------------------- HTTP

    def _auth(self, token: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"} if token else {}

    async def _call(self, account: Account, method: str, path: str, *, session: SessionRef | None = None,
                    whole: bool = False, **kwargs: Any) -> Any:
        """One API call with the user's token: the envelope's `data` (or, with whole, the checked
        payload itself), or the typed error."""
        token = await self._token(account)
        response = await self._send(method, path, token=token, **kwargs)
        payload = _json(response)
        try:
            data = self._unwrap(response, payload, secret=token)
        except BackendError as exc:
            raise await self._raised(account, session, exc, token, look_up_balance=path != PATH_CREDITS) from None
        return payload if whole else data

    def _unwrap(self, response: httpx.Response, payload: Any, secret: str | None) -> Any:
        try:
            return unwrap(response.status_code, payload)
        except BackendError as exc:
            server_message = redact(str(exc.details.get("server_message", "")), secret)
            exc.details["server_message"] = server_message
            if isinstance(exc, RateLimited):
                # the documented wait (30 s, NEMO_RETRY_AFTER_S); the server's own hint is kept beside it
                exc.details["retry_after"] = self.settings.nemo_retry_after_s
                exc.details["server_retry_after"] = _retry_after(response)
            log.info("%s %s -> HTTP %s, code %s: %s", response.request.method, response.request.url.path,
                     response.status_code, exc.code, server_message)
            raise

    async def _available_or_none(self, account: Account) -> int | None:
        """The balance to quote in an out-of-credits sentence, when the cloud will tell."""
        try:
            token = await self._token(account)
            response = await self._send("GET", PATH_CREDITS, token=token)
            return int(unwrap(response.status_code, _json(response)).get("available") or 0)
        except (BackendError, AttributeError, TypeError, ValueError):
            return None

    async def _raised(self, account: Account, session: SessionRef | None, exc: BackendError, token: str,
                      look_up_balance: bool = True) -> BackendError:
        """Adds what the user needs to an error and repairs storage so the conversation's one retry works."""
        exc.details["server_message"] = redact(str(exc.details.get("server_message", "")), token)
        if isinstance(exc, TokenInvalid):
            exc.details["shared"] = bool(self._shared_token)
            if self._shared_token:
                exc.args = ("The operator's NEMO_TOKEN was refused by the video service.",)
            else:
                await self.repos.accounts.invalidate_token(account.user_id, BACKEND)
        elif isinstance(exc, SessionMissing) and session is not None:
            record = await self.repos.sessions.by_remote_id(BACKEND, session.session_id)
            if record is not None and record.active:
                await self.repos.sessions.end(record.id)
        elif isinstance(exc, OutOfCredits):
            available = await self._available_or_none(account) if look_up_balance else None
            if available is not None:
                exc.details.setdefault("available", available)
            record = None if self._shared_token else await self.repos.accounts.get(account.user_id, BACKEND)
            anonymous = record is not None and record.anonymous
            remote_id = (record.remote_user_id if record else None) or account.remote_user_id
            exc.details["anonymous"] = anonymous
            exc.details["register_url"] = REGISTER_URL.format(user_id=remote_id) if anonymous and remote_id else None
            exc.args = ((f"You are out of credits. Register to get more: {exc.details['register_url']}"
                         if exc.details["register_url"] else "You are out of credits. Top up credits in your "
                         "NemoVideo account."),)
        elif isinstance(exc, UnsupportedFile):
            exc.details["accepted"] = ACCEPTED_TYPES
        elif isinstance(exc, FileTooLarge):
            exc.details.setdefault("limit_mb", self.settings.max_upload_mb)
        return exc

    async def _send(self, method: str, path: str, *, token: str | None, headers: dict | None = None,
                    **kwargs: Any) -> httpx.Response:
        """One request; GETs are retried with backoff after a network error or a 502/503/504."""
        attempts = 3 if method == "GET" else 1
        all_headers = {**(headers or {}), **self._auth(token)}
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                response = await self._client.request(method, path, headers=all_headers, **kwargs)
            except httpx.TransportError as exc:
                log.warning("%s %s failed (%s)%s", method, path, type(exc).__name__, "" if last else "; retrying")
                if last:
                    raise BackendUnavailable(USER_SENTENCES[BackendUnavailable]) from None
            else:
                if last or response.status_code not in (502, 503, 504):
                    return response
                log.warning("%s %s -> HTTP %s; retrying", method, path, response.status_code)
            await asyncio.sleep(self.settings.nemo_backoff_s * (2 ** attempt))
        raise AssertionError("unreachable")


# ====================================================================== small helpers

def _text_event(text: str) -> ChatEvent | None:
    if not text or not text.strip():
        return None
    translated = translate_gui(text.strip())
    return ChatEvent("text", translated.text, data={"actions": list(translated.actions)})


async def _cloud_file_name(path: Path, max_upload_mb: int) -> str:
    """The name the file goes up under: its own when its suffix is one the cloud documents, else
    its name with the type its content has (a link saved as `fetch-3fa9`); refused before any
    byte is sent when it is too large or not a type the cloud takes."""
    if not path.is_file():
        raise BackendError("That file is gone; please send it again.", reason_key="backend_file_gone")
    size_mb = path.stat().st_size / (1024 * 1024)
    if size_mb > max_upload_mb:
        raise FileTooLarge(f"That file is {size_mb:.0f} MB and the limit is {max_upload_mb} MB. "
                           "Trim or compress it and send it again.", limit_mb=max_upload_mb, size_mb=round(size_mb))
    if path.suffix.lower().lstrip(".") in ACCEPTED_TYPES:
        return path.name
    media_type = await asyncio.to_thread(media_type_of_file, path)
    if media_type not in ACCEPTED_TYPES:
        raise UnsupportedFile(USER_SENTENCES[UnsupportedFile], accepted=ACCEPTED_TYPES)
    return f"{path.stem or 'upload'}.{media_type}"


def multipart_file(field: str, path: Path, filename: str, content_type: str,
                   chunk_size: int = UPLOAD_CHUNK_BYTES) -> tuple[dict[str, str], AsyncIterator[bytes]]:
    """(headers, body) of a multipart/form-data request carrying one file, read from disk in a
    worker thread one chunk at a time: a large upload neither sits in memory nor blocks the
    event loop (httpx's own multipart reads files on the loop). The length is declared, so the
    body goes up with Content-Length rather than chunked."""
    boundary = secrets.token_hex(16)
    quoted = filename.replace("\\", "\\\\").replace('"', "%22").replace("\r", " ").replace("\n", " ")
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{quoted}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}",
               "Content-Length": str(len(head) + path.stat().st_size + len(tail))}

    async def body() -> AsyncIterator[bytes]:
        yield head
        handle = await asyncio.to_thread(path.open, "rb")
        try:
            while chunk := await asyncio.to_thread(handle.read, chunk_size):
                yield chunk
        finally:
            handle.close()
        yield tail

    return headers, body()


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return float(response.headers.get("retry-after", ""))
    except ValueError:
        return None


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)

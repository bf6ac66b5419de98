"""The Backend protocol both backends implement, mirroring the NemoVideo cloud API,
and the typed errors that carry the cloud's codes."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, AsyncIterator, Literal, Protocol


@dataclass(frozen=True)
class Account:
    user_id: int                             # our storage user id
    token: str = field(repr=False)           # never shown in logs or reprs
    expires_at: datetime | None = None
    remote_user_id: str | None = None        # e.g. "anon_…" on the cloud
    anonymous: bool = True


@dataclass(frozen=True)
class SessionRef:
    session_id: str
    task_id: str | None = None
    chat_key: str = ""


@dataclass(frozen=True)
class UploadedMedia:
    media_id: str                            # content hash locally, remote hash or filename on the cloud
    filename: str
    kind: str                                # "video" | "audio" | "image"
    duration: float = 0.0
    width: int = 0
    height: int = 0
    fps: float = 0.0
    url: str | None = None


@dataclass(frozen=True)
class ChatEvent:
    kind: Literal["text", "progress", "tool", "heartbeat", "clip", "done"]
    text: str = ""
    fraction: float | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class State:
    session_id: str
    media: list[dict[str, Any]]
    drafts: list[dict[str, Any]]             # the cloud's draft shape: {"t": [...], "d": ms, "m": {...}}
    summary: list[str]                       # one "Timeline (n tracks): ..." line per draft


@dataclass(frozen=True)
class Credits:
    available: int
    frozen: int
    total: int


@dataclass(frozen=True)
class RenderRef:
    render_id: str
    draft_index: int = 0


@dataclass(frozen=True)
class RenderStatus:
    render_id: str
    status: Literal["pending", "processing", "completed", "failed"]
    progress: float = 0.0                    # 0-100
    path: Path | None = None                 # a local file
    url: str | None = None                   # or a remote URL
    error: str | None = None
    reported: str | None = None              # the backend's own status word, also one not known to `status`


class Backend(Protocol):
    name: str

    async def open_account(self, user_id: int, client_id: str) -> Account: ...
    async def open_session(self, account: Account, chat_key: str, language: str = "en") -> SessionRef: ...
    async def upload(self, account: Account, session: SessionRef, source: Path | str) -> UploadedMedia: ...
    def chat(self, account: Account, session: SessionRef, text: str) -> AsyncIterator[ChatEvent]: ...
    async def state(self, account: Account, session: SessionRef) -> State: ...
    async def credits(self, account: Account) -> Credits: ...
    async def export(self, account: Account, session: SessionRef, draft_index: int | None = None) -> list[RenderRef]: ...
    async def render_status(self, account: Account, ref: RenderRef) -> RenderStatus: ...
    async def cancel(self, account: Account, session: SessionRef) -> bool: ...
    async def close(self) -> None: ...


class BackendError(Exception):
    """A failure with the cloud's code; the conversation turns it into a sentence."""

    code: int = 0

    def __init__(self, message: str = "", **details: Any):
        super().__init__(message or self.__class__.__name__)
        self.details = details


class TokenInvalid(BackendError):
    code = 1001


class SessionMissing(BackendError):
    code = 1002


class OutOfCredits(BackendError):
    code = 2001                              # details: available, needed, register_url


class UnsupportedFile(BackendError):
    code = 4001                              # details: accepted


class FileTooLarge(BackendError):
    code = 4002                              # details: limit_mb, size_mb


class VideoTooLong(BackendError):
    code = 4003                              # details: limit_minutes, minutes (MAX_DURATION_MINUTES)


class MissingClientId(BackendError):
    code = 400


class ExportBlocked(BackendError):
    code = 402


class RateLimited(BackendError):
    code = 429                               # details: retry_after


class NothingUploaded(BackendError):
    code = 4100


class BackendUnavailable(BackendError):
    code = 503


ERRORS_BY_CODE: dict[int, type[BackendError]] = {
    cls.code: cls
    for cls in (TokenInvalid, SessionMissing, OutOfCredits, UnsupportedFile, FileTooLarge,
                MissingClientId, ExportBlocked, RateLimited, NothingUploaded, BackendUnavailable)
}

ACCEPTED_TYPES = ("mp4", "mov", "avi", "webm", "mkv", "jpg", "png", "gif", "webp", "mp3", "wav", "m4a", "aac")

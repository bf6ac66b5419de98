"""The clip service between the conversation and the engines, in the domain's own words.

A clip service (the local engine, the NemoVideo cloud, or a third one) takes an upload and gives
`Media`; takes words and streams `ChatEvent`s (progress, sentences, `Clip`s); edits, exports,
reports credits and state. `Clip` and `Media` are the dataclasses that travel unchanged from the
service to the replies the adapters send; what a service keeps for itself (the cloud's tokens,
sessions, drafts and polling; the local clip rows) stays inside it. What differs between services
and matters to the conversation is said by the service's attributes (`takes_links`,
`export_deadline_s`, `poll_interval`) and its answers (`Media.analysing`,
`Credits.cost_per_minute`, `OutOfCredits` details), never by asking its name.

Errors carry the cloud's codes, which both services use; bot/sentences.py words them.
"""
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
class Media:
    """An uploaded source, as the service knows it."""

    media_id: str                            # content hash locally, remote hash or filename on the cloud
    filename: str
    kind: str                                # "video" | "audio" | "image"
    duration: float = 0.0
    width: int = 0
    height: int = 0
    fps: float = 0.0
    url: str | None = None
    analysing: bool = False                  # its analysis started at upload: a request now is answered quickly


UploadedMedia = Media


@dataclass(frozen=True)
class Clip:
    """One short, the same object from the service that made it to the reply that shows it."""

    number: int                              # 1-based, its place among the session's clips
    title: str = ""
    start: float | None = None               # where it is in the source, seconds (when known)
    end: float | None = None
    score: float | None = None               # 0-100
    hashtags: tuple[str, ...] = ()
    segments: tuple[tuple[float, float], ...] = ()   # the source ranges, in order (a reel has several)
    summary: str = ""                        # "Timeline (3 tracks): 1. Video: talk.mp4 0:16-0:33 ..."
    path: Path | None = None                 # the rendered file, while it is current
    thumbnail: Path | None = None
    width: int = 0
    height: int = 0
    duration: float = 0.0
    clip_id: int | None = None               # its stored row, for buttons and links; None for a cloud draft
    ready: bool = True                       # has something to export
    language: str = ""                       # the language heard in it, when the service says
    captions_withheld: str = ""              # why it goes without captions (speech the engine did not believe)
    weak: bool = False                       # below the quality bar (given because a count was asked)


@dataclass(frozen=True)
class ChatEvent:
    kind: Literal["text", "progress", "tool", "heartbeat", "clip", "done"]
    text: str = ""
    fraction: float | None = None
    data: dict[str, Any] = field(default_factory=dict)     # a sentence's key and values; the cloud's extras
    clip: Clip | None = None                 # kind "clip": a finished short
    clips: tuple[Clip, ...] = ()             # kind "text": the moments chosen, before they render
    notes: tuple[dict[str, Any], ...] = ()   # with them: engine.models.SelectionNote facts, for texts.note


@dataclass(frozen=True)
class State:
    """What the status reply shows: the session's media and clips."""

    session_id: str
    media: list[Media]
    clips: list[Clip]
    drafts: list[dict[str, Any]] = field(default_factory=list)   # the cloud's own timeline, for the cloud service

    @property
    def summary(self) -> list[str]:
        return [clip.summary for clip in self.clips]


@dataclass(frozen=True)
class Credits:
    available: int
    frozen: int
    total: int
    cost_per_minute: int | None = None       # credits a cut holds per started minute of source, when the service says


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
    name: str                                # the key of its sessions and accounts in storage
    takes_links: bool                        # fetches a link itself (no download here first)
    export_deadline_s: float | None          # an export unfinished after this long is stopped; None: never
    poll_interval: float                     # seconds between render_status polls

    async def open_account(self, user_id: int, client_id: str) -> Account: ...
    async def open_session(self, account: Account, chat_key: str, language: str = "en") -> SessionRef: ...
    async def upload(self, account: Account, session: SessionRef, source: Path | str) -> UploadedMedia: ...
    def chat(self, account: Account, session: SessionRef, text: str) -> AsyncIterator[ChatEvent]: ...
    async def state(self, account: Account, session: SessionRef) -> State: ...
    async def credits(self, account: Account) -> Credits: ...
    async def export(self, account: Account, session: SessionRef, draft_index: int | None = None) -> list[RenderRef]: ...
    async def render_status(self, account: Account, ref: RenderRef) -> RenderStatus: ...
    async def fetch_result(self, url: str, dest: Path, max_bytes: int | None = None) -> Path | None: ...
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
    code = 2001                              # details: available, needed, register_url, ask_admin


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

"""The clip service between the conversation and the engines, in the domain's own words.

A clip service (the local engine, the NemoVideo cloud, or a third one) is asked on behalf of a
`Who` (a person in one chat, in their language). It takes an upload and gives `Media`; cuts
clips for a `ClipRequest` and edits them with `Edit`s, streaming `ChatEvent`s (progress,
`Sentence`s, `Clip`s); exports finished clips (a file or a link; it waits for its own renders);
reports `Credits` and `State`; cancels what runs for a person and starts them over. `Clip` and
`Media` travel unchanged from the service to the replies the adapters send. What a service keeps
for itself (the cloud's tokens, sessions, drafts, render polling and its recovery from refused
tokens, lost sessions and rate limits; the local clip rows) stays inside it. What differs between
services and matters to the conversation is said by attributes (`takes_links`) and by answers
(`Media.analysing`, `Credits.cost_per_minute`, `OutOfCredits` details), never by a name.

Errors carry the cloud's codes, which both services use; bot/sentences.py words them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, AsyncIterator, Literal, Mapping, Protocol, Sequence

from bot.vocabulary import Edit
from engine.models import ClipRequest, ExactSpan, SelectionNote


@dataclass(frozen=True)
class Who:
    """Whom a service call is for: a person (our storage user id) in one chat, in their language."""

    user_id: int
    chat_key: str                            # "telegram:123": a person has one session per chat
    language: str = "en"
    session: int | None = None               # a stored session a button named; None: the person's current one here


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
    silent: bool = False                     # a video without sound: the local engine finds moments in what is said


@dataclass(frozen=True)
class Track:
    """One track of a short, as facts: bot.texts.timeline words it in the person's language. A local
    track is one thing; a track of a cloud draft holds its segments (`pieces`, each a Track of its kind)."""

    kind: Literal["video", "audio", "captions", "title", "music", "other"]     # "audio": a sound file's sound
    name: str = ""                           # the source's file name, the caption style, the title's text, the
                                             # song's name; "" when the service named nothing
    end: float | None = None                 # it plays on the short from `start` s to here (None: not said)
    ranges: tuple[tuple[float, float], ...] = ()     # video: the source ranges it plays, in order
    volume: float | None = None              # 0-1 (music; on the cloud, any segment may have one)
    start: float | None = 0.0
    pieces: tuple["Track", ...] | None = None    # a cloud draft's track: its segments in order (() when empty)


@dataclass(frozen=True)
class ClipTimeline:
    """A short's tracks in order: what the status and an edit's reply show of it
    ("Timeline (3 tracks): 1. Video: talk.mp4 0:16-0:33 (0-16s) ..." / "时间线（3 条轨道）：1. 视频：...")."""

    tracks: tuple[Track, ...]


@dataclass(frozen=True)
class TrackChange:
    """One track an edit added (`before` is None), removed (`after` is None) or changed."""

    before: Track | None = None
    after: Track | None = None


@dataclass(frozen=True)
class TimelineEdit:
    """What an edit did to one clip's tracks, as the cloud's timeline shows it: the changes, then the tracks now."""

    changes: tuple[TrackChange, ...]
    timeline: ClipTimeline


# A clip's summary: its tracks (both services), or a service's own line, shown as it is.
Summary = ClipTimeline | str


@dataclass(frozen=True)
class Clip:
    """One short, the same object from the service that made it to the reply that shows it."""

    number: int                              # 1-based, its place among the session's current clips: the one
                                             # number the person sees (caption, /export N, /share N, status)
    title: str = ""
    start: float | None = None               # where it is in the source, seconds (when known)
    end: float | None = None
    score: float | None = None               # 0-100
    hashtags: tuple[str, ...] = ()
    segments: tuple[tuple[float, float], ...] = ()   # the source ranges, in order (a reel has several)
    summary: Summary = ""                    # its tracks; bot.texts.timeline words them
    path: Path | None = None                 # the rendered file, while it is current
    url: str | None = None                   # an exported file on the service's host (a link when too large)
    thumbnail: Path | None = None
    width: int = 0
    height: int = 0
    duration: float = 0.0
    clip_id: int | None = None               # its stored row, for buttons and links; None for a cloud draft
    session: int | None = None               # its stored session, for buttons when it has no row of its own
    ready: bool = True                       # has something to export
    language: str = ""                       # the language heard in it, when the service says
    languages: tuple[str, ...] = ()          # every language heard in it, most spoken first, when the service says
    captions_withheld: str = ""              # why it goes without captions (speech the engine did not believe)
    weak: bool = False                       # below the quality bar (given because a count was asked)
    source_kind: Literal["video", "audio"] = "video"     # what it was cut from: a sound file is called one


@dataclass(frozen=True)
class Reason:
    """Why something did not happen: bot.texts.reason words it from its key and facts (else the English)."""

    english: str
    key: str | None = None
    facts: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Landed:
    """A clip's new length when an edit of it landed over a second away from the length asked:
    its edges keep to sentences (or the video's and a clip's limits), so the step is not exact."""

    clip: int                                # its number
    asked: float                             # the length asked for, seconds
    got: float                               # the length it has now
    edge: Literal["sentence_end", "sentence_start", "limit"]     # what it landed on


@dataclass(frozen=True)
class ReelRemade:
    """A highlight reel whose moments were chosen again at a new length."""

    kept: int                                # how many moments it joins
    got: float                               # its length as it plays, seconds
    asked: float                             # the length asked for
    short: bool = False                      # the video had far less worth showing than asked


@dataclass(frozen=True)
class Reshaped:
    """The clips an aspect edit changed, and the shape they have now."""

    clips: tuple[int, ...]                   # their numbers
    aspect: str                              # "1:1", "9:16", "4:5", "16:9"
    every: bool = False                      # all the session's clips (more than one)


@dataclass(frozen=True)
class EdgeMoved:
    """Where a clip's start or end is after "start clip 1 2 seconds earlier" when it moved over a second
    more or less than asked: edges keep to sentences (or the video's and a clip's limits)."""

    clip: int                                # its number
    edge: Literal["start", "end"]
    at: float                                # where that edge is now in the source, seconds
    moved: float                             # how far it moved, seconds: negative earlier, positive later
    landed_on: Literal["sentence_end", "sentence_start", "limit"]


@dataclass(frozen=True)
class Sentence:
    """Something a service says, as a key of bot/texts.py and the facts it is worded from."""

    key: str                                 # "changed", "undone", "nothing_changed", "unplaced", "no_moments", ...
    reason: str = ""                         # "unplaced": the words it could not use
    reasons: tuple[Reason, ...] = ()         # "nothing_changed": why, each once, in order
    changes: tuple[tuple[int, Summary], ...] = ()    # "changed": (clip number, its new summary)
    landed: tuple[Landed, ...] = ()          # "changed": the clips whose length is not the one asked
    reel: ReelRemade | None = None           # "changed": the reel's moments chosen again at a new length
    moved: tuple[EdgeMoved, ...] = ()        # "changed": the starts and ends not moved as far as asked
    reshaped: tuple[Reshaped, ...] = ()      # "changed": the clips an aspect edit gave a new shape
    undone: tuple[Edit, ...] = ()            # "undone", "redone": the change taken back or put back (changes: the
                                             # clips as they are now)
    steps: int = 0                           # "undo_nothing", "undo_no_more": how many changes undo keeps
    seconds: float = 0.0                     # "export_too_slow": the deadline that passed; "range_past_end": the length
    start: float = 0.0                       # "range_past_end": where the part asked for starts
    source: str = ""                         # "source_too_short": the name of the file (seconds: its length)
    edited: tuple[TimelineEdit, ...] = ()    # "timeline_edited": each clip's (none: the timeline is empty)
    exact: ExactSpan | None = None           # "exact_cut": the stretch cut as asked, and why an edge moved
    numbers: tuple[int, ...] = ()            # "export_again": the clips asked for that were made already


Stage = Literal["", "analyse", "analyse_sound", "render", "export"]     # analyse_sound: of a sound file


@dataclass(frozen=True)
class ChatEvent:
    """One thing a service's stream reports: words, progress, a finished clip, a failed one, the end."""

    kind: Literal["text", "progress", "tool", "heartbeat", "clip", "failed", "done"]
    text: str = ""                           # the service's own words (the cloud's), when there is no Sentence
    sentence: Sentence | None = None
    fraction: float | None = None            # kind "progress": 0-1, None when unknown
    stage: Stage = ""                        # kind "progress": what it is doing
    rendering: tuple[int, int, int] = (1, 1, 1)  # stage "render": (clip number, n, m): this job's nth render of m
    clip: Clip | None = None                 # kind "clip": a finished short; kind "failed": the one that failed
    clips: tuple[Clip, ...] = ()             # kind "text": the moments chosen, before they render
    notes: tuple[SelectionNote, ...] = ()    # with them: how they were chosen
    actions: tuple[str, ...] = ()            # the cloud's words: what the bot can do for the person ("export")
    tool: str = ""                           # kind "tool": the cloud's tool and its phase ("call", "result")
    phase: str = ""
    silent: bool = False                     # the cloud said nothing: the text is what its timeline shows changed
    cancelled: bool = False                  # kind "done": the stream was stopped


@dataclass(frozen=True)
class State:
    """What the status reply shows: the session's media and clips."""

    media: list[Media]
    clips: list[Clip]

    @property
    def summary(self) -> list[Summary]:
        return [clip.summary for clip in self.clips]


@dataclass(frozen=True)
class Credits:
    available: int
    frozen: int
    total: int
    cost_per_minute: int | None = None       # credits a cut holds per started minute of source, when the service says


class ClipService(Protocol):
    name: str                                # the key of its sessions in storage (a button names a stored session)
    takes_links: bool                        # fetches a link itself (no download here first)

    async def upload(self, who: Who, source: Path | str) -> Media: ...
    def cut(self, who: Who, words: str, request: ClipRequest) -> AsyncIterator[ChatEvent]: ...
    # `edits`: what bot.vocabulary read in the person's `words` (none: no change it knows; a service with
    # an agent of its own may still read the words)
    def edit(self, who: Who, edits: Sequence[Edit], words: str = "") -> AsyncIterator[ChatEvent]: ...
    def export(self, who: Who, number: int | None = None, max_bytes: int | None = None) -> AsyncIterator[ChatEvent]: ...
    async def state(self, who: Who) -> State: ...
    async def credits(self, who: Who) -> Credits: ...
    async def start_over(self, who: Who) -> None: ...
    async def cancel(self, who: Who) -> bool: ...
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

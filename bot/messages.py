"""The normalised messages: what adapters build from platform events, and what they send back.

Adapters only translate to and from these; nothing platform-specific lives below adapters/.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Awaitable, Callable, Literal, Protocol

# Downloads an attachment's bytes to the given path (streaming), returns the path.
Fetcher = Callable[[Path], Awaitable[Path]]


@dataclass(frozen=True)
class Attachment:
    name: str                                # the name the user sent; display only, never a path on disk
    mime: str | None
    size: int | None                         # bytes, when the platform says
    fetch: Fetcher | None = None             # None when the platform cannot hand over the bytes (too large)
    kind: Literal["video", "audio", "image", "document"] = "document"
    url: str | None = None                   # a link the backend may pass on instead of the bytes
    duration: float | None = None            # seconds, when the platform says (before any download)


@dataclass(frozen=True)
class ChatRef:
    """Where to post later (even after a restart), like botbuilder's ConversationReference."""

    platform: str
    chat_id: str
    thread_id: str | None = None
    reply_to: str | None = None              # the message the results answer
    user_id: str | None = None
    language: str = "en"                     # the person's (as ConversationReference.locale): what an adapter says
                                             # of its own there (an apology, a thread's name) is said in it

    @property
    def chat_key(self) -> str:
        return f"{self.platform}:{self.chat_id}" + (f":{self.thread_id}" if self.thread_id else "")


@dataclass(frozen=True)
class Incoming:
    platform: str                            # "telegram" | "discord" | "console"
    chat_id: str
    user_id: str
    user_name: str = ""
    text: str = ""
    attachments: tuple[Attachment, ...] = ()
    thread_id: str | None = None
    message_id: str | None = None
    language: str | None = None              # a hint: "en", "zh", ...
    is_group: bool = False
    mentions_bot: bool = False
    reply_to_bot: bool = False               # a reply to one of the bot's own messages
    reply_to: str | None = None              # id of the message this one replies to
    command: str | None = None               # "export" for "/export@MyBot now"; None for plain text
    command_args: str = ""

    @property
    def chat_ref(self) -> ChatRef:
        return ChatRef(self.platform, self.chat_id, self.thread_id, self.message_id, self.user_id)

    @property
    def addressed_to_bot(self) -> bool:
        """In a group the bot acts only on commands, mentions and replies to itself."""
        return (not self.is_group) or self.command is not None or self.mentions_bot or self.reply_to_bot


@dataclass(frozen=True)
class Button:
    label: str
    action: str                              # a command line the conversation understands, e.g. "/export", "/share 2"
    typed: str = ""                          # the same as a person types it ("/export 1": the clip's number, where
                                             # the action names its row): what a chat without buttons shows


@dataclass(frozen=True)
class TextReply:
    text: str
    buttons: tuple[Button, ...] = ()
    kind: Literal["text"] = "text"


@dataclass(frozen=True)
class ProgressReply:
    """One message per key, edited in place; adapters throttle the edits."""

    key: str                                 # stable per job, e.g. "job-12"
    text: str
    fraction: float | None = None            # 0.0-1.0
    done: bool = False
    buttons: tuple[Button, ...] = ()
    kind: Literal["progress"] = "progress"


@dataclass(frozen=True)
class VideoReply:
    path: Path
    width: int
    height: int
    duration: float
    caption: str = ""
    thumbnail: Path | None = None
    title: str = ""
    clip_id: int | None = None
    number: int | None = None                # the clip's number, as its caption says it ("#1")
    link: str | None = None                  # a signed link, for when the file is too large for the platform
    buttons: tuple[Button, ...] = ()
    language: str = "en"                     # the person's: what an adapter adds (a link instead of the file) is said in it
    kind: Literal["video"] = "video"


@dataclass(frozen=True)
class LinkReply:
    url: str
    text: str = ""
    kind: Literal["link"] = "link"


@dataclass(frozen=True)
class ErrorReply:
    text: str                                # a sentence for the user, never a traceback
    code: int | None = None
    kind: Literal["error"] = "error"


Reply = TextReply | ProgressReply | VideoReply | LinkReply | ErrorReply


class ReplySink(Protocol):
    """What an adapter hands the conversation: it posts replies to a chat, now or later."""

    async def __call__(self, ref: ChatRef, reply: Reply) -> None: ...

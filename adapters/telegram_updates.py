"""Telegram Update -> bot.messages.Incoming: the translation, and nothing else.

Telegram marks commands, mentions and links with entities whose offsets count UTF-16 code
units; python-telegram-bot's `parse_entities` turns them into text, so nothing here counts
characters by hand. A command addressed to another bot ("/export@OtherBot") is not ours.

In groups with privacy mode on, Telegram only delivers commands, replies to the bot and
messages that mention it; with privacy mode off it delivers everything, so the adapter still
looks at `Incoming.addressed_to_bot` before acting.
"""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from typing import Callable

from telegram import CallbackQuery, Chat, Message, MessageEntity, Update, User
from telegram.warnings import PTBDeprecationWarning

from bot.intents import parse_command
from bot.messages import Attachment, Fetcher, Incoming
from bot.texts import pick_language
from engine.probe import media_kind_for_name

PLATFORM = "telegram"

# Given a Telegram file id and the size Telegram reported, a function that downloads it.
FetcherFactory = Callable[[str, "int | None"], Fetcher]


@dataclass(frozen=True)
class BotIdentity:
    id: int
    username: str


@dataclass(frozen=True)
class _TelegramFile:
    file_id: str
    size: int | None
    name: str
    mime: str | None
    kind: str
    duration: float | None = None            # Telegram gives it for videos, animations, video notes, audio, voice


def incoming_from_message(message: Message, bot: BotIdentity, fetcher_for: FetcherFactory,
                          download_limit: int | None = None) -> Incoming | None:
    """The Incoming for a user's message, or None for what is not a person talking (service messages, bots).

    Attachments over `download_limit` bytes get `fetch=None`: Telegram will not hand them over.
    """
    sender = message.from_user
    if sender is None or sender.is_bot:
        return None
    is_group = message.chat.type in (Chat.GROUP, Chat.SUPERGROUP)

    text, entities = (message.text, message.parse_entities()) if message.text is not None \
        else (message.caption or "", message.parse_caption_entities())
    command, command_args, command_for_other_bot = _command(text, entities, bot)
    mentions_bot = _mentions(entities, bot)
    replied = message.reply_to_message
    reply_to_bot = bool(replied and replied.from_user and replied.from_user.id == bot.id)

    files = _files_of(message)
    if not files and is_group and replied is not None and not reply_to_bot and (mentions_bot or command):
        # "@bot cut this" as a reply to a video someone posted earlier: that video is the upload.
        files = _files_of(replied)
    if not text and not files:
        return None

    if command_for_other_bot:
        command, command_args = None, ""
    shown_text = _without_bot_mentions(text, bot)
    if command is not None:
        shown_text = f"/{command}" + (f" {command_args}" if command_args else "")
    shown_text = _with_hidden_links(shown_text, entities)

    return Incoming(
        platform=PLATFORM,
        chat_id=str(message.chat.id),
        user_id=str(sender.id),
        user_name=_display_name(sender),
        text=shown_text,
        attachments=tuple(_attachment(f, fetcher_for, download_limit) for f in files),
        thread_id=str(message.message_thread_id) if message.is_topic_message and message.message_thread_id else None,
        message_id=str(message.message_id),
        language=_language(sender),
        is_group=is_group,
        mentions_bot=mentions_bot,
        reply_to_bot=reply_to_bot,
        reply_to=str(replied.message_id) if replied is not None else None,
        command=command,
        command_args=command_args,
    )


def incoming_from_callback(query: CallbackQuery) -> Incoming | None:
    """A button press: its data is the button's action, a command line, said by the user who pressed it."""
    message = query.message
    if query.data is None or message is None:
        return None
    command, args = parse_command(query.data)
    return Incoming(
        platform=PLATFORM,
        chat_id=str(message.chat.id),
        user_id=str(query.from_user.id),
        user_name=_display_name(query.from_user),
        text=query.data,
        thread_id=(str(message.message_thread_id)
                   if isinstance(message, Message) and message.is_topic_message and message.message_thread_id
                   else None),
        message_id=str(message.message_id),
        language=_language(query.from_user),
        is_group=message.chat.type in (Chat.GROUP, Chat.SUPERGROUP),
        reply_to_bot=True,
        reply_to=str(message.message_id),
        command=command,
        command_args=args if command else "",
    )


# ---------------------------------------------------------------------------- text


def _command(text: str, entities: dict[MessageEntity, str], bot: BotIdentity) -> tuple[str | None, str, bool]:
    """(command, arguments, addressed to another bot) from a bot_command entity at the start."""
    for entity, value in entities.items():
        if entity.type == MessageEntity.BOT_COMMAND and entity.offset == 0:
            name, _, target = value[1:].partition("@")
            args = text[len(value):].strip()
            other_bot = bool(target) and target.lower() != bot.username.lower()
            return name.lower(), args, other_bot
    return None, "", False


def _mentions(entities: dict[MessageEntity, str], bot: BotIdentity) -> bool:
    for entity, value in entities.items():
        if entity.type == MessageEntity.MENTION and value[1:].lower() == bot.username.lower():
            return True
        if entity.type == MessageEntity.TEXT_MENTION and entity.user and entity.user.id == bot.id:
            return True
    return False


def _without_bot_mentions(text: str, bot: BotIdentity) -> str:
    cleaned = re.sub(rf"(?<![\w@])@{re.escape(bot.username)}\b[,:]?", "", text, flags=re.IGNORECASE)
    return re.sub(r"[ \t]{2,}", " ", cleaned).strip()


def _with_hidden_links(text: str, entities: dict[MessageEntity, str]) -> str:
    """A link under other words ("see [this talk](https://…)") is in an entity, not the text: add it."""
    hidden = [e.url for e in entities if e.type == MessageEntity.TEXT_LINK and e.url and e.url not in text]
    return " ".join([text, *hidden]).strip() if hidden else text


def _display_name(user: User) -> str:
    return user.full_name or (user.username or "")


def language_of(update: Update) -> str:
    """The language of an answer to `update`, as the conversation picks it: the words the person sent (a
    message, or a button's action), else their Telegram language."""
    query = update.callback_query
    words = (query.data or "") if query is not None else ""
    if update.message is not None:
        words = update.message.text or update.message.caption or ""
    user = update.effective_user
    return pick_language(words, _language(user) if user is not None else None)


def _language(user: User) -> str | None:
    return user.language_code.split("-")[0].lower() if user.language_code else None


# ---------------------------------------------------------------------------- files


def _files_of(message: Message) -> list[_TelegramFile]:
    """The files in a message, in the forms people send video, sound and pictures."""
    found: list[_TelegramFile] = []
    if message.animation is not None:           # Telegram also fills `document` for an animation: skip that one
        a = message.animation
        found.append(_TelegramFile(a.file_id, a.file_size, a.file_name or f"animation-{a.file_unique_id}.mp4",
                                   a.mime_type or "video/mp4", "video", _seconds(a)))
    elif message.document is not None:
        d = message.document
        found.append(_TelegramFile(d.file_id, d.file_size, d.file_name or f"document-{d.file_unique_id}",
                                   d.mime_type, _document_kind(d.file_name, d.mime_type)))
    if message.video is not None:
        v = message.video
        found.append(_TelegramFile(v.file_id, v.file_size, v.file_name or f"video-{v.file_unique_id}.mp4",
                                   v.mime_type or "video/mp4", "video", _seconds(v)))
    if message.video_note is not None:
        n = message.video_note
        found.append(_TelegramFile(n.file_id, n.file_size, f"video-note-{n.file_unique_id}.mp4", "video/mp4", "video",
                                   _seconds(n)))
    if message.audio is not None:
        a = message.audio
        found.append(_TelegramFile(a.file_id, a.file_size, a.file_name or f"audio-{a.file_unique_id}.mp3",
                                   a.mime_type or "audio/mpeg", "audio", _seconds(a)))
    if message.voice is not None:
        v = message.voice
        found.append(_TelegramFile(v.file_id, v.file_size, f"voice-{v.file_unique_id}.ogg",
                                   v.mime_type or "audio/ogg", "audio", _seconds(v)))
    if message.photo:
        largest = max(message.photo, key=lambda p: p.width * p.height)
        found.append(_TelegramFile(largest.file_id, largest.file_size, f"photo-{largest.file_unique_id}.jpg",
                                   "image/jpeg", "image"))
    return found


def _document_kind(file_name: str | None, mime: str | None) -> str:
    """A document is a video when its MIME type or its extension says so (phones often send octet-stream);
    what it really is, the probe of the downloaded bytes decides."""
    return media_kind_for_name(file_name, mime) or "document"


def _attachment(file: _TelegramFile, fetcher_for: FetcherFactory, download_limit: int | None) -> Attachment:
    too_big = download_limit is not None and file.size is not None and file.size > download_limit
    return Attachment(
        name=file.name,
        mime=file.mime,
        size=file.size,
        fetch=None if too_big else fetcher_for(file.file_id, file.size),
        kind=file.kind,  # type: ignore[arg-type]
        duration=file.duration,
    )


def _seconds(media) -> float | None:
    """The duration Telegram gave, in seconds. python-telegram-bot 22 gives an int with a warning that it
    will become a timedelta (or the timedelta at once, with PTB_TIMEDELTA set): both are taken."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        duration = media.duration
    if duration is None:
        return None
    return float(duration.total_seconds()) if hasattr(duration, "total_seconds") else float(duration)

"""Discord events -> bot.messages.Incoming: the translation, and the attachment download.

Three things reach the conversation from Discord:
- a message: in a DM always; in a server only when it mentions the bot or replies to one of
  its messages (anything else is not for the bot, and is dropped here, before any download);
- a slash command (`/clip video:<file> instruction:<text>`, `/export`, `/share clip:2`, ...),
  which is addressed to the bot by its nature;
- a button press on one of the bot's messages, whose custom id carries a command line.

Without the privileged Message Content intent Discord still delivers the text and attachments
of DMs and of messages that mention the bot (a reply that pings the bot mentions it), and
leaves them empty for everything else; slash commands and buttons need no intent at all.
A message's language hint is its server's preferred locale (an interaction's is the person's own).

A thread continues the conversation of the channel it hangs from. Discord gives a thread
started from a message the id of that message, so something said inside thread T of channel
C becomes chat C answering message T: the person's session is the one of channel C (sessions
are per chat), and every reply to "message T" goes into thread T (discord_adapter.py finds a
thread by that id), also for jobs resumed after a restart.
"""
from __future__ import annotations

import logging
import re
from dataclasses import replace
from pathlib import Path
from typing import Callable

import aiohttp
import discord

from bot.fetch import FetchError, TooLarge, save_stream
from bot.intents import parse_command
from bot.messages import Attachment, Fetcher, Incoming
from engine.probe import media_kind_for_name

log = logging.getLogger(__name__)

PLATFORM = "discord"
CHUNK_BYTES = 256 * 1024

# Given a Discord attachment, a function that streams it to a path.
FetcherFactory = Callable[[discord.Attachment], Fetcher]


# ---------------------------------------------------------------------------- messages

def incoming_from_message(message: discord.Message, bot_id: int, fetcher_for: FetcherFactory) -> Incoming | None:
    """The Incoming for a person's message meant for the bot, or None (bots, system messages, chatter)."""
    if message.author.bot or message.type not in (discord.MessageType.default, discord.MessageType.reply):
        return None
    is_group = message.guild is not None
    mentions_bot = any(user.id == bot_id for user in message.mentions)
    reply_to_bot = _replied_author_id(message) == bot_id
    if is_group and not (mentions_bot or reply_to_bot):
        return None
    text = strip_bot_mention(message.content, bot_id)
    command, args = parse_command(text)
    chat_id, answered = chat_and_message(message.channel, message.id)
    return Incoming(
        platform=PLATFORM,
        chat_id=chat_id,
        user_id=str(message.author.id),
        user_name=message.author.name,
        text=text,
        attachments=tuple(attachment_from_discord(a, fetcher_for) for a in message.attachments),
        message_id=answered,
        is_group=is_group,
        mentions_bot=mentions_bot,
        reply_to_bot=reply_to_bot,
        reply_to=str(message.reference.message_id) if message.reference and message.reference.message_id else None,
        language=locale_language(message.guild.preferred_locale) if message.guild is not None else None,
        command=command,
        command_args=args if command else "",
    )


def strip_bot_mention(content: str, bot_id: int) -> str:
    """"<@123> cut 3 shorts" -> "cut 3 shorts"; the old "<@!123>" nickname form too."""
    return re.sub(rf"<@!?{bot_id}>", " ", content).strip()


def _replied_author_id(message: discord.Message) -> int | None:
    reference = message.reference
    if reference is None:
        return None
    resolved = reference.resolved
    if isinstance(resolved, discord.Message):
        return resolved.author.id
    return None


def chat_and_message(channel, message_id: int | None) -> tuple[str, str | None]:
    """(chat id, id of the message replies answer): inside a thread, the parent channel and the
    thread's own id (the message it was started from); elsewhere the channel and the message."""
    if isinstance(channel, discord.Thread) and channel.parent_id is not None:
        return str(channel.parent_id), str(channel.id)
    return str(channel.id), str(message_id) if message_id else None


# ---------------------------------------------------------------------------- interactions

def incoming_from_command(interaction: discord.Interaction, *, message_id: int | None, text: str = "",
                          command: str | None = None, args: str = "",
                          attachments: tuple[Attachment, ...] = ()) -> Incoming:
    """A slash command as an Incoming. `message_id` is the bot's deferred response, which later
    replies answer and a job's thread hangs from (a slash command has no message of its own).
    A slash command is addressed to the bot by its nature (`mentions_bot`)."""
    if interaction.channel is not None:
        chat_id, answered = chat_and_message(interaction.channel, message_id)
    else:
        chat_id, answered = str(interaction.channel_id), str(message_id) if message_id else None
    if command is not None and not text:
        text = f"/{command} {args}".strip()
    return Incoming(
        platform=PLATFORM,
        chat_id=chat_id,
        user_id=str(interaction.user.id),
        user_name=interaction.user.name,
        text=text,
        attachments=attachments,
        message_id=answered,
        language=locale_language(interaction.locale),
        is_group=interaction.guild_id is not None,
        mentions_bot=True,
        command=command,
        command_args=args,
    )


def incoming_from_button(interaction: discord.Interaction, action: str) -> Incoming:
    """A button's action ("/export", "/share 2", "more clips like clip 2") pressed on one of the bot's messages."""
    command, args = parse_command(action)
    message_id = interaction.message.id if interaction.message else None
    incoming = incoming_from_command(interaction, message_id=message_id, text=action, command=command,
                                     args=args if command else "")
    return replace(incoming, mentions_bot=False, reply_to_bot=True, reply_to=str(message_id) if message_id else None)


def locale_language(locale: discord.Locale | None) -> str | None:
    """"en-US" -> "en", "zh-CN" -> "zh"."""
    if locale is None:
        return None
    return str(locale.value).split("-")[0].lower() or None


# ---------------------------------------------------------------------------- attachments

def attachment_kind(name: str, content_type: str | None) -> str:
    """What Discord's content type or the file's name suggests; the probe of the bytes decides."""
    return media_kind_for_name(name, content_type) or "document"


def attachment_from_discord(attachment: discord.Attachment, fetcher_for: FetcherFactory) -> Attachment:
    return Attachment(
        name=attachment.filename,
        mime=attachment.content_type,
        size=attachment.size,
        fetch=fetcher_for(attachment),
        kind=attachment_kind(attachment.filename, attachment.content_type),
        url=attachment.url,
    )


async def stream_to_file(session: aiohttp.ClientSession, url: str, path: Path, declared_size: int | None,
                         max_bytes: int) -> Path:
    """Streams a download to `path` (through bot.fetch.save_stream), refusing more than `max_bytes`.

    The size Discord declared is checked before any request; the Content-Length and the bytes
    actually received are checked again, so a wrong declaration cannot fill the disk.
    """
    if declared_size is not None and declared_size > max_bytes:
        raise TooLarge(max_bytes / (1024 * 1024))
    try:
        async with session.get(url) as response:
            if response.status != 200:
                raise FetchError(f"Discord did not hand over the file (HTTP {response.status}). Please send it again.",
                                 "fetch_discord_refused", status=response.status)
            return await save_stream(response.content.iter_chunked(CHUNK_BYTES), path, max_bytes,
                                     declared_size=response.content_length)
    except aiohttp.ClientError as exc:
        log.warning("download of a Discord attachment failed: %s", exc)
        raise FetchError("The download from Discord broke off. Please send the file again.",
                         "fetch_discord_broke") from exc

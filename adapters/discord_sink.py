"""The Discord sink: a reply from the conversation -> an interaction answer, a message in a thread,
an edited progress message, a file or a link. Everything that fails is apologised for in place."""
from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from contextlib import ExitStack
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Awaitable, Callable

import discord

from adapters.discord_replies import (
    fits_upload,
    interaction_token_usable,
    link_text,
    no_link_text,
    progress_text,
    refused_upload,
    thread_name,
    too_big,
    video_text,
    view_for,
    clip_text,
)
from bot.messages import ChatRef, ErrorReply, Incoming, LinkReply, ProgressReply, Reply, TextReply, VideoReply
from bot.texts import say
from storage.media_store import find_render

log = logging.getLogger(__name__)

THREAD_ARCHIVE_MINUTES = 1440
RECONNECT_FIRST_PAUSE_S = 1.0
RECONNECT_MAX_PAUSE_S = 60.0
REMEMBERED = 2000          # how many messages' interactions, thread names and threads are kept in memory

# Discord error codes the adapter reacts to.
THREAD_ALREADY_EXISTS = 160004
WRONG_CHANNEL_TYPE = 50024
INVALID_WEBHOOK_TOKEN = 50027
UNKNOWN_WEBHOOK = 10015
UNKNOWN_INTERACTION = 10062
ENTITY_TOO_LARGE = 40005

MessageKey = tuple[str, str]   # (chat id, id of the message replies answer)


@dataclass
class Answering:
    """A slash command whose token may still carry replies."""

    key: MessageKey
    interaction: discord.Interaction
    private: bool
    answered: bool = False


@dataclass
class ProgressMessage:
    channel_id: int
    message_id: int
    pending: ProgressReply | None = None      # the newest state not yet shown; it replaces older ones
    writer: asyncio.Task | None = None        # shows `pending` until there is none


class Remembered(OrderedDict):
    """A dict that forgets its oldest entries beyond a size."""

    def __init__(self, size: int = REMEMBERED):
        super().__init__()
        self.size = size

    def __setitem__(self, key, value) -> None:
        super().__setitem__(key, value)
        self.move_to_end(key)
        while len(self) > self.size:
            self.popitem(last=False)


# ---------------------------------------------------------------------------- the adapter


class DiscordSink:
    """DiscordAdapter's replies (a mixin: it owns app, client, and the state of threads and progress)."""

    async def send(self, ref: ChatRef, reply: Reply) -> None:
        """The sink App calls for every reply to a Discord chat, now or later (after a restart too). A reply
        that fails (after discord.py's own retries) is apologised for in its place. A video or link that
        failed raises anyway: the job it came from must not count it as delivered (nor charge for it).
        Any other reply raises only when the apology failed too."""
        if self.client.is_closed():
            log.warning("Discord is stopped; a %s reply to %s was not posted", reply.kind, ref.chat_key)
            if isinstance(reply, (VideoReply, LinkReply)):
                raise ConnectionError("the bot is not connected to Discord")
            return
        try:
            await self._deliver(ref, reply)
        except Exception as exc:
            if isinstance(exc, discord.Forbidden):
                log.warning("Discord refused a %s reply to %s: %s", reply.kind, ref.chat_key, exc.text)
                apology = say(ref.language, "discord_not_allowed")
            else:
                log.exception("could not post a %s reply to Discord chat %s", reply.kind, ref.chat_key)
                apology = say(ref.language, "discord_sorry")
            if not isinstance(reply, (ErrorReply, ProgressReply)):
                try:
                    await self._deliver(ref, ErrorReply(apology))
                except Exception:
                    # Nobody there heard of it (e.g. a share channel the bot may not post in, or one that is
                    # gone): the caller, who knows who asked, tells them.
                    log.warning("could not tell the user either", exc_info=True)
                    raise exc from None
            if isinstance(reply, (VideoReply, LinkReply)):
                raise exc

    async def _deliver(self, ref: ChatRef, reply: Reply) -> None:
        answering = self._answering_for(ref)
        if answering is not None and not answering.answered and not isinstance(reply, ProgressReply):
            # The first answer to a slash command replaces its "thinking" message, wherever the rest goes.
            if await self._via_interaction(answering, reply):
                return
        target = await self._target(ref, reply)
        if isinstance(reply, ProgressReply):
            await self._progress_update(target, reply)
            return
        if answering is not None and answering.answered and answering.interaction.channel_id == target.id:
            if await self._via_interaction(answering, reply):
                return
        await self._via_channel(target, ref, reply)
        if answering is not None:
            answering.answered = True      # the command has its answer, even if not through its token

    def _answering_for(self, ref: ChatRef) -> Answering | None:
        key = (ref.chat_id, ref.reply_to or "")
        answering = self._answering.get(key)
        if answering is None:
            return None
        if not interaction_token_usable(answering.interaction.created_at, _now()):
            del self._answering[key]
            return None
        return answering

    # where

    async def _target(self, ref: ChatRef, reply: Reply) -> discord.abc.Messageable:
        if ref.thread_id:
            return await self._channel(int(ref.thread_id))
        if ref.reply_to:
            thread = await self._known_thread(ref)
            if thread is not None:
                return thread
        channel = await self._channel(int(ref.chat_id))
        opens_thread = isinstance(reply, (ProgressReply, VideoReply)) and ref.reply_to is not None
        if opens_thread and isinstance(channel, discord.TextChannel) and ref.chat_id not in self._no_threads:
            thread = await self._thread_for(channel, ref)
            if thread is not None:
                return thread
        return channel

    async def _known_thread(self, ref: ChatRef):
        """The thread on the message a reply answers, when there is one: opened by this process, or
        in discord.py's cache (a thread has the id of the message it was started from)."""
        known = self._threads.get((ref.chat_id, ref.reply_to))
        if known is not None:
            return await self._channel(known)
        cached = self.client.get_channel(int(ref.reply_to))
        return cached if isinstance(cached, discord.Thread) else None

    async def _channel(self, channel_id: int):
        channel = self.client.get_channel(channel_id)
        if channel is None:
            channel = await self.client.fetch_channel(channel_id)
        return channel

    async def _thread_for(self, channel: discord.TextChannel, ref: ChatRef) -> discord.Thread | None:
        key = (ref.chat_id, ref.reply_to or "")
        lock = self._thread_locks.get(key)
        if lock is None:
            lock = self._thread_locks[key] = asyncio.Lock()
        async with lock:
            if key in self._threads:
                return await self._channel(self._threads[key])
            message = channel.get_partial_message(int(ref.reply_to))
            try:
                thread = await message.create_thread(name=thread_name(self._thread_subjects.get(key, ""), ref.language),
                                                     auto_archive_duration=THREAD_ARCHIVE_MINUTES)
            except discord.HTTPException as exc:
                if exc.code == THREAD_ALREADY_EXISTS:
                    thread = await self._channel(message.id)   # a message's thread has the message's id
                elif isinstance(exc, discord.Forbidden) or exc.code == WRONG_CHANNEL_TYPE:
                    log.warning("no threads in Discord channel %s (%s); posting in the channel", channel.id, exc.text)
                    self._no_threads.add(ref.chat_id)
                    return None
                else:
                    raise
            self._threads[key] = thread.id
        await self.app.conversation.remember_thread(ref, str(thread.id))
        return thread

    def _upload_limit(self, target) -> int:
        guild = getattr(target, "guild", None)
        known = self._upload_limits.get(guild.id if guild is not None else target.id)
        if known:
            return known
        if guild is not None:
            return guild.filesize_limit
        return discord.utils.DEFAULT_FILE_SIZE_LIMIT_BYTES

    # how: through the interaction

    async def _via_interaction(self, answering: Answering, reply: Reply) -> bool:
        """Posts through the slash command's webhook; False when the token no longer works."""
        interaction = answering.interaction
        limit = interaction.filesize_limit or discord.utils.DEFAULT_FILE_SIZE_LIMIT_BYTES
        if not answering.answered:
            def post(content, file, view):
                return interaction.edit_original_response(content=content, attachments=[file] if file else [],
                                                          view=view)
        else:
            def post(content, file, view):
                return interaction.followup.send(content, **_file_kw(file), **_view_kw(view),
                                                 ephemeral=answering.private, wait=True)
        try:
            await self._with_link_fallback(reply, limit, post)
            answering.answered = True
        except discord.HTTPException as exc:
            if exc.code in (INVALID_WEBHOOK_TOKEN, UNKNOWN_WEBHOOK, UNKNOWN_INTERACTION):
                log.info("interaction token expired; posting in the channel instead")
                self._answering.pop(answering.key, None)
                return False
            raise
        return True

    # how: as a channel message

    async def _via_channel(self, target, ref: ChatRef, reply: Reply) -> None:
        reference = None
        if ref.reply_to and getattr(target, "id", None) == int(ref.chat_id) and not ref.thread_id:
            reference = discord.MessageReference(message_id=int(ref.reply_to), channel_id=target.id,
                                                 fail_if_not_exists=False)
        limit = self._upload_limit(target)
        await self._with_link_fallback(
            reply, limit,
            lambda content, file, view: target.send(content, **_file_kw(file), **_view_kw(view),
                                                    reference=reference, mention_author=False))

    async def _with_link_fallback(self, reply: Reply, limit: int, post: Callable[..., Awaitable]) -> None:
        with ExitStack() as files:
            if isinstance(reply, VideoReply):
                reply = await _as_local_file(reply, limit, files)
            content, file, view = self._render(reply, limit)
            try:
                await post(content, file, view)
            except discord.HTTPException as exc:
                if file is None or not (exc.status == 413 or exc.code == ENTITY_TOO_LARGE):
                    raise
                log.info("Discord refused a %s upload as too large; sending a link", reply.kind)
                content, file, view = self._render(reply, limit, force_link=True)
                await post(content, file, view)

    def _render(self, reply: Reply, upload_limit: int,
                      force_link: bool = False) -> tuple[str, discord.File | None, discord.ui.View | None]:
        """(text, file, buttons) for a reply; a video over `upload_limit` becomes a link."""
        if isinstance(reply, VideoReply):
            stored = find_render(reply.path)           # a file here, or in the S3 media store
            size = stored.size if stored is not None else reply.path.stat().st_size
            view = view_for(reply.buttons)
            if fits_upload(size, upload_limit) and not force_link:
                return video_text(reply), discord.File(reply.path, filename=_upload_name(reply)), view
            why = refused_upload(reply.language) if force_link else too_big(size, upload_limit, reply.language)
            url = reply.link or self.app.link_for(reply)
            if url:
                return link_text(reply, url, why), None, view
            return no_link_text(reply, why), None, view
        if isinstance(reply, TextReply):
            return clip_text(reply.text), None, view_for(reply.buttons)
        if isinstance(reply, LinkReply):
            return clip_text("\n".join(p for p in (reply.text, reply.url) if p)), None, None
        if isinstance(reply, ErrorReply):
            return clip_text(reply.text), None, None
        if isinstance(reply, ProgressReply):
            return progress_text(reply), None, view_for(reply.buttons)
        raise TypeError(f"unknown reply {reply!r}")

    # how: progress, one message per key. How often it changes is the job's throttle's business
    # (bot/jobs.py); discord.py waits out Discord's rate limits. While an edit is on its way, newer
    # states replace each other and only the newest is shown next.

    async def _progress_update(self, target, reply: ProgressReply) -> None:
        """Returns at once, except for the first state (posted) and the final one (on screen when this returns)."""
        async with self._progress_lock(reply.key):
            progress = self._progress.get(reply.key)
            if progress is None:
                message = await target.send(progress_text(reply), **_view_kw(view_for(reply.buttons)))
                if reply.done:
                    self._progress_locks.pop(reply.key, None)
                else:
                    self._progress[reply.key] = ProgressMessage(target.id, message.id)
                return
        progress.pending = reply
        if progress.writer is None or progress.writer.done():
            progress.writer = asyncio.create_task(self._write_progress(reply.key, progress),
                                                  name=f"progress {reply.key}")
        if reply.done:
            await asyncio.shield(progress.writer)

    def _progress_lock(self, key: str) -> asyncio.Lock:
        lock = self._progress_locks.get(key)
        if lock is None:
            lock = self._progress_locks[key] = asyncio.Lock()
        return lock

    async def _write_progress(self, key: str, progress: ProgressMessage) -> None:
        finished = False
        try:
            while progress.pending is not None:
                reply, progress.pending = progress.pending, None
                finished = reply.done
                channel = await self._channel(progress.channel_id)
                await channel.get_partial_message(progress.message_id).edit(
                    content=progress_text(reply), view=view_for(reply.buttons))
        except Exception:
            log.exception("could not update Discord progress message %s", key)
        finally:
            if finished and progress.pending is None:
                self._progress.pop(key, None)
                self._progress_locks.pop(key, None)


# ---------------------------------------------------------------------------- small helpers


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _subject(incoming: Incoming) -> str:
    if incoming.text and not incoming.command:
        return incoming.text
    if incoming.attachments:
        return incoming.attachments[0].name
    return incoming.text


def _upload_name(reply: VideoReply) -> str:
    return f"clip-{reply.number}.mp4" if reply.number is not None else reply.path.name


async def _as_local_file(reply: VideoReply, limit: int, files: ExitStack) -> VideoReply:
    """Discord takes uploads, not URLs: a short in the S3 media store that fits is streamed into a
    temporary file (same name) for as long as `files` is open; anything else is left as it is."""
    stored = await asyncio.to_thread(find_render, reply.path)
    if stored is None or stored.store is None or not fits_upload(stored.size, limit):
        return reply
    return replace(reply, path=await asyncio.to_thread(files.enter_context, stored.local_file()))


def _file_kw(file: discord.File | None) -> dict:
    return {"file": file} if file is not None else {}


def _view_kw(view: discord.ui.View | None) -> dict:
    return {"view": view} if view is not None else {}

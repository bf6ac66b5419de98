"""The Discord adapter: discord.py <-> the conversation (bot.messages).

Structured as discord.py's examples: a Client subclass whose `setup_hook` registers the slash
commands on a CommandTree (synced only when they changed) and the buttons (a DynamicItem), and
an adapter that owns it, started with `login` + `connect` in the running loop.

Where a reply goes (ChatRef -> Discord):
- a reply to a slash command answers the interaction while its token lives (15 minutes): the
  first edits the deferred "thinking" message, later ones are followups; after that, and for
  messages and buttons, replies are ordinary channel messages answering the user's message;
- in a server text channel a job (its first progress or video) opens a thread on the message
  it answers (the user's message, or the slash command's response) and everything for that
  message goes there from then on; storage learns the thread so jobs resumed after a restart
  post there too; where threads are not allowed the channel is used;
- progress is one message per ProgressReply.key, edited when the job's throttle (bot/jobs.py) sends
  a new state; while an edit is on its way only the newest state waits;
- a video is uploaded when it fits the limit of where it goes (the interaction's
  attachment_size_limit, the guild's filesize_limit, 10 MiB), otherwise app.link_for(reply).

Rate limits are discord.py's (it waits and retries on 429). Anything else that fails is logged,
and the person gets a short sentence, never a traceback.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from typing import Any

import aiohttp
import discord
from discord import app_commands

from adapters.discord_events import (
    PLATFORM,
    attachment_from_discord,
    incoming_from_button,
    incoming_from_command,
    incoming_from_message,
    locale_language,
    stream_to_file,
)
from adapters.discord_replies import ActionButton, interaction_token_usable
from bot.platforms import AppError
from bot.messages import ErrorReply, Incoming, TextReply
from bot.texts import pick_language, say

from adapters.discord_commands import Descriptions, add_slash_commands, sync_commands_if_changed
from adapters.discord_sink import Answering, DiscordSink, Remembered, _now, _subject

from adapters.discord_sink import RECONNECT_FIRST_PAUSE_S, RECONNECT_MAX_PAUSE_S

log = logging.getLogger(__name__)



class ShortsClient(discord.Client):
    def __init__(self, adapter: "DiscordAdapter", intents: discord.Intents):
        super().__init__(intents=intents,
                         allowed_mentions=discord.AllowedMentions(everyone=False, roles=False, replied_user=False))
        self.adapter = adapter
        self.tree = app_commands.CommandTree(self)
        self.tree.error(adapter.on_command_error)

    async def setup_hook(self) -> None:
        add_slash_commands(self.tree, self.adapter)
        await self.tree.set_translator(Descriptions())
        self.add_dynamic_items(ActionButton)
        await sync_commands_if_changed(self)

    async def on_message(self, message: discord.Message) -> None:
        await self.adapter.on_message(message)

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        log.exception("Discord event %s failed", event_method)


class DiscordAdapter(DiscordSink):
    def __init__(self, app):
        self.app = app
        self.settings = app.settings
        intents = discord.Intents.default()
        intents.message_content = self.settings.discord_message_content
        self.client = ShortsClient(self, intents)
        self._downloads: aiohttp.ClientSession | None = None
        self._connection: asyncio.Task | None = None
        self._answering: Remembered = Remembered()        # MessageKey -> Answering
        self._thread_subjects: Remembered = Remembered()  # MessageKey -> what the user asked
        self._threads: Remembered = Remembered()          # MessageKey -> thread id
        self._thread_locks: Remembered = Remembered()     # MessageKey -> asyncio.Lock
        self._no_threads: set[str] = set()                # channels where the bot may not open threads
        self._upload_limits: dict[int, int] = {}           # guild (or DM channel) id -> bytes, from interactions
        self._progress: Remembered = Remembered()         # ProgressReply.key -> ProgressMessage
        self._progress_locks: Remembered = Remembered()   # ProgressReply.key -> asyncio.Lock
        self.receiving = True                             # False once stopping: events are ignored, replies still go

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Logs in (which syncs the slash commands) and connects to the gateway in a task."""
        if self.settings.discord_bot_token is None:
            raise AppError("DISCORD_BOT_TOKEN is not set.")
        if self.settings.discord_api_url:
            discord.http.Route.BASE = self.settings.discord_api_url.rstrip("/")
        self._downloads = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None, sock_read=60))
        try:
            await self.client.login(self.settings.discord_bot_token.get_secret_value())
        except discord.LoginFailure:
            await self.stop()
            raise AppError("Discord refused DISCORD_BOT_TOKEN: copy the token again from the Bot page "
                           "of your application in the Developer Portal.") from None
        except (discord.HTTPException, aiohttp.ClientError, OSError) as exc:
            await self.stop()
            raise AppError(f"Could not reach Discord to log in ({exc}). Check the network and try again.") from None
        # Servers boosted to a higher limit are handled when sending; what fits everywhere is downloaded.
        share_to = self.settings.discord_share_channel_id
        self.app.register_platform(PLATFORM, self.send, upload_limit=discord.utils.DEFAULT_FILE_SIZE_LIMIT_BYTES,
                                   share_target=str(share_to) if share_to else None,
                                   share_setting="DISCORD_SHARE_CHANNEL_ID", label="Discord")
        self._connection = asyncio.create_task(self._stay_connected(), name="discord-gateway")
        log.info("Discord: logged in as %s", self.client.user)

    async def _stay_connected(self) -> None:
        """discord.py reconnects by itself after network trouble; this also comes back after an
        error it does not handle (e.g. an event it cannot parse), with a growing pause."""
        pause = RECONNECT_FIRST_PAUSE_S
        while not self.client.is_closed():
            try:
                await self.client.connect(reconnect=True)
            except discord.PrivilegedIntentsRequired:
                log.error("Discord refused the Message Content intent: enable it on the Bot page of the Developer "
                          "Portal, or set DISCORD_MESSAGE_CONTENT=false (mentions, DMs and slash commands still work).")
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                if self.client.is_closed():
                    return
                log.exception("the Discord gateway connection broke; connecting again in %.0f s", pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, RECONNECT_MAX_PAUSE_S)
            else:
                return

    async def stop_receiving(self) -> None:
        """Ignores new messages, commands and button presses; replies still go out until stop()."""
        self.receiving = False

    async def stop(self) -> None:
        self.receiving = False
        writers = [p.writer for p in self._progress.values() if p.writer is not None and not p.writer.done()]
        for writer in writers:
            writer.cancel()
        await asyncio.gather(*writers, return_exceptions=True)
        if not self.client.is_closed():
            await self.client.close()
        if self._connection is not None:
            try:
                await asyncio.wait_for(self._connection, timeout=10)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                self._connection.cancel()
        if self._downloads is not None:
            await self._downloads.close()

    # ------------------------------------------------------------------ Discord -> conversation

    async def on_message(self, message: discord.Message) -> None:
        me = self.client.user
        if me is None or not self.receiving:
            return
        incoming = incoming_from_message(message, me.id, self._fetcher_for)
        if incoming is None:
            return
        unreadable = not incoming.text and not incoming.attachments and not incoming.mentions_bot
        if unreadable and incoming.is_group and not self.client.intents.message_content:
            # A reply to the bot without the @mention: Discord withheld its text and files.
            lang = pick_language(incoming.text, incoming.language)
            await self.send(replace(incoming.chat_ref, language=lang), TextReply(say(lang, "discord_cannot_read",
                                                                                      name=me.name)))
            return
        self._thread_subjects[(incoming.chat_id, incoming.message_id)] = _subject(incoming)
        await self._handle(incoming)

    async def on_command(self, interaction: discord.Interaction, *, command: str | None = None, args: str = "",
                         text: str = "", video: discord.Attachment | None = None, private: bool = False) -> None:
        """Every slash command: deferred at once (Discord allows 3 s), then through the conversation."""
        if not self.receiving:
            return
        private = private and interaction.guild_id is not None
        response = await interaction.response.defer(thinking=True, ephemeral=private)
        self._remember_upload_limit(interaction)
        attachments = (attachment_from_discord(video, self._fetcher_for),) if video is not None else ()
        incoming = incoming_from_command(interaction, message_id=response.message_id, text=text, command=command,
                                         args=args, attachments=attachments)
        key = (incoming.chat_id, incoming.message_id or "")
        answering = Answering(key, interaction, private)
        self._answering[key] = answering
        self._thread_subjects[key] = _subject(incoming)
        await self._handle(incoming)
        lang = pick_language(incoming.text, incoming.language)
        ref = replace(incoming.chat_ref, language=lang)
        if command == "help":
            await self.send(ref, TextReply(say(lang, "discord_help")))
        if not answering.answered and interaction_token_usable(interaction.created_at, _now()):
            # The conversation said nothing yet (a job will speak later): end the "thinking" state.
            await self.send(ref, TextReply(say(lang, "working")))

    async def on_button(self, interaction: discord.Interaction, action: str) -> None:
        if not self.receiving:
            return
        await interaction.response.defer()
        self._remember_upload_limit(interaction)
        await self._handle(incoming_from_button(interaction, action))

    async def on_command_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        log.error("Discord command %s failed", interaction.command.name if interaction.command else "?",
                  exc_info=error)
        sorry = say(pick_language("", locale_language(interaction.locale)), "discord_sorry")
        try:
            if interaction.response.is_done():
                await interaction.followup.send(sorry, ephemeral=True)
            else:
                await interaction.response.send_message(sorry, ephemeral=True)
        except discord.HTTPException:
            log.warning("could not tell the user that the command failed", exc_info=True)

    async def _handle(self, incoming: Incoming) -> None:
        try:
            await self.app.conversation.handle(incoming)
        except Exception:
            log.exception("the conversation failed on a Discord %s", "command" if incoming.command else "message")
            lang = pick_language(incoming.text, incoming.language)
            await self.send(replace(incoming.chat_ref, language=lang), ErrorReply(say(lang, "discord_sorry")))

    def _fetcher_for(self, attachment: discord.Attachment):
        async def fetch(path):
            assert self._downloads is not None, "the adapter is not started"
            return await stream_to_file(self._downloads, attachment.url, path, attachment.size,
                                        self.settings.max_upload_mb * 1024 * 1024)
        return fetch

    def _remember_upload_limit(self, interaction: discord.Interaction) -> None:
        place = interaction.guild_id or interaction.channel_id
        if place is not None and interaction.filesize_limit:
            self._upload_limits[place] = interaction.filesize_limit

"""The Telegram side of the bot: python-telegram-bot <-> the App's conversation.

Structure as python-telegram-bot's examples have it: an Application from ApplicationBuilder,
one handler per concern (messages, button presses) and an error handler. It runs inside the
bot's own asyncio loop beside Discord and the link server, so it is started the way PTB
documents for combining frameworks (initialize, start, updater.start_polling) rather than
with `run_polling`, and stopped in the reverse order.

Incoming: updates become bot.messages.Incoming (adapters/telegram_updates.py); one chat's
messages reach the conversation in the order they were sent, different chats in parallel.
Outgoing: replies are sent as HTML (adapters/telegram_format.py); progress is one message per
key, edited whenever the job's throttle (bot/jobs.py, PROGRESS_EDIT_INTERVAL_S) sends a new state
and the chat's pacer gives progress a turn (in a group at most every GROUP_PROGRESS_EVERY_S); while
it waits only the newest state is kept. Videos
go up with sendVideo while "uploading video…" shows, and as a signed link when they are too big
or the upload fails.
Rate limits: PerChatRateLimiter (adapters/telegram_limits.py: a token bucket per chat, answers
before the jobs' messages before progress edits) retries 429s after their retry_after; network
errors are retried here after TELEGRAM_RETRY_DELAYS_S.
"""
from __future__ import annotations

import asyncio
import logging
import shutil
import time
from contextlib import ExitStack, asynccontextmanager, suppress
from dataclasses import replace
from pathlib import Path
from typing import Any, AsyncIterator

import httpx
from telegram import InputFile, Message, ReplyParameters, Update
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, TelegramError
from telegram.ext import Application, ApplicationBuilder, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from adapters import telegram_format as fmt
from adapters.telegram_updates import PLATFORM, BotIdentity, incoming_from_callback, incoming_from_message, language_of
from bot.platforms import AppError
from bot.backends.base import FileTooLarge
from bot.fetch import DownloadFailed, stream_to_file
from bot.texts import LANGUAGES, pick_language, say
from storage.media_store import StoredFile, find_render
from bot.messages import (Attachment, ChatRef, ErrorReply, Fetcher, LinkReply, ProgressReply, Reply,
                          TextReply, VideoReply)

from adapters.telegram_limits import (GROUP_CHAT, PRIVATE_CHAT, Answering, PerChatRateLimiter, ProgressMessage,
                                      Urgency, answering, is_group_chat, with_network_retries)

log = logging.getLogger(__name__)

MB = 1024 * 1024
URL_FETCH_LIMIT_MB = 20                      # the largest video Telegram fetches from a URL for a bot
GROUP_PROGRESS_EVERY_S = 30.0               # a progress message in a group: at most two edits a minute
CHAT_ACTION_INTERVAL = 4.0                   # Telegram shows a chat action for 5 s
MAX_THUMBNAIL_BYTES = 200 * 1024             # Telegram ignores larger thumbnails



class TelegramAdapter:
    def __init__(self, app):
        self.app = app
        self.settings = app.settings
        if self.settings.telegram_bot_token is None:
            raise ValueError("TELEGRAM_BOT_TOKEN is not set")
        self.local_mode = bool(self.settings.telegram_local_mode)
        self.download_limit_mb = fmt.LOCAL_SERVER_LIMIT_MB if self.local_mode else fmt.CLOUD_DOWNLOAD_LIMIT_MB
        self.upload_limit_mb = fmt.LOCAL_SERVER_LIMIT_MB if self.local_mode else fmt.CLOUD_UPLOAD_LIMIT_MB
        self.application: Application | None = None
        self.identity: BotIdentity | None = None
        self._progress: dict[tuple[str, str], ProgressMessage] = {}
        self.limiter = PerChatRateLimiter(
            private=replace(PRIVATE_CHAT, per_second=self.settings.telegram_private_chat_per_s),
            group=replace(GROUP_CHAT, per_second=self.settings.telegram_group_per_minute / 60), max_retries=3)
        self.group_progress_every_s = GROUP_PROGRESS_EVERY_S
        self.chat_action_every_s = CHAT_ACTION_INTERVAL
        self._http: httpx.AsyncClient | None = None

    # ------------------------------------------------------------------ lifecycle

    def build_application(self) -> Application:
        return (
            ApplicationBuilder()
            .token(self.settings.telegram_bot_token.get_secret_value())
            .base_url(self.settings.telegram_api_url)
            .base_file_url(self.settings.telegram_file_url)
            .local_mode(self.local_mode)
            .rate_limiter(self.limiter)
            .concurrent_updates(True)            # updates in parallel; the conversation keeps each person's in order
            .connect_timeout(10)
            .read_timeout(30)
            .write_timeout(30)
            .media_write_timeout(600)            # a 50 MB upload on a slow uplink
            .build()
        )

    async def start(self) -> None:
        """Connects to Telegram and starts polling; raises AppError with one line when it cannot."""
        _keep_the_token_out_of_logs()
        application = self.build_application()
        application.add_handler(MessageHandler(filters.UpdateType.MESSAGE, self._on_message))
        application.add_handler(CallbackQueryHandler(self._on_button))
        application.add_error_handler(self._on_error)
        try:
            # getMe: who we are, and whether the token works.
            await self._retrying(application.initialize, "connecting to Telegram")
        except InvalidToken:
            raise AppError("Telegram refused TELEGRAM_BOT_TOKEN: copy the token @BotFather gave you "
                           "(/mybots -> your bot -> API Token) into .env.") from None
        except NetworkError as exc:
            raise AppError(f"Cannot reach the Telegram Bot API at {self.settings.telegram_api_url} ({exc}). "
                           f"Check the network, or TELEGRAM_API_URL if you run a local Bot API server.") from None
        self.identity = BotIdentity(application.bot.id, application.bot.username)
        try:
            for lang in LANGUAGES:               # the menu in each language; English for everyone else
                await self._retrying(lambda: application.bot.set_my_commands(
                    fmt.bot_commands(lang), language_code=None if lang == "en" else lang), "setMyCommands")
        except TelegramError as exc:             # the menu of commands is a nicety; the bot works without it
            log.warning("could not register the bot's commands with setMyCommands: %s", exc)
        self._http = httpx.AsyncClient(timeout=httpx.Timeout(30.0, connect=10.0), follow_redirects=True)
        self.application = application
        share_to = self.settings.telegram_share_chat_id
        self.app.register_platform(PLATFORM, self.send, upload_limit=self.upload_limit_mb * MB,
                                   share_target=str(share_to) if share_to else None,
                                   share_setting="TELEGRAM_SHARE_CHAT_ID", label="Telegram")
        await application.start()
        await application.updater.start_polling(
            allowed_updates=[Update.MESSAGE, Update.CALLBACK_QUERY],
            error_callback=lambda exc: log.warning("polling Telegram for updates failed: %s", exc),
        )
        log.info("Telegram: polling as @%s", self.identity.username)

    async def stop_receiving(self) -> None:
        """Stops polling and waits for the updates being handled; replies still go out until stop()."""
        application = self.application
        if application is None:
            return
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()             # waits for the handlers that are running

    async def stop(self) -> None:
        application = self.application
        if application is None:
            return
        await self.stop_receiving()
        writers = [p.writer for p in self._progress.values() if p.writer is not None and not p.writer.done()]
        for writer in writers:
            writer.cancel()
        await asyncio.gather(*writers, return_exceptions=True)
        await application.shutdown()
        if self._http is not None:
            await self._http.aclose()
        self.application = None

    @property
    def retry_delays(self) -> tuple[float, ...]:
        return tuple(self.settings.telegram_retry_delays_s)

    def _retrying(self, call, what: str):
        return with_network_retries(call, what, delays=self.retry_delays)

    @property
    def bot(self):
        if self.application is None:
            raise RuntimeError("the Telegram adapter is not running")
        return self.application.bot

    # ------------------------------------------------------------------ incoming

    async def _on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        _answering(update)
        incoming = incoming_from_message(update.message, self.identity, self._fetcher_for, self.download_limit_mb * MB)
        if incoming is None or not incoming.addressed_to_bot:
            return                               # in a group, talk not meant for the bot
        refusal = self._refusal(incoming.attachments, pick_language(incoming.text, incoming.language))
        if refusal is not None:
            await self.send(incoming.chat_ref, ErrorReply(refusal))
            return
        await self.app.conversation.handle(incoming)

    async def _on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        _answering(update)
        spinner = asyncio.create_task(self._answer(query))     # promptly, while the conversation works
        try:
            incoming = incoming_from_callback(query)
            if incoming is not None:
                await self.app.conversation.handle(incoming)
        finally:
            await spinner

    async def _answer(self, query) -> None:
        try:
            await with_network_retries(query.answer, "answerCallbackQuery", delays=self.retry_delays[:1])
        except TelegramError as exc:             # the button still works; only the spinner stays longer
            log.warning("could not answer callback query %s: %s", query.id, exc)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not isinstance(update, Update):
            log.error("Telegram error outside an update", exc_info=context.error)
            return
        log.error("Telegram update %s failed", update.update_id, exc_info=context.error)
        chat, message = update.effective_chat, update.effective_message
        if chat is None:
            return
        in_topic = message is not None and getattr(message, "is_topic_message", False)
        ref = ChatRef(PLATFORM, str(chat.id), str(message.message_thread_id) if in_topic else None,
                      str(message.message_id) if message is not None else None)
        try:
            await self.send(ref, ErrorReply(say(language_of(update), "telegram_apology")))
        except Exception:
            log.exception("could not apologise in chat %s for update %s", chat.id, update.update_id)

    def _refusal(self, attachments: tuple[Attachment, ...], lang: str) -> str | None:
        """The sentence for a file that cannot or should not be downloaded, said before any download."""
        for attachment in attachments:
            if attachment.fetch is None and attachment.size is not None:
                return fmt.too_big_to_download(lang, attachment.name, attachment.size, self.download_limit_mb,
                                               self.local_mode)
            if attachment.size is not None and attachment.size > self.settings.max_upload_mb * MB:
                return fmt.too_big_for_this_bot(lang, attachment.name, attachment.size, self.settings.max_upload_mb)
        return None

    def _fetcher_for(self, file_id: str, size: int | None) -> Fetcher:
        async def fetch(path: Path) -> Path:
            return await self._download(file_id, size, Path(path))
        return fetch

    async def _download(self, file_id: str, size: int | None, path: Path) -> Path:
        """Streams a Telegram file to `path` (a local Bot API server's file is copied from its disk).

        PTB's File.download_to_drive reads a remote file whole into memory before writing it,
        so remote files are streamed here with httpx in chunks instead, within MAX_UPLOAD_MB.
        """
        try:
            file = await self._retrying(lambda: self.bot.get_file(file_id), "getFile")
        except BadRequest as exc:
            if "too big" in str(exc).lower():     # Telegram knew better than the size it reported
                raise FileTooLarge("Telegram will not hand over a file this big", limit_mb=self.download_limit_mb,
                                   size_mb=size / MB if size else None) from None
            raise
        path.parent.mkdir(parents=True, exist_ok=True)
        source = Path(file.file_path)
        if self.local_mode and source.is_absolute() and source.is_file():
            partial = path.with_name(path.name + ".part")
            try:
                await asyncio.to_thread(shutil.copyfile, source, partial)
                partial.replace(path)
            finally:
                partial.unlink(missing_ok=True)
            return path
        return await self._retrying(lambda: self._stream(file.file_path, path), "file download")

    async def _stream(self, url: str, target: Path) -> Path:
        """One try at the download; a refusal is BadRequest (not retried), a 5xx or a broken
        connection NetworkError (retried). The URL holds the bot token: it is in no message."""
        try:
            return await stream_to_file(self._http, url, target, self.settings.max_upload_mb * MB)
        except DownloadFailed as exc:
            status = exc.values.get("status")
            if status is not None and status < 500:
                raise BadRequest(f"file download answered HTTP {status}") from None
            raise NetworkError(f"file download failed: {exc.values.get('error') or status}") from None

    # ------------------------------------------------------------------ outgoing (the App's sink)

    async def send(self, ref: ChatRef, reply: Reply) -> None:
        """Posts one reply to a chat; what the App calls, now or later from a job."""
        if isinstance(reply, ProgressReply):
            await self._send_progress(ref, reply)
        elif isinstance(reply, VideoReply):
            await self._send_video(ref, reply)
        elif isinstance(reply, LinkReply):
            await self._send_html(ref, fmt.link_html(reply.url, reply.text))
        elif isinstance(reply, ErrorReply):
            await self._send_text(ref, reply.text)
        elif isinstance(reply, TextReply):
            await self._send_text(ref, reply.text, reply.buttons)
        else:
            raise TypeError(f"not a reply: {reply!r}")

    def _target(self, ref: ChatRef) -> dict[str, Any]:
        """Where a message goes: the chat, its forum topic, and in groups the message it answers."""
        chat_id: int | str = int(ref.chat_id) if ref.chat_id.lstrip("-").isdigit() else ref.chat_id
        target: dict[str, Any] = {"chat_id": chat_id}
        if ref.thread_id:
            target["message_thread_id"] = int(ref.thread_id)
        if ref.reply_to and isinstance(chat_id, int) and chat_id < 0 and ref.reply_to.isdigit():
            target["reply_parameters"] = ReplyParameters(int(ref.reply_to), allow_sending_without_reply=True)
        return target

    async def _send_text(self, ref: ChatRef, text: str, buttons=()) -> Message:
        pieces = fmt.split_text(text)
        last = None
        for i, piece in enumerate(pieces):
            last = await self._send_html(ref, fmt.escape(piece), buttons if i == len(pieces) - 1 else ())
        return last

    async def _send_html(self, ref: ChatRef, html: str, buttons=(), paced: bool = False) -> Message:
        """`paced`: the caller already had its turn in the chat (progress)."""
        return await self._retrying(
            lambda: self.bot.send_message(text=html, parse_mode=ParseMode.HTML, reply_markup=fmt.keyboard(buttons),
                                          rate_limit_args=Urgency.PACED if paced else None, **self._target(ref)),
            f"sendMessage to {ref.chat_key}",
        )

    # progress ----------------------------------------------------------

    async def _send_progress(self, ref: ChatRef, reply: ProgressReply) -> None:
        """Records what the progress message should say; one writer per message sends and edits it.

        Returns at once, except for the final (done) state, which is on screen when this returns.
        """
        key = (ref.chat_key, reply.key)
        state = self._progress.setdefault(key, ProgressMessage())
        state.offer(reply)
        if state.writer is None or state.writer.done():
            state.writer = asyncio.create_task(self._write_progress(ref, key, state), name=f"progress {reply.key}")
        if reply.done:
            await asyncio.shield(state.writer)

    async def _write_progress(self, ref: ChatRef, key: tuple[str, str], state: ProgressMessage) -> None:
        """Waits for progress's turn in the chat (after every answer waiting there), then shows the
        newest state: states that came while it waited were superseded and are never sent."""
        finished = False
        answering.set(None)                      # progress is never an answer, whoever asked for the job
        try:
            in_group = is_group_chat(ref.chat_id)
            while state.latest is not None:
                await state.next_edit_due(self.group_progress_every_s if in_group else 0.0)
                if not await state.turn(self.limiter.pacer(self._target(ref)["chat_id"]), in_group):
                    finished, state.latest = True, None    # nothing on screen to end: the clip or error says it
                    break
                reply, state.latest = state.latest, None
                finished = reply.done                # nothing follows a done state, even if showing it fails
                html, markup = fmt.progress_html(reply), fmt.keyboard(reply.buttons)
                state.shown_at = time.monotonic()
                if state.message_id is None:
                    message = await self._send_html(ref, html, reply.buttons, paced=True)
                    state.message_id = message.message_id
                else:
                    await self._edit_progress(ref, state, html, markup)
        except TelegramError as exc:
            log.warning("progress message %s in %s could not be updated: %s", key[1], ref.chat_key, exc)
        except Exception:
            log.exception("progress message %s in %s failed", key[1], ref.chat_key)
        finally:
            if finished and state.latest is None:
                self._progress.pop(key, None)

    async def _edit_progress(self, ref: ChatRef, state: ProgressMessage, html: str, markup) -> None:
        target = self._target(ref)
        try:
            await self._retrying(
                lambda: self.bot.edit_message_text(html, chat_id=target["chat_id"], message_id=state.message_id,
                                                   parse_mode=ParseMode.HTML, reply_markup=markup,
                                                   rate_limit_args=Urgency.PACED),
                f"editMessageText in {ref.chat_key}",
            )
        except BadRequest as exc:
            text = str(exc).lower()
            if "not modified" in text:
                return
            if "not found" in text or "can't be edited" in text:
                message = await self._send_html(ref, html, paced=True)
                state.message_id = message.message_id
                return
            raise

    # videos ------------------------------------------------------------

    async def _send_video(self, ref: ChatRef, reply: VideoReply) -> None:
        stored = await asyncio.to_thread(find_render, reply.path)    # a file here, or in the S3 media store
        if stored is None:
            raise FileNotFoundError(f"the short {reply.path} is in no store")
        size = stored.size
        if size > self.upload_limit_mb * MB:
            await self._send_video_link(ref, reply, fmt.too_big_to_send(reply, size, self.upload_limit_mb))
            return
        try:
            async with self._chat_action(ref, ChatAction.UPLOAD_VIDEO):
                await self._retrying(lambda: self._upload_video(ref, reply, stored), f"sendVideo to {ref.chat_key}")
        except Forbidden:
            raise
        except TelegramError as exc:
            log.warning("sendVideo to %s failed (%s); sending a link instead", ref.chat_key, exc)
            await self._send_video_link(ref, reply, fmt.upload_refused(reply))

    async def _upload_video(self, ref: ChatRef, reply: VideoReply, stored: StoredFile) -> Message:
        """One sendVideo. A short in the S3 media store goes as its presigned URL, which Telegram
        fetches itself (up to 20 MB), else as a streamed download into a temporary file. The files
        are opened here, so each retry starts from fresh handles, and handed to httpx as handles
        (`read_file_handle=False`), which streams them: PTB would otherwise read the whole video
        into memory on the event loop first."""
        url = stored.url() if stored.size <= URL_FETCH_LIMIT_MB * MB and not self.local_mode else None
        if url is not None:
            try:
                with ExitStack() as files:
                    return await self._send_video_from(ref, reply, url, files)
            except BadRequest as exc:       # the store is not reachable from Telegram's side
                log.info("Telegram could not fetch %s from the media store (%s); uploading it", reply.path.name, exc)
        with ExitStack() as files:
            path = await asyncio.to_thread(files.enter_context, stored.local_file())
            video = InputFile(files.enter_context(path.open("rb")), filename=reply.path.name, read_file_handle=False)
            return await self._send_video_from(ref, reply, video, files)

    async def _send_video_from(self, ref: ChatRef, reply: VideoReply, video: InputFile | str,
                               files: ExitStack) -> Message:
        thumbnail = None
        if _usable_thumbnail(reply.thumbnail):
            thumbnail = InputFile(files.enter_context(reply.thumbnail.open("rb")), filename=reply.thumbnail.name,
                                  attach=True, read_file_handle=False)
        return await self.bot.send_video(
            video=video,
            width=reply.width or None,
            height=reply.height or None,
            duration=round(reply.duration) or None,
            supports_streaming=True,
            thumbnail=thumbnail,
            caption=fmt.video_caption_html(reply) or None,
            parse_mode=ParseMode.HTML,
            reply_markup=fmt.keyboard(reply.buttons),
            **self._target(ref),
        )

    async def _send_video_link(self, ref: ChatRef, reply: VideoReply, reason: str) -> None:
        url = reply.link
        if url is None:
            try:
                url = self.app.link_for(reply)
            except Exception:
                log.exception("could not make a download link for %s", reply.path.name)
        if url:
            await self._send_html(ref, fmt.sent_as_link(reply, url, reason), reply.buttons)
        else:
            await self._send_text(ref, fmt.no_link_possible(reply, reason))

    @asynccontextmanager
    async def _chat_action(self, ref: ChatRef, action: str) -> AsyncIterator[None]:
        """Shows "uploading video…" (or another action) for as long as the block runs."""
        target = {k: v for k, v in self._target(ref).items() if k != "reply_parameters"}

        async def show() -> None:
            try:
                await self.bot.send_chat_action(action=action, **target)
            except TelegramError as exc:
                log.debug("chat action in %s failed: %s", ref.chat_key, exc)

        async def keep_showing() -> None:
            while True:
                await asyncio.sleep(self.chat_action_every_s)
                await show()

        await show()
        task = asyncio.create_task(keep_showing())
        try:
            yield
        finally:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task


def _answering(update: Update) -> None:
    """Marks what this handler sends as answers to the update's message (first in the chat's queue)."""
    message = update.effective_message
    chat = update.effective_chat
    answering.set(Answering(str(chat.id) if chat else "", str(message.message_id) if message else "",
                            time.monotonic()))


def _keep_the_token_out_of_logs() -> None:
    """httpx logs every request URL at INFO, and Bot API URLs hold the token (python-telegram-bot's FAQ
    suggests the same); unless someone chose a level for the httpx logger, keep it to warnings."""
    httpx_log = logging.getLogger("httpx")
    if httpx_log.level == logging.NOTSET:
        httpx_log.setLevel(logging.WARNING)


def _usable_thumbnail(path: Path | None) -> bool:
    return (path is not None and path.suffix.lower() in (".jpg", ".jpeg") and path.is_file()
            and path.stat().st_size <= MAX_THUMBNAIL_BYTES)

"""One Incoming -> replies: the bot's side of every conversation, on every platform.

`Conversation.handle(incoming)` routes the message (bot.intents) to one small handler per
intent (bot.handlers); a button under a clip goes to `handlers.press`. Quick things (help,
credits, status, uploads) are answered at once; long work (a cut, an edit that renders again,
an export, a share) becomes a durable job (bot.work on bot.jobs) whose results are posted to
the chat later, even after a restart. The conversation talks to one clip service (bot.backends)
and never asks which one it is.

The service's recoverable errors are handled here, once each: TokenInvalid (1001) gets a new
token, SessionMissing (1002) a new session, RateLimited (429) a wait of NEMO_RETRY_AFTER_S; then
the call is tried again. Every other error becomes a sentence in the person's language
(bot.sentences). Account and session rows are the service's: it reads, refreshes and stores
them; the conversation only asks it for them.

One person's messages in one chat are handled one after another, in the order they came
(an asyncio.Lock per (platform, user, chat), made when needed and dropped when idle), on every
platform: "here is the video" and a quick "cut it" cannot overtake each other, and two first
messages make one session. /cancel does not wait its turn, so it can stop what is running.

Buttons under a clip name that clip ("/share clip-57": clip row 57; "/share draft-12-2":
draft 2 of session row 12, for services without clip rows), so a press acts on the clip it is
under, and only its owner may export, share or ask for more of it. "/share 2" typed by a
person still means their own clip 2.
"""
from __future__ import annotations

import asyncio
import logging
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import AsyncIterator, Awaitable, Callable, TypeVar

from bot import texts, work
from bot.backends.base import (
    Account,
    Backend,
    BackendError,
    ChatEvent,
    RateLimited,
    SessionMissing,
    SessionRef,
    TokenInvalid,
)
from bot.handlers import HANDLERS, Turn, Who, button_press, press, safe_filename  # noqa: F401 - safe_filename: tests
from bot.intents import Intent, IntentKind, route
from bot.jobs import JobContext, JobQueue
from bot.messages import ChatRef, ErrorReply, Incoming, Reply, VideoReply
from bot.platforms import Platforms
from bot.replies import closing
from bot.sentences import error_reply
from bot.settings import Settings
from storage.repos import Repos, SessionRecord

log = logging.getLogger(__name__)

T = TypeVar("T")
Poster = Callable[[ChatRef, Reply], Awaitable[None]]
RECOVERABLE = (TokenInvalid, SessionMissing, RateLimited)


@dataclass
class _Line:
    """One person's line in one chat: their messages wait on the lock, in order."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


class Conversation:
    def __init__(self, settings: Settings, repos: Repos, backend: Backend, jobs: JobQueue,
                 platforms: Platforms | Poster, link_for: Callable[[VideoReply], str | None] | None = None):
        self.settings = settings
        self.repos = repos
        self.backend = backend
        self.jobs = jobs
        # Where replies go, each platform's upload limit and share target; a bare poster: every platform posts there.
        self.platforms = platforms if isinstance(platforms, Platforms) else Platforms.posting_to(platforms)
        self.link_for = link_for or (lambda reply: None)
        self._turns: dict[tuple[str, str, str], _Line] = {}
        jobs.register("chat", lambda ctx: work.run_chat(self, ctx))
        jobs.register("export", lambda ctx: work.run_export(self, ctx))
        jobs.error_reply = self.error_reply

    # ------------------------------------------------------------ entry point

    async def handle(self, incoming: Incoming) -> None:
        if not incoming.addressed_to_bot:
            return
        lang = texts.pick_language(incoming.text, incoming.language)
        ref = incoming.chat_ref
        # No await before the turn is taken: messages queue in the order handle() was called.
        pressed = button_press(incoming)
        intent = None
        try:
            if pressed is None:
                intent = route(incoming.text, bool(incoming.attachments), incoming.command, incoming.command_args)
        except Exception as exc:  # noqa: BLE001 - the person always gets a sentence
            await self.post(ref, self.error_reply(exc, lang))
            return
        if intent is not None and intent.kind is IntentKind.CANCEL:
            await self._answer(incoming, intent, pressed, lang, ref)    # never waits: it stops what is running
            return
        async with self._line((incoming.platform, incoming.user_id, ref.chat_key)):
            await self._answer(incoming, intent, pressed, lang, ref)

    async def _answer(self, incoming: Incoming, intent: Intent | None, pressed: tuple[str, str] | None, lang: str,
                      ref: ChatRef) -> None:
        try:
            user, _ = await self.repos.users.get_or_create(incoming.platform, incoming.user_id, incoming.user_name,
                                                           incoming.language)
            turn = Turn(incoming, intent, Who(user, ref.chat_key, lang), ref)
            if pressed is not None:
                await press(self, *pressed, turn)
            else:
                await HANDLERS.get(intent.kind, HANDLERS[IntentKind.CHAT])(self, turn)
        except Exception as exc:  # noqa: BLE001 - the person always gets a sentence
            await self.post(ref, self.error_reply(exc, lang))

    @asynccontextmanager
    async def _line(self, key: tuple[str, str, str]) -> AsyncIterator[None]:
        line = self._turns.setdefault(key, _Line())
        line.users += 1
        try:
            async with line.lock:
                yield
        finally:
            line.users -= 1
            if line.users == 0:
                del self._turns[key]

    async def post(self, ref: ChatRef, reply: Reply) -> None:
        """Posts through the platform's sink. A sink that fails raises out of `handle`, so the adapter
        (which knows its platform) can log the update and apologise in its own way."""
        await self.platforms.post(ref, reply)

    def error_reply(self, exc: BaseException, lang: str) -> ErrorReply:
        return error_reply(exc, lang, self.settings.max_upload_mb)

    # ------------------------------------------------------------ what adapters may ask

    async def wait_idle(self, platform: str, user_id: str) -> None:
        """Until the person has no job queued or running (the terminal chat waits before reading on)."""
        user = await self.repos.users.find(platform, user_id)
        if user is not None:
            await self.jobs.wait_idle(user.id)

    async def remember_thread(self, ref: ChatRef, thread_id: str) -> None:
        """An adapter moved the answers to `ref`'s message into a thread: jobs resumed later post there."""
        await self.repos.chat_refs.set_thread_for_message(ref.platform, ref.chat_id, ref.reply_to, thread_id)

    # ------------------------------------------------------------ accounts and sessions

    async def _account(self, who: Who) -> Account:
        """The service's account for this person. The service alone reads and writes its account rows
        (it keeps a stored client id; the one given here is for a person it has never seen)."""
        return await self.backend.open_account(who.user.id, str(uuid.uuid4()))

    async def _session(self, who: Who) -> SessionRef:
        record = await self.repos.sessions.active(who.user.id, who.chat_key, self.backend.name)
        if record is not None:
            return SessionRef(record.remote_session_id, record.task_id, who.chat_key)
        # A new session; the service stores its row (its sessions are its own).
        return await self.backend.open_session(who.account, who.chat_key, who.lang)

    async def new_session(self, who: Who) -> None:
        record = await self.repos.sessions.active(who.user.id, who.chat_key, self.backend.name)
        if record is not None:
            await self.repos.sessions.end(record.id)
        who.session = None
        await self.call(who, nothing)

    async def ready(self, who: Who, session: bool) -> None:
        if who.account is None:
            who.account = await self._account(who)
        if session and who.session is None:
            who.session = await self._session(who)

    async def _recover(self, who: Who, exc: BackendError, tried: set[int]) -> None:
        """Repairs what the error says is broken, once per kind; raises when it cannot."""
        if exc.code in tried:
            raise exc
        tried.add(exc.code)
        if isinstance(exc, TokenInvalid):
            # The service has already put aside the token it refused; opening the account again gets a usable one.
            log.info("token of user %s refused; getting a new one", who.user.id)
            who.account = None
        elif isinstance(exc, SessionMissing):
            log.info("session of user %s in %s is gone; opening a new one", who.user.id, who.chat_key)
            record = await self.repos.sessions.active(who.user.id, who.chat_key, self.backend.name)
            if record is not None:
                await self.repos.sessions.end(record.id)
            who.session = None
        elif isinstance(exc, RateLimited):
            await asyncio.sleep(self.settings.nemo_retry_after_s)

    async def call(self, who: Who, call: Callable[[Account, SessionRef | None], Awaitable[T]],
                   session: bool = True) -> T:
        """A service call with the one-time recovery from 1001, 1002 and 429."""
        tried: set[int] = set()
        while True:
            try:
                await self.ready(who, session)
                return await call(who.account, who.session)
            except RECOVERABLE as exc:
                await self._recover(who, exc, tried)

    async def chat_events(self, who: Who, text: str) -> AsyncIterator[ChatEvent]:
        """The service's chat stream with the same recovery, as long as nothing has arrived yet."""
        tried: set[int] = set()
        while True:
            started = False
            try:
                await self.ready(who, session=True)
                async with closing(self.backend.chat(who.account, who.session, text)) as events:
                    async for event in events:
                        started = True
                        yield event
                return
            except RECOVERABLE as exc:
                if started:
                    raise
                await self._recover(who, exc, tried)

    # ------------------------------------------------------------ jobs

    async def submit(self, who: Who, ref: ChatRef, kind: str, payload: dict,
                     session: SessionRecord | None = None) -> None:
        """A job on `session` (a button names it), else on the person's active session in this chat."""
        record = session
        if record is None:
            record = await self.repos.sessions.active(who.user.id, who.chat_key, self.backend.name)
        if record is None:
            await self.call(who, nothing)          # opens the account and the session
            record = await self.repos.sessions.active(who.user.id, who.chat_key, self.backend.name)
        payload = {**payload, "chat_key": record.chat_key if record else who.chat_key,
                   "session_id": record.remote_session_id if record else None,
                   "task_id": record.task_id if record else None}
        job = await self.jobs.submit(who.user.id, kind, payload, ref=ref, session_id=record.id if record else None,
                                     lang=who.lang)
        log.info("job %s (%s) for user %s", job.id, kind, who.user.id)

    async def who_for(self, ctx: JobContext) -> Who:
        user = await self.repos.users.get(ctx.job.user_id)
        payload = ctx.job.payload
        who = Who(user, payload.get("chat_key", ""), ctx.lang)
        if payload.get("session_id"):
            who.session = SessionRef(payload["session_id"], payload.get("task_id"), who.chat_key)
        return who


async def nothing(account: Account, session: SessionRef | None) -> None:
    """A call that only needs the account and session to exist (Conversation.call makes them)."""

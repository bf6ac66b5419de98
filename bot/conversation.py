"""One Incoming -> replies: the bot's side of every conversation, on every platform.

`Conversation.handle(incoming)` routes the message (bot.intents) to one small handler per
intent (bot.handlers); a button under a clip goes to `handlers.press`. Quick things (help,
credits, status, uploads) are answered at once; long work (a cut, an edit that renders again,
an export, a share) becomes a durable job (bot.work on bot.jobs) whose results are posted to
the chat later, even after a restart. The conversation talks to one clip service (bot.backends)
on behalf of a `Who` (the person, the chat, their language) and never asks which one it is;
whatever the service needs besides (accounts, tokens, its sessions, recovering from its own
errors) it finds itself. Every error that reaches the conversation becomes a sentence in the
person's language (bot.sentences).

One person's messages in one chat are handled one after another, in the order they came
(an asyncio.Lock per (platform, user, chat), made when needed and dropped when idle), on every
platform: "here is the video" and a quick "cut it" cannot overtake each other, and two first
messages make one session. /cancel does not wait its turn, so it can stop what is running.

Buttons under a clip name that clip ("/share clip-57": clip row 57; "/share draft-12-2":
draft 2 of session row 12, for services without clip rows), so a press acts on the clip it is
under (its job names that session to the service), and only its owner may export, share or ask
for more of it. "/share 2" typed by a person still means their own clip 2.
"""
from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import AsyncIterator, Awaitable, Callable

from bot import texts, work
from bot.backends.base import ClipService
from bot.handlers import HANDLERS, Person, Turn, button_press, press
from bot.intents import Intent, IntentKind, route
from bot.jobs import JobContext, JobQueue
from bot.messages import ChatRef, ErrorReply, Incoming, Reply, VideoReply
from bot.platforms import Platforms
from bot.sentences import error_reply
from bot.settings import Settings
from storage.repos import Repos, SessionRecord, User

log = logging.getLogger(__name__)

Poster = Callable[[ChatRef, Reply], Awaitable[None]]


@dataclass
class _Line:
    """One person's line in one chat: their messages wait on the lock, in order."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


class Conversation:
    def __init__(self, settings: Settings, repos: Repos, backend: ClipService, jobs: JobQueue,
                 platforms: Platforms | Poster, link_for: Callable[[VideoReply], str | None] | None = None):
        self.settings = settings
        self.repos = repos
        self.backend = backend
        self.jobs = jobs
        # Where replies go, each platform's upload limit and share target; a bare poster: every platform posts there.
        self.platforms = platforms if isinstance(platforms, Platforms) else Platforms.posting_to(platforms)
        self.link_for = link_for or (lambda reply: None)
        self._turns: dict[tuple[str, str, str], _Line] = {}
        self._written: dict[tuple[str, str], str] = {}        # (platform, user) -> the language of their last words
        jobs.register("chat", lambda ctx: work.run_chat(self, ctx))
        jobs.register("export", lambda ctx: work.run_export(self, ctx))
        jobs.error_reply = self.error_reply

    # ------------------------------------------------------------ entry point

    async def handle(self, incoming: Incoming) -> None:
        if not incoming.addressed_to_bot:
            return
        # A file, a bare link or a /command has no words to tell the language by: the person's last words
        # do (kept in their row across restarts, see _answer), else the platform's language of them
        person = (incoming.platform, incoming.user_id)
        if (written := texts.written_language(incoming.text)) is not None:
            self._written[person] = written
        lang = texts.pick_language(incoming.text, incoming.language, self._written.get(person))
        ref = replace(incoming.chat_ref, language=lang)
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
            lang, ref = await self._remembered_language(incoming, user, lang, ref)
            turn = Turn(incoming, intent, Person(user, ref.chat_key, lang), ref)
            if pressed is not None:
                await press(self, *pressed, turn)
            else:
                await HANDLERS.get(intent.kind, HANDLERS[IntentKind.CHAT])(self, turn)
        except Exception as exc:  # noqa: BLE001 - the person always gets a sentence
            await self.post(ref, self.error_reply(exc, lang))

    async def _remembered_language(self, incoming: Incoming, user: User, lang: str,
                                   ref: ChatRef) -> tuple[str, ChatRef]:
        """Notes the language of the person's words in their row; a message without words, the first since
        a restart, is answered in the language noted there."""
        person = (incoming.platform, incoming.user_id)
        written = texts.written_language(incoming.text)
        if written is not None:
            if user.written_language != written:
                await self.repos.users.note_written_language(user.id, written)
            return lang, ref
        if person in self._written or not user.written_language:
            return lang, ref
        self._written.setdefault(person, user.written_language)
        lang = texts.pick_language(incoming.text, incoming.language, self._written[person])
        return lang, replace(ref, language=lang)

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

    # ------------------------------------------------------------ jobs

    async def submit(self, person: Person, ref: ChatRef, kind: str, payload: dict,
                     session: SessionRecord | None = None, preface: str = "") -> None:
        """A job on `session` (a button names it), else on the person's session in this chat when it runs
        (the service may have replaced a lost one by then). The job row notes the session it was asked in."""
        record = session or await self.repos.sessions.active(person.user.id, person.chat_key, self.backend.name)
        payload = {**payload, "chat_key": session.chat_key if session is not None else person.chat_key,
                   "session": session.id if session is not None else None}
        job = await self.jobs.submit(person.user.id, kind, payload, ref=ref,
                                     session_id=record.id if record is not None else None, lang=person.lang,
                                     preface=preface)
        log.info("job %s (%s) for user %s", job.id, kind, person.user.id)

    async def person_for(self, ctx: JobContext) -> Person:
        user = await self.repos.users.get(ctx.job.user_id)
        payload = ctx.job.payload
        return Person(user, payload.get("chat_key", ""), ctx.lang, session=payload.get("session"))

"""One Incoming -> replies: the bot's side of every conversation, on every platform.

`Conversation.handle(incoming)` routes the message (bot.intents), finds the person's
account and session for this chat in storage (made on first use), and calls the backend.
Quick things (help, credits, status, uploads) are answered at once; long work (a cut, an
edit that renders again, an export, a share) becomes a durable job (bot.jobs) whose
results are posted to the chat later, even after a restart.

The backend's recoverable errors are handled here, once each: TokenInvalid (1001) gets a
new token, SessionMissing (1002) a new session, RateLimited (429) a wait of
NEMO_RETRY_AFTER_S; then the call is tried again. Every other error becomes a sentence in
the person's language (bot.texts). Account rows are the backend's: it reads, refreshes and
stores its tokens; the conversation only asks it for the account.

One person's messages in one chat are handled one after another, in the order they came
(an asyncio.Lock per (platform, user, chat), made when needed and dropped when idle), on every
platform: "here is the video" and a quick "cut it" cannot overtake each other, and two first
messages make one session. /cancel does not wait its turn, so it can stop what is running.

Buttons under a clip name that clip ("/share clip-57": clip row 57; "/share draft-12-2":
draft 2 of session row 12, for backends without clip rows), so a press acts on the clip it is
under, and only its owner may export, share or ask for more of it. "/share 2" typed by a
person still means their own clip 2.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import mimetypes
import re
import secrets
import shutil
import time
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable, TypeVar

from bot import texts
from bot.backends.base import (
    ACCEPTED_TYPES,
    Account,
    Backend,
    BackendError,
    BackendUnavailable,
    ChatEvent,
    ExportBlocked,
    FileTooLarge,
    MissingClientId,
    NothingUploaded,
    OutOfCredits,
    RateLimited,
    RenderStatus,
    SessionMissing,
    SessionRef,
    TokenInvalid,
    UnsupportedFile,
    VideoTooLong,
)
from bot.fetch import FetchError, fetch_url
from bot.intents import COMMANDS, Intent, IntentKind, parse_command, route
from bot.jobs import JobContext, JobQueue, Undelivered
from bot.messages import (
    Attachment,
    Button,
    ChatRef,
    ErrorReply,
    Incoming,
    LinkReply,
    Reply,
    TextReply,
    VideoReply,
)
from bot.settings import Settings
from bot.texts import clock, say
from engine.models import Cancelled, EngineError, RenderFailed, StageTimedOut
from storage.repos import Repos, SessionRecord, User

log = logging.getLogger(__name__)

T = TypeVar("T")
Poster = Callable[[ChatRef, Reply], Awaitable[None]]
RECOVERABLE = (TokenInvalid, SessionMissing, RateLimited)
LINK_BACKENDS = frozenset({"nemo"})          # backends that fetch a link themselves: no download here first
# Where each platform's share target is configured, to tell the person what the operator should check.
SHARE_SETTINGS = {"telegram": ("Telegram", "TELEGRAM_SHARE_CHAT_ID"),
                  "discord": ("Discord", "DISCORD_SHARE_CHANNEL_ID")}
# What a button under a clip names: a clip row, or a draft of a session row (backends without clip rows).
CLIP_TARGET = re.compile(r"clip-(\d{1,12})")
DRAFT_TARGET = re.compile(r"draft-(\d{1,12})-(\d{1,3})")
BUTTON_VERBS = ("export", "share", "more")


@dataclass
class _Turn:
    """One person's turn in one chat: their messages wait on the lock, in order."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


@dataclass
class _Who:
    """The person a message or job is for, in one chat, and their backend account and session."""

    user: User
    chat_key: str
    lang: str
    account: Account | None = None
    session: SessionRef | None = None


class Conversation:
    def __init__(self, settings: Settings, repos: Repos, backend: Backend, jobs: JobQueue, post: Poster,
                 link_for: Callable[[VideoReply], str | None] | None = None,
                 upload_limit: Callable[[str], int | None] | None = None):
        self.settings = settings
        self.repos = repos
        self.backend = backend
        self.jobs = jobs
        self._post = post
        self.link_for = link_for or (lambda reply: None)
        # The largest file (bytes) a platform takes from the bot; None: no limit.
        self.upload_limit = upload_limit or (lambda platform: None)
        self._turns: dict[tuple[str, str, str], _Turn] = {}
        jobs.register("chat", self._run_chat)
        jobs.register("export", self._run_export)
        jobs.error_reply = self.error_reply

    # ------------------------------------------------------------ entry point

    async def handle(self, incoming: Incoming) -> None:
        if not incoming.addressed_to_bot:
            return
        lang = texts.pick_language(incoming.text, incoming.language)
        ref = incoming.chat_ref
        # No await before the turn is taken: messages queue in the order handle() was called.
        press = _button_press(incoming)
        intent = None
        try:
            if press is None:
                intent = route(incoming.text, bool(incoming.attachments), incoming.command, incoming.command_args)
        except Exception as exc:  # noqa: BLE001 - the person always gets a sentence
            await self.post(ref, self.error_reply(exc, lang))
            return
        if intent is not None and intent.kind is IntentKind.CANCEL:
            await self._handle(incoming, intent, press, lang, ref)    # never waits: it stops what is running
            return
        async with self._turn((incoming.platform, incoming.user_id, ref.chat_key)):
            await self._handle(incoming, intent, press, lang, ref)

    async def _handle(self, incoming: Incoming, intent: Intent | None, press: tuple[str, str] | None, lang: str,
                      ref: ChatRef) -> None:
        try:
            user, _ = await self.repos.users.get_or_create(incoming.platform, incoming.user_id, incoming.user_name,
                                                           incoming.language)
            who = _Who(user, ref.chat_key, lang)
            if press is not None:
                await self._press(*press, incoming, who, ref)
            else:
                await self._dispatch(intent, incoming, who, ref)
        except Exception as exc:  # noqa: BLE001 - the person always gets a sentence
            await self.post(ref, self.error_reply(exc, lang))

    @asynccontextmanager
    async def _turn(self, key: tuple[str, str, str]) -> AsyncIterator[None]:
        turn = self._turns.setdefault(key, _Turn())
        turn.users += 1
        try:
            async with turn.lock:
                yield
        finally:
            turn.users -= 1
            if turn.users == 0:
                del self._turns[key]

    async def post(self, ref: ChatRef, reply: Reply) -> None:
        """Posts through the platform's sink. A sink that fails raises out of `handle`, so the adapter
        (which knows its platform) can log the update and apologise in its own way."""
        await self._post(ref, reply)

    async def _dispatch(self, intent: Intent, incoming: Incoming, who: _Who, ref: ChatRef) -> None:
        kind = intent.kind
        lang = who.lang
        if kind is IntentKind.START:
            await self.post(ref, TextReply(say(lang, "start", name=incoming.user_name or "there")))
        elif kind is IntentKind.HELP:
            unknown = _unknown_command(intent.text)
            text = say(lang, "help")
            if unknown:
                text = say(lang, "unknown_command", command=unknown, help=text)
            await self.post(ref, TextReply(text))
        elif kind is IntentKind.CANCEL:
            await self._cancel(who, ref)
        elif kind is IntentKind.NEW:
            await self._new_session(who)
            await self.post(ref, TextReply(say(lang, "new_session")))
        elif kind is IntentKind.CREDITS:
            await self._credits(who, ref)
        elif kind is IntentKind.STATUS:
            await self._status(who, ref)
        elif kind is IntentKind.UPLOAD:
            await self._upload(incoming, intent, who, ref)
        elif kind is IntentKind.EXPORT:
            number = re.search(r"(?<![\d.])(\d{1,2})(?![\dpk])", intent.args)   # "/export 2"; not "1080p"
            await self._submit(who, ref, "export", {"draft_index": int(number.group(1)) - 1} if number else {})
        elif kind is IntentKind.SHARE:
            await self._share(intent, incoming, who, ref)
        elif kind is IntentKind.GRANT:
            await self._grant(intent, incoming, who, ref)
        else:
            await self._submit(who, ref, "chat", {"text": intent.text or incoming.text})

    # ------------------------------------------------------------ accounts and sessions

    async def _account(self, who: _Who) -> Account:
        """The backend's account for this person. The backend alone reads and writes its account rows
        (it keeps a stored client id; the one given here is for a person it has never seen)."""
        return await self.backend.open_account(who.user.id, str(uuid.uuid4()))

    async def _session(self, who: _Who) -> SessionRef:
        name = self.backend.name
        record = await self.repos.sessions.active(who.user.id, who.chat_key, name)
        if record is not None:
            return SessionRef(record.remote_session_id, record.task_id, who.chat_key)
        return await self._open_session(who)

    async def _open_session(self, who: _Who) -> SessionRef:
        session = await self.backend.open_session(who.account, who.chat_key, who.lang)
        if await self.repos.sessions.by_remote_id(self.backend.name, session.session_id) is None:
            await self.repos.sessions.start(who.user.id, who.chat_key, self.backend.name, session.session_id,
                                            task_id=session.task_id, language=who.lang)
        return session

    async def _new_session(self, who: _Who) -> None:
        record = await self.repos.sessions.active(who.user.id, who.chat_key, self.backend.name)
        if record is not None:
            await self.repos.sessions.end(record.id)
        who.session = None
        await self._call(who, _nothing)

    async def _ready(self, who: _Who, session: bool) -> None:
        if who.account is None:
            who.account = await self._account(who)
        if session and who.session is None:
            who.session = await self._session(who)

    async def _recover(self, who: _Who, exc: BackendError, tried: set[int]) -> None:
        """Repairs what the error says is broken, once per kind; raises when it cannot."""
        if exc.code in tried:
            raise exc
        tried.add(exc.code)
        if isinstance(exc, TokenInvalid):
            # The backend has already put aside the token it refused; opening the account again gets a usable one.
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

    async def _call(self, who: _Who, call: Callable[[Account, SessionRef | None], Awaitable[T]],
                    session: bool = True) -> T:
        """A backend call with the one-time recovery from 1001, 1002 and 429."""
        tried: set[int] = set()
        while True:
            try:
                await self._ready(who, session)
                return await call(who.account, who.session)
            except RECOVERABLE as exc:
                await self._recover(who, exc, tried)

    async def _chat_events(self, who: _Who, text: str) -> AsyncIterator[ChatEvent]:
        """The backend's chat stream with the same recovery, as long as nothing has arrived yet."""
        tried: set[int] = set()
        while True:
            started = False
            try:
                await self._ready(who, session=True)
                async with _closing(self.backend.chat(who.account, who.session, text)) as events:
                    async for event in events:
                        started = True
                        yield event
                return
            except RECOVERABLE as exc:
                if started:
                    raise
                await self._recover(who, exc, tried)

    # ------------------------------------------------------------ quick answers

    async def _cancel(self, who: _Who, ref: ChatRef) -> None:
        stopped = await self.jobs.cancel_user(who.user.id)
        record = await self.repos.sessions.active(who.user.id, who.chat_key, self.backend.name)
        if record is not None:
            try:
                await self._ready(who, session=False)
                session = SessionRef(record.remote_session_id, record.task_id, who.chat_key)
                stopped += int(await self.backend.cancel(who.account, session))
            except BackendError as exc:
                log.info("backend cancel failed: %s", exc)
        await self.post(ref, TextReply(say(who.lang, "cancelled" if stopped else "nothing_to_cancel")))

    async def _credits(self, who: _Who, ref: ChatRef) -> None:
        credits = await self._call(who, lambda account, _: self.backend.credits(account), session=False)
        text = say(who.lang, "credits", available=credits.available, frozen=credits.frozen, total=credits.total)
        if self.backend.name == "local":
            text += "\n" + say(who.lang, "credits_cost")
        await self.post(ref, TextReply(text))

    async def _status(self, who: _Who, ref: ChatRef) -> None:
        state = await self._call(who, lambda account, session: self.backend.state(account, session))
        lines = []
        if state.media:
            names = ", ".join(_media_line(m) for m in state.media)
            lines.append(say(who.lang, "status_media", media=names))
        else:
            lines.append(say(who.lang, "status_no_media"))
        heard = next((d.get("m", {}).get("language") for d in state.drafts if d.get("m", {}).get("language")), "")
        if heard:
            lines.append(say(who.lang, "language_heard", language=texts.language_name(who.lang, heard)))
        if state.summary:
            lines += [say(who.lang, "status_clip", n=i, summary=s) for i, s in enumerate(state.summary, start=1)]
        elif state.media:
            lines.append(say(who.lang, "status_no_drafts"))
        jobs = await self._jobs_line(who)
        if jobs:
            lines.append(jobs)
        await self.post(ref, TextReply("\n".join(lines)))

    async def _jobs_line(self, who: _Who) -> str:
        described = []
        for job in await self.repos.jobs.for_user(who.user.id, "running", "queued"):
            what = (say(who.lang, "job_chat", text=_shorten(job.payload.get("text", ""), 40)) if job.kind == "chat"
                    else say(who.lang, "job_export"))
            if job.state == "running":
                described.append(say(who.lang, "job_running", what=what, percent=round(job.progress * 100)))
            else:
                described.append(say(who.lang, "job_queued", what=what, ahead=await self.repos.jobs.position(job.id)))
        return say(who.lang, "status_jobs", jobs="; ".join(described)) if described else ""

    async def _grant(self, intent: Intent, incoming: Incoming, who: _Who, ref: ChatRef) -> None:
        admins = set(self.settings.admin_ids)
        if incoming.user_id not in admins and f"{incoming.platform}:{incoming.user_id}" not in admins:
            await self.post(ref, ErrorReply(say(who.lang, "grant_not_admin")))
            return
        parts = intent.args.split()
        if len(parts) < 2 or not parts[-1].isdigit():
            await self.post(ref, TextReply(say(who.lang, "grant_usage")))
            return
        amount, named = int(parts[-1]), " ".join(parts[:-1])        # "@Ann Lee 5": names may have spaces
        platform = incoming.platform
        found = await self.repos.users.matching(platform, named)   # only the admin's own platform
        if not found:
            await self.post(ref, ErrorReply(say(who.lang, "grant_no_user", user=named, platform=platform.capitalize())))
            return
        if len(found) > 1:
            choices = ", ".join(f"{u.platform_user_id} ({u.name})" for u in found)
            await self.post(ref, ErrorReply(say(who.lang, "grant_ambiguous", user=named, platform=platform.capitalize(),
                                                choices=choices, example=found[0].platform_user_id, amount=amount)))
            return
        [target] = found
        balance = await self.repos.ledger.grant(target.id, amount, note=f"granted by {platform}:{incoming.user_id}")
        await self.post(ref, TextReply(say(who.lang, "grant_done", amount=amount,
                                           user=target.name or target.platform_user_id, available=balance.available)))

    # ------------------------------------------------------------ buttons under a clip

    async def _press(self, verb: str, target: str, incoming: Incoming, who: _Who, ref: ChatRef) -> None:
        """Export, Share or More under a clip: for the clip's owner only, on the clip's own session."""
        found = await self._button_target(target)
        if found is None:
            await self.post(ref, TextReply(say(who.lang, "clip_gone")))
            return
        session, index = found
        if session.user_id != who.user.id:
            owner = await self.repos.users.get(session.user_id)
            name = (owner.name or owner.platform_user_id) if owner is not None else "its owner"
            await self.post(ref, TextReply(say(who.lang, "not_yours", owner=name,
                                               action=say(who.lang, f"action_{verb}"))))
            return
        if verb == "export":
            await self._submit(who, ref, "export", {"draft_index": index}, session=session)
        elif verb == "share":
            share_to = self._share_target(incoming.platform)
            if share_to is None:
                await self.post(ref, ErrorReply(_no_share_target(who.lang, incoming.platform)))
                return
            await self._submit(who, ref, "export", {"draft_index": index,
                                                    "share": {"platform": incoming.platform, "chat_id": share_to}},
                               session=session)
        else:
            await self._submit(who, ref, "chat", {"text": f"more clips like clip {index + 1}"}, session=session)

    async def _button_target(self, target: str) -> tuple[SessionRecord, int] | None:
        """The session and draft index a button names; None when that clip is gone."""
        session, index = None, None
        if match := CLIP_TARGET.fullmatch(target):
            clip = await self.repos.clips.get(int(match.group(1)))
            if clip is not None:
                siblings = await self.repos.clips.for_session(clip.session_id)   # the order of the drafts
                index = next((i for i, c in enumerate(siblings) if c.id == clip.id), None)
                session = await self.repos.sessions.get(clip.session_id) if index is not None else None
        elif match := DRAFT_TARGET.fullmatch(target):
            session, index = await self.repos.sessions.get(int(match.group(1))), int(match.group(2)) - 1
        if session is None or session.backend != self.backend.name:
            return None
        return session, index

    # ------------------------------------------------------------ uploads

    async def _upload(self, incoming: Incoming, intent: Intent, who: _Who, ref: ChatRef) -> None:
        sources: list[tuple[str, Attachment | None, str | None]] = []
        for attachment in incoming.attachments:
            sources.append((attachment.name, attachment, None))
        for url in intent.urls:
            sources.append((url, None, url))
        if not sources:
            await self.post(ref, TextReply(say(who.lang, "err_nothing_uploaded")))
            return
        uploaded_any = False
        local = self.backend.name == "local"
        for name, attachment, url in sources:
            folder = self.settings.data_dir / "incoming" / secrets.token_hex(8)
            try:
                if attachment is not None and attachment.fetch is None and attachment.url:
                    url = attachment.url
                source: Path | str
                if url is not None and self.backend.name in LINK_BACKENDS:
                    await self.post(ref, TextReply(say(who.lang, "fetching_remote", url=url)))
                    source = url
                elif url is not None:
                    await self.post(ref, TextReply(say(who.lang, "fetching", url=url)))
                    source = await fetch_url(url, folder, max_bytes=self.settings.max_upload_mb * 1024 * 1024,
                                             allow_private=self.settings.allow_private_urls)
                elif attachment.fetch is None:
                    await self.post(ref, ErrorReply(say(who.lang, "err_no_bytes", name=name)))
                    continue
                else:
                    _refuse_large(attachment, self.settings.max_upload_mb)
                    _refuse_long(attachment, self.settings.max_duration_minutes)
                    folder.mkdir(parents=True, exist_ok=True)
                    source = await attachment.fetch(folder / safe_filename(attachment.name, attachment.mime))
                media = await self._call(who, lambda account, session: self.backend.upload(account, session, source))
                await self.post(ref, TextReply(_uploaded_text(media, who.lang, listening=local,
                                                              instruction=bool(intent.text))))
                uploaded_any = True
            except Exception as exc:  # noqa: BLE001 - one bad file does not stop the others
                await self.post(ref, self.error_reply(exc, who.lang))
            finally:
                shutil.rmtree(folder, ignore_errors=True)
        if uploaded_any and intent.text:
            await self._submit(who, ref, "chat", {"text": intent.text})

    # ------------------------------------------------------------ jobs

    async def _submit(self, who: _Who, ref: ChatRef, kind: str, payload: dict,
                      session: SessionRecord | None = None) -> None:
        """A job on `session` (a button names it), else on the person's active session in this chat."""
        record = session
        if record is None:
            record = await self.repos.sessions.active(who.user.id, who.chat_key, self.backend.name)
        if record is None:
            await self._call(who, _nothing)          # opens the account and the session
            record = await self.repos.sessions.active(who.user.id, who.chat_key, self.backend.name)
        payload = {**payload, "chat_key": record.chat_key if record else who.chat_key,
                   "session_id": record.remote_session_id if record else None,
                   "task_id": record.task_id if record else None}
        job = await self.jobs.submit(who.user.id, kind, payload, ref=ref, session_id=record.id if record else None,
                                     lang=who.lang)
        log.info("job %s (%s) for user %s", job.id, kind, who.user.id)

    async def _who_for(self, ctx: JobContext) -> _Who:
        user = await self.repos.users.get(ctx.job.user_id)
        payload = ctx.job.payload
        who = _Who(user, payload.get("chat_key", ""), ctx.lang)
        if payload.get("session_id"):
            who.session = SessionRef(payload["session_id"], payload.get("task_id"), who.chat_key)
        return who

    async def _run_chat(self, ctx: JobContext) -> dict:
        who = await self._who_for(ctx)
        lang = who.lang
        posted = set(ctx.job.payload.get("posted", []))
        ctx.progress(None, say(lang, "working"))
        said_something = False
        clips = 0
        async with _closing(self._chat_events(who, ctx.job.payload["text"])) as events:
            async for event in events:
                ctx.check()
                if event.kind == "text":
                    text = self._event_text(event, lang)
                    if text:
                        await ctx.post(TextReply(text))
                        said_something = True
                elif event.kind == "progress":
                    ctx.progress(event.fraction, self._progress_text(event, lang))
                # A heartbeat only keeps the stream alive: "⏳ Still working..." is the job watcher's (bot.jobs),
                # said once when nothing was shown for a while, whichever backend is working.
                elif event.kind == "clip":
                    said_something = True
                    clips += 1
                    mark = f"{event.data.get('clip_id')}:{event.data.get('path')}"
                    if mark in posted:
                        continue             # posted before a restart
                    # A clip the platform refused fails the job: its credits go back, nothing is marked posted.
                    await ctx.deliver(self._clip_reply(event.data, lang, session_row=ctx.job.session_id),
                                      number=int(event.data.get("rank") or clips))
                    posted.add(mark)
                    await ctx.save(posted=sorted(posted))
                elif event.kind == "done":
                    break
        ctx.progress(1.0, say(lang, "progress_done"), done=True)
        if not said_something:
            state = await self._call(who, lambda account, session: self.backend.state(account, session))
            lines = [say(lang, "summary_after_chat")] + [say(lang, "status_clip", n=i, summary=s)
                                                         for i, s in enumerate(state.summary, start=1)]
            await ctx.post(TextReply("\n".join(lines)))
        return {"clips": clips}

    async def _run_export(self, ctx: JobContext) -> dict:
        who = await self._who_for(ctx)
        lang = who.lang
        index = ctx.job.payload.get("draft_index")
        share = ctx.job.payload.get("share")
        ctx.progress(0.0, say(lang, "progress_export"))
        try:
            refs = await self._call(who, lambda account, session: self.backend.export(account, session, index))
        except NothingUploaded:
            refs = []
        if not refs:
            await ctx.post(TextReply(say(lang, "nothing_to_export")))
            ctx.progress(None, say(lang, "progress_done"), done=True)
            return {"files": 0}
        statuses = await self._poll_renders(ctx, who, refs)
        state = await self._call(who, lambda account, session: self.backend.state(account, session))
        target = ChatRef(share["platform"], share["chat_id"]) if share else ctx.ref
        upload_limit = self.upload_limit(target.platform) if target is not None else None
        sent = failed = 0
        for ref, status in zip(refs, statuses):
            draft = state.drafts[ref.draft_index] if ref.draft_index < len(state.drafts) else {}
            if status.status != "completed":
                failed += 1
                await ctx.post(ErrorReply(say(lang, "export_failed", n=ref.draft_index + 1,
                                              reason=status.error or say(lang, "unknown_error"))))
                continue
            reply = await self._export_reply(ref.draft_index, draft, status, lang, share, upload_limit,
                                             session_row=ctx.job.session_id)
            if reply is None or target is None:
                continue
            if not share:
                await ctx.deliver(reply, number=ref.draft_index + 1)
                sent += 1
                continue
            by = say(lang, "shared_by", name=who.user.name or who.user.platform_user_id)
            if isinstance(reply, VideoReply):
                reply = dataclasses.replace(reply, caption=f"{by}\n{reply.caption}")
            elif isinstance(reply, LinkReply):
                reply = dataclasses.replace(reply, text=f"{by}\n{reply.text}")
            try:
                await self.post(target, reply)
            except Exception as exc:  # noqa: BLE001 - the platform's refusal, said to the person who shared
                log.warning("could not post to the %s share target %s: %r", target.platform, target.chat_id, exc)
                await ctx.post(ErrorReply(_share_failed(lang, target.platform, ref.draft_index + 1, exc)))
                continue
            sent += 1
        ctx.progress(1.0, say(lang, "progress_failed" if failed and not sent else "progress_done"), done=True)
        if share and sent:
            await ctx.post(TextReply(say(lang, "share_done", n=(index or 0) + 1)))
        return {"files": sent}

    async def _poll_renders(self, ctx: JobContext, who: _Who, refs) -> list[RenderStatus]:
        """Each render's final status. A cloud export still unfinished after NEMO_EXPORT_TIMEOUT_S is
        stopped and reported as too slow, so one stuck render cannot hold a worker (and everyone
        queued behind it) forever. Local renders end by themselves (RENDER_TIMEOUT_S per clip)."""
        interval = float(getattr(self.backend, "poll_interval", self.settings.nemo_poll_interval_s))
        timeout = None if self.backend.name == "local" else self.settings.nemo_export_timeout_s
        deadline = None if timeout is None else time.monotonic() + timeout
        done: dict[str, RenderStatus] = {}
        while True:
            for ref in refs:
                if ref.render_id in done:
                    continue
                status = await self._call(who, lambda account, _: self.backend.render_status(account, ref),
                                          session=False)
                if status.status in ("completed", "failed"):
                    done[ref.render_id] = status
                else:
                    ctx.progress(status.progress / 100, say(ctx.lang, "progress_export"))
            if len(done) == len(refs):
                return [done[r.render_id] for r in refs]
            if deadline is not None and time.monotonic() >= deadline:
                log.warning("export of job %s unfinished after %.0f s; stopping it", ctx.job.id, timeout)
                await self._stop_renders(who)
                too_slow = say(ctx.lang, "export_too_slow", duration=texts.duration(ctx.lang, timeout))
                return [done.get(r.render_id) or RenderStatus(r.render_id, "failed", error=too_slow) for r in refs]
            pause = interval if deadline is None else max(0.0, min(interval, deadline - time.monotonic()))
            waited = 0.0
            while waited < pause:
                if ctx.cancel.is_set():
                    await self._call(who, lambda account, session: self.backend.cancel(account, session))
                    raise Cancelled("export cancelled")
                step = min(0.2, pause - waited)
                await asyncio.sleep(step)
                waited += step

    async def _stop_renders(self, who: _Who) -> None:
        try:
            await self._call(who, lambda account, session: self.backend.cancel(account, session))
        except BackendError as exc:             # the person hears of the timeout either way
            log.info("backend cancel after an export timeout failed: %s", exc)

    async def _export_reply(self, index: int, draft: dict, status: RenderStatus, lang: str, share,
                            upload_limit: int | None, session_row: int | None = None) -> Reply | None:
        """A finished render as a reply: its file, or the render's URL when the file is remote and larger
        than the platform takes (`upload_limit` bytes; None: any size) or cannot be downloaded."""
        meta = draft.get("m", {}) if isinstance(draft, dict) else {}
        path = status.path
        if path is None and status.url and hasattr(self.backend, "fetch_result"):
            target = self.settings.output_dir / "exports" / f"{status.render_id}.mp4"
            try:
                path = await self.backend.fetch_result(status.url, target, upload_limit)
            except BackendError as exc:
                log.info("could not download the render %s: %s", status.render_id, exc)
        if path is None:
            return LinkReply(status.url, say(lang, "export_link", n=index + 1, url=status.url)) if status.url else None
        data = {"clip_id": meta.get("clip_id"), "rank": index + 1, "title": meta.get("title", ""),
                "start": meta.get("start"), "end": meta.get("end"), "score": meta.get("score"),
                "hashtags": meta.get("hashtags", []), "path": str(path), "thumbnail": meta.get("thumbnail")}
        data.update(await asyncio.to_thread(_video_size, Path(path)))
        reply = self._clip_reply(data, lang, buttons=() if share else ("button_share", "button_more"),
                                 session_row=session_row)
        # A downloaded render keeps its URL, for an adapter whose upload is refused after all.
        return dataclasses.replace(reply, link=status.url) if reply.link is None and status.url else reply

    # ------------------------------------------------------------ share

    async def _share(self, intent: Intent, incoming: Incoming, who: _Who, ref: ChatRef) -> None:
        number = intent.args.strip().lstrip("#")
        if not number.isdigit() or int(number) < 1:
            await self.post(ref, TextReply(say(who.lang, "share_usage")))
            return
        target = self._share_target(incoming.platform)
        if target is None:
            await self.post(ref, ErrorReply(_no_share_target(who.lang, incoming.platform)))
            return
        state = await self._call(who, lambda account, session: self.backend.state(account, session))
        n = int(number)
        if n > len(state.drafts):
            await self.post(ref, ErrorReply(say(who.lang, "share_no_clip", n=n, count=len(state.drafts))))
            return
        await self._submit(who, ref, "export", {"draft_index": n - 1,
                                                "share": {"platform": incoming.platform, "chat_id": target}})

    def _share_target(self, platform: str) -> str | None:
        if platform == "telegram" and self.settings.telegram_share_chat_id:
            return str(self.settings.telegram_share_chat_id)
        if platform == "discord" and self.settings.discord_share_channel_id:
            return str(self.settings.discord_share_channel_id)
        return None

    # ------------------------------------------------------------ replies

    def _clip_reply(self, data: dict, lang: str,
                    buttons: tuple[str, ...] = ("button_export", "button_share", "button_more"),
                    session_row: int | None = None) -> VideoReply:
        """A clip as a video reply whose buttons name this clip (its row, else its session row and number)."""
        rank = int(data.get("rank") or 1)
        caption = _clip_caption(data, rank, lang)
        target = clip_target(data.get("clip_id"), session_row, rank)
        if target is not None:
            by_key = {"button_export": f"/export {target}", "button_share": f"/share {target}",
                      "button_more": f"/more {target}"}
        else:                                   # nothing to name it by: the presser's own clip N
            by_key = {"button_export": "/export", "button_share": f"/share {rank}",
                      "button_more": f"more clips like clip {rank}"}
        actions = tuple(Button(say(lang, key), by_key[key]) for key in
                        ("button_export", "button_share", "button_more") if key in buttons)
        reply = VideoReply(
            path=Path(data["path"]), width=int(data.get("width") or 0), height=int(data.get("height") or 0),
            duration=float(data.get("duration") or 0), caption=caption,
            thumbnail=Path(data["thumbnail"]) if data.get("thumbnail") else None, title=data.get("title") or "",
            clip_id=data.get("clip_id"), buttons=actions)
        link = self.link_for(reply) if reply.clip_id is not None else None
        return reply if link is None else dataclasses.replace(reply, link=link)

    def _event_text(self, event: ChatEvent, lang: str) -> str:
        data = event.data or {}
        if "moments" in data:
            count = len(data["moments"])
            lines = [say(lang, "moment_found") if count == 1 else say(lang, "moments_found", count=count)]
            lines += [say(lang, "moment_line", rank=m["rank"], start=clock(m["start"]), end=clock(m["end"]),
                          title=m["title"], score=round(float(m["score"])))
                      + (say(lang, "moment_weak") if m.get("weak") else "") for m in data["moments"]]
            lines += [texts.note(lang, fact) for fact in data.get("notes", [])]
            heard = next((m["language"] for m in data["moments"] if m.get("language")), "")
            if heard:
                lines.append(say(lang, "language_heard", language=texts.language_name(lang, heard)))
            lines += [say(lang, "captions_withheld", rank=m["rank"]) for m in data["moments"] if m.get("captions_withheld")]
            return "\n".join(lines)
        key = data.get("key")
        if key == "changed":
            return "\n".join([say(lang, "changed")] + [say(lang, "status_clip", n=n, summary=s) for n, s in data["lines"]])
        if key == "nothing_changed" and data.get("reasons"):
            separator = texts.REASON_SEPARATOR.get(lang, "; ")
            reason = separator.join(texts.reason(lang, k, english, **values) for english, k, values in data["reasons"])
            return say(lang, key, reason=reason)
        if key in texts.TEXTS:
            return say(lang, key, reason=data.get("reason", ""))
        return event.text

    def _progress_text(self, event: ChatEvent, lang: str) -> str:
        data = event.data or {}
        if data.get("stage") == "analyse":
            return say(lang, "progress_analyse")
        if data.get("stage") == "render":
            return say(lang, "progress_render", clip=data.get("clip", 1), of=data.get("of", 1))
        return event.text or say(lang, "working")

    def error_reply(self, exc: BaseException, lang: str) -> ErrorReply:
        """The sentence for a failure, in the person's language."""
        code = getattr(exc, "code", None)
        details: dict[str, Any] = getattr(exc, "details", {}) or {}
        if isinstance(exc, UnsupportedFile):
            accepted = ", ".join(details.get("accepted") or ACCEPTED_TYPES)
            if details.get("broken"):
                reason = (str(exc) + " ") if lang == "en" else "这个文件无法读取（可能已损坏或不完整）。"
            else:
                reason = "That file type is not supported. " if lang == "en" else "不支持这种文件格式。"
            text = say(lang, "err_unsupported", reason=reason, accepted=accepted)
        elif isinstance(exc, FileTooLarge):
            size = details.get("size_mb")
            text = say(lang, "err_too_large",
                       size=f"{size:.0f} MB" if isinstance(size, (int, float)) else say(lang, "size_unknown"),
                       limit=details.get("limit_mb") or self.settings.max_upload_mb)
        elif isinstance(exc, VideoTooLong):
            text = say(lang, "err_too_long", minutes=f"{details.get('minutes', 0):.0f}",
                       limit=f"{details.get('limit_minutes') or self.settings.max_duration_minutes:g}")
        elif isinstance(exc, OutOfCredits):
            if details.get("register_url"):
                how = say(lang, "how_register", url=details["register_url"])
            elif self.backend.name == "local":
                how = say(lang, "how_admin")
            else:
                how = say(lang, "how_top_up")
            text = say(lang, "err_out_of_credits", available=details.get("available", 0),
                       needed=details.get("needed", say(lang, "needed_more")), how=how)
        elif isinstance(exc, NothingUploaded):
            text = say(lang, "err_nothing_uploaded")
        elif isinstance(exc, ExportBlocked):
            text = say(lang, "err_export_blocked")
        elif isinstance(exc, RateLimited):
            text = say(lang, "err_rate_limited")
        elif isinstance(exc, (TokenInvalid, MissingClientId)):
            text = say(lang, "err_token")
        elif isinstance(exc, SessionMissing):
            text = say(lang, "err_session")
        elif isinstance(exc, BackendUnavailable):
            text = say(lang, "err_unavailable")
        elif isinstance(exc, BackendError):
            values = {k: v for k, v in details.items() if k != "reason_key"}
            text = say(lang, "err_backend", reason=texts.reason(lang, details.get("reason_key"), str(exc), **values))
        elif isinstance(exc, FetchError):
            text = say(lang, "err_fetch", reason=texts.reason(lang, getattr(exc, "key", None), str(exc),
                                                              **(getattr(exc, "values", None) or {})))
        elif isinstance(exc, Undelivered):
            what = (say(lang, "undelivered_clip", n=exc.number) if exc.number is not None
                    else say(lang, "undelivered_result"))
            text = say(lang, "err_undelivered", what=what, reason=exc.reason)
        elif isinstance(exc, StageTimedOut):
            text = say(lang, "err_too_slow", step=texts.step_name(lang, exc.stage), limit=texts.duration(lang, exc.limit_s))
        elif isinstance(exc, EngineError):
            text = str(exc)
        elif isinstance(exc, RenderFailed):
            text = say(lang, "err_render", reason=str(exc))
        else:
            log.error("unexpected error", exc_info=exc)
            text = say(lang, "err_internal")
        return ErrorReply(text, code=code)


# ---------------------------------------------------------------- helpers

def clip_target(clip_id: int | None, session_row: int | None, number: int) -> str | None:
    """What a button under a clip names: "clip-57" (a clip row), else "draft-12-2" (draft 2 of session row 12)."""
    if clip_id is not None:
        return f"clip-{int(clip_id)}"
    if session_row is not None:
        return f"draft-{int(session_row)}-{number}"
    return None


def _button_press(incoming: Incoming) -> tuple[str, str] | None:
    """("share", "clip-57") for "/share clip-57", a button under a clip; None for anything else."""
    if incoming.command is not None:
        command, args = incoming.command.lower(), incoming.command_args
    else:
        command, args = parse_command(incoming.text)
    args = args.strip()
    if command in BUTTON_VERBS and (CLIP_TARGET.fullmatch(args) or DRAFT_TARGET.fullmatch(args)):
        return command, args
    return None


@asynccontextmanager
async def _closing(stream) -> AsyncIterator:
    """An event stream closed when the reader stops early (a refused clip, a cancel), so the backend's
    own clean-up runs now rather than whenever the garbage collector gets to it."""
    try:
        yield stream
    finally:
        close = getattr(stream, "aclose", None)
        if close is not None:
            await close()


async def _nothing(account: Account, session: SessionRef | None) -> None:
    """A call that only needs the account and session to exist (Conversation._call makes them)."""


_UNSAFE = re.compile(r"[^\w.\-]+")


def safe_filename(name: str, mime: str | None = None) -> str:
    """A file name to keep an upload under while it is probed: the user's name without any path
    or odd characters (display only; stored media are named by content hash)."""
    base = Path(name.replace("\\", "/")).name if name else ""
    base = _UNSAFE.sub("_", base).strip("._")[-80:]
    if "." not in base:
        extension = (mimetypes.guess_extension(mime or "") or "") if mime else ""
        base = (base or "upload") + extension
    return base or "upload"


def _refuse_large(attachment: Attachment, limit_mb: int) -> None:
    if attachment.size is not None and attachment.size > limit_mb * 1024 * 1024:
        raise FileTooLarge("too large", limit_mb=limit_mb, size_mb=attachment.size / 1024 / 1024)


def _refuse_long(attachment: Attachment, limit_minutes: float) -> None:
    """Before the download, when the platform told the length."""
    if attachment.duration is not None and attachment.duration > limit_minutes * 60:
        raise VideoTooLong("too long", limit_minutes=limit_minutes, minutes=attachment.duration / 60)


def _unknown_command(text: str) -> str | None:
    """"/xyz" when the message is a command this bot does not have; None for /help and for plain words."""
    command, _ = parse_command(text)
    return f"/{command}" if command is not None and command not in COMMANDS else None


def _uploaded_text(media, lang: str, *, listening: bool, instruction: bool) -> str:
    """What arrived (only what is known of it); then, unless the same message said what to make, the next
    step. `listening`: the local engine starts transcribing at once, so the next step is quick."""
    if media.kind == "image":
        return say(lang, "uploaded_image", name=media.filename)
    known = [clock(media.duration)] if media.duration else []
    if media.kind == "video" and media.width and media.height:
        known.append(f"{media.width}x{media.height}")
    details = say(lang, "uploaded_details", details=("，" if lang == "zh" else ", ").join(known)) if known else ""
    got = say(lang, "uploaded_video", name=media.filename, details=details)
    if instruction:
        return got
    if media.kind == "audio":
        return texts.sentences(lang, got, say(lang, "uploaded_audio_next"))
    first = texts.sentences(lang, got, say(lang, "uploaded_listening") if listening else "")
    return f"{first}\n{say(lang, 'uploaded_next')}"


def _clip_caption(data: dict, rank: int, lang: str) -> str:
    """"#1 Title", then what is known of the clip: where it is in the source, its score; its hashtags."""
    start, end, score = data.get("start"), data.get("end"), data.get("score")
    facts = []
    if start is not None and end is not None:
        facts.append(say(lang, "clip_span", start=clock(float(start)), end=clock(float(end))))
    if score is not None:
        facts.append(say(lang, "clip_score", score=round(float(score))))
    lines = [f"#{rank} {data.get('title') or ''}".strip(), " · ".join(facts), " ".join(data.get("hashtags") or [])]
    return "\n".join(line for line in lines if line)


def _no_share_target(lang: str, platform: str) -> str:
    if platform in SHARE_SETTINGS:
        name, setting = SHARE_SETTINGS[platform]
        return say(lang, "share_no_target_setting", platform=name, setting=setting)
    return say(lang, "share_no_target")


def _share_failed(lang: str, platform: str, n: int, exc: BaseException) -> str:
    """Why the share channel refused (the platform's words) and what the operator should check."""
    _, setting = SHARE_SETTINGS.get(platform, (platform, f"{platform.upper()}_SHARE_CHAT_ID"))
    return say(lang, "share_failed", n=n, reason=str(exc) or type(exc).__name__, setting=setting)


def _media_line(media: dict) -> str:
    name = media.get("filename") or media.get("name") or media.get("media_id") or "file"
    duration = media.get("duration")
    return f"{name} ({clock(float(duration))})" if duration else str(name)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _video_size(path: Path) -> dict:
    from engine.render import probe_output

    try:
        return probe_output(path)
    except Exception:  # noqa: BLE001 - a reply without its size is still a reply
        return {}

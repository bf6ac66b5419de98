"""One small handler per intent, as python-telegram-bot's examples are written.

Each takes the Conversation (storage, the clip service, jobs, where replies go) and the Turn
(the message, what it asks, person asks, where to answer). `HANDLERS` maps an intent to its
handler; a button under a clip goes to `press`. Long work becomes a job (bot.work).
"""
from __future__ import annotations

import logging
import re
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Awaitable, Callable

from bot import texts
from bot.backends.base import BackendError, FileTooLarge, VideoTooLong, Who
from bot.fetch import fetch_url
from bot.fetch.files import safe_filename
from bot.intents import COMMANDS, Intent, IntentKind, parse_command
from bot.messages import Attachment, ChatRef, ErrorReply, Incoming, TextReply
from bot.replies import languages_heard, media_line, no_such_clip, uploaded_text
from bot.texts import say
from storage.repos import SessionRecord, User

if TYPE_CHECKING:
    from bot.conversation import Conversation

log = logging.getLogger(__name__)

# What a button under a clip names: a clip row, or a draft of a session row (services without clip rows).
CLIP_TARGET = re.compile(r"clip-(\d{1,12})")
DRAFT_TARGET = re.compile(r"draft-(\d{1,12})-(\d{1,3})")
BUTTON_VERBS = ("export", "share", "more")
KEPT_SHOWN = 120                  # characters of a kept instruction said back


@dataclass
class Person:
    """The person a message or job is for, in one chat, in their language; a job a button started
    names the stored session of the clip it was under."""

    user: User
    chat_key: str
    lang: str
    session: int | None = None

    @property
    def key(self) -> tuple[int, str]:
        """This person in this chat: whose instruction a chat keeps."""
        return self.user.id, self.chat_key

    @property
    def who(self) -> Who:
        """Whom the clip service works for."""
        return Who(self.user.id, self.chat_key, self.lang, self.session)


@dataclass
class Turn:
    """One message being answered: what it says and asks, person sent it, where the answer goes."""

    incoming: Incoming
    intent: Intent | None
    person: Person
    ref: ChatRef

    @property
    def lang(self) -> str:
        return self.person.lang


# ---------------------------------------------------------------- quick answers

async def start(conv: "Conversation", turn: Turn) -> None:
    name = turn.incoming.user_name or say(turn.lang, "start_no_name")
    await conv.post(turn.ref, TextReply(say(turn.lang, "start", name=name)))


async def help_(conv: "Conversation", turn: Turn) -> None:
    text = say(turn.lang, "help")
    unknown = unknown_command(turn.intent.text)
    if unknown:
        text = say(turn.lang, "unknown_command", command=unknown, help=text)
    await conv.post(turn.ref, TextReply(text))


async def new(conv: "Conversation", turn: Turn) -> None:
    await conv.repos.kept_instructions.forget(*turn.person.key)
    await conv.backend.start_over(turn.person.who)
    await conv.post(turn.ref, TextReply(say(turn.lang, "new_session")))


async def cancel(conv: "Conversation", turn: Turn) -> None:
    person, ref = turn.person, turn.ref
    stopped = await conv.jobs.cancel_user(person.user.id)
    try:
        stopped += int(await conv.backend.cancel(person.who))
    except BackendError as exc:
        log.info("backend cancel failed: %s", exc)
    await conv.post(ref, TextReply(say(person.lang, "cancelled" if stopped else "nothing_to_cancel")))


async def credits(conv: "Conversation", turn: Turn) -> None:
    person, ref = turn.person, turn.ref
    credits = await conv.backend.credits(person.who)
    text = say(person.lang, "credits", available=credits.available, frozen=credits.frozen, total=credits.total)
    if credits.cost_per_minute:
        text += "\n" + say(person.lang, "credits_cost")
    await conv.post(ref, TextReply(text))


async def status(conv: "Conversation", turn: Turn) -> None:
    person, ref = turn.person, turn.ref
    state = await conv.backend.state(person.who)
    lines = []
    if state.media:
        names = ("、" if person.lang == "zh" else ", ").join(media_line(m, person.lang) for m in state.media)
        lines.append(say(person.lang, "status_media", media=names))
    else:
        lines.append(say(person.lang, "status_no_media"))
    if heard := languages_heard(person.lang, state.clips):
        lines.append(heard)
    if state.summary:
        lines += [say(person.lang, "status_clip", n=i, summary=texts.timeline(person.lang, s)) for i, s in enumerate(state.summary, start=1)]
    elif state.media:
        lines.append(say(person.lang, "status_no_drafts"))
    jobs = await jobs_line(conv, person)
    if jobs:
        lines.append(jobs)
    await conv.post(ref, TextReply("\n".join(lines)))


async def jobs_line(conv: "Conversation", person: Person) -> str:
    described = []
    for job in await conv.repos.jobs.for_user(person.user.id, "running", "queued"):
        what = (say(person.lang, "job_chat", text=shorten(job.payload.get("text", ""), 40)) if job.kind == "chat"
                else say(person.lang, "job_export"))
        if job.state == "running":
            described.append(say(person.lang, "job_running", what=what, percent=round(job.progress * 100)))
        else:
            described.append(say(person.lang, "job_queued", what=what, ahead=await conv.repos.jobs.position(job.id)))
    return say(person.lang, "status_jobs", jobs="; ".join(described)) if described else ""


async def grant(conv: "Conversation", turn: Turn) -> None:
    intent, incoming, person, ref = turn.intent, turn.incoming, turn.person, turn.ref
    admins = set(conv.settings.admin_ids)
    if incoming.user_id not in admins and f"{incoming.platform}:{incoming.user_id}" not in admins:
        await conv.post(ref, ErrorReply(say(person.lang, "grant_not_admin")))
        return
    parts = intent.args.split()
    if len(parts) < 2 or not parts[-1].isdigit():
        await conv.post(ref, TextReply(say(person.lang, "grant_usage")))
        return
    amount, named = int(parts[-1]), " ".join(parts[:-1])        # "@Ann Lee 5": names may have spaces
    platform = incoming.platform
    found = await conv.repos.users.matching(platform, named)   # only the admin's own platform
    if not found:
        await conv.post(ref, ErrorReply(say(person.lang, "grant_no_user", user=named, platform=platform.capitalize())))
        return
    if len(found) > 1:
        choices = ", ".join(f"{u.platform_user_id} ({u.name})" for u in found)
        await conv.post(ref, ErrorReply(say(person.lang, "grant_ambiguous", user=named, platform=platform.capitalize(),
                                            choices=choices, example=found[0].platform_user_id, amount=amount)))
        return
    [target] = found
    balance = await conv.repos.ledger.grant(target.id, amount, note=f"granted by {platform}:{incoming.user_id}")
    await conv.post(ref, TextReply(say(person.lang, "grant_done", amount=amount,
                                       user=target.name or target.platform_user_id, available=balance.available)))

# ---------------------------------------------------------------- work that becomes a job

async def export(conv: "Conversation", turn: Turn) -> None:
    number = re.search(r"(?<![\d.])(\d{1,2})(?![\dpk])", turn.intent.args)   # "/export 2"; not "1080p"
    if number:
        count = len((await conv.backend.state(turn.person.who)).clips)
        if count and not 1 <= int(number.group(1)) <= count:       # none at all: "nothing to export yet"
            await conv.post(turn.ref, TextReply(no_such_clip(turn.person.lang, int(number.group(1)), count)))
            return
    await conv.submit(turn.person, turn.ref, "export", {"draft_index": int(number.group(1)) - 1} if number else {})


async def chat(conv: "Conversation", turn: Turn) -> None:
    await conv.repos.kept_instructions.forget(*turn.person.key)     # newer words than the ones kept from a link
    await conv.submit(turn.person, turn.ref, "chat", {"text": turn.intent.text or turn.incoming.text,
                                                      "in_group": turn.incoming.is_group})


async def upload(conv: "Conversation", turn: Turn) -> None:
    intent, incoming, person, ref = turn.intent, turn.incoming, turn.person, turn.ref
    sources: list[tuple[str, Attachment | None, str | None]] = []
    for attachment in incoming.attachments:
        sources.append((attachment.name, attachment, None))
    for url in intent.urls:
        sources.append((url, None, url))
    if not sources:
        await conv.post(ref, TextReply(say(person.lang, "err_nothing_uploaded")))
        return
    uploaded_any = False
    # The words sent with a link or file that could not be opened are done with the next file sent without words.
    kept = await conv.repos.kept_instructions.take(*person.key)
    instruction = intent.text or kept
    # In a group (20 messages a minute shared by everyone), "got it" and the queue position of the
    # job the same message asks for go out as one message.
    in_one_message = incoming.is_group and bool(instruction)
    acknowledged: list[str] = []
    for name, attachment, url in sources:
        folder = conv.settings.data_dir / "incoming" / secrets.token_hex(8)
        try:
            if attachment is not None and attachment.fetch is None and attachment.url:
                url = attachment.url
            source: Path | str
            if url is not None and conv.backend.takes_links:
                await conv.post(ref, TextReply(say(person.lang, "fetching_remote", url=url)))
                source = url
            elif url is not None:
                await conv.post(ref, TextReply(say(person.lang, "fetching", url=url)))
                source = await fetch_url(url, folder, max_bytes=conv.settings.max_upload_mb * 1024 * 1024,
                                         allow_private=conv.settings.allow_private_urls)
            elif attachment.fetch is None:
                await conv.post(ref, ErrorReply(say(person.lang, "err_no_bytes", name=name)))
                continue
            else:
                refuse_large(attachment, conv.settings.max_upload_mb)
                refuse_long(attachment, conv.settings.max_duration_minutes)
                folder.mkdir(parents=True, exist_ok=True)
                source = await attachment.fetch(folder / safe_filename(attachment.name, attachment.mime))
            media = await conv.backend.upload(person.who, source)
            got = uploaded_text(media, person.lang, listening=media.analysing, instruction=bool(instruction))
            if in_one_message:           # said with the queue position, in one message
                acknowledged.append(got)
            else:
                await conv.post(ref, TextReply(got))
            uploaded_any = True
        except Exception as exc:  # noqa: BLE001 - one bad file does not stop the others
            await conv.post(ref, conv.error_reply(exc, person.lang))
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    if uploaded_any and instruction:
        if not intent.text:
            doing = say(person.lang, "instruction_from_before", instruction=shorten(kept, KEPT_SHOWN))
            if in_one_message:
                acknowledged.append(doing)
            else:
                await conv.post(ref, TextReply(doing))
        await conv.submit(person, ref, "chat", {"text": instruction, "in_group": incoming.is_group},
                          preface="\n".join(acknowledged))
    elif not uploaded_any and instruction:     # nothing came: the instruction waits for the file, a restart too
        await conv.repos.kept_instructions.keep(*person.key, instruction)
        kept_note = say(person.lang, "instruction_kept", instruction=shorten(instruction, KEPT_SHOWN))
        await conv.post(ref, TextReply(kept_note))


async def share(conv: "Conversation", turn: Turn) -> None:
    intent, incoming, person, ref = turn.intent, turn.incoming, turn.person, turn.ref
    number = intent.args.strip().lstrip("#")
    if not number.isdigit() or int(number) < 1:
        await conv.post(ref, TextReply(say(person.lang, "share_usage")))
        return
    target = share_target(conv, incoming.platform)
    if target is None:
        await conv.post(ref, ErrorReply(no_share_target(conv, person.lang, incoming.platform)))
        return
    state = await conv.backend.state(person.who)
    n = int(number)
    if n > len(state.clips):
        await conv.post(ref, ErrorReply(say(person.lang, "share_no_clip", n=n, count=len(state.clips))))
        return
    await conv.submit(person, ref, "export", {"draft_index": n - 1,
                                            "share": {"platform": incoming.platform, "chat_id": target}})

HANDLERS: dict[IntentKind, Callable[["Conversation", Turn], Awaitable[None]]] = {
    IntentKind.START: start, IntentKind.HELP: help_, IntentKind.CANCEL: cancel, IntentKind.NEW: new,
    IntentKind.CREDITS: credits, IntentKind.STATUS: status, IntentKind.UPLOAD: upload, IntentKind.EXPORT: export,
    IntentKind.SHARE: share, IntentKind.GRANT: grant, IntentKind.CHAT: chat,
}


# ---------------------------------------------------------------- buttons under a clip

async def press(conv: "Conversation", verb: str, target: str, turn: Turn) -> None:
    """Export, Share or More under a clip: for the clip's owner only, on the clip's own session."""
    incoming, person, ref = turn.incoming, turn.person, turn.ref
    found = await button_target(conv, target)
    if found is None:
        await conv.post(ref, TextReply(say(person.lang, "clip_gone")))
        return
    session, index = found
    if session.user_id != person.user.id:
        owner = await conv.repos.users.get(session.user_id)
        name = (owner.name or owner.platform_user_id) if owner is not None else say(person.lang, "owner_unknown")
        await conv.post(ref, TextReply(say(person.lang, "not_yours", owner=name,
                                           action=say(person.lang, f"action_{verb}"))))
        return
    if verb == "export":
        await conv.submit(person, ref, "export", {"draft_index": index}, session=session)
    elif verb == "share":
        share_to = share_target(conv, incoming.platform)
        if share_to is None:
            await conv.post(ref, ErrorReply(no_share_target(conv, person.lang, incoming.platform)))
            return
        await conv.submit(person, ref, "export", {"draft_index": index,
                                                "share": {"platform": incoming.platform, "chat_id": share_to}},
                           session=session)
    else:
        await conv.submit(person, ref, "chat", {"text": say(person.lang, "more_like_clip", n=index + 1)}, session=session)


async def button_target(conv: "Conversation", target: str) -> tuple[SessionRecord, int] | None:
    """The session and draft index a button names; None when that clip is gone."""
    session, index = None, None
    if match := CLIP_TARGET.fullmatch(target):
        clip = await conv.repos.clips.get(int(match.group(1)))
        if clip is not None:
            siblings = await conv.repos.clips.for_session(clip.session_id)   # the order of the drafts
            index = next((i for i, c in enumerate(siblings) if c.id == clip.id), None)
            session = await conv.repos.sessions.get(clip.session_id) if index is not None else None
    elif match := DRAFT_TARGET.fullmatch(target):
        session, index = await conv.repos.sessions.get(int(match.group(1))), int(match.group(2)) - 1
    if session is None or session.backend != conv.backend.name:
        return None
    return session, index


def share_target(conv: "Conversation", platform: str) -> str | None:
    registered = conv.platforms.get(platform)
    return registered.share_target if registered is not None else None


def no_share_target(conv: "Conversation", lang: str, platform: str) -> str:
    registered = conv.platforms.get(platform)
    if registered is not None and registered.share_setting:
        return say(lang, "share_no_target_setting", platform=registered.shown_name, setting=registered.share_setting)
    return say(lang, "share_no_target")


def share_failed(conv: "Conversation", lang: str, platform: str, n: int, exc: BaseException) -> str:
    """Why the share channel refused (the platform's words) and what the operator should check."""
    registered = conv.platforms.get(platform)
    setting = (registered.share_setting if registered is not None else None) or f"{platform.upper()}_SHARE_CHAT_ID"
    return say(lang, "share_failed", n=n, reason=str(exc) or type(exc).__name__, setting=setting)


# ---------------------------------------------------------------- helpers

def button_press(incoming: Incoming) -> tuple[str, str] | None:
    """("share", "clip-57") for "/share clip-57", a button under a clip; None for anything else."""
    if incoming.command is not None:
        command, args = incoming.command.lower(), incoming.command_args
    else:
        command, args = parse_command(incoming.text)
    args = args.strip()
    if command in BUTTON_VERBS and (CLIP_TARGET.fullmatch(args) or DRAFT_TARGET.fullmatch(args)):
        return command, args
    return None


def refuse_large(attachment: Attachment, limit_mb: int) -> None:
    if attachment.size is not None and attachment.size > limit_mb * 1024 * 1024:
        raise FileTooLarge("too large", limit_mb=limit_mb, size_mb=attachment.size / 1024 / 1024)


def refuse_long(attachment: Attachment, limit_minutes: float) -> None:
    """Before the download, when the platform told the length."""
    if attachment.duration is not None and attachment.duration > limit_minutes * 60:
        raise VideoTooLong("too long", limit_minutes=limit_minutes, minutes=attachment.duration / 60)


def unknown_command(text: str) -> str | None:
    """"/xyz" when the message is a command this bot does not have; None for /help and for plain words."""
    command, _ = parse_command(text)
    return f"/{command}" if command is not None and command not in COMMANDS else None


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"

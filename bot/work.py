"""The jobs a conversation starts: a chat with the clip service (cuts, edits) and an export.

Each runs in a job worker (bot.jobs) with a JobContext. A chat reads the person's words once
(bot.vocabulary) into a new cut (`ClipRequest`) or edits of the clips on screen (`Edit`s) and
asks the service for it; it posts what the service says, shows its progress, and delivers the
clips (`ctx.deliver`: a clip the platform refused fails the job, so nothing is charged for it).
An export asks the service for the finished clips (it waits for its own renders) and sends each
file (or its link) to the chat or the platform's share target.
"""
from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING

from bot import texts
from bot.backends.base import ChatEvent, NothingUploaded
from bot.handlers import share_failed, shorten
from bot.jobs import JobContext
from bot.messages import ChatRef, ErrorReply, LinkReply, Reply, TextReply, VideoReply
from bot.replies import clip_reply, closing, event_text, progress_text
from bot.texts import say
from bot.vocabulary import understand
from engine.spanish_words import other_language

if TYPE_CHECKING:
    from bot.conversation import Conversation

log = logging.getLogger(__name__)


async def run_chat(conv: "Conversation", ctx: JobContext) -> dict:
    person = await conv.person_for(ctx)
    who, lang = person.who, person.lang
    posted = set(ctx.job.payload.get("posted", []))
    ctx.progress(None, say(lang, "working"))
    words = ctx.job.payload["text"]
    state = await conv.backend.state(who)
    understood = understand(words, has_clips=bool(state.clips))
    if understood.caption_size:
        if not posted:                  # said once, not again after a restart
            await ctx.post(TextReply(say(lang, "caption_size_fixed")))
        if understood.kind == "not_understood":                  # it asked for nothing else
            ctx.progress(1.0, say(lang, "progress_done"), done=True)
            return {"clips": 0}
    if understood.kind == "not_understood" and other_language(words):   # not a change it missed: words it cannot read
        if not posted:
            await ctx.post(TextReply(say(lang, "unread_language", words=shorten(words, 80))))
        ctx.progress(1.0, say(lang, "progress_done"), done=True)
        return {"clips": 0}
    if understood.unused and not posted:
        await ctx.post(TextReply(say(lang, "words_unused_in_edit", reason=understood.unused)))
    if understood.kind == "cut":
        stream = conv.backend.cut(who, words, understood.request)
    else:                        # edits of the clips on screen, music to remember, or words it could not read
        stream = conv.backend.edit(who, understood.edits, words)
    said_something = False
    clips = 0
    # In a group (20 messages a minute shared by everyone) what the service says before a clip
    # ("Found 1 short...") goes in that clip's caption instead of a message of its own.
    in_group, unsaid = bool(ctx.job.payload.get("in_group")), []
    async with closing(stream) as events:
        async for event in events:
            ctx.check()
            if event.kind == "text":
                text = event_text(event, lang)
                if text and in_group:
                    unsaid.append(text)
                    said_something = True
                elif text:
                    await ctx.post(TextReply(text))
                    said_something = True
            elif event.kind == "progress":
                ctx.progress(event.fraction, progress_text(event, lang))
            # A heartbeat only keeps the stream alive: "⏳ Still working..." is the job watcher's (bot.jobs),
            # said once when nothing was shown for a while, whichever service is working.
            elif event.kind == "clip":
                said_something = True
                clips += 1
                clip = event.clip
                mark = f"{clip.clip_id}:{clip.path}"
                if mark in posted:
                    continue             # posted before a restart
                # At least once (docs/ARCHITECTURE.md, "Delivery after a crash"): a clip whose send was
                # begun before a crash but never recorded is sent again, saying it may be a repeat.
                reply = clip_reply(clip, lang, conv.link_for)
                if mark in ctx.job.payload.get("sending", []):
                    reply = dataclasses.replace(reply, caption=f"{say(lang, 'clip_maybe_again')}\n{reply.caption}")
                if unsaid:
                    reply = dataclasses.replace(reply, caption="\n".join([*unsaid, reply.caption]))
                    unsaid.clear()
                await ctx.save(sending=[mark])
                # A clip the platform refused fails the job: its credits go back, nothing is marked posted.
                await ctx.deliver(reply, number=clip.number or clips)
                posted.add(mark)
                await ctx.save(posted=sorted(posted), sending=[])
            elif event.kind == "done":
                break
    if unsaid:                   # said with no clip after it
        await ctx.post(TextReply("\n".join(unsaid)))
    ctx.progress(1.0, say(lang, "progress_done"), done=True)
    if not said_something:
        state = await conv.backend.state(who)
        lines = [say(lang, "summary_after_chat")] + [say(lang, "status_clip", n=i, summary=texts.timeline(lang, s))
                                                     for i, s in enumerate(state.summary, start=1)]
        await ctx.post(TextReply("\n".join(lines)))
    return {"clips": clips}


async def run_export(conv: "Conversation", ctx: JobContext) -> dict:
    person = await conv.person_for(ctx)
    who, lang = person.who, person.lang
    index = ctx.job.payload.get("draft_index")
    share = ctx.job.payload.get("share")
    target = ChatRef(share["platform"], share["chat_id"], language=lang) if share else ctx.ref
    upload_limit = conv.platforms.upload_limit(target.platform) if target is not None else None
    ctx.progress(0.0, say(lang, "progress_export"))
    sent = failed = 0
    try:
        async with closing(conv.backend.export(who, None if index is None else index + 1, upload_limit)) as events:
            async for event in events:
                ctx.check()
                if event.kind == "progress":
                    ctx.progress(event.fraction, say(lang, "progress_export"))
                elif event.kind == "failed":
                    failed += 1
                    await ctx.post(ErrorReply(say(lang, "export_failed", n=event.clip.number,
                                                  reason=failure(event, lang))))
                elif event.kind == "text" and event.sentence is not None and not share:
                    await ctx.post(TextReply(event_text(event, lang)))      # clips made already, sent again
                elif event.kind == "clip" and target is not None:
                    outcome = await send(conv, ctx, person, event, target, share)
                    sent, failed = sent + (outcome is True), failed + (outcome is False)
    except NothingUploaded:
        pass
    if not sent and not failed:
        await ctx.post(TextReply(say(lang, "nothing_to_export")))
        ctx.progress(None, say(lang, "progress_done"), done=True)
        return {"files": 0}
    ctx.progress(1.0, say(lang, "progress_failed" if failed and not sent else "progress_done"), done=True)
    if share and sent:
        await ctx.post(TextReply(say(lang, "share_done", n=(index or 0) + 1)))
    return {"files": sent}


def failure(event: ChatEvent, lang: str) -> str:
    said = event.sentence
    if said is not None and said.key == "export_too_slow":
        return say(lang, "export_too_slow", duration=texts.duration(lang, said.seconds))
    if said is not None and said.reasons:
        return texts.REASON_SEPARATOR.get(lang, "; ").join(texts.reason(lang, r.key, r.english, **r.facts)
                                                           for r in said.reasons)
    return event.text or say(lang, "unknown_error")


async def send(conv: "Conversation", ctx: JobContext, person, event: ChatEvent, target: ChatRef,
               share) -> bool | None:
    """One exported clip to the chat (delivered: a refusal fails the job) or to the share target: True
    when sent, False when the share target refused it (the person is told why), None when there is
    nothing to send."""
    lang, clip = person.lang, event.clip
    reply = export_reply(conv, clip, lang, share)
    if reply is None:
        return None
    if not share:
        await ctx.deliver(reply, number=clip.number)
        return True
    by = say(lang, "shared_by", name=person.user.name or person.user.platform_user_id)
    if isinstance(reply, VideoReply):
        reply = dataclasses.replace(reply, caption=f"{by}\n{reply.caption}")
    elif isinstance(reply, LinkReply):
        reply = dataclasses.replace(reply, text=f"{by}\n{reply.text}")
    try:
        await conv.post(target, reply)
    except Exception as exc:  # noqa: BLE001 - the platform's refusal, said to the person who shared
        log.warning("could not post to the %s share target %s: %r", target.platform, target.chat_id, exc)
        await ctx.post(ErrorReply(share_failed(conv, lang, target.platform, clip.number, exc)))
        return False
    return True


def export_reply(conv: "Conversation", clip, lang: str, share) -> Reply | None:
    """A finished clip as a reply: its file, else (a remote file larger than the platform takes, or
    one that could not be downloaded) its link."""
    if clip.path is None:
        return LinkReply(clip.url, say(lang, "export_link", n=clip.number, url=clip.url)) if clip.url else None
    reply = clip_reply(clip, lang, conv.link_for, buttons=() if share else ("button_share", "button_more"))
    # A downloaded render keeps its URL, for an adapter whose upload is refused after all.
    return dataclasses.replace(reply, link=clip.url) if reply.link is None and clip.url else reply

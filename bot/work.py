"""The jobs a conversation starts: a chat with the clip service (cuts, edits) and an export.

Each runs in a job worker (bot.jobs) with a JobContext: it posts what the service says, shows its
progress, and delivers the clips (`ctx.deliver`: a clip the platform refused fails the job, so
nothing is charged for it). An export polls the service's renders until they finish or its
deadline passes, then sends each file (or its link) to the chat or the platform's share target.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

from bot import texts
from bot.backends.base import BackendError, Clip, NothingUploaded, RenderStatus
from bot.handlers import Who, share_failed
from bot.jobs import JobContext
from bot.messages import ChatRef, ErrorReply, LinkReply, Reply, TextReply, VideoReply
from bot.replies import clip_reply, closing, event_text, progress_text, video_size
from bot.texts import say
from engine.models import Cancelled

if TYPE_CHECKING:
    from bot.conversation import Conversation

log = logging.getLogger(__name__)


async def run_chat(conv: "Conversation", ctx: JobContext) -> dict:
    who = await conv.who_for(ctx)
    lang = who.lang
    posted = set(ctx.job.payload.get("posted", []))
    ctx.progress(None, say(lang, "working"))
    said_something = False
    clips = 0
    async with closing(conv.chat_events(who, ctx.job.payload["text"])) as events:
        async for event in events:
            ctx.check()
            if event.kind == "text":
                text = event_text(event, lang)
                if text:
                    await ctx.post(TextReply(text))
                    said_something = True
            elif event.kind == "progress":
                ctx.progress(event.fraction, progress_text(event, lang))
            # A heartbeat only keeps the stream alive: "⏳ Still working..." is the job watcher's (bot.jobs),
            # said once when nothing was shown for a while, whichever backend is working.
            elif event.kind == "clip":
                said_something = True
                clips += 1
                clip = event.clip
                mark = f"{clip.clip_id}:{clip.path}"
                if mark in posted:
                    continue             # posted before a restart
                # At least once (docs/ARCHITECTURE.md, "Delivery after a crash"): a clip whose send was
                # begun before a crash but never recorded is sent again, saying it may be a repeat.
                reply = clip_reply(clip, lang, conv.link_for, session_row=ctx.job.session_id)
                if mark in ctx.job.payload.get("sending", []):
                    reply = dataclasses.replace(reply, caption=f"{say(lang, 'clip_maybe_again')}\n{reply.caption}")
                await ctx.save(sending=[mark])
                # A clip the platform refused fails the job: its credits go back, nothing is marked posted.
                await ctx.deliver(reply, number=clip.number or clips)
                posted.add(mark)
                await ctx.save(posted=sorted(posted), sending=[])
            elif event.kind == "done":
                break
    ctx.progress(1.0, say(lang, "progress_done"), done=True)
    if not said_something:
        state = await conv.call(who, lambda account, session: conv.backend.state(account, session))
        lines = [say(lang, "summary_after_chat")] + [say(lang, "status_clip", n=i, summary=s)
                                                     for i, s in enumerate(state.summary, start=1)]
        await ctx.post(TextReply("\n".join(lines)))
    return {"clips": clips}


async def run_export(conv: "Conversation", ctx: JobContext) -> dict:
    who = await conv.who_for(ctx)
    lang = who.lang
    index = ctx.job.payload.get("draft_index")
    share = ctx.job.payload.get("share")
    ctx.progress(0.0, say(lang, "progress_export"))
    try:
        refs = await conv.call(who, lambda account, session: conv.backend.export(account, session, index))
    except NothingUploaded:
        refs = []
    if not refs:
        await ctx.post(TextReply(say(lang, "nothing_to_export")))
        ctx.progress(None, say(lang, "progress_done"), done=True)
        return {"files": 0}
    statuses = await poll_renders(conv, ctx, who, refs)
    state = await conv.call(who, lambda account, session: conv.backend.state(account, session))
    target = ChatRef(share["platform"], share["chat_id"]) if share else ctx.ref
    upload_limit = conv.platforms.upload_limit(target.platform) if target is not None else None
    sent = failed = 0
    for ref, status in zip(refs, statuses):
        clip = state.clips[ref.draft_index] if ref.draft_index < len(state.clips) else Clip(ref.draft_index + 1)
        if status.status != "completed":
            failed += 1
            await ctx.post(ErrorReply(say(lang, "export_failed", n=ref.draft_index + 1,
                                          reason=status.error or say(lang, "unknown_error"))))
            continue
        reply = await export_reply(conv, ref.draft_index, clip, status, lang, share, upload_limit,
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
            await conv.post(target, reply)
        except Exception as exc:  # noqa: BLE001 - the platform's refusal, said to the person who shared
            log.warning("could not post to the %s share target %s: %r", target.platform, target.chat_id, exc)
            await ctx.post(ErrorReply(share_failed(conv, lang, target.platform, ref.draft_index + 1, exc)))
            continue
        sent += 1
    ctx.progress(1.0, say(lang, "progress_failed" if failed and not sent else "progress_done"), done=True)
    if share and sent:
        await ctx.post(TextReply(say(lang, "share_done", n=(index or 0) + 1)))
    return {"files": sent}


async def poll_renders(conv: "Conversation", ctx: JobContext, who: Who, refs) -> list[RenderStatus]:
    """Each render's final status. A cloud export still unfinished after NEMO_EXPORT_TIMEOUT_S is
    stopped and reported as too slow, so one stuck render cannot hold a worker (and everyone
    queued behind it) forever. Local renders end by themselves (RENDER_TIMEOUT_S per clip)."""
    interval = float(conv.backend.poll_interval)
    timeout = conv.backend.export_deadline_s
    deadline = None if timeout is None else time.monotonic() + timeout
    done: dict[str, RenderStatus] = {}
    while True:
        for ref in refs:
            if ref.render_id in done:
                continue
            status = await conv.call(who, lambda account, _: conv.backend.render_status(account, ref),
                                      session=False)
            if status.status in ("completed", "failed"):
                done[ref.render_id] = status
            else:
                ctx.progress(status.progress / 100, say(ctx.lang, "progress_export"))
        if len(done) == len(refs):
            return [done[r.render_id] for r in refs]
        if deadline is not None and time.monotonic() >= deadline:
            log.warning("export of job %s unfinished after %.0f s; stopping it", ctx.job.id, timeout)
            await stop_renders(conv, who)
            too_slow = say(ctx.lang, "export_too_slow", duration=texts.duration(ctx.lang, timeout))
            return [done.get(r.render_id) or RenderStatus(r.render_id, "failed", error=too_slow) for r in refs]
        pause = interval if deadline is None else max(0.0, min(interval, deadline - time.monotonic()))
        waited = 0.0
        while waited < pause:
            if ctx.cancel.is_set():
                await conv.call(who, lambda account, session: conv.backend.cancel(account, session))
                raise Cancelled("export cancelled")
            step = min(0.2, pause - waited)
            await asyncio.sleep(step)
            waited += step


async def stop_renders(conv: "Conversation", who: Who) -> None:
    try:
        await conv.call(who, lambda account, session: conv.backend.cancel(account, session))
    except BackendError as exc:             # the person hears of the timeout either way
        log.info("backend cancel after an export timeout failed: %s", exc)


async def export_reply(conv: "Conversation", index: int, clip: Clip, status: RenderStatus, lang: str, share,
                        upload_limit: int | None, session_row: int | None = None) -> Reply | None:
    """A finished render as a reply: its file, or the render's URL when the file is remote and larger
    than the platform takes (`upload_limit` bytes; None: any size) or cannot be downloaded."""
    path = status.path
    if path is None and status.url:
        target = conv.settings.output_dir / "exports" / f"{status.render_id}.mp4"
        try:
            path = await conv.backend.fetch_result(status.url, target, upload_limit)
        except BackendError as exc:
            log.info("could not download the render %s: %s", status.render_id, exc)
    if path is None:
        return LinkReply(status.url, say(lang, "export_link", n=index + 1, url=status.url)) if status.url else None
    size = await asyncio.to_thread(video_size, Path(path))
    rendered = dataclasses.replace(clip, number=index + 1, path=Path(path), width=int(size.get("width") or 0),
                                   height=int(size.get("height") or 0),
                                   duration=float(size.get("duration") or 0))
    reply = clip_reply(rendered, lang, conv.link_for, buttons=() if share else ("button_share", "button_more"),
                       session_row=session_row)
    # A downloaded render keeps its URL, for an adapter whose upload is refused after all.
    return dataclasses.replace(reply, link=status.url) if reply.link is None and status.url else reply

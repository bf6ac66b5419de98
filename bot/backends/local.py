"""LocalBackend: the Backend protocol over the project's own engine, on this machine.

- Accounts: a per-user token kept in storage (accounts); a call with another token is TokenInvalid.
  STARTING_CREDITS are granted once, on first use.
- Credits come from the ledger. A cut costs 1 credit per started minute of source video: held
  while its job runs (hold ref "job:N", so a retry after a restart reuses it), charged when the
  job succeeds, released when it fails or is cancelled (bot/jobs.py settles it). Edits and
  export are free.
- upload probes the file (a bad one is UnsupportedFile 4001 / FileTooLarge 4002 with a
  sentence), keeps it under DATA_DIR/media named by its content hash, and starts the analysis
  (transcription) at once in a background thread, so the slow part is done when the
  instruction comes.
- chat either cuts (new drafts, one per short, in the cloud's draft shape, then renders them)
  or edits the current drafts (bot/edits.py) and renders the ones that changed; a message that
  changes nothing says so.
- state lists media, drafts and a one-line track summary per draft; export renders the drafts
  whose file is not current (usually none: every cut and edit renders at once).

Engine work runs in threads (asyncio.to_thread); renders get the job's cancel event, which
ends ffmpeg.
"""
from __future__ import annotations

import asyncio
import logging
import math
import os
import re
import secrets
import shutil
import threading
import time
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, AsyncIterator, Callable

from bot.backends.base import (
    Account,
    ChatEvent,
    Credits,
    FileTooLarge,
    NothingUploaded,
    OutOfCredits,
    RenderRef,
    RenderStatus,
    SessionMissing,
    SessionRef,
    State,
    TokenInvalid,
    UnsupportedFile,
    UploadedMedia,
    VideoTooLong,
)
from bot.backends.local_engine import engine_for
from bot.edits import (
    ALREADY,
    Edit,
    EditContext,
    apply_edit,
    draft_key,
    make_draft,
    music_of,
    parse_edits,
    segments_of,
    summary_line,
    title_of,
)
from bot.jobs import current_job
from bot.settings import Settings
from engine.highlights import length_bounds
from engine.instructions import parse_instruction
from engine.models import (
    BrokenMedia,
    Cancelled,
    ClipRequest,
    MediaInfo,
    MediaTooLarge,
    Moment,
    RenderSpec,
    UnsupportedMedia,
)
from engine.pipeline import Analysis, choose, choose_explained, render_spec
from engine.probe import ACCEPTED, content_hash, probe
from storage.repos import ClipRecord, InsufficientCredits, MediaRecord, Repos, SessionRecord

log = logging.getLogger(__name__)

BACKEND = "local"
ANALYSES_KEPT = 8                # analyses kept in memory (the transcripts are also cached on disk)
DEFAULT_MORE = 2                 # "more clips" without a number
UNREAD_RENDER_KEPT_S = 600.0     # how long a finished export render waits to be asked about
LENGTH_EDITS = {"longer", "shorter", "start_earlier", "start_later", "end_earlier", "end_later", "title"}

# A message asks for a (new) cut when it says so; anything else with clips present is an edit or nothing.
_CUT_WORDS = re.compile(
    r"\b(?:cut|find|extract|pick|split|chop|clip\s+(?:it|this|the)|give\s+me|make\s+me|create|generate)\b"
    r"|\bbest\s+(?:moments?|parts?|bits?)\b|\bhighlights?\b"
    r"|剪成|剪辑|剪出|找出|切成|精彩|高光|生成")


_CLIPS_WANTED = re.compile(r"\b(?:shorts|clips|highlights|moments|reels|tiktoks|videos)\b|短视频|片段")


def looks_like_cut(text: str) -> bool:
    """True when the message asks for clips to be cut (as opposed to changing the current ones):
    a cutting verb, clips in the plural, or a count, topic, reel or time range."""
    lowered = text.lower()
    if _CUT_WORDS.search(lowered) or _CLIPS_WANTED.search(lowered):
        return True
    request = parse_instruction(text)
    return bool(request.count or request.topic or request.reel
                or request.range_start is not None or request.range_end is not None)


class _Outcome:
    """The value at the end of an event stream that reports progress on the way."""

    def __init__(self, value: Any):
        self.value = value


@dataclass
class _AnalysisRun:
    future: Future | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    listeners: list[Callable[[float, str], None]] = field(default_factory=list)
    last: float = 0.0
    sessions: set[str] = field(default_factory=set)     # who wants it; when the last one cancels, it stops

    def unwanted_by(self, session_id: str) -> bool:
        """Drops one session's interest; stops the run when nobody else wants it. True when it stopped."""
        self.sessions.discard(session_id)
        if self.sessions or self.future.done():
            return False
        self.cancel.set()
        return True

    def report(self, fraction: float, label: str) -> None:
        self.last = fraction
        for listener in list(self.listeners):
            listener(fraction, label)


@dataclass
class _Render:
    status: str = "pending"
    progress: float = 0.0
    path: Path | None = None
    error: str | None = None
    finished_at: float | None = None        # time.monotonic() when it completed or failed


class LocalBackend:
    name = BACKEND
    poll_interval = 0.2          # seconds between render_status polls of an export

    def __init__(self, settings: Settings, repos: Repos):
        self.settings = settings
        self.repos = repos
        self.config = settings.engine_config()
        self.engine = engine_for(settings, repos)      # this process, or workers (BROKER_URL)
        self._pool = ThreadPoolExecutor(max_workers=settings.analyses_at_once, thread_name_prefix="background-analysis")
        self._analyses: OrderedDict[str, _AnalysisRun] = OrderedDict()
        self._cancels: dict[str, set[threading.Event]] = {}
        self._renders: dict[str, _Render] = {}
        self._render_tasks: set[asyncio.Task] = set()

    # ------------------------------------------------------------ accounts and sessions

    async def open_account(self, user_id: int, client_id: str = "") -> Account:
        """The user's stored token, or a new one. The backend is the only writer of its account rows."""
        record = await self.repos.accounts.get(user_id, BACKEND)
        if record is None or record.token is None:
            stable_id = record.client_id if record is not None else (client_id or secrets.token_hex(16))
            record = await self.repos.accounts.save(user_id, BACKEND, stable_id, token="loc_" + secrets.token_urlsafe(24),
                                                    remote_user_id=f"local_{user_id}", anonymous=False)
        await self.repos.ledger.grant_once(user_id, self.settings.starting_credits)
        return Account(user_id=user_id, token=record.token, expires_at=None, remote_user_id=record.remote_user_id,
                       anonymous=False)

    async def _check(self, account: Account) -> None:
        record = await self.repos.accounts.get(account.user_id, BACKEND)
        if record is None or record.token is None or not secrets.compare_digest(record.token, account.token):
            raise TokenInvalid("token expired or invalid")

    async def open_session(self, account: Account, chat_key: str, language: str = "en") -> SessionRef:
        await self._check(account)
        remote_id = "loc_" + secrets.token_hex(8)
        await self.repos.sessions.start(account.user_id, chat_key, BACKEND, remote_id, language=language)
        return SessionRef(session_id=remote_id, chat_key=chat_key)

    async def _session(self, account: Account, session: SessionRef) -> SessionRecord:
        await self._check(account)
        record = await self.repos.sessions.by_remote_id(BACKEND, session.session_id)
        if record is None or record.user_id != account.user_id:
            raise SessionMissing("session not found")
        return record

    # ------------------------------------------------------------ upload

    async def upload(self, account: Account, session: SessionRef, source: Path | str) -> UploadedMedia:
        """Takes a copy of a local file (the caller keeps its own): probed, stored by content hash."""
        record = await self._session(account, session)
        if isinstance(source, str) and source.startswith(("http://", "https://")):
            from bot.fetch import fetch_url

            source = await fetch_url(source, self.settings.data_dir / "incoming",
                                     max_bytes=self.settings.max_upload_mb * 1024 * 1024,
                                     allow_private=self.settings.allow_private_urls)
        path = Path(source)
        info = await asyncio.to_thread(self._probe, path)
        digest = await asyncio.to_thread(content_hash, path)
        stored = self.settings.media_dir / f"{digest}.{info.extension}"
        if not stored.exists():
            await asyncio.to_thread(_copy_in, path, stored)
        info = MediaInfo.from_dict({**info.to_dict(), "path": str(stored)})
        media = await self.repos.media.add(digest, str(stored), info.kind, info.size_bytes, info.duration, info.to_dict())
        earlier = await self.repos.media.for_session(record.id)
        await self.repos.media.attach(record.id, media.id, display_name=path.name)
        if info.kind == "video" or (info.kind == "audio" and not any(m.kind == "video" for m in earlier)):
            self._analysis_run(media, session.session_id)
        return UploadedMedia(media_id=digest, filename=path.name, kind=info.kind, duration=info.duration,
                             width=info.display_width, height=info.display_height, fps=info.fps)

    def _probe(self, path: Path) -> MediaInfo:
        limit = self.settings.max_upload_mb
        try:
            info = probe(path, limit)
        except MediaTooLarge as exc:
            size_mb = path.stat().st_size / 1024 / 1024
            raise FileTooLarge(str(exc), limit_mb=limit, size_mb=round(size_mb, 1)) from None
        except UnsupportedMedia as exc:
            raise UnsupportedFile(str(exc), accepted=ACCEPTED, reason=str(exc)) from None
        except BrokenMedia as exc:
            raise UnsupportedFile(str(exc), accepted=ACCEPTED, reason=str(exc), broken=True) from None
        minutes = self.settings.max_duration_minutes
        if info.duration > minutes * 60:             # the platform did not tell the length before the download
            raise VideoTooLong("too long", limit_minutes=minutes, minutes=info.duration / 60)
        return info

    # ------------------------------------------------------------ analysis (in the background)

    def _analysis_run(self, media: MediaRecord, session_id: str, language: str | None = None) -> _AnalysisRun:
        """The analysis started at upload, or (when the user named the spoken language) one with it."""
        key = media.sha256 if language is None else f"{media.sha256}:{language}"
        heard = self._analyses.get(media.sha256)
        if (language is not None and heard is not None and heard.future.done() and not heard.future.cancelled()
                and heard.future.exception() is None and heard.future.result().transcript.language == language):
            key = media.sha256                  # detection heard what the user says: no second pass
        run = self._analyses.get(key)
        failed = run is not None and (run.cancel.is_set() or run.future.done() and (
            run.future.cancelled() or run.future.exception() is not None))
        if run is not None and not failed:
            self._analyses.move_to_end(key)
            run.sessions.add(session_id)
            return run
        run = _AnalysisRun(sessions={session_id})
        run.future = self._pool.submit(self.engine.analyse, Path(media.path), self.config, run.report, run.cancel,
                                       language)
        self._analyses[key] = run
        while len(self._analyses) > ANALYSES_KEPT:
            oldest = next(iter(self._analyses))
            if not self._analyses[oldest].future.done():
                break
            self._analyses.pop(oldest)
        return run

    async def _analysis(self, media: MediaRecord, cancel: threading.Event,
                        session_id: str, language: str | None = None) -> AsyncIterator[ChatEvent | _Outcome]:
        """Progress events while the media's analysis finishes (it may have started at upload), then the Analysis."""
        run = self._analysis_run(media, session_id, language)
        loop = asyncio.get_running_loop()
        updates: asyncio.Queue[float] = asyncio.Queue()

        def listener(fraction: float, label: str) -> None:
            loop.call_soon_threadsafe(updates.put_nowait, fraction)

        run.listeners.append(listener)
        try:
            done = asyncio.wrap_future(run.future)
            yield ChatEvent("progress", fraction=run.last, data={"stage": "analyse"})
            while not done.done():
                getter = asyncio.ensure_future(updates.get())
                finished, _ = await asyncio.wait({done, getter}, timeout=0.25, return_when=asyncio.FIRST_COMPLETED)
                if getter in finished:
                    yield ChatEvent("progress", fraction=getter.result(), data={"stage": "analyse"})
                else:
                    getter.cancel()
                if cancel.is_set():
                    run.unwanted_by(session_id)
                    raise Cancelled("cancelled")
            yield _Outcome(done.result())
        finally:
            run.listeners.remove(listener)

    # ------------------------------------------------------------ chat

    async def chat(self, account: Account, session: SessionRef, text: str) -> AsyncIterator[ChatEvent]:
        record = await self._session(account, session)
        job = current_job.get()
        cancel = job.cancel if job is not None else threading.Event()
        self._watch_cancel(session.session_id, cancel)
        try:
            media = await self.repos.media.for_session(record.id)
            source = _main_source(media)
            if source is None:
                raise NothingUploaded("send a video first")
            clips = await self.repos.clips.for_session(record.id)
            edits = parse_edits(text)
            cut_asked = looks_like_cut(text)
            if clips and edits and (any(e.structural for e in edits) or not cut_asked):
                stream = self._edit(account, record, source, media, clips, edits, cancel)
            elif clips and not cut_asked:
                reason = ("I could not tell which change you meant. Try \"make clip 1 shorter by 5 seconds\", "
                          "\"remove captions\" or \"more clips\"")
                stream = _say(f"Nothing changed: {reason}.", key="not_understood")
            elif not clips and edits and all(e.kind == "music" for e in edits):
                stream = self._remember_music(record, media, edits[0])
            elif not clips and any(e.kind in LENGTH_EDITS for e in edits) and not cut_asked:
                stream = _say("There are no clips yet to change: tell me what to cut first, e.g. "
                              "\"find the best moments and cut them into 30-second vertical shorts\".",
                              key="no_clips_yet")
            else:
                stream = self._cut(account, record, source, media, clips, text, cancel, job)
            async for event in stream:
                yield event
            yield ChatEvent("done")
        finally:
            self._unwatch_cancel(session.session_id, cancel)

    async def _cut(self, account: Account, record: SessionRecord, source: MediaRecord, media: list[MediaRecord],
                   clips: list[ClipRecord], text: str, cancel: threading.Event, job) -> AsyncIterator[ChatEvent]:
        request = parse_instruction(text)
        cost = max(1, math.ceil(source.duration / 60))
        hold_ref = job.hold_ref if job is not None else f"chat:{record.remote_session_id}:{secrets.token_hex(4)}"
        await self._hold(account.user_id, cost, hold_ref, note=f"cut of {source.sha256[:12]}")
        settle_here = job is None           # a job's hold is settled by the job queue
        try:
            analysis = None
            async for item in self._analysis(source, cancel, record.remote_session_id, request.language):
                if isinstance(item, _Outcome):
                    analysis = item.value
                else:
                    yield item
            mine = [c for c in clips if job is not None and c.job_id == job.job.id]
            notes = []
            if mine:                        # a retry after a restart: the moments were chosen already
                clips = mine
            else:
                selection = await asyncio.to_thread(choose_explained, analysis, request, self.config)
                moments, notes = selection.moments, [n.to_dict() for n in selection.notes]
                if not moments:
                    yield ChatEvent("text", "I could not find any speech to cut clips from in this video.",
                                    data={"key": "no_moments"})
                    if settle_here:
                        await self.repos.ledger.charge(hold_ref)
                    return
                await self._forget_clips(clips)
                state = {**record.state, "request": request.to_dict()}
                await self.repos.sessions.save_state(record.id, state)
                music = _music_choice(state, media)
                clips = [await self._add_clip(record, source, m, request, music, job,
                                              language=analysis.transcript.language) for m in moments]
            if request.unplaced and self.config.judge is None:
                yield ChatEvent("text", f"I could not use \"{request.unplaced}\" from your request: that needs a "
                                "language model, and none is set up here. These are the best moments instead.",
                                data={"key": "unplaced", "reason": request.unplaced})
            yield ChatEvent("text", _moments_text(clips), data={"moments": [_clip_data(c) for c in clips],
                                                                "notes": notes})
            for i, clip in enumerate(clips):
                async for event in self._render(record, clip, analysis, i + 1, len(clips), cancel):
                    yield event
            if settle_here:
                await self.repos.ledger.charge(hold_ref)
        except BaseException:
            if settle_here:
                await self.repos.ledger.release(hold_ref)
            raise

    async def _hold(self, user_id: int, amount: int, hold_ref: str, note: str) -> None:
        if await self.repos.ledger.open_hold(hold_ref) is not None:
            return                          # held already, before a restart
        try:
            await self.repos.ledger.hold(user_id, amount, hold_ref, note=note)
        except InsufficientCredits as exc:
            raise OutOfCredits(f"{exc.needed} credits needed, {exc.available} available",
                               available=exc.available, needed=exc.needed) from None

    async def _add_clip(self, record: SessionRecord, source: MediaRecord, moment: Moment, request: ClipRequest,
                        music: dict | None, job, language: str = "") -> ClipRecord:
        segments = list(moment.segments) or [(moment.start, moment.end)]
        draft = make_draft(source=source.sha256, label=source.display_name or "video", segments=segments,
                           aspect=request.aspect, resolution=request.resolution, captions=request.captions,
                           caption_style=request.caption_style, title=moment.title or None, music=music,
                           meta={"rank": moment.rank, "score": moment.score, "hashtags": moment.hashtags,
                                 "reasons": moment.reasons, "reel": bool(moment.segments), "weak": moment.weak,
                                 "language": language, "captions_withheld": moment.captions_withheld})
        return await self.repos.clips.add(
            record.id, moment.rank, moment.start, moment.end, job_id=job.job.id if job is not None else None,
            media_id=source.id, score=moment.score, scores=moment.scores, reasons=moment.reasons, title=moment.title,
            hashtags=moment.hashtags, text=moment.text, draft=draft)

    async def _forget_clips(self, clips: list[ClipRecord]) -> None:
        if not clips:
            return
        for clip in clips:
            _remove_files(clip.output_path, clip.thumbnail_path)
        await self.repos.clips.delete_for_session(clips[0].session_id)

    async def _remember_music(self, record: SessionRecord, media: list[MediaRecord], edit: Edit) -> AsyncIterator[ChatEvent]:
        audio = _latest_audio(media)
        if edit.on and audio is None:
            yield ChatEvent("text", "Send me a song or a sound file first, then say which volume.",
                            data={"key": "no_music"})
            return
        music = {"src": audio.sha256, "label": audio.display_name, "volume": edit.volume or 0.3} if edit.on else None
        await self.repos.sessions.save_state(record.id, {**record.state, "music": music})
        yield ChatEvent("text", "Got it: the clips I cut next will have that music under them."
                        if music else "Got it: no background music.", data={"key": "music_noted" if music else "music_off"})

    # ------------------------------------------------------------ edits

    async def _edit(self, account: Account, record: SessionRecord, source: MediaRecord, media: list[MediaRecord],
                    clips: list[ClipRecord], edits: list[Edit], cancel: threading.Event) -> AsyncIterator[ChatEvent]:
        analysis = None
        async for item in self._analysis(source, cancel, record.remote_session_id):
            if isinstance(item, _Outcome):
                analysis = item.value
        audio = _latest_audio(media)
        ctx = EditContext(duration=source.duration,
                          sentence_starts=tuple(s.start for s in analysis.sentences),
                          sentence_ends=tuple(s.end for s in analysis.sentences),
                          music={"src": audio.sha256, "label": audio.display_name} if audio else None)
        drafts = [c.draft for c in clips]
        changed: set[int] = set()
        problems: dict[str, tuple[str, dict]] = {}       # English -> (key, values), in order, once each
        for edit in edits:
            if edit.kind == "more":
                added = await asyncio.to_thread(self._more, analysis, record, drafts, edit)
                if not added:
                    problems["I found no other moments in this video that do not overlap the clips you have"] = (
                        "edit_no_more_moments", {})
                changed |= set(range(len(drafts), len(drafts) + len(added)))
                drafts = drafts + added
                continue
            result = apply_edit(drafts, edit, ctx)
            if result.problem and not result.changed:
                problems[result.problem] = (result.problem_key, result.problem_values)
            if edit.kind == "reel" and result.changed:
                changed = {0}
            else:
                changed |= set(result.changed)
            drafts = result.drafts
        if not changed:
            problems = problems or {ALREADY: ("edit_already", {})}
            reason = "; ".join(problems)
            yield ChatEvent("text", f"Nothing changed: {reason}.", data={
                "key": "nothing_changed", "reason": reason,
                "reasons": [(english, key, values) for english, (key, values) in problems.items()]})
            return
        clips = await self._store_drafts(record, source, clips, drafts, sorted(changed))
        lines = [(i + 1, summary_line(clips[i].draft)) for i in sorted(changed)]
        yield ChatEvent("text", "Changed:\n" + "\n".join(f"Clip {n}: {line}" for n, line in lines),
                        data={"key": "changed", "lines": lines})
        for i in sorted(changed):
            async for event in self._render(record, clips[i], analysis, i + 1, len(clips), cancel, which=len(changed)):
                yield event

    def _more(self, analysis: Analysis, record: SessionRecord, drafts: list[dict], edit: Edit) -> list[dict]:
        wanted = edit.count or DEFAULT_MORE
        request = ClipRequest.from_dict(record.state.get("request", {}))
        request.reel = False
        request.count = len(drafts) + wanted + 2
        taken = [seg for d in drafts for seg in segments_of(d)]
        fresh: list[Moment] = []
        low, _, _ = length_bounds(request)
        relaxed = ClipRequest.from_dict({**request.to_dict(), "length": None, "min_length": max(3.0, low / 2)})
        for attempt in (request, relaxed):  # when the clips leave only short gaps, shorter moments will do
            found = choose_explained(analysis, attempt, self.config, avoid=taken).moments
            fresh += [m for m in found if not any(m.start < f.end and f.start < m.end for f in fresh)]
            if len(fresh) >= wanted:
                break
        fresh = sorted(fresh, key=lambda m: -m.score)[:wanted]
        look = drafts[0]["m"] if drafts else {}
        source = look.get("source", {})
        added = []
        for offset, moment in enumerate(fresh, start=len(drafts) + 1):
            added.append(make_draft(
                source=source.get("src", ""), label=source.get("label", "video"), segments=[(moment.start, moment.end)],
                aspect=look.get("aspect", request.aspect), resolution=look.get("resolution", request.resolution),
                captions=look.get("captions", request.captions), caption_style=look.get("caption_style", request.caption_style),
                title=moment.title or None, music=music_of(drafts[0]) if drafts else None,
                meta={"rank": offset, "score": moment.score, "hashtags": moment.hashtags, "reasons": moment.reasons,
                      "text": moment.text, "scores": moment.scores}))
        return added

    async def _store_drafts(self, record: SessionRecord, source: MediaRecord, clips: list[ClipRecord],
                            drafts: list[dict], changed: list[int]) -> list[ClipRecord]:
        """Writes the edited drafts back as clip rows (a reel replaces them all)."""
        if len(drafts) < len(clips):        # compiled into a reel
            await self._forget_clips(clips)
            clips = []
        stored = []
        for i, draft in enumerate(drafts):
            segments = segments_of(draft)
            start, end = segments[0][0], segments[-1][1]
            if i < len(clips):
                clip = clips[i]
                if i in changed:
                    clip = await self.repos.clips.update(clip.id, start=start, end=end, draft=draft,
                                                         title=title_of(draft) or clip.title)
            else:
                meta = draft["m"]
                clip = await self.repos.clips.add(
                    record.id, i + 1, start, end, media_id=source.id, score=float(meta.get("score", 0)),
                    scores=meta.get("scores", {}), reasons=meta.get("reasons", []), title=title_of(draft) or "",
                    hashtags=meta.get("hashtags", []), text=meta.get("text", ""), draft=draft)
            stored.append(clip)
        return stored

    # ------------------------------------------------------------ rendering

    def _spec(self, analysis: Analysis, draft: dict, music_path: Path | None) -> RenderSpec:
        meta = draft["m"]
        segments = segments_of(draft)
        request = ClipRequest(aspect=meta["aspect"], resolution=meta["resolution"], captions=meta["captions"],
                              caption_style=meta.get("caption_style", "bold"))
        moment = Moment(rank=meta.get("rank", 1), start=segments[0][0], end=segments[-1][1],
                        score=float(meta.get("score", 0)), title=title_of(draft) or "",
                        segments=segments if len(segments) > 1 else [])
        spec = render_spec(analysis, moment, request)
        spec.title = title_of(draft)
        music = music_of(draft)
        if music is not None and music_path is not None:
            spec.music = music_path
            spec.music_volume = float(music["volume"])
        return spec

    async def _render_file(self, record: SessionRecord, clip: ClipRecord, analysis: Analysis,
                           progress: Callable[[float, str], None], cancel: threading.Event) -> ClipRecord:
        """Renders the clip's draft unless its file is current; returns the updated clip."""
        draft = clip.draft
        key = draft_key(draft)
        if _is_current(clip):
            return clip
        music = music_of(draft)
        music_path = None
        if music is not None:
            found = await self.repos.media.by_hash(music["src"])
            music_path = Path(found.path) if found else None
        spec = self._spec(analysis, draft, music_path)
        if not spec.media.has_video:        # an audiogram: the last photo sent in this session is its cover
            photos = [m for m in await self.repos.media.for_session(record.id) if m.kind == "image"]
            spec.background = Path(photos[-1].path) if photos else None
        out = self.settings.output_dir / record.remote_session_id / f"clip-{clip.rank:02d}-{key}.mp4"
        rendered = await self.engine.render(spec, out, self.config, progress, cancel)
        old = (clip.output_path, clip.thumbnail_path)
        draft = {**draft, "m": {**draft["m"], "rendered_key": key, "clip_id": clip.id, "file": str(rendered.path),
                                "thumbnail": str(rendered.thumbnail)}}
        clip = await self.repos.clips.update(clip.id, output_path=str(rendered.path),
                                             thumbnail_path=str(rendered.thumbnail), width=rendered.width,
                                             height=rendered.height, duration=rendered.duration, draft=draft)
        _remove_files(*(p for p in old if p and p not in (clip.output_path, clip.thumbnail_path)))
        return clip

    async def _render(self, record: SessionRecord, clip: ClipRecord, analysis: Analysis, number: int, total: int,
                      cancel: threading.Event, which: int | None = None) -> AsyncIterator[ChatEvent]:
        """Progress while one clip renders, then a `clip` event with the file."""
        loop = asyncio.get_running_loop()
        updates: asyncio.Queue[float] = asyncio.Queue()
        stage = {"stage": "render", "clip": number, "of": total}
        yield ChatEvent("progress", fraction=0.0, data=stage)
        task = asyncio.ensure_future(self._render_file(
            record, clip, analysis, lambda f, label: loop.call_soon_threadsafe(updates.put_nowait, f), cancel))
        try:
            while not task.done():
                getter = asyncio.ensure_future(updates.get())
                finished, _ = await asyncio.wait({task, getter}, return_when=asyncio.FIRST_COMPLETED)
                if getter in finished:
                    yield ChatEvent("progress", fraction=getter.result(), data=stage)
                else:
                    getter.cancel()
        finally:
            if not task.done():
                cancel.set()
                await asyncio.gather(task, return_exceptions=True)
        clip = task.result()
        yield ChatEvent("clip", text=clip.title, data=_clip_data(clip))

    # ------------------------------------------------------------ state, credits, export

    async def state(self, account: Account, session: SessionRef) -> State:
        record = await self._session(account, session)
        media = await self.repos.media.for_session(record.id)
        clips = await self.repos.clips.for_session(record.id)
        return State(
            session_id=session.session_id,
            media=[{"media_id": m.sha256, "filename": m.display_name, "kind": m.kind, "duration": m.duration,
                    "width": m.info.get("width", 0), "height": m.info.get("height", 0)} for m in media],
            drafts=[_with_file(c) for c in clips],
            summary=[summary_line(c.draft) for c in clips],
        )

    async def credits(self, account: Account) -> Credits:
        await self._check(account)
        balance = await self.repos.ledger.balance(account.user_id)
        return Credits(available=balance.available, frozen=balance.frozen, total=balance.total)

    async def export(self, account: Account, session: SessionRef, draft_index: int | None = None) -> list[RenderRef]:
        """Starts rendering the drafts whose file is not current; already current ones are completed at once."""
        record = await self._session(account, session)
        clips = await self.repos.clips.for_session(record.id)
        self._forget_unread_renders()
        chosen = list(range(len(clips))) if draft_index is None else [draft_index]
        refs = []
        for index in chosen:
            if not 0 <= index < len(clips):
                continue
            clip = clips[index]
            render_id = f"render_{clip.id}_{draft_key(clip.draft)}"
            if _is_current(clip):
                pass                        # render_status finds it completed from the clip row
            elif self._renders.get(render_id, _Render("failed")).status in ("failed", "completed"):
                self._renders[render_id] = _Render()
                task = asyncio.create_task(self._export_render(record, clip, render_id))
                self._render_tasks.add(task)
                task.add_done_callback(self._render_tasks.discard)
            refs.append(RenderRef(render_id, index))
        return refs

    async def _export_render(self, record: SessionRecord, clip: ClipRecord, render_id: str) -> None:
        state = self._renders[render_id]
        job = current_job.get()
        cancel = job.cancel if job is not None else threading.Event()
        self._watch_cancel(record.remote_session_id, cancel)
        try:
            state.status = "processing"
            source = await self.repos.media.get(clip.media_id) if clip.media_id else None
            if source is None:
                raise Cancelled("the source video of this clip is gone")
            analysis = None
            async for item in self._analysis(source, cancel, record.remote_session_id):
                if isinstance(item, _Outcome):
                    analysis = item.value

            def progress(fraction: float, label: str) -> None:
                state.progress = round(fraction * 100, 1)

            clip = await self._render_file(record, clip, analysis, progress, cancel)
            state.status, state.progress, state.path = "completed", 100.0, Path(clip.output_path)
        except asyncio.CancelledError:
            state.status, state.error = "failed", "cancelled"
            raise
        except Exception as exc:  # noqa: BLE001 - reported through render_status (Ctrl-C is not a failed render)
            state.status, state.error = "failed", ("cancelled" if isinstance(exc, Cancelled) else str(exc))
        finally:
            state.finished_at = time.monotonic()
            self._unwatch_cancel(record.remote_session_id, cancel)

    async def render_status(self, account: Account, ref: RenderRef) -> RenderStatus:
        """A render's state; a finished one is forgotten once it has been read."""
        await self._check(account)
        state = self._renders.get(ref.render_id)
        if state is None:                   # a clip that was current already, or asked after a restart
            parts = ref.render_id.split("_")
            clip = await self.repos.clips.get(int(parts[1])) if len(parts) == 3 and parts[1].isdigit() else None
            if clip is not None and _is_current(clip) and draft_key(clip.draft) == parts[2]:
                return RenderStatus(ref.render_id, "completed", 100.0, path=Path(clip.output_path))
            return RenderStatus(ref.render_id, "failed", 0.0, error="this render was lost in a restart; export again")
        if state.status in ("completed", "failed"):
            self._renders.pop(ref.render_id, None)
        return RenderStatus(ref.render_id, state.status, state.progress, path=state.path, error=state.error)

    def _forget_unread_renders(self) -> None:
        """Finished renders nobody asked about (their export was cancelled or stopped) are dropped after a while."""
        now = time.monotonic()
        for render_id, state in list(self._renders.items()):
            if state.finished_at is not None and now - state.finished_at > UNREAD_RENDER_KEPT_S:
                del self._renders[render_id]

    def _watch_cancel(self, session_id: str, cancel: threading.Event) -> None:
        self._cancels.setdefault(session_id, set()).add(cancel)

    def _unwatch_cancel(self, session_id: str, cancel: threading.Event) -> None:
        running = self._cancels.get(session_id)
        if running is not None:
            running.discard(cancel)
            if not running:
                del self._cancels[session_id]

    async def cancel(self, account: Account, session: SessionRef) -> bool:
        """Stops the session's renders and its analyses that no other session waits for."""
        events = self._cancels.get(session.session_id, set())
        for event in events:
            event.set()
        stopped = [run.unwanted_by(session.session_id) for run in list(self._analyses.values())
                   if session.session_id in run.sessions]
        return bool(events) or any(stopped)

    async def close(self) -> None:
        for run in self._analyses.values():
            run.cancel.set()
        for events in self._cancels.values():
            for event in events:
                event.set()
        if self._render_tasks:
            await asyncio.gather(*self._render_tasks, return_exceptions=True)
        self._pool.shutdown(wait=False, cancel_futures=True)


# ---------------------------------------------------------------- small helpers

def _copy_in(source: Path, target: Path) -> None:
    """A hard link when the file is on the same disk, else a copy; written under a temporary name first."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
    try:
        os.link(source, partial)
    except OSError:
        shutil.copyfile(source, partial)
    os.replace(partial, target)


def _remove_files(*paths: str | None) -> None:
    for path in paths:
        if path:
            Path(path).unlink(missing_ok=True)


def _main_source(media: list[MediaRecord]) -> MediaRecord | None:
    """What clips are cut from: the latest video, else the latest sound file."""
    for kind in ("video", "audio"):
        found = [m for m in media if m.kind == kind]
        if found:
            return found[-1]
    return None


def _latest_audio(media: list[MediaRecord]) -> MediaRecord | None:
    if not any(m.kind == "video" for m in media):
        return None                         # a sound file alone is what clips are cut from, not music
    found = [m for m in media if m.kind == "audio"]
    return found[-1] if found else None


def _music_choice(state: dict, media: list[MediaRecord]) -> dict | None:
    music = state.get("music")
    if music and any(m.sha256 == music.get("src") for m in media):
        return music
    return None


def _is_current(clip: ClipRecord) -> bool:
    return bool(clip.output_path and Path(clip.output_path).is_file()
                and clip.draft.get("m", {}).get("rendered_key") == draft_key(clip.draft))


def _clip_data(clip: ClipRecord) -> dict:
    meta = clip.draft.get("m", {})
    return {
        "clip_id": clip.id, "rank": clip.rank, "title": title_of(clip.draft) or clip.title, "start": clip.start,
        "end": clip.end, "score": clip.score, "hashtags": clip.hashtags, "path": clip.output_path,
        "thumbnail": clip.thumbnail_path, "width": clip.width or meta.get("width", 0),
        "height": clip.height or meta.get("height", 0), "duration": clip.duration or clip.draft.get("d", 0) / 1000,
        "segments": segments_of(clip.draft), "summary": summary_line(clip.draft), "weak": bool(meta.get("weak")),
        "language": meta.get("language", ""), "captions_withheld": meta.get("captions_withheld", ""),
    }


def _with_file(clip: ClipRecord) -> dict:
    draft = dict(clip.draft)
    draft["m"] = {**draft.get("m", {}), "clip_id": clip.id, "file": clip.output_path if _is_current(clip) else None,
                  "thumbnail": clip.thumbnail_path, "start": clip.start, "end": clip.end, "score": clip.score,
                  "hashtags": clip.hashtags}
    return draft


def _moments_text(clips: list[ClipRecord]) -> str:
    from bot.texts import clock

    lines = [f"Found {len(clips)} moments:"]
    lines += [f'{c.rank}. {clock(c.start)}-{clock(c.end)} "{c.title}" (score {c.score:.0f})' for c in clips]
    return "\n".join(lines)


async def _say(text: str, key: str, **data: Any) -> AsyncIterator[ChatEvent]:
    yield ChatEvent("text", text, data={"key": key, **data})

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
import secrets
import shutil
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, AsyncIterator

from bot.backends.base import (
    Account,
    ChatEvent,
    Credits,
    FileTooLarge,
    Media,
    NothingUploaded,
    OutOfCredits,
    SessionMissing,
    SessionRef,
    State,
    TokenInvalid,
    UnsupportedFile,
    VideoTooLong,
)
from bot.backends.local_analysis import Analyses, _AnalysisRun, _Outcome
from bot.backends.local_engine import engine_for
from bot.backends.local_renders import Renders, _Render, _remove_files, clip_of
from bot.edits import ALREADY, EditContext, apply_edit, make_draft, music_of, segments_of, summary_line, title_of
from bot.jobs import current_job
from bot.settings import Settings
from bot.vocabulary import Edit, understand
from engine.highlights import length_bounds
from engine.models import BrokenMedia, ClipRequest, MediaInfo, MediaTooLarge, Moment, UnsupportedMedia
from engine.pipeline import Analysis, choose, choose_explained
from engine.probe import ACCEPTED, content_hash, probe
from storage.repos import ClipRecord, InsufficientCredits, MediaRecord, Repos, SessionRecord


log = logging.getLogger(__name__)

BACKEND = "local"
DEFAULT_MORE = 2                 # "more clips" without a number

class LocalBackend(Analyses, Renders):
    name = BACKEND
    takes_links = False          # a link is downloaded here (bot.fetch) before the upload
    export_deadline_s = None     # renders end by themselves (RENDER_TIMEOUT_S per clip)
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

    async def upload(self, account: Account, session: SessionRef, source: Path | str) -> Media:
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
        analysing = info.kind == "video" or (info.kind == "audio" and not any(m.kind == "video" for m in earlier))
        if analysing:
            self._analysis_run(media, session.session_id)
        return Media(media_id=digest, filename=path.name, kind=info.kind, duration=info.duration,
                     width=info.display_width, height=info.display_height, fps=info.fps, analysing=analysing)

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
            raise UnsupportedFile(str(exc), accepted=ACCEPTED, reason=str(exc), broken=True, engine_key=exc.key,
                                  facts=exc.facts) from None
        minutes = self.settings.max_duration_minutes
        if info.duration > minutes * 60:             # the platform did not tell the length before the download
            raise VideoTooLong("too long", limit_minutes=minutes, minutes=info.duration / 60)
        return info

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
            understood = understand(text, has_clips=bool(clips))
            if understood.kind == "edit":
                stream = self._edit(account, record, source, media, clips, list(understood.edits), cancel)
            elif understood.kind == "not_understood":
                reason = ("I could not tell which change you meant. Try \"make clip 1 shorter by 5 seconds\", "
                          "\"remove captions\" or \"more clips\"")
                stream = _say(f"Nothing changed: {reason}.", key="not_understood")
            elif understood.kind == "music":
                stream = self._remember_music(record, media, understood.edits[0])
            elif understood.kind == "no_clips_yet":
                stream = _say("There are no clips yet to change: tell me what to cut first, e.g. "
                              "\"find the best moments and cut them into 30-second vertical shorts\".",
                              key="no_clips_yet")
            else:
                stream = self._cut(account, record, source, media, clips, understood.request, cancel, job)
            async for event in stream:
                yield event
            yield ChatEvent("done")
        finally:
            self._unwatch_cancel(session.session_id, cancel)

    async def _cut(self, account: Account, record: SessionRecord, source: MediaRecord, media: list[MediaRecord],
                   clips: list[ClipRecord], request: ClipRequest, cancel: threading.Event, job) -> AsyncIterator[ChatEvent]:
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
            yield ChatEvent("text", _moments_text(clips), clips=tuple(clip_of(c) for c in clips),
                            notes=tuple(notes))
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
                               available=exc.available, needed=exc.needed, ask_admin=True) from None

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

    # ------------------------------------------------------------ state, credits, export

    async def state(self, account: Account, session: SessionRef) -> State:
        record = await self._session(account, session)
        media = await self.repos.media.for_session(record.id)
        clips = await self.repos.clips.for_session(record.id)
        return State(
            session_id=session.session_id,
            media=[Media(media_id=m.sha256, filename=m.display_name, kind=m.kind, duration=m.duration,
                         width=m.info.get("width", 0), height=m.info.get("height", 0)) for m in media],
            clips=[clip_of(c) for c in clips],
        )

    async def credits(self, account: Account) -> Credits:
        await self._check(account)
        balance = await self.repos.ledger.balance(account.user_id)
        return Credits(available=balance.available, frozen=balance.frozen, total=balance.total, cost_per_minute=1)

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


def _moments_text(clips: list[ClipRecord]) -> str:
    from bot.texts import clock

    lines = [f"Found {len(clips)} moments:"]
    lines += [f'{c.rank}. {clock(c.start)}-{clock(c.end)} "{c.title}" (score {c.score:.0f})' for c in clips]
    return "\n".join(lines)


async def _say(text: str, key: str, **data: Any) -> AsyncIterator[ChatEvent]:
    yield ChatEvent("text", text, data={"key": key, **data})

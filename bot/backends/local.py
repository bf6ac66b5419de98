"""LocalBackend: the clip service over the project's own engine, on this machine.

- A person's session in a chat is a row in storage (sessions), started on first use; a button
  may name an older one. STARTING_CREDITS are granted once, on first use.
- Credits come from the ledger. A cut costs 1 credit per started minute of source video: held
  while its job runs (hold ref "job:N", so a retry after a restart reuses it), charged when the
  job succeeds, released when it fails or is cancelled (bot/jobs.py settles it). Edits, undo
  and export are free.
- upload probes the file (a bad one is UnsupportedFile 4001 / FileTooLarge 4002 with a
  sentence), keeps it under DATA_DIR/media named by its content hash, and starts the analysis
  (transcription) at once in a background thread, so the slow part is done when the
  request comes.
- cut chooses moments for a ClipRequest (new clip rows, one per short) and renders them; edit
  applies Edits to the clips (bot/edits.py) and renders the ones that changed; an edit that
  changes nothing says why; "undo" puts back the clips as they were before the last edit, "redo"
  what undo took back (bot/backends/local_undo.py).
- state lists media and clips with a one-line track summary each; export gives the clips, rendering
  first any whose file is not current (usually none: every cut and edit renders at once).

Engine work runs in threads (asyncio.to_thread); renders get the job's cancel event, which
ends ffmpeg.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
import os
import secrets
import shutil
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import AsyncIterator, Sequence

from bot.backends.base import (ChatEvent, Credits, EdgeMoved, FileTooLarge, Landed, Media, NothingUploaded,
                               OutOfCredits, Reason, ReelRemade, Reshaped, Sentence, State, UnsupportedFile,
                               VideoTooLong, Who)
from bot.backends.local_analysis import Analyses, _AnalysisRun, _Outcome
from bot.backends.local_engine import engine_for
from bot.backends.local_more import more_moments
from bot.backends.local_reel import ReelEdits
from bot.backends.local_renders import Heard, Renders, _remove_files, clip_of, draft_of, stored
from bot.backends.local_sources import Uploads, cut_refused, music_choice, with_music_file, without_music_files
from bot.backends.local_undo import Undo
from bot.edit_words import moved as edge_moved, reshaped as said_reshaped
from bot.edits import ALREADY, Draft, EditContext, Music, apply_edit, timeline_of
from bot.jobs import current_job
from bot.reel_texts import reel_remade
from bot import exact_words, texts
from bot.texts import clock, say, timeline
from bot.settings import Settings
from bot.vocabulary import Edit
from engine.ahead import AHEAD
from engine.edges import edit_edges
from engine.exact_cut import cut_exactly, exact_too_long
from engine.highlights.titles import drawn_title
from engine.models import BrokenMedia, ClipRequest, MediaInfo, MediaTooLarge, Moment, UnsupportedMedia, shown_score
from engine.pipeline import choose_explained
from engine.probe import ACCEPTED, content_hash, probe
from storage.repos import ClipRecord, InsufficientCredits, MediaRecord, Repos, SessionRecord


log = logging.getLogger(__name__)

BACKEND = "local"
DEFAULT_MORE = 2                 # "more clips" without a number

class LocalBackend(Analyses, Renders, ReelEdits, Undo):
    name = BACKEND
    takes_links = False          # a link is downloaded here (bot.fetch) before the upload

    def __init__(self, settings: Settings, repos: Repos):
        self.settings = settings
        self.repos = repos
        self.config = settings.engine_config()
        self.engine = engine_for(settings, repos)      # this process, or workers (BROKER_URL)
        self._pool = ThreadPoolExecutor(max_workers=settings.analyses_at_once, thread_name_prefix="background-analysis")
        self._analyses: OrderedDict[str, _AnalysisRun] = OrderedDict()
        self._cancels: dict[str, set[threading.Event]] = {}

    # ------------------------------------------------------------ sessions

    async def _session(self, who: Who, start: bool = True) -> SessionRecord | None:
        """The session a button named, else the person's active one in this chat, else (`start`) a new one."""
        await self.repos.ledger.grant_once(who.user_id, self.settings.starting_credits)
        record = await self.repos.sessions.get(who.session) if who.session is not None else None
        if record is not None and record.user_id == who.user_id and record.backend == BACKEND:
            return record
        record = await self.repos.sessions.active(who.user_id, who.chat_key, BACKEND)
        if record is None and start:
            record = await self.repos.sessions.start(who.user_id, who.chat_key, BACKEND, "loc_" + secrets.token_hex(8),
                                                     language=who.language)
        return record

    async def start_over(self, who: Who) -> None:
        record = await self._session(who, start=False)
        if record is not None and record.active:
            await self.repos.sessions.end(record.id)

    # ------------------------------------------------------------ upload

    async def upload(self, who: Who, source: Path | str) -> Media:
        """Takes a copy of a local file (the caller keeps its own): probed, stored by content hash."""
        record = await self._session(who)
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
        analysing = info.has_audio and (info.kind == "video" or
                                        (info.kind == "audio" and not any(m.kind == "video" for m in earlier)))
        if analysing:
            self._analysis_run(media, record.remote_session_id)
        return Media(media_id=digest, filename=path.name, kind=info.kind, duration=info.duration,
                     width=info.display_width, height=info.display_height, fps=info.fps, analysing=analysing,
                     silent=info.kind == "video" and not info.has_audio)

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

    # ------------------------------------------------------------ cut and edit

    def cut(self, who: Who, words: str, request: ClipRequest) -> AsyncIterator[ChatEvent]:
        return self._working(who, lambda record, media, source, clips, cancel, job: self._cut(
            record, source, media, clips, request, cancel, job), editing=False)

    def edit(self, who: Who, edits: Sequence[Edit], words: str = "") -> AsyncIterator[ChatEvent]:
        """The Edits bot.vocabulary read; none (words it could not read) or no clips to change are said."""
        def stream(record, media, source, clips, cancel, job):
            if edits and edits[0].kind in ("undo", "redo"):
                return (self._undo if edits[0].kind == "undo" else self._redo)(record, source, clips, cancel)
            if not clips and edits and all(e.kind == "music" for e in edits):
                return self._remember_music(record, media, edits[0])
            if not clips:
                return _say(Sentence("no_clips_yet"), "There are no clips yet to change: tell me what to cut first.")
            if not edits:
                return _say(Sentence("not_understood"), "Nothing changed: I could not tell which change you meant.")
            return self._edit(record, source, media, clips, list(edits), cancel)
        return self._working(who, stream, editing=True)

    async def _working(self, who: Who, stream, editing: bool) -> AsyncIterator[ChatEvent]:
        """The session's media and clips for a cut or an edit, its stream under the job's cancel event, then "done".
        A cut is made from the latest upload that is not background music; an edit keeps its clips' source."""
        record = await self._session(who)
        job = current_job.get()
        cancel = job.cancel if job is not None else threading.Event()
        self._watch_cancel(record.remote_session_id, cancel)
        try:
            media = await self.repos.media.for_session(record.id)
            clips = await self.repos.clips.for_session(record.id)
            source = await self._clips_source(clips, media) if editing and clips else None
            source = source or Uploads.of(media, record.state, [draft_of(c).music for c in clips]).cut_source()
            if source is None:
                raise NothingUploaded("send a video first")
            async for event in stream(record, media, source, clips, cancel, job):
                yield event
            yield ChatEvent("done")
        finally:
            self._unwatch_cancel(record.remote_session_id, cancel)

    async def _cut(self, record: SessionRecord, source: MediaRecord, media: list[MediaRecord],
                   clips: list[ClipRecord], request: ClipRequest, cancel: threading.Event, job) -> AsyncIterator[ChatEvent]:
        refused = cut_refused(source, request)       # said before any credit is held
        if refused is not None:
            yield refused
            return
        cost = max(1, math.ceil(source.duration / 60))
        hold_ref = job.hold_ref if job is not None else f"chat:{record.remote_session_id}:{secrets.token_hex(4)}"
        await self._hold(record.user_id, cost, hold_ref, note=f"cut of {source.sha256[:12]}")
        settle_here = job is None           # a job's hold is settled by the job queue
        try:
            analysis = None
            async for item in self._analysis(source, cancel, record.remote_session_id, request.language):
                if isinstance(item, _Outcome):
                    analysis = item.value
                else:
                    yield item
            mine = [c for c in clips if job is not None and c.job_id == job.job.id]
            notes, exact = [], None
            if mine:                        # a retry after a restart: the moments were chosen already
                clips = mine
            else:
                if request.exact and not exact_too_long(request, analysis.media.duration):
                    moment, exact = await asyncio.to_thread(cut_exactly, analysis, request)
                    moments = [moment]
                else:
                    selection = await asyncio.to_thread(choose_explained, analysis, request, self.config)
                    moments, notes = selection.moments, selection.notes
                if not moments:             # nothing made: nothing charged, whoever settles the hold
                    yield ChatEvent("text", "I could not find any speech to cut clips from in this video.",
                                    sentence=Sentence("no_moments"))
                    await self.repos.ledger.release(hold_ref)
                    return
                await self._forget_clips(clips)
                state = await self._forget_history(record, {**record.state, "request": request.to_dict()})
                await self.repos.sessions.save_state(record.id, state)
                music = music_choice(state, media)
                clips = [await self._add_clip(record, source, m, request, music, job,
                                              Heard.in_moment(m, analysis.transcript))
                         for m in moments]
            if request.unplaced and self.config.judge is None:     # needs a language model, or is in one it cannot read
                key = "unplaced_unread_language" if request.unplaced_unread else "unplaced"
                yield ChatEvent("text", say("en", key, reason=request.unplaced),
                                sentence=Sentence(key, reason=request.unplaced))
            if exact is not None:
                yield ChatEvent("text", exact_words.exact_cut("en", exact), sentence=Sentence("exact_cut", exact=exact))
            else:
                yield ChatEvent("text", _moments_text(clips), notes=tuple(notes),
                                clips=tuple(clip_of(c, n) for n, c in enumerate(clips, start=1)))
            for i, clip in enumerate(clips):
                await self._look_ahead(record, clips[i:i + AHEAD], analysis, cancel)
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

    async def _add_clip(self, record: SessionRecord, source: MediaRecord, moment: Moment, look: ClipRequest | Draft,
                        music: Music | None, job, heard: Heard = Heard(), rank: int | None = None) -> ClipRecord:
        """A moment as a clip row: the engine's facts in their columns, the draft (what is rendered) beside them."""
        draft = Draft(source=source.sha256, label=source.display_name or "video",
                      segments=tuple(moment.segments) or ((moment.start, moment.end),), aspect=look.aspect,
                      resolution=look.resolution, captions=look.captions, caption_style=look.caption_style,
                      title=drawn_title(moment.title), music=music,
                      source_kind="audio" if source.kind == "audio" else "video")
        return await self.repos.clips.add(
            record.id, rank or moment.rank, moment.start, moment.end, job_id=job.job.id if job is not None else None,
            media_id=source.id, score=moment.score, scores=moment.scores, reasons=moment.reasons, title=moment.title,
            hashtags=moment.hashtags, text=moment.text, draft=stored(draft, heard))

    async def _clips_source(self, clips: list[ClipRecord], media: list[MediaRecord]) -> MediaRecord | None:
        """What the clips were cut from: one cut's clips, and the more and the reel made of them, share it;
        as this session's upload when it is one, which has the name the person sent it under."""
        first = clips[0]
        found = await self.repos.media.get(first.media_id) if first.media_id is not None else None
        found = found or await self.repos.media.by_hash(draft_of(first).source)
        return next((m for m in media if found is not None and m.id == found.id), found)

    async def _forget_clips(self, clips: list[ClipRecord], keep: set[str] = frozenset()) -> None:
        """Their rows, and their files but those `keep` names (an undo step's)."""
        if not clips:
            return
        for clip in clips:
            _remove_files(*(p for p in (clip.output_path, clip.thumbnail_path) if p not in keep))
        await self.repos.clips.delete_for_session(clips[0].session_id)

    async def _remember_music(self, record: SessionRecord, media: list[MediaRecord], edit: Edit) -> AsyncIterator[ChatEvent]:
        audio = Uploads.of(media, record.state).music_before_a_cut()
        if edit.on and audio is None:
            yield ChatEvent("text", "Send me a song or a sound file first, then say which volume.",
                            sentence=Sentence("no_music"))
            return
        music = Music(audio.sha256, audio.display_name, edit.volume or 0.3) if edit.on else None
        state = with_music_file(record.state, music.src) if music else without_music_files(record.state)
        await self.repos.sessions.save_state(record.id, {**state, "music": dataclasses.asdict(music) if music else None})
        yield ChatEvent("text", "Got it: the clips I cut next will have that music under them."
                        if music else "Got it: no background music.", sentence=Sentence("music_noted" if music else "music_off"))

    # ------------------------------------------------------------ edits

    async def _edit(self, record: SessionRecord, source: MediaRecord, media: list[MediaRecord],
                    clips: list[ClipRecord], edits: list[Edit], cancel: threading.Event) -> AsyncIterator[ChatEvent]:
        analysis = None
        async for item in self._analysis(source, cancel, record.remote_session_id):
            if isinstance(item, _Outcome):
                analysis = item.value
        audio = Uploads.of(media, record.state).music_for(source)
        # a pass over every pair of words' sound: off the event loop (a 3-hour talk has tens of thousands)
        starts, ends, second = await asyncio.to_thread(edit_edges, analysis.sentences, analysis.signals.envelope_db)
        ctx = EditContext(duration=source.duration, sentence_starts=starts, sentence_ends=ends, second_choice=second,
                          music=Music(audio.sha256, audio.display_name) if audio else None,
                          scores=tuple(c.score for c in clips))
        drafts = [draft_of(c) for c in clips]
        before, choices = list(clips), record.state
        reel_of: tuple[int, ...] = ()
        changed: set[int] = set()
        landed: dict[int, Landed] = {}                   # by clip number: the last length edit of each
        moved: dict[tuple[int, str], EdgeMoved] = {}     # by clip number and edge: the last move of each
        reshaped: list[Reshaped] = []
        problems: dict[str, tuple[str, dict]] = {}       # English -> (key, values), in order, once each
        remade: ReelRemade | None = None                 # a reel's moments chosen again at a new length
        for edit in edits:
            done = (await self._reel_edit(record, clips[0], drafts[0], edit, analysis)
                    if self._session_reel(record, drafts) else None)
            if done is not None and done.plan.problem:
                problems[done.plan.problem] = (done.plan.problem_key, done.plan.problem_values)
            elif done is not None:
                record, clips[0], drafts[0], remade = done.record, done.clip, done.draft, done.remade
                changed.add(0)
            if done is not None:
                continue
            if edit.kind == "more" and (edit.clip is None or 1 <= edit.clip <= len(drafts)):  # else: apply_edit says so
                fresh = await asyncio.to_thread(more_moments, analysis, self.config, record.state.get("request", {}),
                                                drafts, edit.count or DEFAULT_MORE)
                if not fresh:                   # named: after a second upload, which one was searched is not plain
                    name = source.display_name or "video"
                    problems[f"I found no other moments in {name} that do not overlap the clips you have"] = (
                        "edit_no_more_moments", {"name": name})
                look, music = (drafts[0], drafts[0].music) if drafts else (ClipRequest(), None)
                for moment in fresh:
                    clips.append(await self._add_clip(record, source, moment, look, music, None,
                                                      Heard.in_moment(moment, analysis.transcript), rank=len(drafts) + 1))
                    drafts.append(draft_of(clips[-1]))
                    changed.add(len(drafts) - 1)
                if fresh:                   # said as a cut's moments are: weak ones, and ones without captions
                    first = len(clips) - len(fresh) + 1
                    yield ChatEvent("text", _moments_text(clips[first - 1:], first),
                                    clips=tuple(clip_of(c, n) for n, c in enumerate(clips[first - 1:], start=first)))
                continue
            result = apply_edit(drafts, edit, ctx)
            if result.problem and not result.changed:
                problems[result.problem] = (result.problem_key, result.problem_values)
            if edit.kind == "reel" and result.changed:
                changed, reel_of = {0}, result.reel_of
            else:
                changed |= set(result.changed)
            landed.update((fact.clip, fact) for fact in result.landed)
            moved.update(((fact.clip, fact.edge), fact) for fact in result.moved)
            if edit.kind == "aspect" and result.changed:
                reshaped.append(Reshaped(tuple(i + 1 for i in sorted(result.changed)), edit.value or "",
                                         every=len(result.changed) == len(drafts) > 1))
            if edit.kind == "music" and result.changed and (ctx.music is not None or not edit.on):
                chosen = (with_music_file(record.state, ctx.music.src) if edit.on
                          else without_music_files(record.state) if edit.clip is None else record.state)
                record = dataclasses.replace(record, state=chosen)
                await self.repos.sessions.save_state(record.id, record.state)
            drafts = result.drafts
        if not changed and problems and all(key == "edit_no_music" for key, _ in problems.values()):
            yield ChatEvent("text", say("en", "no_music"), sentence=Sentence("no_music"))    # an offer, not a failure
            return
        if not changed:
            problems = problems or {ALREADY: ("edit_already", {})}
            reason = "; ".join(problems)
            yield ChatEvent("text", f"Nothing changed: {reason}.", sentence=Sentence(
                "nothing_changed", reason=reason,
                reasons=tuple(Reason(english, key, values) for english, (key, values) in problems.items())))
            return
        record = await self._remember(record, before, edits, choices)
        clips = await self._store_drafts(record, source, clips, drafts, sorted(changed), reel_of)
        changes = tuple((i + 1, timeline_of(draft_of(clips[i]))) for i in sorted(changed))
        landed_facts = tuple(fact for n, fact in sorted(landed.items()) if not reel_of)
        moved_facts = tuple(fact for _, fact in sorted(moved.items()) if not reel_of)
        reshaped = [] if reel_of else reshaped
        english = "\n".join([say("en", "status_clip", n=n, summary=timeline("en", tracks)) for n, tracks in changes]
                            + [texts.landed("en", fact) for fact in landed_facts]
                            + [said_reshaped("en", fact) for fact in reshaped]
                            + [edge_moved("en", fact) for fact in moved_facts]
                            + ([reel_remade("en", remade)] if remade is not None else []))
        yield ChatEvent("text", f"Changed:\n{english}", sentence=Sentence("changed", changes=changes,
                                                                            landed=landed_facts, moved=moved_facts,
                                                                            reshaped=tuple(reshaped),
                                                                            reel=remade))
        for n, i in enumerate(sorted(changed), start=1):        # only the changed clips render again
            async for event in self._render(record, clips[i], analysis, i + 1, len(changed), cancel, nth=n):
                yield event

    async def _store_drafts(self, record: SessionRecord, source: MediaRecord, clips: list[ClipRecord],
                            drafts: list[Draft], changed: list[int], reel_of: tuple[int, ...]) -> list[ClipRecord]:
        """Writes the edited drafts back to their clip rows; a reel replaces them all with one row whose
        score is the mean of the clips it joins and whose hashtags are theirs."""
        if reel_of:
            joined = [clips[i] for i in reel_of]
            [reel] = drafts
            await self._forget_clips(clips, keep=await self._kept_for_undo(record))
            best = max(joined, key=lambda c: c.score)
            hashtags = list(dict.fromkeys(tag for c in joined for tag in c.hashtags))[:5]
            row = await self.repos.clips.add(
                record.id, 1, reel.start, reel.end, media_id=source.id,
                score=round(sum(c.score for c in joined) / len(joined), 1), scores=best.scores, reasons=best.reasons,
                title=best.title, hashtags=hashtags, text=best.text, draft=stored(reel, Heard.of(best)))
            return [row]
        stored_rows = []
        for i, (clip, draft) in enumerate(zip(clips, drafts)):
            if i in changed and draft.key != draft_of(clip).key:
                clip = await self.repos.clips.update(clip.id, start=draft.start, end=draft.end,
                                                     draft=stored(draft, Heard.of(clip)),
                                                     title=draft.title or clip.title)
            stored_rows.append(clip)
        return stored_rows

    # ------------------------------------------------------------ state, credits, export

    async def state(self, who: Who) -> State:
        record = await self._session(who)
        media = await self.repos.media.for_session(record.id)
        clips = await self.repos.clips.for_session(record.id)
        return State(
            media=[Media(media_id=m.sha256, filename=m.display_name, kind=m.kind, duration=m.duration,
                         width=m.info.get("width", 0), height=m.info.get("height", 0)) for m in media],
            clips=[clip_of(c, n) for n, c in enumerate(clips, start=1)],
        )

    async def credits(self, who: Who) -> Credits:
        await self.repos.ledger.grant_once(who.user_id, self.settings.starting_credits)
        balance = await self.repos.ledger.balance(who.user_id)
        return Credits(available=balance.available, frozen=balance.frozen, total=balance.total, cost_per_minute=1)

    def _watch_cancel(self, session_id: str, cancel: threading.Event) -> None:
        self._cancels.setdefault(session_id, set()).add(cancel)

    def _unwatch_cancel(self, session_id: str, cancel: threading.Event) -> None:
        running = self._cancels.get(session_id)
        if running is not None:
            running.discard(cancel)
            if not running:
                del self._cancels[session_id]

    async def cancel(self, who: Who) -> bool:
        """Stops the session's renders and its analyses that no other session waits for."""
        record = await self._session(who, start=False)
        if record is None:
            return False
        name = record.remote_session_id
        events = self._cancels.get(name, set())
        for event in events:
            event.set()
        stopped = [run.unwanted_by(name) for run in list(self._analyses.values()) if name in run.sessions]
        return bool(events) or any(stopped)

    async def close(self) -> None:
        for run in self._analyses.values():
            run.cancel.set()
        for events in self._cancels.values():
            for event in events:
                event.set()
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.engine.close()


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


def _moments_text(clips: list[ClipRecord], first: int = 1) -> str:
    lines = [f"Found {len(clips)} moments:"]
    lines += [f'{n}. {clock(c.start)}-{clock(c.end)} "{c.title}" (score {shown_score(c.score)})'
              for n, c in enumerate(clips, start=first)]
    return "\n".join(lines)


async def _say(sentence: Sentence, english: str) -> AsyncIterator[ChatEvent]:
    yield ChatEvent("text", english, sentence=sentence)


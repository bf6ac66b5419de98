"""The local service's renders: a clip's Draft -> RenderSpec -> one ffmpeg run, as a cut, an edit
or an export streams it; a clip row (the engine's facts in columns, the Draft and what was heard
beside them) as the Clip every layer above sees."""
from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import AsyncIterator, Callable

from bot.backends.base import ChatEvent, Clip, NothingUploaded, Reason, Sentence, Stage, Who
from bot.edits import Draft, timeline_of
from bot.jobs import current_job
from engine.models import Cancelled, ClipRequest, Moment, RenderFailed, RenderSpec, Transcript
from engine.pipeline import Analysis
from engine.spec import render_spec
from storage.media_store import find_render
from storage.repos import ClipRecord, SessionRecord


from bot.backends.local_analysis import _Outcome

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class Heard:
    """What the engine heard in a moment that has no column of its own in the clip row."""

    weak: bool = False                       # under the quality bar (given because a count was asked)
    language: str = ""                       # the language heard in the source
    captions_withheld: str = ""              # why it goes without captions
    languages: tuple[str, ...] = ()          # the languages spoken in the moment, most spoken first
    asked: bool = False                      # cut exactly where the person asked: nothing was scored

    @classmethod
    def in_moment(cls, moment: Moment, transcript: Transcript) -> "Heard":
        """A fresh moment's: the languages only when speech was heard (Whisper names one even for a hiss)."""
        if not transcript.segments:
            return cls(moment.weak, "", moment.captions_withheld, asked=moment.asked)
        spoken = transcript.languages_in(moment.segments or [(moment.start, moment.end)])
        return cls(moment.weak, spoken[0], moment.captions_withheld, spoken, asked=moment.asked)

    @classmethod
    def of(cls, record: ClipRecord) -> "Heard":
        heard = record.draft.get("heard") or record.draft.get("m", {})   # "m": a row from before drafts were typed
        return cls(bool(heard.get("weak")), heard.get("language") or "", heard.get("captions_withheld") or "",
                   tuple(heard.get("languages") or ()), bool(heard.get("asked")))


def stored(draft: Draft, heard: Heard) -> dict:
    """A clip row's draft column: the Draft, and what was heard."""
    return {**draft.stored(), "heard": asdict(heard)}


def draft_of(record: ClipRecord) -> Draft:
    return Draft.from_stored(record.draft)


class Renders:
    """LocalBackend's renders (a mixin: it owns settings, repos, config, engine)."""

    def _spec(self, analysis: Analysis, clip: ClipRecord, draft: Draft, music_path: Path | None) -> RenderSpec:
        look = ClipRequest(aspect=draft.aspect, resolution=draft.resolution, captions=draft.captions,
                           caption_style=draft.caption_style)
        segments = list(draft.segments)
        moment = Moment(rank=clip.rank, start=draft.start, end=draft.end, score=clip.score, title=draft.title or "",
                        segments=segments if len(segments) > 1 else [])
        spec = render_spec(analysis, moment, look)
        if draft.music is not None and music_path is not None:
            spec.music = music_path
            spec.music_volume = float(draft.music.volume)
        return spec

    async def _planned(self, record: SessionRecord, clip: ClipRecord, analysis: Analysis) -> tuple[RenderSpec, Path]:
        """The clip draft's RenderSpec and the file it renders to."""
        draft = draft_of(clip)
        music_path = None
        if draft.music is not None:
            found = await self.repos.media.by_hash(draft.music.src)
            music_path = Path(found.path) if found else None
        spec = self._spec(analysis, clip, draft, music_path)
        if not spec.media.has_video:        # an audiogram: the last photo sent in this session is its cover
            photos = [m for m in await self.repos.media.for_session(record.id) if m.kind == "image"]
            spec.background = Path(photos[-1].path) if photos else None
        return spec, self.settings.output_dir / record.remote_session_id / f"clip-{clip.rank:02d}-{draft.key}.mp4"

    async def _look_ahead(self, record: SessionRecord, clips: list[ClipRecord], analysis: Analysis,
                          cancel: threading.Event) -> None:
        """Start finding the faces of clips that render next (not those whose file is current)."""
        for clip in clips:
            if not _is_current(clip):
                self.engine.ahead(*await self._planned(record, clip, analysis), self.config, cancel)

    async def _render_file(self, record: SessionRecord, clip: ClipRecord, analysis: Analysis,
                           progress: Callable[[float, str], None], cancel: threading.Event) -> ClipRecord:
        """Renders the clip's draft unless its file is current; returns the updated clip."""
        if _is_current(clip):
            return clip
        spec, out = await self._planned(record, clip, analysis)
        rendered = await self.engine.render(spec, out, self.config, progress, cancel)
        old = (clip.output_path, clip.thumbnail_path)
        clip = await self.repos.clips.update(clip.id, output_path=str(rendered.path),
                                             thumbnail_path=str(rendered.thumbnail), width=rendered.width,
                                             height=rendered.height, duration=rendered.duration)
        kept = {clip.output_path, clip.thumbnail_path} | await self._kept_for_undo(record)   # undo may want them again
        _remove_files(*(p for p in old if p and p not in kept))
        return clip

    async def _render(self, record: SessionRecord, clip: ClipRecord, analysis: Analysis, number: int, total: int,
                      cancel: threading.Event, nth: int | None = None,
                      stage: Stage = "render") -> AsyncIterator[ChatEvent]:
        """Progress while one clip renders, then a `clip` event with the file. `number`: the clip's number
        as the person knows it; `total`: how many clips this job renders; `nth`: which of them this
        is (the clip's number unless given)."""
        rendering = (number, number if nth is None else nth, total)
        loop = asyncio.get_running_loop()
        updates: asyncio.Queue[float] = asyncio.Queue()
        yield ChatEvent("progress", fraction=0.0, stage=stage, rendering=rendering)
        task = asyncio.ensure_future(self._render_file(
            record, clip, analysis, lambda f, label: loop.call_soon_threadsafe(updates.put_nowait, f), cancel))
        try:
            while not task.done():
                getter = asyncio.ensure_future(updates.get())
                finished, _ = await asyncio.wait({task, getter}, return_when=asyncio.FIRST_COMPLETED)
                if getter in finished:
                    yield ChatEvent("progress", fraction=getter.result(), stage=stage, rendering=rendering)
                else:
                    getter.cancel()
        finally:
            if not task.done():
                cancel.set()
                await asyncio.gather(task, return_exceptions=True)
        clip = task.result()
        yield ChatEvent("clip", text=clip.title, clip=clip_of(clip, number))

    async def export(self, who: Who, number: int | None = None,
                     max_bytes: int | None = None) -> AsyncIterator[ChatEvent]:
        """Each clip asked for (all: None) with its file, rendered first when it is not current (a
        render that fails is said and the others still come). Those made already are the files sent when they
        were made: that is said first ("export_again"). Files here have no size limit of their own."""
        record = await self._session(who)
        clips = await self.repos.clips.for_session(record.id)
        chosen = [(n, c) for n, c in enumerate(clips, start=1) if number is None or n == number]
        if not chosen:
            raise NothingUploaded("nothing to export")
        job = current_job.get()
        cancel = job.cancel if job is not None else threading.Event()
        self._watch_cancel(record.remote_session_id, cancel)
        made = tuple(n for n, clip in chosen if _is_current(clip))
        try:
            if made:                                 # sent when they were made: the same files come again
                yield ChatEvent("text", f"Already made: clip {', '.join(map(str, made))}, the same file as before.",
                                sentence=Sentence("export_again", numbers=made))
            for n, clip in chosen:
                if _is_current(clip):
                    yield ChatEvent("clip", clip=clip_of(clip, n))
                    continue
                try:
                    async for event in self._export_render(record, clip, n, cancel):
                        yield event
                except Cancelled:
                    raise
                except Exception as exc:  # noqa: BLE001 - one failed render is said; the others still come
                    log.warning("export render of clip %s failed: %s", clip.id, exc)
                    why = Reason(str(exc), getattr(exc, "key", None), getattr(exc, "facts", {}))
                    yield ChatEvent("failed", text=str(exc), clip=clip_of(clip, n),
                                    sentence=Sentence("export_failed", reasons=(why,)))
        finally:
            self._unwatch_cancel(record.remote_session_id, cancel)

    async def _export_render(self, record: SessionRecord, clip: ClipRecord, number: int,
                             cancel: threading.Event) -> AsyncIterator[ChatEvent]:
        source = await self.repos.media.get(clip.media_id) if clip.media_id else None
        if source is None:
            raise RenderFailed("the source video of this clip is gone; send it again", key="export_source_gone")
        analysis = None
        async for item in self._analysis(source, cancel, record.remote_session_id):
            if isinstance(item, _Outcome):
                analysis = item.value
        async for event in self._render(record, clip, analysis, number, 1, cancel, nth=1, stage="export"):
            yield event


def _remove_files(*paths: str | None) -> None:
    for path in paths:
        if path:
            Path(path).unlink(missing_ok=True)


def _is_current(clip: ClipRecord) -> bool:
    """Its file is in the store and was rendered from the draft it has now (the file's name ends with the draft's key)."""
    return bool(clip.output_path and find_render(clip.output_path) is not None
                and Path(clip.output_path).stem.endswith(draft_of(clip).key))


def clip_of(record: ClipRecord, number: int) -> Clip:
    """A stored clip as the Clip every layer above sees, `number` its place among the session's clips
    (the order of `clips.for_session`); its file only while it is current."""
    draft, heard = draft_of(record), Heard.of(record)
    current = _is_current(record)
    width, height = draft.size
    return Clip(
        number=number, title=draft.title or record.title, start=record.start, end=record.end,
        score=None if heard.asked else record.score, hashtags=tuple(record.hashtags), segments=draft.segments, summary=timeline_of(draft),
        path=Path(record.output_path) if current else None,
        thumbnail=Path(record.thumbnail_path) if current and record.thumbnail_path else None,
        width=record.width or width, height=record.height or height,
        duration=record.duration or draft.duration, clip_id=record.id, session=record.session_id,
        language=heard.language, languages=heard.languages, captions_withheld=heard.captions_withheld,
        weak=heard.weak,
        source_kind=draft.source_kind)

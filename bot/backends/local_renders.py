"""The local service's renders: a clip's draft -> RenderSpec -> one ffmpeg run, as a chat streams
it or as an export polls it; a clip row as the Clip every layer above sees."""
from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import AsyncIterator, Callable

from bot.backends.base import Account, ChatEvent, Clip, RenderRef, RenderStatus, SessionRef
from bot.edits import draft_key, music_of, segments_of, summary_line, title_of
from bot.jobs import current_job
from engine.models import Cancelled, ClipRequest, Moment, RenderSpec
from engine.pipeline import Analysis
from engine.spec import render_spec
from storage.media_store import find_render
from storage.repos import ClipRecord, SessionRecord


from bot.backends.local_analysis import _Outcome

log = logging.getLogger(__name__)

UNREAD_RENDER_KEPT_S = 600.0     # how long a finished export render waits to be asked about


@dataclass
class _Render:
    status: str = "pending"
    progress: float = 0.0
    path: Path | None = None
    error: str | None = None
    finished_at: float | None = None        # time.monotonic() when it completed or failed


class Renders:
    """LocalBackend's renders (a mixin: it owns settings, repos, config, _renders, _render_tasks)."""

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
        yield ChatEvent("clip", text=clip.title, clip=clip_of(clip))

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

    async def fetch_result(self, url: str, dest: Path, max_bytes: int | None = None) -> Path | None:
        return None                         # renders are files on this machine already

    def _forget_unread_renders(self) -> None:
        """Finished renders nobody asked about (their export was cancelled or stopped) are dropped after a while."""
        now = time.monotonic()
        for render_id, state in list(self._renders.items()):
            if state.finished_at is not None and now - state.finished_at > UNREAD_RENDER_KEPT_S:
                del self._renders[render_id]


def _remove_files(*paths: str | None) -> None:
    for path in paths:
        if path:
            Path(path).unlink(missing_ok=True)


def _is_current(clip: ClipRecord) -> bool:
    return bool(clip.output_path and find_render(clip.output_path) is not None
                and clip.draft.get("m", {}).get("rendered_key") == draft_key(clip.draft))


def clip_of(record: ClipRecord) -> Clip:
    """A stored clip as the Clip every layer above sees; its file only while it is current."""
    meta = record.draft.get("m", {})
    current = _is_current(record)
    return Clip(
        number=record.rank, title=title_of(record.draft) or record.title, start=record.start, end=record.end,
        score=record.score, hashtags=tuple(record.hashtags), segments=tuple(segments_of(record.draft)),
        summary=summary_line(record.draft),
        path=Path(record.output_path) if current else None,
        thumbnail=Path(record.thumbnail_path) if current and record.thumbnail_path else None,
        width=record.width or meta.get("width", 0), height=record.height or meta.get("height", 0),
        duration=record.duration or record.draft.get("d", 0) / 1000, clip_id=record.id,
        language=meta.get("language", ""), captions_withheld=meta.get("captions_withheld", ""),
        weak=bool(meta.get("weak")))

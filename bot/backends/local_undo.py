"""The local service's undo: the clips as they were before each of the last UNDO_STEPS changes made to
them after a cut, kept in the session's state; "undo" puts back the newest and says what it took back.

A change is one edit message (a length, start or end, captions, title, size, music, more clips, a
reel). Before it is stored, the clip rows as they are (their drafts and files) and the session's
choices (its background music) become a `Step`. Undo writes the rows back (a row a reel removed comes
back as a new row, the clips "more" added go), and sends the clips it put back: their old files when
those are still there and were made from the draft they have again, else rendered again. The files
a kept step names are not removed while it is kept. A new cut starts with no history: undo takes
back edits, never a cut (which was asked for, and paid for, as a new set of clips).
Undo is free, like every edit. An undo job run again after a restart sends what its first run took
back; it does not take a second change back.

Redo puts back what undo took back: undo keeps the clips and choices as they were after the change (a
`Step` too) and "redo" writes the newest of those back, making it a step undo can take back again. A
new change after an undo lets what could be redone go (with its files), as every editor does; so does
a new cut. Redo is free; a redo job run again after a restart does not put a second change back.
"""
from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass
from typing import Any, AsyncIterator, Iterable, Sequence

from bot.backends.base import ChatEvent, Sentence
from bot.backends.local_analysis import _Outcome
from bot.backends.local_renders import _is_current, _remove_files, draft_of
from bot.edit_words import undone
from bot.edits import timeline_of
from bot.jobs import current_job
from bot.texts import say
from bot.vocabulary import Edit
from storage.repos import ClipRecord, MediaRecord, SessionRecord

UNDO_STEPS = 5                   # changes kept to take back, per session
HISTORY = "undo"                 # the session state's key for the steps, oldest first
DROPPED = "undo_dropped"         # older changes were let go (undo says "nothing more", not "nothing")
UNDONE_BY = "undone_by"          # the job that took the last change back, so that its retry does not take another
REDO = "redo"                    # the session state's key for the changes undo took back, oldest first
REDONE_BY = "redone_by"          # the job that put the last change back, so that its retry does not put another
_ROW_FIELDS = ("rank", "start", "end", "score", "scores", "reasons", "title", "hashtags", "text", "draft",
               "output_path", "thumbnail_path", "width", "height", "duration")


@dataclass(frozen=True)
class Step:
    """One change that can be taken back: what it was, and the clips and choices before it."""

    edits: tuple[Edit, ...]
    rows: tuple[ClipRecord, ...]
    choices: dict[str, Any]      # the session's state before it, without the history

    def stored(self) -> dict[str, Any]:
        return {"edits": [dataclasses.asdict(e) for e in self.edits],
                "rows": [dataclasses.asdict(r) for r in self.rows], "choices": self.choices}

    @classmethod
    def from_stored(cls, values: dict[str, Any]) -> "Step":
        return cls(tuple(Edit(**e) for e in values["edits"]), tuple(ClipRecord(**r) for r in values["rows"]),
                   values["choices"])


def history(state: dict[str, Any], key: str = HISTORY) -> list[Step]:
    """The steps undo can take back (or, key REDO, redo can put back), oldest first."""
    try:
        return [Step.from_stored(s) for s in state.get(key, [])]
    except (TypeError, KeyError):            # kept by a version whose rows had other fields: nothing to put back
        return []


def _retried(record: SessionRecord, key: str) -> tuple[tuple[Edit, ...], set[int]] | None:
    """(edits, changed clips) of the undo or redo (key UNDONE_BY / REDONE_BY) this very job made
    before a restart, so that its retry does not take a second step."""
    job, done = current_job.get(), record.state.get(key)
    if job is None or not done or done.get("job") != job.job.id:
        return None
    return tuple(Edit(**e) for e in done["edits"]), set(done["changed"])


def without_history(state: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in state.items() if k not in (HISTORY, DROPPED, UNDONE_BY, REDO, REDONE_BY)}


def files_of(rows: Iterable[ClipRecord]) -> set[str]:
    return {p for r in rows for p in (r.output_path, r.thumbnail_path) if p}


def _kept(steps: Sequence[Step]) -> set[str]:
    return files_of(r for s in steps for r in s.rows)


def _kept_in(state: dict[str, Any]) -> set[str]:
    """The files the steps of a session's state name, to undo and to redo."""
    return _kept(history(state) + history(state, REDO))


class Undo:
    """LocalBackend's undo (a mixin: it owns repos, and the analyses and renders)."""

    async def _kept_for_undo(self, record: SessionRecord) -> set[str]:
        """The files the session's kept steps name (a render must not remove them)."""
        fresh = await self.repos.sessions.get(record.id)
        return _kept_in((fresh or record).state)

    async def _remember(self, record: SessionRecord, before: list[ClipRecord], edits: Sequence[Edit],
                        choices: dict[str, Any]) -> SessionRecord:
        """A step for the change about to be stored; the oldest beyond UNDO_STEPS is let go with its files."""
        steps = history(record.state) + [Step(tuple(edits), tuple(before), without_history(choices))]
        dropped, steps = steps[:-UNDO_STEPS], steps[-UNDO_STEPS:]
        undone = history(record.state, REDO)            # a new change: what undo took back cannot come back
        _remove_files(*(files_of(r for s in dropped + undone for r in s.rows) - _kept(steps)))
        state = {k: v for k, v in record.state.items() if k not in (REDO, REDONE_BY)}
        state[HISTORY] = [s.stored() for s in steps]
        if dropped:
            state[DROPPED] = True
        await self.repos.sessions.save_state(record.id, state)
        return dataclasses.replace(record, state=state)

    async def _forget_history(self, record: SessionRecord, state: dict[str, Any]) -> dict[str, Any]:
        """A new cut: the kept steps' files go, and the state it is saved with has no history."""
        _remove_files(*_kept_in(record.state))
        return without_history(state)

    async def _undo(self, record: SessionRecord, source: MediaRecord, clips: list[ClipRecord],
                    cancel: threading.Event) -> AsyncIterator[ChatEvent]:
        job = current_job.get()
        if retried := _retried(record, UNDONE_BY):           # a retry after a restart: the change is taken back already
            edits, changed = retried
        else:
            steps = history(record.state)
            if not steps:
                key = "undo_no_clips" if not clips else "undo_no_more" if record.state.get(DROPPED) else "undo_nothing"
                yield ChatEvent("text", say("en", key, steps=UNDO_STEPS), sentence=Sentence(key, steps=UNDO_STEPS))
                return
            step, after = steps[-1], Step(steps[-1].edits, tuple(clips), without_history(record.state))
            state = {**step.choices, HISTORY: [s.stored() for s in steps[:-1]],
                     REDO: [s.stored() for s in history(record.state, REDO) + [after]]}
            edits, changed = step.edits, await self._put_back(record, step, clips, job, state, UNDONE_BY)
        async for event in self._send_put_back(record, source, edits, changed, "undone", cancel):
            yield event

    async def _redo(self, record: SessionRecord, source: MediaRecord, clips: list[ClipRecord],
                    cancel: threading.Event) -> AsyncIterator[ChatEvent]:
        job = current_job.get()
        if retried := _retried(record, REDONE_BY):           # a retry after a restart: the change is put back already
            edits, changed = retried
        else:
            undone_steps = history(record.state, REDO)
            if not undone_steps or not clips:
                yield ChatEvent("text", say("en", "redo_nothing"), sentence=Sentence("redo_nothing"))
                return
            step, before = undone_steps[-1], Step(undone_steps[-1].edits, tuple(clips), without_history(record.state))
            state = {**step.choices, HISTORY: [s.stored() for s in (history(record.state) + [before])[-UNDO_STEPS:]],
                     REDO: [s.stored() for s in undone_steps[:-1]]}
            edits, changed = step.edits, await self._put_back(record, step, clips, job, state, REDONE_BY)
        async for event in self._send_put_back(record, source, edits, changed, "redone", cancel):
            yield event

    async def _send_put_back(self, record: SessionRecord, source: MediaRecord, edits: tuple[Edit, ...],
                             changed: set[int], key: str, cancel: threading.Event) -> AsyncIterator[ChatEvent]:
        """What undo took back or redo put back ("undone", "redone"), and the clips it changed: their files
        again when still there, else rendered."""
        clips_now = await self.repos.clips.for_session(record.id)
        back = [(n, c) for n, c in enumerate(clips_now, start=1) if c.id in changed]
        shown = back or list(enumerate(clips_now, start=1))      # none changed ("more" undone): the clips left
        said = Sentence(key, undone=edits, changes=tuple((n, timeline_of(draft_of(c))) for n, c in shown))
        yield ChatEvent("text", undone("en", said), sentence=said)
        analysis = None
        if any(not _is_current(c) for _, c in back):
            async for item in self._analysis(source, cancel, record.remote_session_id):
                if isinstance(item, _Outcome):
                    analysis = item.value
        for nth, (n, clip) in enumerate(back, start=1):
            async for event in self._render(record, clip, analysis, n, len(back), cancel, nth=nth):
                yield event

    async def _put_back(self, record: SessionRecord, step: Step, clips: list[ClipRecord], job,
                        state: dict[str, Any], done_by: str) -> set[int]:
        """The step's rows written back and the session's state made `state` (the step's choices, and the
        steps to undo and redo after it); the ids of the rows that differ from what they were."""
        now = {c.id: c for c in clips}
        changed: set[int] = set()
        for row in step.rows:
            values = {name: getattr(row, name) for name in _ROW_FIELDS}
            if row.id in now:
                restored = await self.repos.clips.update(row.id, **values)
            else:                                        # a reel replaced it: it comes back as a row of its own
                added = await self.repos.clips.add(row.session_id, row.rank, row.start, row.end, job_id=row.job_id,
                                                   media_id=row.media_id)
                restored = await self.repos.clips.update(added.id, **values)
            if row.id not in now or draft_of(now[row.id]).key != draft_of(restored).key:
                changed.add(restored.id)
        kept_ids = {row.id for row in step.rows}
        for clip in clips:
            if clip.id not in kept_ids:                  # "more" added it, or it is the reel
                await self.repos.clips.delete(clip.id)
        if record.state.get(DROPPED):                     # steps dropped past UNDO_STEPS stay dropped
            state[DROPPED] = True
        if job is not None:
            state[done_by] = {"job": job.job.id, "edits": [dataclasses.asdict(e) for e in step.edits],
                              "changed": sorted(changed)}
        await self.repos.sessions.save_state(record.id, state)
        clips_now = await self.repos.clips.for_session(record.id)
        _remove_files(*(files_of(clips) - files_of(clips_now) - _kept_in(state)))
        return changed

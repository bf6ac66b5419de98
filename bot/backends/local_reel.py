"""The local service's reel edits: a highlight reel asked at a new length ("make the reel 30 seconds",
"make it shorter", "把集锦改成30秒") has its moments chosen again by the engine's reel selection
(engine.highlights.selection.select_reel, through choose_explained) from the session's request,
keeping how it looks (captions and their style, aspect, resolution, title, music). Free, as every
edit is: the video was analysed (and paid for) by the cut. bot/reel_edits.py decides what an edit
means for a reel; this does it."""
from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass

from bot.backends.base import ReelRemade
from bot.backends.local_renders import Heard, stored
from bot.edits import Draft
from bot.reel_edits import ReelPlan, is_reel, reel_plan
from bot.vocabulary import Edit
from engine.models import ClipRequest
from engine.pipeline import Analysis, choose_explained
from storage.repos import ClipRecord, SessionRecord


@dataclass(frozen=True)
class ReelOutcome:
    """A reel edit done (the clip row and draft now, what to say of it), or why not (`plan.problem`)."""

    plan: ReelPlan
    record: SessionRecord | None = None
    clip: ClipRecord | None = None
    draft: Draft | None = None
    remade: ReelRemade | None = None


class ReelEdits:
    """LocalBackend's reel edits (a mixin: it owns repos and config)."""

    def _session_reel(self, record: SessionRecord, drafts: list[Draft]) -> bool:
        return is_reel(drafts, bool(record.state.get("request", {}).get("reel")))

    async def _reel_edit(self, record: SessionRecord, clip: ClipRecord, draft: Draft, edit: Edit,
                         analysis: Analysis) -> ReelOutcome | None:
        """The reel's edit when it is one of its own (a length, an edge, more); None: edit it as any clip."""
        plan = reel_plan(draft, edit)
        if plan is None or plan.problem:
            return None if plan is None else ReelOutcome(plan)
        request = ClipRequest.from_dict({**record.state.get("request", {}), "reel": True,
                                         "reel_length": plan.seconds, "count": None})
        selection = await asyncio.to_thread(choose_explained, analysis, request, self.config)
        if not selection.moments:
            return ReelOutcome(dataclasses.replace(
                plan, problem="I found no moments in this video to make a reel of", problem_key="edit_reel_nothing"))
        [moment] = selection.moments
        new = dataclasses.replace(draft, segments=tuple(moment.segments) or ((moment.start, moment.end),))
        if new.key == draft.key:
            got = round(draft.duration, 1)
            return ReelOutcome(dataclasses.replace(
                plan, problem=f"the reel is {got:g} s already, as near to {plan.seconds:g} s as its moments allow",
                problem_key="edit_reel_same", problem_values={"got": f"{got:g}", "asked": f"{plan.seconds:g}"}))
        short = any(note.kind == "reel_short" for note in selection.notes)
        record = dataclasses.replace(record, state={**record.state, "request": request.to_dict()})
        await self.repos.sessions.save_state(record.id, record.state)
        clip = await self.repos.clips.update(
            clip.id, start=new.start, end=new.end, score=moment.score, scores=moment.scores, reasons=moment.reasons,
            hashtags=moment.hashtags, text=moment.text,
            draft=stored(new, Heard.in_moment(dataclasses.replace(moment, weak=False), analysis.transcript)))
        remade = ReelRemade(kept=len(new.segments), got=round(new.duration, 1), asked=plan.seconds, short=short)
        return ReelOutcome(plan, record, clip, new, remade)

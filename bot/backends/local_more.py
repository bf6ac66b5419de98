"""The local service's "more clips": new moments beside the ones a cut made, by the cut's own rules."""
from __future__ import annotations

from bot.edits import Draft
from engine.highlights import length_bounds
from engine.models import SHORTEST_CLIP_SECONDS, ClipRequest, EngineConfig, Moment
from engine.pipeline import Analysis, choose_explained


def more_moments(analysis: Analysis, config: EngineConfig, asked: dict, drafts: list[Draft],
                 wanted: int) -> list[Moment]:
    """`wanted` new moments for the cut `asked` (a stored ClipRequest) that overlap none of the
    drafts, best first, none shorter than half the cut's shortest (3 s at least): the gaps the
    clips leave may hold only shorter moments, but not a fragment."""
    request = ClipRequest.from_dict(asked)
    request.reel = False
    request.count = len(drafts) + wanted + 2
    taken = [seg for d in drafts for seg in d.segments]
    fresh: list[Moment] = []
    low, _, _ = length_bounds(request)
    relaxed = ClipRequest.from_dict({**request.to_dict(), "length": None, "min_length": max(SHORTEST_CLIP_SECONDS, low / 2)})
    for attempt in (request, relaxed):  # when the clips leave only short gaps, shorter moments will do
        found = choose_explained(analysis, attempt, config, avoid=taken).moments
        fresh += [m for m in found if m.end - m.start >= relaxed.min_length - 0.05
                  and not any(m.start < f.end and f.start < m.end for f in fresh)]
        if len(fresh) >= wanted:
            break
    return sorted(fresh, key=lambda m: -m.score)[:wanted]

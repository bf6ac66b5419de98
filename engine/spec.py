"""One chosen moment + the request -> the RenderSpec the renderer needs.

Its own module so that the import graph is one-way: the pipeline and the renderer both use
it, and neither imports the other to get it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from engine.highlights.titles import drawn_title
from engine.models import ClipRequest, Moment, RenderSpec

if TYPE_CHECKING:
    from engine.pipeline import Analysis


def render_spec(analysis: "Analysis", moment: Moment, request: ClipRequest) -> RenderSpec:
    """What the renderer needs for one moment: source ranges, the words spoken in them, cuts, look."""
    segments = list(moment.segments) or [(moment.start, moment.end)]

    def inside(start: float, end: float) -> bool:
        # by the word's middle: a cut in the pause may sit a little inside Whisper's word times
        middle = (start + end) / 2
        return any(s <= middle <= e for s, e in segments)

    return RenderSpec(
        media=analysis.media,
        segments=segments,
        aspect=request.aspect,
        resolution=request.resolution,
        captions=request.captions,
        caption_style=request.caption_style,
        words=[w for w in analysis.transcript.words if inside(w.start, w.end)],
        title=drawn_title(moment.title),
        scene_cuts=[c for c in analysis.signals.scene_cuts if any(s < c < e for s, e in segments)],
        language=analysis.transcript.language,
    )

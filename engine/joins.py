"""A reel's joins: each overlaps the two pieces beside it by a crossfade, so a reel plays shorter
than its pieces add up to. A join is a dissolve across that overlap, or a straight cut in its
middle (two parts of one shot: engine.join_choice); either way the reel plays as long, so what is
timed on it (captions, title, thumbnail, the length said before it is rendered) holds for both.
Pure functions, shared by the render and by whatever says a reel's length."""
from __future__ import annotations

CROSSFADE = 0.3             # seconds each join of a reel overlaps
CUT_SOUND = 0.02            # seconds the sound crossfades at a straight cut: no click, no echo


def placements(segments: list[tuple[float, float]], crossfade: float = CROSSFADE) -> tuple[list[tuple[float, float, float]], float]:
    """Where each source segment starts in the output, and the output's length: each join
    overlaps the two sides by `crossfade` seconds."""
    placed, cursor = [], 0.0
    for i, (start, end) in enumerate(segments):
        if i:
            cursor -= crossfade
        placed.append((start, end, cursor))
        cursor += end - start
    return placed, cursor


def crossfade_for(segments: list[tuple[float, float]]) -> float:
    """The join length, shortened for very short segments so xfade always has room."""
    if len(segments) < 2:
        return 0.0
    shortest = min(e - s for s, e in segments)
    return max(0.04, min(CROSSFADE, shortest / 3))


def shown_parts(segments: list[tuple[float, float]], crossfade: float, cuts: tuple[bool, ...],
                overlap: float = 0.0) -> list[tuple[float, float]]:
    """The part of each segment the reel shows, (from, to) seconds of the segment: all of it, but
    at a straight cut (cuts[i]: the join after segment i) the earlier segment ends and the later
    one begins in the middle of the overlap, each `overlap` further on (for the sound's short
    crossfade there). The pieces then meet where placements put the middle of the join."""
    parts = []
    for i, (start, end) in enumerate(segments):
        head = crossfade / 2 - overlap / 2 if i and cuts[i - 1] else 0.0
        tail = crossfade / 2 - overlap / 2 if i + 1 < len(segments) and cuts[i] else 0.0
        parts.append((head, end - start - tail))
    return parts

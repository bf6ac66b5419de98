"""A reel's joins: each overlaps the two pieces beside it by a crossfade, so a reel plays shorter
than its pieces add up to. Pure functions, shared by the render and by whatever says a reel's length."""
from __future__ import annotations

CROSSFADE = 0.3             # seconds each join of a reel overlaps


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

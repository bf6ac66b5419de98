"""Whether two pieces of a reel meet in a straight cut or a dissolve, from how the reframer framed
each side of the join. An editor joins two parts of one shot (the same person framed the same
way) with a straight cut, a jump cut: a dissolve between two nearly equal pictures shows the face
twice, half transparent, eyes doubled. Pictures that differ (another shot, another person,
another layout) dissolve, and so does a join where a side's face is not known.

The cut itself is placed by engine.joins (shown_parts): in the middle of the overlap a dissolve
would take, so the reel plays as long either way.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.reframe import Framing, centre_at

LOOK_S = 1.5                # seconds of each side next to the join whose framing is compared
SAME_SIZE = 1.3             # a face at most this much wider or narrower is framed the same
SAME_PLACE = 0.5            # ... its middle at most this share of its width (height) across (down)
SAME_WINDOW = 0.15          # crop windows at most this share of their length apart show the same picture
SAME_PANEL = 0.05           # stacked panels at most this share of the picture apart, edge by edge

Box = tuple[float, float, float, float]        # x, y, w, h: shares of the source picture


@dataclass(frozen=True)
class Side:
    """What one piece shows next to a join: its layout ("crop", "scale", "stacked", "fit"), the
    face it is framed on (None: none seen), and where its window is (a crop's centre, a stacked
    layout's panels; empty for a picture shown whole)."""
    layout: str
    face: Box | None
    window: tuple[float, ...] = ()


def _middle_box(boxes: list[Box]) -> Box | None:
    return tuple(float(v) for v in np.median(np.array(boxes), axis=0)) if boxes else None


def side(framing: Framing, start: float, end: float, edge: float) -> Side:
    """What `framing` shows over [start, end] (seconds of its range) next to the join at `edge`:
    the face is the median of the largest face seen at each sample."""
    if framing.mode == "speakers":
        stretch = next((s for s in framing.stretches if s.start <= edge <= s.end), None)
        if stretch is None or stretch.layout not in ("crop", "stacked"):
            return Side("fit", None)
        if stretch.layout == "stacked":
            return Side("stacked", None, tuple(v for panel in stretch.panels_at(edge) for v in panel))
        trace = framing.trace
        if trace is None or not stretch.tracks or stretch.tracks[0] not in trace.track_ids:
            return Side("crop", None, (centre_at(framing.pieces, edge),))
        row = trace.boxes[trace.track_ids.index(stretch.tracks[0])]
        seen = [tuple(row[k]) for k, t in enumerate(trace.times) if start <= t <= end and not np.isnan(row[k][0])]
        return Side("crop", _middle_box(seen), (centre_at(framing.pieces, edge),))
    if framing.mode not in ("crop", "scale") or framing.faces is None:
        return Side(framing.mode, None)
    largest = [max(faces, key=lambda f: f.w * f.h) for t, faces in zip(framing.faces.times, framing.faces.faces)
               if start <= t <= end and faces]
    window = (centre_at(framing.pieces, edge),) if framing.mode == "crop" and framing.window.slides else ()
    return Side(framing.mode, _middle_box([(f.x, f.y, f.w, f.h) for f in largest]), window)


def same_shot(before: Side, after: Side, window_length: float = 1.0) -> bool:
    """Whether two sides show one shot: the same layout, the same face framed alike (size and
    place), the windows near each other. Stacked layouts need their panels alike."""
    if before.layout != after.layout or before.layout == "fit":
        return False
    if before.layout == "stacked":
        return len(before.window) == len(after.window) and all(
            abs(a - b) <= SAME_PANEL for a, b in zip(before.window, after.window))
    if before.face is None or after.face is None:
        return False
    (x0, y0, w0, h0), (x1, y1, w1, h1) = before.face, after.face
    if max(w0, w1) > SAME_SIZE * min(w0, w1) or max(h0, h1) > SAME_SIZE * min(h0, h1):
        return False
    across, down = abs(x0 + w0 / 2 - x1 - w1 / 2), abs(y0 + h0 / 2 - y1 - h1 / 2)
    if across > SAME_PLACE * (w0 + w1) / 2 or down > SAME_PLACE * (h0 + h1) / 2:
        return False
    return len(before.window) == len(after.window) and all(
        abs(a - b) <= SAME_WINDOW * window_length for a, b in zip(before.window, after.window))


def straight_cuts(segments: list[tuple[float, float]], framings: list[Framing],
                  cuts: list[list[float]]) -> tuple[bool, ...]:
    """For each join of a reel (after segment i), True when it is a straight cut: the end of
    segment i and the start of segment i+1 show one shot (same_shot), each looked at over its
    LOOK_S next to the join and within its own shot (`cuts`: each segment's scene cuts, in
    segment time)."""
    chosen = []
    for i in range(len(segments) - 1):
        length = segments[i][1] - segments[i][0]
        before_from = max([length - LOOK_S, *(c for c in cuts[i] if 0 < c < length)])
        after_to = min([LOOK_S, *(c for c in cuts[i + 1] if 0 < c < segments[i + 1][1] - segments[i + 1][0])])
        before, after = side(framings[i], before_from, length, length), side(framings[i + 1], 0.0, after_to, 0.0)
        window = framings[i].window.length if framings[i].window.axis == framings[i + 1].window.axis else 0.0
        chosen.append(same_shot(before, after, window))
    return tuple(chosen)

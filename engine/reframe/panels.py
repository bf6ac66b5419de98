"""Where each window of a stacked layout sits, and what of the face in it a caption must miss.

A stacked panel is framed as an editor frames a single: the eyes about a third of the way
down, room above the head, the face centred across. Its size comes from the face (a few face
heights tall) and from the picture it must stay inside (a narrow picture of a split screen
makes it tight). Across, it follows the face over its stretch as the one-person crop does (dead
zone, speed limit), so a person who moves about their picture stays near the middle. Up and
down it follows the same way, from where the face's height asks the panel's top to be (the eye
line, the headroom), with a narrow zone upwards, since a rising head has only its headroom to
rise into before its hair is cut, and a slower tilt than pan.

Face boxes are OpenCV's frontal Haar boxes, which run from the brows to the chin: the eyes and
mouth sit at fixed shares of the box (measured on the TV interview and the 2016 debate split
screens: eyes at 0.35-0.42 of the box, the top of the hair 0.2-0.3 box heights above it).

Positions are fractions of the source picture; rows in a panel are fractions of its height.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.reframe.path import DEAD_ZONE, fill_gaps, follow, follow_planned, simplify
from engine.reframe.seams import NO_SPLIT, Split, keep_inside
from engine.signals import rolling_median

STACK_FACE_SPAN = 2.6       # a stacked panel is this many face heights tall (or the whole height)
PANEL_MIN_SHARE = 0.35      # ... and at least this share of the picture's height
TIGHTEST_SPAN = 2.2         # zoomed in to centre a face near its picture's side: no tighter than this
OFF_CENTRE = 0.05           # a face this far (of the panel's width) off its middle is centred enough
REACH = 10                  # percentiles of the face's centre over the stretch the panel can centre on

EYES = 0.4                  # the eyes, this far down the face box
MOUTH = 0.9                 # the bottom of the lower lip: what a caption must leave clear ends here
HEAD_ABOVE = 0.3            # the top of the head (hair), this many box heights above the box
CHIN_BELOW = 0.1            # the chin, this many box heights below it
BROWS = 0.25                # the brows, this far down the box: what a caption must leave clear starts here

EYE_LINE = 1 / 3            # the eyes a third of the way down the panel
HEADROOM = 0.04             # ... with at least this share of the panel above the head,
EYES_LOWEST = 0.42          # but in a tight panel the eyes no lower than this (the hair is cut instead)
# A picture of a split screen may have a thin dark edge along its top (the TV interview's guest:
# 6 rows of 720): a panel there keeps this far below the top of the frame.
PICTURE_EDGE = 0.01

# Following up and down, in panel heights and seconds.
RISE_ZONE = 0.03            # a face this far above its place lifts the panel (under HEADROOM: the hair stays in)
SINK_ZONE = DEAD_ZONE       # ... this far below it lowers the panel
TILT_SPEED = 0.2            # panel heights a second at most (8 px a frame of a 960 px panel at 25 fps)
STEADY_S = 1.0              # the face's height over this long, by its median: one stray box moves nothing


@dataclass(frozen=True)
class FaceRows:
    """A face's rows in its panel, as fractions of the panel's height (may lie outside 0-1)."""

    head: float             # top of the hair
    brows: float
    mouth: float
    chin: float


def panel_size(box: np.ndarray, display_w: int, display_h: int, panel_aspect: float,
               picture: tuple[float, float] = (0.0, 1.0), floor: float = 1.0,
               reach: tuple[float, float] | None = None) -> tuple[float, float]:
    """(w, h) of the panel around a face box (x, y, w, h): a few face heights tall, no wider
    than the picture the face is in and no taller than the part above a bar across the bottom.
    A face near its picture's side gets a narrower panel (down to TIGHTEST_SPAN face heights,
    or that share of the smallest panel for a small face)
    so that it can sit in the middle; `reach`: how far left and right the face's centre goes
    over the stretch (the panel follows it there)."""
    face_h = box[3] * display_h
    height = min(display_h * floor, max(face_h * STACK_FACE_SPAN, display_h * PANEL_MIN_SHARE))
    cx = box[0] + box[2] / 2
    most_left, most_right = reach if reach is not None else (cx, cx)
    left, right = picture[0] * display_w, picture[1] * display_w
    width = min(height * panel_aspect, right - left)
    room = 2 * min(most_left * display_w - left, right - most_right * display_w)   # the widest panel centred on it
    if width - room > 2 * OFF_CENTRE * width:
        # no more zoom than a big face gets (2.6 -> 2.2 face heights): a small face's panel is
        # PANEL_MIN_SHARE tall, and 2.2 of its face heights would be a few dozen pixels
        tightest = max(TIGHTEST_SPAN * face_h, TIGHTEST_SPAN / STACK_FACE_SPAN * PANEL_MIN_SHARE * display_h)
        width = max(room, min(width, tightest * panel_aspect))
    return width / display_w, width / panel_aspect / display_h


def panel_top(box: np.ndarray, height: float, floor: float = 1.0, ceiling: float = 0.0) -> float:
    """The panel's top: the eyes a third of the way down, unless that cuts the head (then lower,
    down to EYES_LOWEST), inside the picture (below `ceiling`) and above a bar across the bottom."""
    eyes = box[1] + EYES * box[3]
    head = box[1] - HEAD_ABOVE * box[3]
    top = max(min(eyes - EYE_LINE * height, head - HEADROOM * height), eyes - EYES_LOWEST * height)
    return float(np.clip(top, *_top_range(height, floor, ceiling)))


def _top_range(height: float, floor: float, ceiling: float) -> tuple[float, float]:
    """The highest and the lowest top of a panel of `height` between `ceiling` and `floor`."""
    lowest = max(0.0, floor - height)
    return min(ceiling, lowest), lowest


def face_rows(box: np.ndarray, panel: tuple[float, float, float, float]) -> FaceRows:
    """Where the face of `box` lies in `panel` (x, y, w, h), as shares of the panel's height."""
    y, h = panel[1], panel[3]

    def row(at: float) -> float:
        return (box[1] + at * box[3] - y) / h

    return FaceRows(row(-HEAD_ABOVE), row(BROWS), row(MOUTH), row(1 + CHIN_BELOW))


def stacked_panel(box: np.ndarray, display_w: int, display_h: int, panel_aspect: float,
                  split: Split = NO_SPLIT, reach: tuple[float, float] | None = None) -> tuple[float, float, float, float]:
    """A window of `panel_aspect` (width / height) around one face box, as fractions: its
    size (panel_size), its top (panel_top), centred on the face inside the face's picture."""
    cx = box[0] + box[2] / 2
    picture = split.picture_at(cx) if split.found else (0.0, 1.0)
    w, h = panel_size(box, display_w, display_h, panel_aspect, picture, split.floor - split.ceiling, reach)
    x = float(np.clip(cx - w / 2, picture[0], picture[1] - w))
    return x, panel_top(box, h, split.floor, max(split.ceiling, PICTURE_EDGE if split.found else 0.0)), w, h


def panel_path(times: np.ndarray, centres: np.ndarray, width: float, split: Split = NO_SPLIT,
               pixel: float = 1e-3) -> tuple[tuple[float, float, float, float], ...]:
    """The panel's centre across, following the face's centres at `times` (NaN: not seen) as
    the crop window follows its subject, kept inside the face's picture: (t0, t1, c0, c1)
    pieces, held before the first and after the last."""
    if not len(times) or np.isnan(centres).all():
        return ()
    path = keep_inside(follow_planned(times, centres, width), centres, width, split)
    knots = simplify(times, path, tolerance=pixel)
    return _pieces(times[knots], path[knots])


def panel_path_down(times: np.ndarray, boxes: np.ndarray, height: float, split: Split = NO_SPLIT,
                    pixel: float = 1e-3) -> tuple[tuple[float, float, float, float], ...]:
    """The panel's centre down, following its face's boxes at `times` (rows of NaN: not seen)
    as `panel_top` would place a panel of `height` on each, no faster than TILT_SPEED, kept
    inside the picture and above a bar across the bottom: (t0, t1, c0, c1) pieces, as panel_path."""
    seen = ~np.isnan(boxes[:, 1]) if len(boxes) else np.zeros(0, bool)
    if not seen.any():
        return ()
    tops = np.full(len(times), np.nan)
    ceiling = max(split.ceiling, PICTURE_EDGE if split.found else 0.0)
    tops[seen] = [panel_top(box, height, split.floor, ceiling) for box in boxes[seen]]
    steady = max(1, round(STEADY_S / _step(times)))
    tops = fill_gaps(tops, 0.0)
    wanted = _running_median(tops, steady) + height / 2
    # It begins where the face is over the first STEADY_S, not on the first box alone.
    path = follow(times, wanted, height, dead_zone=SINK_ZONE, dead_zone_back=RISE_ZONE, max_speed=TILT_SPEED,
                  start=float(np.median(tops[:steady])) + height / 2)
    highest, lowest = _top_range(height, split.floor, ceiling)
    path = np.clip(path, highest + height / 2, lowest + height / 2)
    knots = simplify(times, path, tolerance=pixel)
    return _pieces(times[knots], path[knots])


def _step(times: np.ndarray) -> float:
    return float(np.median(np.diff(times))) if len(times) > 1 else 1.0


def _running_median(values: np.ndarray, width: int) -> np.ndarray:
    """The median of the `width` values around each (fewer at the ends: no end value counted twice)."""
    if width < 2 or len(values) < 3:
        return values.copy()
    return rolling_median(values, width, repeat_edges=False).astype(float)


def _pieces(kt: np.ndarray, kc: np.ndarray) -> tuple[tuple[float, float, float, float], ...]:
    if len(kt) == 1:
        return ((float(kt[0]), float(kt[0]) + 1.0, float(kc[0]), float(kc[0])),)
    return tuple((float(kt[i]), float(kt[i + 1]), float(kc[i]), float(kc[i + 1])) for i in range(len(kt) - 1))


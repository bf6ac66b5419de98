"""Split screens: two (or more) camera pictures side by side in one frame.

News, debates and remote interviews put each person's camera in its own part of the frame,
with a hard seam between them (often a divider line). A crop window or a stacked panel that
crosses a seam shows a strip of the neighbouring picture, and a face detection on the seam is
not a face. Pure functions over the grey frames the reframer already decodes:

    steps  = column_steps(gray)              per frame: the share of rows that change abruptly
                                             between each column and the next
    seams  = find_seams(steps)               columns where that holds over most of the height in
                                             (nearly) every frame (split_of: one in the middle)
    inside = keep_inside(centres, ...)       a crop window's centre kept inside one picture
    faces  = off_the_seams(faces, seams)     detections astride a seam dropped

A bar burnt in across the bottom of the source (subtitles) is found the same way on rows
(`row_steps`, `find_floor`): stacked panels and crop windows end above it. Lettering burnt into
the picture itself, at its top or bottom (engine.reframe.text_band), gives a ceiling and a floor
too, in a single picture as in a split screen.

Positions are fractions (0-1) of the picture's width (rows: of its height).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from engine.reframe.text_band import text_band

if TYPE_CHECKING:
    from engine.reframe.detection import Face

STEP = 14                   # grey levels between neighbouring pixels that count as an abrupt change
SEAM_ROWS = 0.6             # a column is a seam in a frame when this share of the rows step across it
SEAM_FRAMES = 0.9           # ... in at least this share of the frames (a seam neither moves nor fades)
SEAM_MIN_FRAMES = 4         # fewer frames than this say nothing about what stays
DIVIDER_MAX = 0.03          # seam columns closer than this are the two edges of one divider
BORDER = 0.05               # an edge closer than this to the side of the frame is the frame's own border
PICTURE_MIN = 0.2           # a region narrower than this is a border around the pictures, not one of them
CENTRAL = 0.25              # a split screen has a seam with at least this much of the frame on each side
ASTRIDE = 0.2               # a face box with this share of its width on each side of a seam is no face
FLOOR_LOW = 0.7             # a bar across the bottom begins below this share of the height
FLOOR_COLUMNS = 0.5         # ... and steps across at least this share of the columns


@dataclass(frozen=True)
class Seam:
    """A seam between two pictures: the picture on the left ends at `left`, the one on the
    right begins at `right` (a divider line lies between)."""

    left: float
    right: float

    @property
    def centre(self) -> float:
        return (self.left + self.right) / 2


@dataclass(frozen=True)
class Split:
    """How the source's frame is divided: the vertical seams found (none: one picture), and
    where a bar burnt in across the bottom begins (1.0: none)."""

    seams: tuple[Seam, ...] = ()
    floor: float = 1.0
    ceiling: float = 0.0          # where the picture below lettering burnt in across its top begins

    @property
    def banded(self) -> bool:
        """Lettering or a bar to keep out, above or below."""
        return self.floor < 1.0 or self.ceiling > 0.0

    @property
    def found(self) -> bool:
        return bool(self.seams)

    def pictures(self) -> list[tuple[float, float]]:
        """(left, right) of each region between seams, the edges of the frame included."""
        edges = [0.0] + [v for s in self.seams for v in (s.left, s.right)] + [1.0]
        return [(edges[i], edges[i + 1]) for i in range(0, len(edges), 2)]

    def picture_at(self, x: float) -> tuple[float, float]:
        """The picture that holds position `x` (on a divider: the nearer one)."""
        pictures = self.pictures()
        return min(pictures, key=lambda p: 0.0 if p[0] <= x <= p[1] else min(abs(x - p[0]), abs(x - p[1])))

    def said(self) -> str:
        """'split screen: 2 pictures, seam at 50 %', for the reasons and the preview."""
        if not self.found:
            return ""
        wide = [p for p in self.pictures() if p[1] - p[0] >= PICTURE_MIN]
        at = ", ".join(f"{100 * s.centre:.0f} %" for s in self.seams)
        return f"split screen: {len(wide)} pictures, seam{'s' if len(self.seams) > 1 else ''} at {at}"


NO_SPLIT = Split()


def column_steps(gray: np.ndarray, step: int = STEP) -> np.ndarray:
    """(width - 1,): for each column, the share of rows whose brightness jumps by more than
    `step` to the next column."""
    jumps = np.abs(np.diff(gray.astype(np.int16), axis=1)) > step
    return jumps.mean(axis=0)


def row_steps(gray: np.ndarray, step: int = STEP) -> np.ndarray:
    """(height - 1,): for each row, the share of columns that jump by more than `step` to the next row."""
    return column_steps(gray.T, step)


def steady_lines(steps: np.ndarray, share: float = SEAM_ROWS, frames: float = SEAM_FRAMES) -> np.ndarray:
    """(frames, lines) step shares -> indices of the lines that step across at least `share` of
    the picture in at least `frames` of the frames."""
    if len(steps) < SEAM_MIN_FRAMES:
        return np.zeros(0, dtype=int)
    return np.flatnonzero((steps >= share).mean(axis=0) >= frames)


def find_seams(steps: np.ndarray, share: float = SEAM_ROWS) -> tuple[Seam, ...]:
    """(frames, width - 1) column steps -> the seams, left to right. Columns a few pixels apart
    are one seam (both edges of a divider line); a seam must leave a picture on both sides."""
    width = steps.shape[1] + 1 if steps.ndim == 2 else 0
    lines = steady_lines(steps, share)
    if not len(lines):
        return ()
    gap = max(2, int(DIVIDER_MAX * width))
    groups: list[list[int]] = [[int(lines[0])]]
    for line in lines[1:]:
        if line - groups[-1][-1] <= gap:
            groups[-1].append(int(line))
        else:
            groups.append([int(line)])
    seams = [Seam(g[0] / width, (g[-1] + 1) / width) for g in groups]
    # The edge of the frame's own border is not a seam between pictures.
    return tuple(s for s in seams if s.left >= BORDER and s.right <= 1 - BORDER)


def find_floor(steps: np.ndarray) -> float:
    """(frames, height - 1) row steps -> where a bar across the bottom begins (1.0: none): the
    highest steady row edge in the bottom part of the frame."""
    rows = steady_lines(steps, FLOOR_COLUMNS)
    height = steps.shape[1] + 1 if steps.ndim == 2 else 0
    low = rows[rows >= FLOOR_LOW * height] if len(rows) else rows
    return float((low[0] + 1) / height) if len(low) else 1.0


def split_of(columns: list[np.ndarray], rows: list[np.ndarray], strokes: list[np.ndarray] = ()) -> Split:
    """The Split of a range from the column and row steps (and text strokes) of some of its
    frames. A single picture can hold a steady vertical edge too (a door frame, a pillar) but
    rarely in its middle: only a seam with a quarter of the frame on each side makes a split
    screen (the other seams found then bound its pictures)."""
    ceiling, floor = text_band(list(strokes))
    lettered = Split((), floor, ceiling)
    if len(columns) < SEAM_MIN_FRAMES:
        return lettered
    seams = find_seams(np.stack(columns))
    if not any(CENTRAL <= s.left and s.right <= 1 - CENTRAL for s in seams):
        return lettered
    return Split(seams, min(floor, find_floor(np.stack(rows))), ceiling)


def astride(face: Face, split: Split, share: float = ASTRIDE) -> bool:
    """Whether a seam runs through the box with at least `share` of its width on either side."""
    return any(face.x + share * face.w <= s.centre <= face.x + (1 - share) * face.w for s in split.seams)


def off_the_seams(faces: list[list[Face]], split: Split) -> list[list[Face]]:
    """Each sample's faces without those astride a seam."""
    if not split.found:
        return faces
    return [[f for f in sample if not astride(f, split)] for sample in faces]


def keep_inside(centres: np.ndarray, subjects: np.ndarray, window_length: float, split: Split) -> np.ndarray:
    """Window centres moved so that the window stays inside the picture holding its subject
    (`subjects`: the subject's position at each centre, NaN: unknown, the window's own centre
    then stands for it); a picture narrower than the window gets the window centred on it."""
    if not split.found:
        return centres
    half = window_length / 2
    out = centres.copy()
    for i, (centre, subject) in enumerate(zip(centres, subjects)):
        left, right = split.picture_at(centre if np.isnan(subject) else subject)
        out[i] = (left + right) / 2 if right - left < window_length else np.clip(centre, left + half, right - half)
    return out

"""Text burnt into the source's picture: subtitles or a caption line across its top or bottom.

A crop window of the whole height shows a slice of such a line ("aders in charge") above or
below our own captions. Its rows are found on the grey frames the reframer already decodes,
as PySceneDetect finds cuts: a small pure function per frame, composed over the range.

    strokes = text_strokes(gray)         per frame: for each row, how many bright strokes start
                                         (a light pixel just after a much darker one), per 640
                                         pixels of width, and where across they lie
    band    = text_band(strokes)         (ceiling, floor): the rows a crop keeps between, when
                                         lettering sits in the same rows of many frames, centred
                                         across, in the top or the bottom part of the picture

Positions are fractions (0-1) of the picture's height.
"""
from __future__ import annotations

import numpy as np

BRIGHT = 160            # grey level of lettering (white or yellow subtitles)
CONTRAST = 80           # how much darker the pixel one or two to the side is (its outline or the picture)
STROKES = 32            # stroke starts per 640 pixels that make a row of lettering
CENTRED = 0.15          # lettering is centred: its strokes' mean within this of the middle
FRAMES = 0.3            # in at least this share of the frames (a subtitle comes and goes)
MIN_FRAMES = 3
TOP_PART = 0.2          # lettering is looked for in the top fifth and in the bottom quarter
BOTTOM_PART = 0.75
MARGIN = 0.015          # the crop keeps this far from the lettering (its outline, descenders)


def text_strokes(gray: np.ndarray) -> np.ndarray:
    """(height, 2): per row, the stroke starts per 640 pixels of width, and their mean position
    across (0-1; NaN when none)."""
    g = gray.astype(np.int16)
    darker = np.zeros(g.shape, dtype=bool)
    for d in (1, 2):
        darker[:, d:] |= g[:, d:] - g[:, :-d] >= CONTRAST
        darker[:, :-d] |= g[:, :-d] - g[:, d:] >= CONTRAST
    edge = (g >= BRIGHT) & darker
    starts = np.diff(edge.astype(np.int8), axis=1) == 1
    count = starts.sum(axis=1)
    columns = np.arange(starts.shape[1], dtype=float) / starts.shape[1]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (starts * columns).sum(axis=1) / count
    return np.stack([count * 640.0 / g.shape[1], mean], axis=1)


def text_band(strokes: list[np.ndarray]) -> tuple[float, float]:
    """(frames of text_strokes) -> (ceiling, floor): below the lettering in the top part, above
    the lettering in the bottom part; (0.0, 1.0) when there is none."""
    if len(strokes) < MIN_FRAMES:
        return 0.0, 1.0
    rows = np.stack(strokes)
    lettered = (rows[:, :, 0] >= STROKES) & (np.abs(rows[:, :, 1] - 0.5) <= CENTRED)
    steady = np.flatnonzero(lettered.mean(axis=0) >= FRAMES)
    height = rows.shape[1]
    top = steady[steady < TOP_PART * height]
    bottom = steady[steady >= BOTTOM_PART * height]
    ceiling = min(TOP_PART, (top.max() + 1) / height + MARGIN) if len(top) else 0.0
    floor = max(BOTTOM_PART, bottom.min() / height - MARGIN) if len(bottom) else 1.0
    return float(ceiling), float(floor)

"""Black bars baked into the source's frame: a film's letterbox (a 2.39:1 picture inside 16:9),
an old 4:3 interview pillarboxed in a 16:9 broadcast, a phone's vertical video inside a wide
frame. A crop of the whole frame would carry the bars into the short as black bands, so the
framing works on the picture inside them (`Active`) and the render cuts it out first.

    frames = bar_frames(path, start, end, ...)     small grey keyframes of the range
    active = find_bars(frames)                     rows and columns black in every one of them

A row is a bar when it stays black in every frame: a dark scene is dark in some frames only,
and a picture that fades to black leaves bright frames around it. Bars come in pairs of one
width (a picture is centred between them): black down one side only is the scene's. The
first KEYFRAMES keyframes of the range are enough (the decoder skips every other frame); a
range with fewer than two is judged on those up to half a minute around it.
"""
from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

BAR_LEVEL = 32              # grey level at or below which a row or column counts as black (black is 16)
BAR_MIN = 0.02              # a bar narrower than this share of the frame is a border, left alone
BAR_BALANCE = 0.03          # the two bars of an axis differ by at most this share of it
PICTURE_MIN = 0.25          # bars leaving less than this share are a dark scene (9:16 in 16:9 leaves 0.32)
FRAMES_MIN = 2              # fewer keyframes than this say nothing about what stays black
KEYFRAMES = 8               # at most this many are decoded (about 0.3 s of CPU at 1080p)
AROUND_S = 30.0             # seconds around a range with fewer keyframes whose keyframes are looked at
SMALL_SIDE = 320            # pixels on the long side of the grey frames looked at
EDGE_MARGIN = 1.5           # of those pixels: how far into the picture the cut goes past a bar


@dataclass(frozen=True)
class Active:
    """The picture inside the bars, as shares of the frame's width and height."""

    left: float = 0.0
    top: float = 0.0
    right: float = 1.0
    bottom: float = 1.0

    @property
    def whole(self) -> bool:
        return (self.left, self.top, self.right, self.bottom) == (0.0, 0.0, 1.0, 1.0)

    def size(self, width: int, height: int) -> tuple[int, int]:
        """The picture's size inside a frame of width x height (even, as the encoder needs)."""
        if self.whole:
            return width, height
        return (max(2, int(width * (self.right - self.left)) // 2 * 2),
                max(2, int(height * (self.bottom - self.top)) // 2 * 2))

    def crop_filter(self) -> str:
        """'' or an ffmpeg crop of the picture, in shares of whatever size the frame comes at,
        ending in ','."""
        if self.whole:
            return ""
        w, h = self.right - self.left, self.bottom - self.top
        return (f"crop=trunc(iw*{w:.4f}/2)*2:trunc(ih*{h:.4f}/2)*2:"
                f"trunc(iw*{self.left:.4f}/2)*2:trunc(ih*{self.top:.4f}/2)*2,")

    def said(self) -> str:
        """'black bars cut away: the picture is 100 x 74 % of the frame', for the reasons."""
        return (f"black bars cut away: the picture is {round(100 * (self.right - self.left))} x "
                f"{round(100 * (self.bottom - self.top))} % of the frame")


WHOLE = Active()


def _bar(profile: np.ndarray) -> tuple[int, int]:
    """How many entries at the start and at the end of a black/not profile are black."""
    dark = profile <= BAR_LEVEL
    if dark.all():
        return len(dark), len(dark)
    return int(np.argmin(dark)), int(np.argmin(dark[::-1]))


def find_bars(frames: np.ndarray) -> Active:
    """(frames, height, width) grey frames -> the picture inside the rows and columns that are
    black in all of them (a logo or a stray bright pixel in a bar is ignored: a row's 98th
    percentile is what counts); WHOLE when there are too few frames or no bars."""
    if len(frames) < FRAMES_MIN:
        return WHOLE
    rows = np.percentile(frames, 98, axis=2).max(axis=0)            # (height,)
    columns = np.percentile(frames, 98, axis=1).max(axis=0)         # (width,)
    top, bottom = _bars(rows)
    left, right = _bars(columns)
    if 1 - top - bottom < PICTURE_MIN or 1 - left - right < PICTURE_MIN:
        return WHOLE
    return Active(left, top, 1 - right, 1 - bottom)


def _bars(profile: np.ndarray) -> tuple[float, float]:
    """The two bars at the ends of one axis, as shares of it: none unless both are there, as
    wide as each other (a picture is centred in its bars; darkness on one side is the scene's)."""
    lead, trail = (n / len(profile) for n in _bar(profile))
    if min(lead, trail) < BAR_MIN or abs(lead - trail) > BAR_BALANCE:
        return 0.0, 0.0
    # The row or column where a bar meets the picture is grey at this size: cut a little into
    # the picture rather than leave a dark line at the short's edge.
    margin = EDGE_MARGIN / len(profile)
    return lead + margin, trail + margin


def bar_frames(path: Path, start: float, end: float, display_w: int, display_h: int,
               timeout_s: float = 120.0) -> np.ndarray:
    """The first KEYFRAMES keyframes of [start, end), small and grey, as a player shows them
    (turned, with square pixels); the decoder skips every other frame and the loop filter."""
    scale = SMALL_SIDE / max(display_w, display_h)
    w, h = max(2, int(display_w * scale) // 2 * 2), max(2, int(display_h * scale) // 2 * 2)
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-threads", "1", "-skip_frame", "nokey", "-skip_loop_filter", "all",
           "-ss", f"{start:.3f}", "-t", f"{end - start:.3f}", "-i", str(path), "-map", "0:v:0", "-an", "-sn",
           "-vf", f"scale={w}:{h}:flags=area,format=gray", "-fps_mode", "passthrough", "-frames:v", str(KEYFRAMES),
           "-f", "rawvideo", "pipe:1"]
    try:
        raw = subprocess.run(cmd, capture_output=True, timeout=timeout_s).stdout
    except subprocess.TimeoutExpired:
        return np.zeros((0, h, w), np.uint8)
    count = len(raw) // (w * h)
    return np.frombuffer(raw[:count * w * h], np.uint8).reshape(count, h, w)


def active_area(path: Path, start: float, end: float, display_w: int, display_h: int,
                timeout_s: float = 120.0) -> Active:
    """The picture inside any black bars in [start, end) of the video, judged on its keyframes,
    or on those of up to AROUND_S around it when it has too few (a keyframe every 10 s)."""
    frames = bar_frames(path, start, end, display_w, display_h, timeout_s)
    if len(frames) < FRAMES_MIN:
        frames = bar_frames(path, max(0.0, start - AROUND_S), end + AROUND_S, display_w, display_h, timeout_s)
    return find_bars(frames)

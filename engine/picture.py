"""What a source picture needs before it is framed: at most 30 frames a second, no more pixels
than the short needs, and SDR 8-bit colour.

The filters go first in each segment's chain, so a 4K 60 fps source is thinned to 30 fps and
shrunk before anything else (framing, captions, the encoder) touches a frame.

A fast source is thinned by a whole step (every 2nd frame of 50 or 59.94 fps: 25, 29.97; every
4th of 120), so the frames kept are evenly spaced: thinning 50 fps to 30 would keep frames
alternately 2 and 1 apart, and motion judders. A variable-rate source (a phone's) is made
constant at the rate it was shot at (its usual frame interval, not its average), which shows
each of its frames once and holds one only where the phone dropped the next.

The shrink keeps every pixel the short can show: the source is scaled to just cover the output
size, so any crop of it still fills the output at full sharpness.

HDR (PQ or HLG, usually 10-bit BT.2020) is tone-mapped to SDR BT.709 with zscale and tonemap,
in linear light. The curve is Möbius: it keeps everything up to the usual brightness of a
scene as it is and rolls off only the highlights; Hable (the other common choice) dims the
whole picture by a third, measured on a picture graded at BT.2408's 203-nit reference white. Without those filters (an
ffmpeg built without zimg) the fallback converts the colour matrix and bit depth only: colours
are right but highlights are flat.
"""
from __future__ import annotations

import functools
import math
import subprocess
from dataclasses import dataclass
from fractions import Fraction

from engine.letterbox import WHOLE, Active
from engine.models import MediaInfo

MAX_FPS = 30.0
MIN_EVEN_FPS = 23.0         # a source thinned by a whole step keeps at least this rate, else it gets MAX_FPS;
                            # a slower one has each frame shown 2, 3... times
MAX_SOURCE_FPS = 240.0      # a header rate above this is a time base (1000: "1k tbr"), not a frame rate
HDR_TRANSFERS = {"smpte2084": "smpte2084", "arib-std-b67": "arib-std-b67"}    # ffprobe name -> zscale name
NOMINAL_PEAK_NITS = 100


@dataclass(frozen=True)
class SourcePicture:
    filters: str                 # "" or a filter chain ending in "," to put before the framing
    width: int                   # the picture the framing sees
    height: int


def _rate_read(media: MediaInfo) -> tuple[float, bool]:
    """(the rate to go by, whether it was measured from the frames' intervals): the header's,
    unless the rate is variable or the header gives none (or its time base: 1000 fps). A
    variable rate never measured (MediaInfo stored before steady_fps was) is unknown: its
    average is not a rate any of its frames came at."""
    header = media.fps if 0.0 < media.fps <= MAX_SOURCE_FPS else 0.0
    measured = media.steady_fps if 0.0 < media.steady_fps <= MAX_SOURCE_FPS else 0.0
    if measured and (media.variable_fps or not header):
        return measured, True
    return (0.0 if media.variable_fps else header), False


def source_fps(media: MediaInfo) -> Fraction | None:
    """The source's frame rate as an exact fraction (29.97 -> 30000/1001); None when unknown. A
    measured rate is a mean of jittery intervals: it is read to the nearest 1 %."""
    value, measured = _rate_read(media)
    if not value:
        return None
    whole = round(value)
    nearest = min((Fraction(whole), Fraction(whole * 1000, 1001)), key=lambda rate: abs(value - rate))
    if abs(value - nearest) <= (0.01 if measured else 0.002) * value:
        return nearest
    return Fraction(value).limit_denominator(1000)


def output_fps(media: MediaInfo) -> Fraction:
    """The short's frame rate: the source's, or at most MAX_FPS by keeping every 2nd, 3rd... frame.
    A source slower than MIN_EVEN_FPS has each frame shown a whole number of times, as near
    MAX_FPS as that goes (1 -> 30, 12 -> 24): captions, fades and the crossfade would otherwise
    move at its pace (a podcast's still picture at 1 fps skips most word highlights), and a
    screen recording's usual interval (frames come when the screen changes) says little of its
    busy parts."""
    rate = source_fps(media)
    if rate is None:
        return Fraction(MAX_FPS)
    if rate < MIN_EVEN_FPS:
        return rate * max(1, math.floor(Fraction(MAX_FPS) / rate))
    step = math.ceil(rate / Fraction(MAX_FPS + 0.5))
    return rate / step if rate / step >= MIN_EVEN_FPS else Fraction(MAX_FPS)


def changes_rate(media: MediaInfo) -> bool:
    """True when the source's frames must be thinned, their variable rate made constant, or
    their rate stated (ffmpeg would go by a header that does not give it)."""
    rate = source_fps(media)
    if rate is None:
        return media.fps > MAX_FPS + 0.5
    return media.variable_fps or _rate_read(media)[1] or rate != output_fps(media)


def rate_option(rate: Fraction) -> str:
    """A frame rate as ffmpeg reads it exactly: "25", "30000/1001"."""
    return str(rate.numerator) if rate.denominator == 1 else f"{rate.numerator}/{rate.denominator}"


def is_hdr(media: MediaInfo) -> bool:
    return (media.color_transfer or "") in HDR_TRANSFERS


def _even(value: float) -> int:
    return max(2, int(round(value / 2)) * 2)


def covering_size(src_w: int, src_h: int, out_w: int, out_h: int) -> tuple[int, int]:
    """The smallest scale of the source that still covers out_w x out_h (the source when it is smaller)."""
    factor = max(out_w / src_w, out_h / src_h)
    if factor >= 1.0:
        return src_w, src_h
    return max(out_w, _even(src_w * factor)), max(out_h, _even(src_h * factor))


@functools.lru_cache(maxsize=1)
def has_tone_mapping() -> bool:
    """True when this ffmpeg has zscale and tonemap (Debian's does: it is built with zimg)."""
    try:
        listing = subprocess.run(["ffmpeg", "-hide_banner", "-filters"], capture_output=True, text=True,
                                 timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return False
    names = {line.split()[1] for line in listing.splitlines() if len(line.split()) > 2}
    return {"zscale", "tonemap"} <= names


def source_picture(media: MediaInfo, out_w: int, out_h: int, shrink: bool = True,
                   active: Active = WHOLE) -> SourcePicture:
    """`shrink` False keeps the source's size (a framing that enlarges part of it needs them all).
    `active`: the picture inside black bars, cut out first."""
    src_w, src_h = active.size(media.display_width, media.display_height)
    chain = [active.crop_filter().rstrip(",")] if not active.whole else []
    if changes_rate(media):
        chain.append(f"fps={rate_option(output_fps(media))}")
    width, height = covering_size(src_w, src_h, out_w, out_h) if shrink else (src_w, src_h)
    if is_hdr(media):
        chain.append(tone_map(media, width, height))
    elif (width, height) != (src_w, src_h) or media.sar != 1.0 or not active.whole:    # square pixels, even size
        chain.append(f"scale={width}:{height}")
    elif (media.pix_fmt or "yuv420p") not in ("yuv420p", "yuvj420p"):
        chain.append("format=yuv420p")
    return SourcePicture("".join(f"{f}," for f in chain), width, height)


def tone_map(media: MediaInfo, width: int, height: int) -> str:
    """Scale and HDR -> SDR BT.709 8-bit, in linear light at the covering size."""
    if has_tone_mapping():
        transfer = HDR_TRANSFERS[media.color_transfer or "smpte2084"]
        return (f"zscale=w={width}:h={height}:tin={transfer}:min=bt2020nc:pin=bt2020:rin=tv"
                f":t=linear:npl={NOMINAL_PEAK_NITS},format=gbrpf32le,zscale=p=bt709,"
                f"tonemap=tonemap=mobius:desat=0,zscale=t=bt709:m=bt709:r=tv,format=yuv420p")
    return f"scale={width}:{height}:in_color_matrix=bt2020:out_color_matrix=bt709,format=yuv420p"

"""What a source picture needs before it is framed: at most 30 frames a second, no more pixels
than the short needs, and SDR 8-bit colour.

The filters go first in each segment's chain, so a 4K 60 fps source is thinned to 30 fps and
shrunk before anything else (framing, captions, the encoder) touches a frame. The shrink keeps
every pixel the short can show: the source is scaled to just cover the output size, so any crop
of it still fills the output at full sharpness.

HDR (PQ or HLG, usually 10-bit BT.2020) is tone-mapped to SDR BT.709 with zscale and tonemap,
in linear light. The curve is Möbius: it keeps everything up to the usual brightness of a
scene as it is and rolls off only the highlights; Hable (the other common choice) dims the
whole picture by a third, measured on a picture graded at BT.2408's 203-nit reference white. Without those filters (an
ffmpeg built without zimg) the fallback converts the colour matrix and bit depth only: colours
are right but highlights are flat.
"""
from __future__ import annotations

import functools
import subprocess
from dataclasses import dataclass

from engine.models import MediaInfo

MAX_FPS = 30.0
HDR_TRANSFERS = {"smpte2084": "smpte2084", "arib-std-b67": "arib-std-b67"}    # ffprobe name -> zscale name
NOMINAL_PEAK_NITS = 100


@dataclass(frozen=True)
class SourcePicture:
    filters: str                 # "" or a filter chain ending in "," to put before the framing
    width: int                   # the picture the framing sees
    height: int


def output_fps(media: MediaInfo) -> float:
    if media.fps and 1.0 <= media.fps <= 120.0:
        return min(media.fps, MAX_FPS)
    return MAX_FPS


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


def source_picture(media: MediaInfo, out_w: int, out_h: int, shrink: bool = True) -> SourcePicture:
    """`shrink` False keeps the source's size (a framing that enlarges part of it needs them all)."""
    src_w, src_h = media.display_width, media.display_height
    chain = []
    if media.fps > MAX_FPS + 0.5:
        chain.append(f"fps={MAX_FPS:g}")
    width, height = covering_size(src_w, src_h, out_w, out_h) if shrink else (src_w, src_h)
    if is_hdr(media):
        chain.append(tone_map(media, width, height))
    elif (width, height) != (src_w, src_h):
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

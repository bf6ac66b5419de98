"""An audiogram's photo in the short's shape: where it goes, found from the faces in it.

A photo rarely has the short's shape. Centre-cropping a 16:9 photo of two people to 9:16 cut
both faces in half and blew the rest up past sharp; so the faces (engine.reframe's detector,
run once on the still) decide:

    crop   one face, or faces that fit together in one window of the short's width: the photo
           scaled to fill the short, but at most MAX_UPSCALE, and a close-up no more than puts its
           head-to-chin into FACE_ZONE (the rows the title, captions and level bars leave free;
           the photo still fills the width); moved so the faces are across the middle and in
           FACE_ZONE, a face low in the photo lifted as far as the photo's bottom at the bars' top;
    fit    faces too far apart for one window, or none: the whole photo, scaled to the short's
           width (at most MAX_UPSCALE), its faces (or its middle) as near FACE_ZONE as it goes.

What the photo does not cover is a blurred, darkened copy of it (as engine.framing's fit layout
draws a video). The still is composed once, at the short's size; the audiogram's ffmpeg run only
loops it. Captions that would still cover a face (a close-up too tall for FACE_ZONE) move under
the face, or under the level bars (`caption_spot`).
"""
from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.reframe.detection import Face, shared_detector
from engine.reframe.panels import CHIN_BELOW, HEAD_ABOVE

MAX_UPSCALE = 2.0               # a photo enlarged more than this looks soft; blurred fill shows instead
WIDTH_SNAP = 1.15               # ...unless a little more fills the short's width (no thin bands of fill)
WAVE_TOP = 0.64                 # the level bars' top (engine.audiogram.WAVE_SHARE): a photo's bottom may rise this far
CAPTION_HALF = 0.075            # half a two-row caption's height at the audiogram's size
CAPTION_GAP = 0.02              # between a face's chin and the captions, share of the height
FACE_ZONE = (0.19, 0.5 - CAPTION_HALF - CAPTION_GAP)    # rows (shares of the height) below a two-row title
                                                        # and above the captions: head to chin go here
FACE_MARGIN = 0.35              # of a face's width, each side: hair and ears must stay in the window
DETECT_SIDE = 640               # pixels on the long side of the grey copy the detector reads
FILL_DARKEN = -0.18             # the blurred fill, darker than the photo so the photo stands out
PHOTO_DARKEN = -0.12            # the photo itself, so white captions stay readable


@dataclass(frozen=True)
class PhotoPlacement:
    """The photo scaled by `scale` with its top-left corner at (x, y) of a width x height short
    (either may be negative: the photo runs past that edge); `faces` the found faces (shares of
    the photo); `face_rows` the highest head and lowest chin in the short (shares of its height)."""

    layout: str                 # "crop" | "fit"
    photo_w: int
    photo_h: int
    scale: float
    x: int
    y: int
    width: int
    height: int
    faces: tuple[Face, ...]
    face_rows: tuple[float, float] | None


@dataclass(frozen=True)
class CaptionSpot:
    """Where the audiogram's captions go: the ASS alignment (5 middle, 8 hanging from a row) and
    MarginV (the row they hang from, in pixels; 0 in the middle)."""

    alignment: int
    margin_v: int


def photo_size(path: Path, timeout_s: float = 60.0) -> tuple[int, int]:
    """The still's width and height as shown: a phone's photo is stored on its side with an EXIF
    orientation, which ffmpeg turns upright as it decodes (so every size here must be the upright one,
    or the photo is squeezed into the other shape)."""
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-read_intervals", "%+#1", "-show_frames",
                          "-show_entries", "frame=width,height:frame_side_data=rotation", "-of", "json", str(path)],
                         capture_output=True, text=True, timeout=timeout_s, check=True)
    frame = json.loads(out.stdout)["frames"][0]
    turned = any(abs(round(float(d.get("rotation", 0)))) % 180 == 90 for d in frame.get("side_data_list", []))
    w, h = int(frame["width"]), int(frame["height"])
    return (h, w) if turned else (w, h)


def faces_in_photo(path: Path, photo_w: int, photo_h: int, timeout_s: float = 60.0) -> list[Face]:
    """Every face the detector finds in the still, all its passes (one picture costs little)."""
    scale = min(1.0, DETECT_SIDE / max(photo_w, photo_h))
    w, h = max(2, int(photo_w * scale) // 2 * 2), max(2, int(photo_h * scale) // 2 * 2)
    raw = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-frames:v", "1",
                          "-vf", f"scale={w}:{h},format=gray", "-f", "rawvideo", "-"],
                         capture_output=True, timeout=timeout_s, check=True).stdout
    if len(raw) < w * h:
        return []
    return shared_detector().detect(np.frombuffer(raw[:w * h], np.uint8).reshape(h, w), thorough=True, wanted=64)


def place_photo(photo_w: int, photo_h: int, faces: list[Face], width: int, height: int) -> PhotoPlacement:
    """Where the photo goes in a width x height short (see the module's note)."""
    left = min((f.x - FACE_MARGIN * f.w for f in faces), default=0.0)
    right = max((f.x + f.w * (1 + FACE_MARGIN) for f in faces), default=1.0)
    head = min((f.y - HEAD_ABOVE * f.h for f in faces), default=0.0)
    chin = max((f.y + (1 + CHIN_BELOW) * f.h for f in faces), default=1.0)
    fill = max(width / photo_w, height / photo_h)
    most = max(MAX_UPSCALE, width / photo_w if width / photo_w <= MAX_UPSCALE * WIDTH_SNAP else 0.0)
    # A close-up is enlarged no further than its head-to-chin fits FACE_ZONE (but fills the width).
    fits_zone = (FACE_ZONE[1] - FACE_ZONE[0]) * height / max(1.0, (chin - head) * photo_h) if faces else fill
    scale = min(most, max(width / photo_w, min(fill, fits_zone)))
    layout = "crop" if faces and (right - left) * photo_w * scale <= width else "fit"
    if layout == "fit":
        scale = min(width / photo_w, height / photo_h, most)
    shown_w, shown_h = photo_w * scale, photo_h * scale
    middle_x = (max(0.0, left) + min(1.0, right)) / 2 if faces else 0.5
    middle_y = (head + chin) / 2 if faces else 0.5
    x = _clamp(width / 2 - middle_x * shown_w, width - shown_w)
    target_y = sum(FACE_ZONE) / 2 * height - middle_y * shown_h
    if layout == "crop":
        # A face low in the photo is lifted out from under the captions and bars: the photo's
        # bottom may rise as far as the bars' top, the fill shows behind them.
        lowest = min(0.0, height - shown_h, WAVE_TOP * height - shown_h)
        y = min(max(target_y, lowest), max(0.0, height - shown_h))
    else:
        y = _clamp(target_y, height - shown_h)
    rows = ((y + head * shown_h) / height, (y + chin * shown_h) / height) if faces else None
    return PhotoPlacement(layout, photo_w, photo_h, scale, round(x), round(y), width, height, tuple(faces), rows)


def _clamp(offset: float, other_edge: float) -> float:
    """An offset between 0 and the other edge's (negative when the photo is larger than the short)."""
    return min(max(offset, min(0.0, other_edge)), max(0.0, other_edge))


def compose_background(photo: Path, out: Path, width: int, height: int, timeout_s: float = 60.0
                       ) -> PhotoPlacement:
    """The photo placed in the short over its blurred, darkened self, one PNG of width x height."""
    photo_w, photo_h = photo_size(photo, timeout_s)
    placed = place_photo(photo_w, photo_h, faces_in_photo(photo, photo_w, photo_h, timeout_s), width, height)
    shown_w, shown_h = max(2, round(photo_w * placed.scale)), max(2, round(photo_h * placed.scale))
    small_w, small_h = max(16, width // 16 // 2 * 2), max(16, height // 16 // 2 * 2)
    graph = (f"[0:v]format=rgb24,split=2[cover][photo];"
             f"[cover]scale={small_w}:{small_h}:force_original_aspect_ratio=increase:flags=bilinear,"
             f"crop={small_w}:{small_h},boxblur=luma_radius=3:luma_power=2,scale={width}:{height}:flags=bicubic,"
             f"eq=brightness={FILL_DARKEN - PHOTO_DARKEN}[fill];"
             f"[photo]scale={shown_w}:{shown_h}:flags=lanczos[shown];"
             f"[fill][shown]overlay=x={placed.x}:y={placed.y},eq=brightness={PHOTO_DARKEN},format=rgb24")
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(photo), "-frames:v", "1",
                    "-filter_complex", graph, str(out)], capture_output=True, timeout=timeout_s, check=True)
    return placed


def caption_spot(placed: PhotoPlacement | None, wave_bottom: float) -> CaptionSpot:
    """The captions in the middle, unless a face reaches down into them: then hanging under its
    chin when there is room above the level bars, else under the bars."""
    if placed is None or placed.face_rows is None or placed.face_rows[1] <= FACE_ZONE[1] + 1e-6:
        return CaptionSpot(5, 0)
    below_chin = placed.face_rows[1] + CAPTION_GAP
    if below_chin + 2 * CAPTION_HALF <= WAVE_TOP - CAPTION_GAP:
        return CaptionSpot(8, round(below_chin * placed.height))
    return CaptionSpot(8, round((wave_bottom + CAPTION_GAP / 2) * placed.height))

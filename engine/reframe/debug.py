"""`shortsbot clip --debug-reframe`: a small preview of why the camera went where it did.

The source range, small, with each face track's box and a label with its measures at that
moment ("#2 voice 0.61 face 0.35 lips 0.8": the speaking score, smoothed as the editor read it,
the same score of the whole lower face with the head in it, and the lips' motion against that
face's usual), the part of the picture the short shows (the crop window, the two stacked
panels, or the whole picture for the blurred fit), and on top the layout, who the camera is on
and the stretch's reason with its pooled numbers, so a person can check a choice frame by frame.
The numbers are the trace's: the arrays the decisions used.
"""
from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path

import numpy as np

from engine.reframe.editor import BOTH
from engine.reframe.expression import centre_at
from engine.reframe.path import Framing

PREVIEW_LONG_SIDE = 640
PREVIEW_FPS = 12.5
COLOURS = [(0, 200, 255), (255, 160, 0), (120, 255, 120), (255, 80, 200), (200, 200, 200)]   # BGR, one a track
WINDOW_COLOUR = (0, 0, 255)
SEAM_COLOUR = (0, 255, 255)        # yellow (BGR): the seams of a split screen
FONT_SCALE = 0.42
LINE_H = 15                 # pixels a text line takes at FONT_SCALE
WRAP = 78                   # characters a header line holds at 640 px
REASON_LINES = 4
LIPS_SMOOTH = 9             # the lips shown averaged over the frames the voice score is smoothed over


def _stretch_at(framing: Framing, t: float):
    for stretch in framing.stretches:
        if stretch.start <= t < stretch.end:
            return stretch
    return framing.stretches[-1] if framing.stretches else None


def moving_mean(values: np.ndarray, frames: int = LIPS_SMOOTH) -> np.ndarray:
    """Each value averaged with its neighbours over `frames`, NaN left out (NaN where all are)."""
    known = ~np.isnan(values)
    kernel = np.ones(frames)
    total = np.convolve(np.where(known, values, 0.0), kernel, mode="same")
    count = np.convolve(known.astype(float), kernel, mode="same")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / count, np.nan)


def on_camera(stretch, layout: str) -> str:
    """Who the short shows: "camera on #2", "camera on #1 (top) and #2 (bottom)", "whole picture"."""
    if stretch is not None and stretch.tracks and layout == "crop":
        return "camera on " + " and ".join(f"#{t}" for t in stretch.tracks)
    if stretch is not None and len(stretch.tracks) == 2 and layout == "stacked":
        return f"camera on #{stretch.tracks[0]} (top) and #{stretch.tracks[1]} (bottom)"
    return {"fit": "whole picture, blurred behind", "scale": "whole picture"}.get(layout, layout)


def reason_now(stretch, t: float) -> str:
    """The stretch's reason that holds at `t`; of a stretch made of several decisions, with
    where it starts and how many there are ("2 of 3, from 7.3 s: ...")."""
    parts = stretch.reasons()
    if len(parts) == 1:
        return stretch.reason
    k = stretch.part_at(t)
    return f"{k + 1} of {len(parts)}, from {parts[k][0]:.1f} s: {parts[k][1]}"


def header_lines(t: float, layout: str, stretch, reason: str) -> list[str]:
    """The header's text: the time, layout and who is shown; then the reason, wrapped."""
    lines = textwrap.wrap(reason, WRAP, max_lines=REASON_LINES, placeholder=" ...") or [""]
    return [f"{t:5.1f}s  {layout}: {on_camera(stretch, layout)}"] + lines


def moment_line(speaking: bool, named: int) -> str:
    """The bottom line: is someone speaking, and whom the voice names at this moment (the
    editor's turns are runs of these)."""
    who = {BOTH: "two too close to call", -1: "nobody"}.get(named, f"#{named}")
    return ("speech" if speaking else "no speech") + f" | voice now: {who}"


def track_label(track_id: int, voice: float, lips: float, face: float | None = None) -> str:
    """"#2 voice 0.61 lips 0.8" ("lips -" where the face's lips are not seen), with "face 0.35"
    after the voice when the whole face's score (head included, see whole_face) is known."""
    face_said = "" if face is None else f" face {face:.2f}"
    return f"#{track_id} voice {voice:.2f}{face_said} lips " + ("-" if np.isnan(lips) else f"{lips:.1f}")


def _text(image: np.ndarray, text: str, at: tuple[int, int], colour, back=(0, 0, 0)) -> None:
    """Text on a filled box (readable over any picture); `at` is the baseline's left end."""
    import cv2

    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, FONT_SCALE, 1)
    x, y = max(2, min(at[0], image.shape[1] - tw - 3)), at[1]
    cv2.rectangle(image, (x - 2, y - th - 3), (x + tw + 2, y + base), back, -1)
    cv2.putText(image, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, FONT_SCALE, colour, 1, cv2.LINE_AA)


def draw_frame(image: np.ndarray, t: float, framing: Framing, lips_shown: np.ndarray | None = None) -> np.ndarray:
    """One preview frame (BGR, drawn on in place and returned). `lips_shown`: the trace's lips
    through moving_mean, when the caller has it already."""
    import cv2

    h, w = image.shape[:2]
    trace = framing.trace
    stretch = _stretch_at(framing, t)
    layout = stretch.layout if stretch is not None else framing.mode
    _draw_seams(image, framing.split)
    _draw_window(image, t, framing, stretch, layout)
    lines = header_lines(t, layout, stretch, reason_now(stretch, t) if stretch is not None else framing.reason)
    if framing.split.found:
        lines[0] += f"  | split screen, {len(framing.split.seams)} seam{'s' if len(framing.split.seams) > 1 else ''}"
    top = LINE_H * len(lines) + 6
    shade = image[:top].astype(np.float32) * 0.35
    image[:top] = shade.astype(np.uint8)
    for n, line in enumerate(lines):
        cv2.putText(image, line, (6, LINE_H * (n + 1)), cv2.FONT_HERSHEY_SIMPLEX, FONT_SCALE,
                    (255, 255, 255), 1, cv2.LINE_AA)
    if trace is not None and len(trace.times):
        if lips_shown is None:
            lips_shown = np.array([moving_mean(values) for values in trace.lips])
        i = int(np.clip(np.searchsorted(trace.times, t), 0, len(trace.times) - 1))
        for k, track_id in enumerate(trace.track_ids):
            box = trace.boxes[k, i]
            if np.isnan(box[0]):
                continue
            x, y, bw, bh = (box * [w, h, w, h]).astype(int)
            shown = stretch is not None and track_id in stretch.tracks
            colour = COLOURS[k % len(COLOURS)]
            cv2.rectangle(image, (x, y), (x + bw, y + bh), colour, 3 if shown else 1)
            label = track_label(track_id, trace.smoothed[k, i], lips_shown[k, i],
                                None if trace.face is None else trace.face[k, i])
            below = y - 6 < top + LINE_H
            at = (x, y + bh + LINE_H if below else y - 6)
            # The person the camera is on: their label filled with their colour.
            _text(image, label, at, (0, 0, 0) if shown else colour, colour if shown else (0, 0, 0))
        _text(image, moment_line(bool(trace.speaking[i]), int(trace.named[i])), (8, h - 10), (255, 255, 255))
    return image


def _draw_seams(image: np.ndarray, split) -> None:
    """The seams of a split screen (and the top of a bar burnt in across the bottom), dashed."""
    import cv2

    h, w = image.shape[:2]
    for seam in split.seams:
        x = int(seam.centre * w)
        for y in range(0, h, 16):
            cv2.line(image, (x, y), (x, min(h - 1, y + 8)), SEAM_COLOUR, 2)
    if split.found and split.floor < 1.0:
        y = int(split.floor * h)
        for x in range(0, w, 16):
            cv2.line(image, (x, y), (min(w - 1, x + 8), y), SEAM_COLOUR, 2)


def _draw_window(image: np.ndarray, t: float, framing: Framing, stretch, layout: str) -> None:
    """The part of the source the short shows, in red."""
    import cv2

    h, w = image.shape[:2]
    if layout == "stacked" and stretch is not None:
        for (px, py, pw, ph), label, track in zip(stretch.panels_at(t), ("top", "bottom"), stretch.tracks):
            x0, y0 = int(px * w), int(py * h)
            cv2.rectangle(image, (x0, y0), (int((px + pw) * w), int((py + ph) * h)), WINDOW_COLOUR, 2)
            _text(image, f"{label} #{track}", (x0 + 4, int((py + ph) * h) - 6), (255, 255, 255), WINDOW_COLOUR)
    elif layout == "crop" and framing.window.slides:
        centre = centre_at(framing.pieces, t)
        length = framing.window.length
        if framing.window.axis == "x":
            x0, x1 = int((centre - length / 2) * w), int((centre + length / 2) * w)
            top, span = framing.window.top, framing.window.span
            cv2.rectangle(image, (x0, max(1, int(top * h))), (x1, min(h - 2, int((top + span) * h))), WINDOW_COLOUR, 2)
        else:
            y0, y1 = int((centre - length / 2) * h), int((centre + length / 2) * h)
            cv2.rectangle(image, (1, y0), (w - 2, y1), WINDOW_COLOUR, 2)
    else:
        cv2.rectangle(image, (1, 1), (w - 2, h - 2), WINDOW_COLOUR, 2)


def write_preview(source: Path, start: float, end: float, display_w: int, display_h: int,
                  framing: Framing, out_path: Path, timeout_s: float = 600.0) -> Path:
    """The preview of [start, end) of `source` as a small silent MP4 at `out_path`."""
    scale = min(1.0, PREVIEW_LONG_SIDE / max(display_w, display_h))
    w, h = max(2, int(display_w * scale) // 2 * 2), max(2, int(display_h * scale) // 2 * 2)
    reader = subprocess.Popen(
        ["ffmpeg", "-nostdin", "-v", "error", "-ss", f"{start:.3f}", "-t", f"{end - start:.3f}", "-i", str(source),
         "-map", "0:v:0", "-vf", f"{framing.active.crop_filter()}fps={PREVIEW_FPS},scale={w}:{h}", "-pix_fmt", "bgr24",
         "-f", "rawvideo", "pipe:1"],
        stdout=subprocess.PIPE)
    writer = subprocess.Popen(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{w}x{h}",
         "-r", f"{PREVIEW_FPS}", "-i", "pipe:0", "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
         "-movflags", "+faststart", str(out_path)], stdin=subprocess.PIPE)
    trace = framing.trace
    lips_shown = np.array([moving_mean(values) for values in trace.lips]) if trace is not None else None
    try:
        index = 0
        while True:
            chunk = reader.stdout.read(w * h * 3)
            if len(chunk) < w * h * 3:
                break
            frame = np.frombuffer(chunk, np.uint8).reshape(h, w, 3).copy()
            writer.stdin.write(draw_frame(frame, index / PREVIEW_FPS, framing, lips_shown).tobytes())
            index += 1
    finally:
        reader.stdout.close()
        reader.wait(timeout=timeout_s)
        writer.stdin.close()
        writer.wait(timeout=timeout_s)
    return out_path

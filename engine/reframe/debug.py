"""`shortsbot clip --debug-reframe`: a small preview of why the camera went where it did.

The source range, small, with each face track's box, id and speaking score, who the camera
is on, and the part of the picture the short shows (the crop window, the two stacked panels,
or the whole picture for the blurred fit), so a person can check a choice frame by frame.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

from engine.reframe.expression import centre_at
from engine.reframe.path import Framing

PREVIEW_LONG_SIDE = 640
PREVIEW_FPS = 12.5
COLOURS = [(0, 200, 255), (255, 160, 0), (120, 255, 120), (255, 80, 200), (200, 200, 200)]


def _stretch_at(framing: Framing, t: float):
    for stretch in framing.stretches:
        if stretch.start <= t < stretch.end:
            return stretch
    return framing.stretches[-1] if framing.stretches else None


def draw_frame(image: np.ndarray, t: float, framing: Framing) -> np.ndarray:
    """One preview frame (BGR, drawn on in place and returned)."""
    import cv2

    h, w = image.shape[:2]
    trace = framing.trace
    stretch = _stretch_at(framing, t)
    if trace is not None and len(trace.times):
        i = int(np.clip(np.searchsorted(trace.times, t), 0, len(trace.times) - 1))
        for k, track_id in enumerate(trace.track_ids):
            box = trace.boxes[k, i]
            if np.isnan(box[0]):
                continue
            x, y, bw, bh = (box * [w, h, w, h]).astype(int)
            shown = stretch is not None and track_id in stretch.tracks
            colour = COLOURS[k % len(COLOURS)]
            cv2.rectangle(image, (x, y), (x + bw, y + bh), colour, 3 if shown else 1)
            cv2.putText(image, f"#{track_id} speak {trace.scores[k, i]:.2f}", (x, max(12, y - 6)),
                        cv2.FONT_HERSHEY_SIMPLEX, 0.45, colour, 1, cv2.LINE_AA)
        if trace.speaking[i]:
            cv2.putText(image, "speech", (8, h - 10), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
    layout = stretch.layout if stretch is not None else framing.mode
    if layout == "stacked" and stretch is not None:
        for (px, py, pw, ph), label in zip(stretch.panels, ("top", "bottom")):
            x0, y0 = int(px * w), int(py * h)
            cv2.rectangle(image, (x0, y0), (int((px + pw) * w), int((py + ph) * h)), (0, 0, 255), 2)
            cv2.putText(image, label, (x0 + 4, y0 + 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 255), 1, cv2.LINE_AA)
    elif layout in ("crop",) and framing.window.slides:
        centre = centre_at(framing.pieces, t)
        length = framing.window.length
        if framing.window.axis == "x":
            x0, x1 = int((centre - length / 2) * w), int((centre + length / 2) * w)
            cv2.rectangle(image, (x0, 1), (x1, h - 2), (0, 0, 255), 2)
        else:
            y0, y1 = int((centre - length / 2) * h), int((centre + length / 2) * h)
            cv2.rectangle(image, (1, y0), (w - 2, y1), (0, 0, 255), 2)
    else:
        cv2.rectangle(image, (1, 1), (w - 2, h - 2), (0, 0, 255), 2)
    cv2.putText(image, f"{t:5.1f}s  {layout}  {stretch.reason if stretch is not None else framing.reason}",
                (8, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
    return image


def write_preview(source: Path, start: float, end: float, display_w: int, display_h: int,
                  framing: Framing, out_path: Path, timeout_s: float = 600.0) -> Path:
    """The preview of [start, end) of `source` as a small silent MP4 at `out_path`."""
    scale = min(1.0, PREVIEW_LONG_SIDE / max(display_w, display_h))
    w, h = max(2, int(display_w * scale) // 2 * 2), max(2, int(display_h * scale) // 2 * 2)
    reader = subprocess.Popen(
        ["ffmpeg", "-nostdin", "-v", "error", "-ss", f"{start:.3f}", "-t", f"{end - start:.3f}", "-i", str(source),
         "-map", "0:v:0", "-vf", f"fps={PREVIEW_FPS},scale={w}:{h}", "-pix_fmt", "bgr24", "-f", "rawvideo", "pipe:1"],
        stdout=subprocess.PIPE)
    writer = subprocess.Popen(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{w}x{h}",
         "-r", f"{PREVIEW_FPS}", "-i", "pipe:0", "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
         "-movflags", "+faststart", str(out_path)], stdin=subprocess.PIPE)
    try:
        index = 0
        while True:
            chunk = reader.stdout.read(w * h * 3)
            if len(chunk) < w * h * 3:
                break
            frame = np.frombuffer(chunk, np.uint8).reshape(h, w, 3).copy()
            writer.stdin.write(draw_frame(frame, index / PREVIEW_FPS, framing).tobytes())
            index += 1
    finally:
        reader.stdout.close()
        reader.wait(timeout=timeout_s)
        writer.stdin.close()
        writer.wait(timeout=timeout_s)
    return out_path

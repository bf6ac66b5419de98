"""Lettering burnt into the source (subtitles over the picture, at its top or bottom) is kept out
of the crop window: a window of the whole height showed a slice of it ("aders in charge") above
our own captions. Real faces from ../shared/media, the lettering drawn by ffmpeg as subtitles are."""
from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from engine import reframe
from engine.reframe.text_band import text_band, text_strokes

LINES = ("we are in the world for a reason people", "and maybe it was not the best idea")


def lettered(shared_media: Path, out: Path, at: str | None) -> Path:
    """8 s of a real talking face in a 16:9 frame, with two subtitle lines in turn at the top
    or the bottom (`at`; None: none), white with a dark outline."""
    chain = "pad=800:450:175:0:color=0x303848"
    if at is not None:
        y = "8" if at == "top" else "h-th-10"
        for text, when in zip(LINES, ("lt(t,3.5)", "gte(t,3.7)")):
            chain += (f",drawtext=text='{text}':fontcolor=white:borderw=2:bordercolor=black:fontsize=22"
                      f":x=(w-tw)/2:y={y}:enable='{when}'")
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(shared_media / "talking_obama_20s.mp4"),
                    "-t", "8", "-vf", chain, "-c:v", "libx264", "-preset", "veryfast", "-g", "25", "-an", str(out)],
                   check=True)
    return out


@pytest.mark.parametrize("at", ["top", "bottom"])
def test_lettering_over_the_picture_is_kept_out_of_the_crop(shared_media, tmp_path, at):
    framing = reframe.frame_range(lettered(shared_media, tmp_path / f"{at}.mp4", at), 0, 8, 800, 450, "9:16",
                                  has_audio=False)
    window, split = framing.window, framing.split
    assert framing.mode == "crop" and window.span < 0.97
    if at == "top":
        assert 0.04 < split.ceiling < 0.12 and window.top >= split.ceiling
    else:
        assert 0.85 < split.floor < 0.96 and window.top + window.span <= split.floor + 1e-9
    assert "lettering" in framing.reason
    plain = reframe.frame_range(lettered(shared_media, tmp_path / "plain.mp4", None), 0, 8, 800, 450, "9:16",
                                has_audio=False)
    assert (plain.window.span, plain.window.top, plain.split.ceiling, plain.split.floor) == (1.0, 0.0, 0.0, 1.0)


def grey_frames(path: Path, width: int = 448, fps: float = 1.0) -> list[np.ndarray]:
    w, h = (int(v) for v in subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height", "-of", "csv=p=0",
         str(path)], capture_output=True, text=True, check=True).stdout.split(",")[:2])
    height = int(round(h * width / w / 2) * 2)
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-vf", f"fps={fps},scale={width}:{height},format=gray",
                          "-f", "rawvideo", "-"], capture_output=True, check=True).stdout
    return list(np.frombuffer(raw, np.uint8).reshape(-1, height, width))


def test_real_pictures_without_lettering_have_none(shared_media):
    """A street, faces turning, a face that moves: no band, so no window is shrunk for nothing."""
    for video in sorted(shared_media.glob("*.mp4")):
        assert text_band([text_strokes(g) for g in grey_frames(video)]) == (0.0, 1.0), video.name

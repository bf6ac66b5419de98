"""Black bars baked into the source (engine/letterbox.py): found on small grey frames, and cut
away before the framing, so the short carries no black bands."""
from __future__ import annotations

import dataclasses
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from engine import render
from engine.letterbox import WHOLE, active_area, find_bars
from engine.models import RenderSpec
from engine.probe import probe


def frames(count: int = 5, height: int = 90, width: int = 160, seed: int = 0) -> np.ndarray:
    """Textured grey frames (a scene), different each time."""
    rng = np.random.default_rng(seed)
    return rng.integers(60, 220, size=(count, height, width), dtype=np.uint8)


def test_a_letterbox_and_a_pillarbox_are_found():
    boxed = frames()
    boxed[:, :12], boxed[:, -12:] = 16, 16                              # 2.39:1 inside 16:9, roughly
    margin = 1.5 / 90
    assert find_bars(boxed) == dataclasses.replace(WHOLE, top=12 / 90 + margin, bottom=78 / 90 - margin)
    pillared = frames()
    pillared[:, :, :55], pillared[:, :, -55:] = 0, 0                    # 9:16 inside 16:9
    found = find_bars(pillared)
    assert (found.left, found.right, found.top, found.bottom) == (56.5 / 160, 103.5 / 160, 0.0, 1.0)


def test_a_logo_in_a_bar_leaves_it_a_bar():
    boxed = frames()
    boxed[:, :12], boxed[:, -12:] = 16, 16
    boxed[:, 3:6, 140:143] = 255                                         # a channel's bug in the corner
    assert find_bars(boxed).top == 13.5 / 90


@pytest.mark.parametrize("case", ["dark scene", "one dark side", "one dark frame", "too few frames", "thin border"])
def test_what_is_not_bars(case):
    scene = frames()
    if case == "dark scene":
        scene[:] = 20                                                   # black from edge to edge: no picture left
    elif case == "one dark side":
        scene[:, :, :40] = 10                                           # a dark wall on the left only
    elif case == "one dark frame":
        scene[:, :12], scene[:, -12:] = 16, 16
        scene[2, :12] = 120                                             # the top rows lit in one frame
        assert find_bars(scene).top == 0.0
        return
    elif case == "too few frames":
        scene = scene[:1]
        scene[:, :12], scene[:, -12:] = 16, 16
    else:
        scene[:, :1], scene[:, -1:] = 0, 0                              # a one-row border: 1 % of the height
    assert find_bars(scene) == WHOLE


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True)


def boxed_source(path: Path, width: int, height: int, x: int, y: int) -> Path:
    """A grey picture width x height with a white square in its middle, padded with black into a
    1920x1080 frame at (x, y); 6 s, with sound."""
    side = min(width, height) // 4
    ffmpeg("-f", "lavfi", "-i", f"color=c=0x707070:s={width}x{height}:rate=25:duration=6",
           "-f", "lavfi", "-i", "sine=duration=6",
           "-vf", f"drawbox=x={(width - side) // 2}:y={(height - side) // 2}:w={side}:h={side}:color=white:t=fill,"
                  f"pad=1920:1080:{x}:{y},setsar=1",
           "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest",
           str(path))
    return path


def test_the_bars_are_found_in_a_real_file_and_not_in_the_real_recordings(tmp_path, shared_media):
    boxed = boxed_source(tmp_path / "film.mp4", 1920, 804, 0, 138)
    found = active_area(boxed, 1.0, 5.0, 1920, 1080)
    assert found.top == pytest.approx(138 / 1080, abs=0.01) and found.bottom == pytest.approx(942 / 1080, abs=0.01)
    for name in ("talking_obama_20s.mp4", "headpose_female_and_male_ccby.mp4", "faces_street_facenet_1080p.mp4"):
        media = probe(shared_media / name)
        assert active_area(media.path, 0.0, media.duration, media.display_width, media.display_height) == WHOLE, name


@pytest.mark.slow
@pytest.mark.parametrize("box, picture", [((1920, 804, 0, 138), (100, 74)), ((1440, 1080, 240, 0), (75, 100)),
                                          ((608, 1080, 656, 0), (32, 100))],
                         ids=["film letterboxed", "4:3 pillarboxed", "vertical in 16:9"])
def test_a_short_of_a_boxed_source_has_no_black_bands(tmp_path, engine_config, box, picture):
    """The short is picture to its edges, the square stays square, and the framing's reason says
    what was cut away."""
    spec = RenderSpec(media=probe(boxed_source(tmp_path / "boxed.mp4", *box)), segments=[(1.0, 4.0)],
                      captions=False, resolution=360)
    config = dataclasses.replace(engine_config, x264_preset="ultrafast")
    prepared = render.prepare(spec, config)
    said = re.search(r"black bars cut away: the picture is (\d+) x (\d+) % of the frame$", prepared.framings[0].reason)
    assert said and all(abs(int(a) - b) <= 2 for a, b in zip(said.groups(), picture)), prepared.framings[0].reason
    clip = render.render_clip(spec, tmp_path / "short.mp4", config)
    raw = subprocess.run(["ffmpeg", "-v", "error", "-ss", "1.0", "-i", str(clip.path), "-frames:v", "1",
                          "-f", "rawvideo", "-pix_fmt", "gray", "-"], capture_output=True, check=True).stdout
    shown = np.frombuffer(raw, np.uint8).reshape(640, 360)
    edges = {"top": shown[:3], "bottom": shown[-3:], "left": shown[:, :3], "right": shown[:, -3:]}
    assert all(band.mean() > 80 for band in edges.values()), {side: float(band.mean()) for side, band in edges.items()}
    ys, xs = np.nonzero(shown > 200)
    assert len(ys) and 0.9 < (np.ptp(xs) + 1) / (np.ptp(ys) + 1) < 1.1, "the square is square"


def test_a_close_up_the_bars_cut_is_still_followed(tmp_path, shared_media, engine_config):
    """A face filling a letterboxed picture, forehead and chin cut by the bars: the cascades
    find it with the bars given back (WithRoom), and the short follows it rather than falling
    back to the whole picture."""
    close_up = tmp_path / "close_up.mp4"
    ffmpeg("-i", str(shared_media / "talking_obama_20s.mp4"), "-t", "8",
           "-vf", "scale=1920:1920,crop=1920:804:0:480,pad=1920:1080:0:138,setsar=1",
           "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-c:a", "aac", str(close_up))
    framing = render.prepare(RenderSpec(media=probe(close_up), segments=[(1.0, 7.0)], captions=False,
                                        resolution=360), engine_config).framings[0]
    assert not framing.active.whole and framing.mode == "crop", framing.reason

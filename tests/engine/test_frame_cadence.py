"""Motion keeps its cadence: every frame of the source shows once in the short, or every 2nd (4th...)
frame evenly when a fast source is thinned to at most 30 fps.

The sources are flat grey pictures whose grey level counts their frames (24 + 8 * (n mod 25)), so
any crop, scale or stack of one still says which source frame it is; each rendered frame is read
back as the number of the source frame it shows.
"""
from __future__ import annotations

import dataclasses
import subprocess
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from engine import joins, render, reframe
from engine.models import EngineConfig, RenderSpec
from engine.probe import probe
from engine.reframe.stretch import Stretch
from tests.engine.test_render import ffprobe

pytestmark = pytest.mark.slow

COUNT = 25                  # grey levels before they repeat
MISSING_EVERY = 10          # the phone-like source drops one frame in 10


@pytest.fixture(scope="module")
def config(tmp_path_factory) -> EngineConfig:
    return EngineConfig(cache_dir=tmp_path_factory.mktemp("cadence-cache"), x264_preset="ultrafast")


def numbered(path: Path, rate: str, seconds: float = 3.0, phone: bool = False) -> Path:
    """`phone`: 30 fps with every 10th frame missing and the others up to 3 ms early or late."""
    picture = f"color=s=16x16:r={rate}:d={seconds},geq=lum='24+8*mod(N,{COUNT})':cb=128:cr=128,scale=320:180"
    timing = []
    if phone:
        picture += (f",select='not(eq(mod(n,{MISSING_EVERY}),5))',settb=1/90000,"
                    f"setpts='(N+floor((N+4)/9))/30/TB+0.003*sin(N*1.7)/TB'")
        timing = ["-fps_mode", "passthrough", "-enc_time_base", "1/90000", "-video_track_timescale", "90000"]
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", picture, "-f", "lavfi",
                    "-i", f"sine=duration={seconds}", *timing, "-c:v", "libx264", "-qp", "0", "-preset", "ultrafast",
                    "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(path)], check=True)
    return path


def shown(path: Path) -> np.ndarray:
    """The source frame number (mod COUNT) each frame of `path` shows, from its luma's median."""
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-vf", "scale=32:32,format=yuv420p",
                          "-fps_mode", "passthrough", "-f", "rawvideo", "pipe:1"],
                         capture_output=True, check=True).stdout
    luma = np.frombuffer(raw, np.uint8).reshape(-1, 32 * 48)[:, :32 * 32]
    return np.round((np.median(luma, axis=1) - 24) / 8).astype(int) % COUNT


def steps(path: Path) -> list[int]:
    """How many source frames each output frame is after the one before it."""
    return (np.diff(shown(path)) % COUNT).tolist()


def video_rate(path: Path) -> Fraction:
    video = next(s for s in ffprobe(path)["streams"] if s["codec_type"] == "video")
    assert video["r_frame_rate"] == video["avg_frame_rate"]
    return Fraction(video["r_frame_rate"])


@pytest.mark.parametrize("rate, step", [("24", 1), ("25", 1), ("30000/1001", 1), ("30", 1),
                                        ("50", 2), ("60000/1001", 2)])
def test_each_source_frame_shows_once_or_every_second_one_evenly(config, tmp_path, rate, step):
    source = numbered(tmp_path / "numbered.mp4", rate)
    spec = RenderSpec(media=probe(source), segments=[(0.5, 2.1)], resolution=360, captions=False)
    clip = render.render_clip(spec, tmp_path / "short.mp4", config)
    moved = steps(clip.path)
    assert len(moved) >= 35 and moved == [step] * len(moved), f"frames repeated or skipped: {moved}"
    assert video_rate(clip.path) == Fraction(rate) / step         # 50 -> 25, 59.94 -> 29.97


@pytest.mark.parametrize("rate, step", [("30000/1001", 1), ("50", 2)])
def test_a_speaker_layout_that_changes_mid_segment_keeps_every_frame(config, tmp_path, rate, step):
    source = numbered(tmp_path / "numbered.mp4", rate)
    spec = RenderSpec(media=probe(source), segments=[(0.5, 2.1)], resolution=360, captions=False)
    prepared = render.prepare(spec, config)
    # One person, then two stacked from 0.63 s (between two frames): split, trimmed, joined again.
    stretches = (Stretch(0.0, 0.63, "crop", (1,)),
                 Stretch(0.63, 1.6, "stacked", (2, 1), panels=((0.5, 0.1, 0.4, 0.5), (0.1, 0.1, 0.4, 0.5))))
    framing = reframe.Framing("speakers", prepared.framings[0].window, pieces=((0.0, 1.6, 0.3, 0.7),),
                              stretches=stretches)
    clip = render.encode(dataclasses.replace(prepared, framings=[framing]), tmp_path / "short.mp4", config)
    moved = steps(clip.path)
    assert moved == [step] * len(moved), f"frames repeated or skipped: {moved}"
    assert video_rate(clip.path) == Fraction(rate) / step


def test_a_variable_rate_phone_video_in_a_reel_keeps_every_frame_it_has(config, tmp_path):
    source = numbered(tmp_path / "phone.mp4", "30", seconds=6.0, phone=True)
    spec = RenderSpec(media=probe(source), segments=[(0.5, 2.5), (3.5, 5.5)], resolution=360, captions=False)
    assert spec.media.variable_fps
    clip = render.render_clip(spec, tmp_path / "reel.mp4", config)
    numbers, fps = shown(clip.path), float(video_rate(clip.path))
    join = joins.placements(spec.segments, joins.crossfade_for(spec.segments))[0][1][2]
    # Each piece away from the join, where the two pieces blend.
    for piece in (numbers[: int(join * fps) - 1], numbers[int((join + joins.CROSSFADE) * fps) + 2:]):
        moved = (np.diff(piece) % COUNT).tolist()
        assert len(moved) > 40 and max(moved) <= 2, f"frames skipped: {moved}"
        # Where the phone dropped a frame (a step of 2), its neighbour fills the slot (a step of 0)
        # beside it: the phone's own timing. Anywhere else a 0 or a 2 is a repeat or a skip.
        for i in range(1, len(moved) - 1):
            if moved[i] != 1:
                assert (2 if moved[i] == 0 else 0) in (moved[i - 1], moved[i + 1]), f"frame {i + 1}: {moved}"
        assert moved.count(2) <= len(moved) // MISSING_EVERY + 1
    assert video_rate(clip.path) == 30, "the rate it was shot at, not its average (27 fps)"


def test_a_screen_recording_with_still_gaps_keeps_its_busy_frames(config, tmp_path):
    """A screen recorder writes a frame only when the screen changes: here every 0.3 s (a blinking
    cursor) and, every 3 s, four at 30 fps (a scroll). Its usual interval is 0.3 s; the short
    holds the still frames at 30 fps rather than showing 3.3 frames a second, which would drop
    the scroll's frames."""
    source = tmp_path / "screen.mp4"
    kept = "bitor(not(mod(n,9)),between(mod(n,90),45,48))"
    picture = (f"color=s=16x16:r=30:d=7,geq=lum='24+8*mod(N,{COUNT})':cb=128:cr=128,scale=320:180,"
               f"select='{kept}',settb=1/90000")
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", picture, "-f", "lavfi", "-i", "sine=duration=7",
                    "-fps_mode", "passthrough", "-enc_time_base", "1/90000", "-video_track_timescale", "90000",
                    "-c:v", "libx264", "-qp", "0", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac",
                    "-shortest", str(source)], check=True)
    spec = RenderSpec(media=probe(source), segments=[(0.2, 6.0)], resolution=360, captions=False)
    assert spec.media.variable_fps and spec.media.steady_fps < 5          # the gaps are the usual interval
    clip = render.render_clip(spec, tmp_path / "short.mp4", config)
    assert video_rate(clip.path) >= 23
    numbers = shown(clip.path)
    distinct = [int(v) for i, v in enumerate(numbers) if i == 0 or v != numbers[i - 1]]
    scrolled = sum(1 for a, b in zip(distinct, distinct[1:]) if (b - a) % COUNT == 1)
    assert scrolled >= 2 * 3, f"the scroll's frames were dropped: {distinct}"       # two scrolls, 3 steps each


def test_a_slow_source_shows_each_frame_twice_at_24_fps(config, tmp_path):
    """12 fps (an animation, a time-lapse): each frame twice, so captions and fades move at 24
    fps while the motion keeps its own even pace."""
    source = numbered(tmp_path / "numbered.mp4", "12")
    spec = RenderSpec(media=probe(source), segments=[(0.5, 2.1)], resolution=360, captions=False)
    clip = render.render_clip(spec, tmp_path / "short.mp4", config)
    assert video_rate(clip.path) == 24
    moved = steps(clip.path)
    start = 0 if moved[0] == 0 else 1              # the first pair may begin at either frame of it
    assert len(moved) >= 30 and moved[start:] == [0, 1] * (len(moved[start:]) // 2) + [0] * (len(moved[start:]) % 2), \
        f"frames not shown twice each: {moved}"

"""4K, 60 fps and HDR sources: shorts at 30 fps, the asked size, and SDR colours that look like
the SDR original."""
from __future__ import annotations

import subprocess
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from engine import picture, render
from engine.models import EngineConfig, RenderSpec
from engine.probe import probe
from tests.engine.test_render import ffprobe, frame

pytestmark = pytest.mark.slow

# An SDR picture coded as HDR the way cameras grade it: SDR white at BT.2408's reference white (203 nits).
def to_hdr(transfer: str) -> str:
    return f"zscale=tin=bt709:min=bt709:pin=bt709:t={transfer}:m=bt2020nc:p=bt2020:npl=203,format=yuv420p10le"


def make_source(path: Path, size: str, rate: int, seconds: float = 2.0, transfer: str | None = None) -> Path:
    look = ["-vf", to_hdr(transfer), "-pix_fmt", "yuv420p10le", "-color_primaries", "bt2020", "-color_trc", transfer,
            "-colorspace", "bt2020nc"] if transfer else ["-pix_fmt", "yuv420p"]
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}:duration={seconds}",
                    "-f", "lavfi", "-i", f"sine=duration={seconds}", *look, "-c:v", "libx264", "-preset", "ultrafast",
                    "-g", str(rate),
                    "-c:a", "aac", "-shortest", str(path)], check=True)
    return path


@pytest.fixture(scope="module")
def config(tmp_path_factory) -> EngineConfig:
    return EngineConfig(cache_dir=tmp_path_factory.mktemp("large-cache"), x264_preset="ultrafast")


def spec(path: Path, resolution: int = 360) -> RenderSpec:
    return RenderSpec(media=probe(path), segments=[(0.2, 1.8)], resolution=resolution, captions=False)


def test_a_60_fps_source_larger_than_the_short_comes_out_at_30_fps_and_the_asked_size(config, tmp_path):
    source = make_source(tmp_path / "big60.mp4", "1280x720", 60)
    clip = render.render_clip(spec(source), tmp_path / "short.mp4", config)
    video = next(s for s in ffprobe(clip.path)["streams"] if s["codec_type"] == "video")
    assert (video["width"], video["height"]) == (360, 640)
    assert video["r_frame_rate"] == "30/1" and video["avg_frame_rate"] == "30/1"


def test_the_picture_is_thinned_and_shrunk_before_it_is_framed():
    media = probe_like(width=3840, height=2160, fps=59.94)
    source = picture.source_picture(media, 1080, 1920)
    assert source.filters.startswith("fps=30000/1001,scale=")    # every other frame: 29.97 fps
    assert (source.width, source.height) == (3414, 1920)     # covers 1080x1920: no pixel of the short is lost
    assert picture.output_fps(media) == Fraction(30000, 1001)


@pytest.mark.parametrize("fps, out", [(25, 25), (29.97, Fraction(30000, 1001)), (23.976, Fraction(24000, 1001)),
                                      (50, 25), (60, 30), (120, 30), (240, 30), (35, 30), (0, 30)])
def test_a_fast_source_is_thinned_by_a_whole_step_to_at_most_30_fps(fps, out):
    """50 -> 25 keeps every other frame; 50 -> 30 would keep them 2, 2, 1 apart (motion judders).
    35 fps has no whole step to 23-30 fps: it gets 30, the nearest a short can show."""
    assert picture.output_fps(probe_like(fps=fps)) == out


def test_a_variable_rate_is_made_constant_at_the_rate_it_was_shot_at():
    phone = probe_like(width=640, height=360, fps=27.0, variable_fps=True, steady_fps=30.02)   # one frame in 10 dropped
    assert picture.output_fps(phone) == 30 and picture.source_picture(phone, 360, 640).filters.startswith("fps=30,")


def test_a_variable_rate_slower_than_a_short_is_held_not_shown_at_its_own_rate():
    """A screen recording writes a frame only when the screen changes: its usual interval can be
    half a second while the cursor blinks. Its frames are held at 30 (each 15 times), not shown
    at 2 fps; a phone that starts in low light at 12 fps gets each frame twice (24)."""
    screen = probe_like(width=640, height=360, fps=9.0, variable_fps=True, steady_fps=2.0)
    assert picture.output_fps(screen) == 30 and picture.source_picture(screen, 360, 640).filters.startswith("fps=30,")
    assert picture.output_fps(probe_like(fps=13.0, variable_fps=True, steady_fps=12.0)) == 24


@pytest.mark.parametrize("fps, out", [(1, 30), (0.5, 30), (12, 24), (12.5, 25), (15, 30), (7, 28), (20, 20)])
def test_a_slow_source_shows_each_frame_a_whole_number_of_times(fps, out):
    """A podcast's still picture at 1 fps made a short at 1 fps: its captions changed once a
    second, skipping most word highlights, and its crossfade and title fade did not show."""
    slow = probe_like(width=640, height=360, fps=fps)
    assert picture.output_fps(slow) == out
    assert picture.source_picture(slow, 360, 640).filters.startswith(f"fps={out},") == (out != fps)


def test_a_header_rate_that_is_a_time_base_gives_way_to_the_measured_one():
    """A file whose header states no rate but its 1 ms time base (r_frame_rate 1000/1: "1k tbr")
    is read at the rate its frames come (30), not thinned by 33 to 30.3 fps; with nothing
    measured it gets 30, as any unknown rate does."""
    timed = probe_like(width=640, height=360, fps=1000.0, steady_fps=30.0)
    assert picture.output_fps(timed) == 30 and picture.source_picture(timed, 360, 640).filters.startswith("fps=30,")
    assert picture.output_fps(probe_like(fps=1000.0)) == 30
    unstated = probe_like(width=640, height=360, fps=0.0, steady_fps=25.0)
    assert picture.output_fps(unstated) == 25 and picture.source_picture(unstated, 360, 640).filters.startswith("fps=25,")


def test_a_variable_rate_known_only_from_an_older_record_is_not_shown_at_its_average():
    """MediaInfo stored before the usual interval was measured (a worker's analysis, a cached
    record) has no steady_fps: a phone's 27 fps average would drop every 10th frame it has."""
    from engine.models import MediaInfo

    stored = {k: v for k, v in probe_like(width=640, height=360, fps=27.0, variable_fps=True).to_dict().items() if k != "steady_fps"}
    old = MediaInfo.from_dict(stored)
    assert picture.output_fps(old) == 30 and "fps=27" not in picture.source_picture(old, 360, 640).filters


def probe_like(**fields):
    from engine.models import MediaInfo

    base = dict(path=Path("x.mp4"), kind="video", container="mp4", extension="mp4", duration=10.0, size_bytes=1,
                has_video=True, has_audio=True)
    return MediaInfo(**{**base, **fields})


@pytest.fixture(scope="module")
def sdr_reference(config, tmp_path_factory):
    """(the SDR original, its short): what both HDR codings below should look like."""
    folder = tmp_path_factory.mktemp("sdr")
    sdr = make_source(folder / "sdr.mp4", "640x360", 25)
    return sdr, render.render_clip(spec(sdr), folder / "from-sdr.mp4", config)


@pytest.mark.parametrize("transfer", ["smpte2084", "arib-std-b67"])       # PQ and HLG
def test_an_hdr_source_is_tone_mapped_to_sdr_8_bit_and_looks_like_the_original(config, sdr_reference, tmp_path,
                                                                               transfer):
    sdr, reference = sdr_reference
    hdr = make_source(tmp_path / "hdr.mp4", "640x360", 25, transfer=transfer)
    assert picture.is_hdr(probe(hdr)) and not picture.is_hdr(probe(sdr))
    mapped = render.render_clip(spec(hdr), tmp_path / "from-hdr.mp4", config)
    video = next(s for s in ffprobe(mapped.path)["streams"] if s["codec_type"] == "video")
    assert video["pix_fmt"] == "yuv420p"
    assert video.get("color_transfer") not in ("smpte2084", "arib-std-b67")
    want, got = frame(reference.path, 0.8, 360, 640), frame(mapped.path, 0.8, 360, 640)
    # The HDR-coded picture shown as if it were SDR is grey and dim (about 90 levels of 255 off on
    # average); tone-mapped, it is off by about 20 (the saturated test colours lose a little in BT.2020).
    assert np.abs(want - got).mean() < 30, np.abs(want - got).mean()
    assert abs(want.mean() - got.mean()) < 15

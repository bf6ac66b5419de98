"""Rendering with real ffmpeg, checked with ffprobe and by looking at decoded frames and sound.

Most renders are small (360x640), a few seconds long and use x264's fastest preset (what they
check is the picture and the sound, not the encoder's quality); one checks the real 1080x1920
output with the product's own settings. The plain, captioned, titled and music renders of the
same three seconds are made once and compared with each other by several tests.
"""
from __future__ import annotations

import dataclasses
import functools
import json
import os
import struct
import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest

from engine import joins, render
from engine.loudness import TARGET_LUFS, SoundLevel, measure_sound
from engine.models import Cancelled, EngineConfig, MediaInfo, RenderFailed, RenderSpec, Word
from engine.probe import probe

pytestmark = pytest.mark.slow


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True)


def ffprobe(path: Path) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json", str(path)],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def frame(path: Path, at: float, width: int, height: int, gray: bool = False) -> np.ndarray:
    fmt, depth = ("gray", 1) if gray else ("rgb24", 3)
    raw = subprocess.run(["ffmpeg", "-v", "error", "-ss", f"{at}", "-i", str(path), "-frames:v", "1",
                          "-f", "rawvideo", "-pix_fmt", fmt, "pipe:1"], capture_output=True, check=True).stdout
    shape = (height, width) if gray else (height, width, depth)
    return np.frombuffer(raw, np.uint8).reshape(shape).astype(int)


def audio(path: Path, rate: int = 48000) -> np.ndarray:
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-ac", "1", "-ar", str(rate),
                          "-f", "f32le", "pipe:1"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.float32)


def top_level_boxes(path: Path) -> list[str]:
    boxes, data, i = [], path.read_bytes(), 0
    while i + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[i:i + 8])
        if size == 1:
            size = struct.unpack(">Q", data[i + 8:i + 16])[0]
        boxes.append(kind.decode("latin-1"))
        if size < 8:
            break
        i += size
    return boxes


def spoken(text: str, start: float, step: float = 0.45) -> list[Word]:
    return [Word(start + i * step, start + i * step + 0.4, " " + t) for i, t in enumerate(text.split())]


@pytest.fixture(scope="module")
def product_config(tmp_path_factory) -> EngineConfig:
    """The engine's own render settings (x264's preset as the product ships it)."""
    return EngineConfig(cache_dir=tmp_path_factory.mktemp("render-cache"))


@pytest.fixture(scope="module")
def config(product_config) -> EngineConfig:
    return dataclasses.replace(product_config, x264_preset="ultrafast")


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    """12 s of testsrc2 at 320x180 with a quiet 440 Hz tone (about -29 LUFS), a keyframe every second
    as phones record."""
    path = tmp_path_factory.mktemp("render-src") / "source.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=12",
           "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=12",
           "-af", "volume=0.4", "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-pix_fmt", "yuv420p",
           "-c:a", "aac", "-b:a", "96k", "-shortest", str(path))
    return path


@functools.cache
def probed(path: Path) -> MediaInfo:
    """probe() once per file: many renders here start from the same source."""
    return probe(path)


def spec_for(path: Path, segments, **kwargs) -> RenderSpec:
    defaults = dict(resolution=360, words=spoken("charge for the value you create", 1.0))
    return RenderSpec(media=probed(path), segments=list(segments), **{**defaults, **kwargs})


SHARED_SPAN = (2.0, 5.0)            # the three seconds of `source` the shared renders below show


@pytest.fixture(scope="module")
def plain(source, config, tmp_path_factory):
    """SHARED_SPAN with nothing drawn on it: no captions, no title, no music."""
    return render.render_clip(spec_for(source, [SHARED_SPAN], captions=False),
                              tmp_path_factory.mktemp("plain") / "plain.mp4", config)


@pytest.fixture(scope="module")
def captioned(source, config, tmp_path_factory):
    return render.render_clip(spec_for(source, [SHARED_SPAN]), tmp_path_factory.mktemp("captioned") / "with.mp4",
                              config)


def test_output_sizes_by_aspect():
    assert render.output_size("9:16") == (1080, 1920)
    assert render.output_size("1:1") == (1080, 1080)
    assert render.output_size("16:9") == (1920, 1080)
    assert render.output_size("4:5") == (1080, 1350)
    assert render.output_size("9:16", 360) == (360, 640)
    assert render.output_size("9:16", 4000) == (1080, 1920), "never above 1080 on the short side"


def test_few_cores_decode_and_filter_on_one_thread_each(source, product_config, tmp_path):
    spec = spec_for(source, [(1.0, 3.0), (5.0, 7.0)])
    prepared = render.Prepared(spec, 360, 640, [], SoundLevel(None), 0.3, 3.7)

    def command(threads: int) -> list[str]:
        return render.ffmpeg_command(prepared, tmp_path / "v.part", tmp_path / "t.part", tmp_path / "graph.txt",
                                     dataclasses.replace(product_config, threads=threads))

    def option(cmd: list[str], name: str) -> list[str]:
        return [cmd[i + 1] for i, arg in enumerate(cmd) if arg == name]

    two, eight = command(2), command(8)
    # two cores: each input's decoder and the filter graph on one thread, x264 on both cores
    assert [two[i - 1] for i, arg in enumerate(two) if arg == "-ss"] == ["1", "1"]
    assert option(two, "-filter_complex_threads") == ["1"] and option(two, "-threads")[-1] == "2"
    # eight: ffmpeg picks the decoder's and the filters' threads, x264 gets the eight
    assert option(eight, "-threads") == ["8"] and not option(eight, "-filter_complex_threads")
    four_k = dataclasses.replace(spec.media, width=3840, height=2160)
    assert not render.serial_front(four_k, dataclasses.replace(product_config, threads=2)), "a 4K decode needs threads"


def test_a_1080x1920_short_is_ready_to_post(source, product_config, tmp_path):
    spec = spec_for(source, [(1.0, 3.5)], resolution=1080, title="Pricing, explained")
    seen = []
    clip = render.render_clip(spec, tmp_path / "clip-01.mp4", product_config,
                              progress=lambda f, label: seen.append(f))

    info = ffprobe(clip.path)
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    sound = next(s for s in info["streams"] if s["codec_type"] == "audio")
    assert (video["codec_name"], video["profile"], video["pix_fmt"]) == ("h264", "High", "yuv420p")
    assert (video["width"], video["height"]) == (1080, 1920) == (clip.width, clip.height)
    assert abs(float(info["format"]["duration"]) - 2.5) <= 0.1
    assert abs(clip.duration - 2.5) <= 0.1
    assert sound["codec_name"] == "aac" and int(sound["sample_rate"]) == 48000
    boxes = top_level_boxes(clip.path)
    assert boxes.index("moov") < boxes.index("mdat"), "faststart: the index comes first"
    assert clip.size_bytes == clip.path.stat().st_size

    assert clip.thumbnail == tmp_path / "clip-01.jpg"
    thumb = ffprobe(clip.thumbnail)["streams"][0]
    assert thumb["codec_name"] == "mjpeg" and (thumb["width"], thumb["height"]) == (1080, 1920)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip-01.jpg", "clip-01.mp4"], "no part-files left"

    assert seen[-1] == 1.0 and all(b >= a for a, b in zip(seen, seen[1:])), "progress climbs to 1"
    assert len(seen) >= 3


def test_captions_are_burned_in(captioned, plain):
    at = 0.5                                            # "value" is being said: source 2.35-2.75 s
    a = frame(captioned.path, at, 360, 640, gray=True)
    b = frame(plain.path, at, 360, 640, gray=True)
    changed = np.abs(a - b) > 60
    assert changed[int(0.55 * 640):int(0.8 * 640)].sum() > 1500, "the caption line is drawn in its band"
    assert changed[int(0.8 * 640):].sum() < 20, "nothing is drawn in the bottom fifth"
    assert changed[: int(0.4 * 640)].sum() < 20, "nothing else changes"


def test_title_overlay_shows_at_the_top(source, config, plain, tmp_path):
    spec = spec_for(source, [SHARED_SPAN], captions=False, title="Our pricing lesson")
    titled = render.render_clip(spec, tmp_path / "titled.mp4", config)
    changed = np.abs(frame(titled.path, 1.0, 360, 640, gray=True) - frame(plain.path, 1.0, 360, 640, gray=True)) > 60
    assert changed[: int(0.25 * 640)].sum() > 1000 and changed[int(0.3 * 640):].sum() < 20

    def words(at: float) -> int:
        """Pixels of the title's white words: bright over the box, which darkens the picture to a quarter."""
        shown, under = frame(titled.path, at, 360, 640, gray=True), frame(plain.path, at, 360, 640, gray=True)
        return int(((shown > 150) & (shown - under > 60))[: int(0.25 * 640)].sum())

    # Frame 0 is the cover a platform shows: its box held no words while they faded in.
    assert words(0.0) >= 0.8 * words(1.0) > 200, (words(0.0), words(1.0))


def test_reel_of_two_segments_joins_with_a_crossfade(config, tmp_path):
    src = tmp_path / "red-blue.mp4"
    ffmpeg("-f", "lavfi", "-i", "color=red:s=320x180:r=25:d=3", "-f", "lavfi", "-i", "color=blue:s=320x180:r=25:d=3",
           "-f", "lavfi", "-i", "sine=frequency=300:duration=6",
           "-filter_complex", "[0][1]concat=n=2:v=1:a=0[v]", "-map", "[v]", "-map", "2:a",
           "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", str(src))
    spec = spec_for(src, [(0.5, 2.5), (3.5, 5.5)], captions=False)
    clip = render.render_clip(spec, tmp_path / "reel.mp4", config)
    expected = 4.0 - joins.CROSSFADE
    assert abs(clip.duration - expected) <= 0.1
    red = frame(clip.path, 1.0, 360, 640)[320, 180]
    blue = frame(clip.path, 3.0, 360, 640)[320, 180]
    mixed = frame(clip.path, 2.0 - joins.CROSSFADE / 2, 360, 640)[320, 180]
    assert red[0] > 180 and red[2] < 60 and blue[2] > 180 and blue[0] < 60, (red, blue)
    assert 50 < mixed[0] < 200 and 50 < mixed[2] < 200, f"mid-crossfade is a blend, got {mixed}"
    assert any(s["codec_type"] == "audio" for s in ffprobe(clip.path)["streams"])


def test_rotated_phone_video_comes_out_upright(config, tmp_path):
    plain, phone = tmp_path / "plain.mp4", tmp_path / "phone.mp4"
    ffmpeg("-f", "lavfi", "-i", "color=black:s=640x360:r=25:d=2", "-f", "lavfi", "-i", "sine=duration=2",
           "-vf", "drawbox=x=20:y=20:w=100:h=100:color=white:t=fill", "-c:v", "libx264", "-preset", "ultrafast",
           "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(plain))
    # ffmpeg's legacy `rotate` tag is counter-clockwise: 270 is a phone held upright (90 clockwise).
    ffmpeg("-i", str(plain), "-c", "copy", "-metadata:s:v:0", "rotate=270", str(phone))
    spec = spec_for(phone, [(0.2, 1.8)], captions=False)
    assert spec.media.rotation == 90
    clip = render.render_clip(spec, tmp_path / "upright.mp4", config)
    assert (clip.width, clip.height) == (360, 640)
    picture = frame(clip.path, 0.5, 360, 640, gray=True)
    ys, xs = np.nonzero(picture > 128)
    # Turned a quarter clockwise, the coded picture's top-left corner is the top-right one.
    assert xs.mean() > 0.75 * 360 and ys.mean() < 0.25 * 640


def test_an_anamorphic_video_keeps_its_shapes(config, tmp_path):
    """HDV stores 16:9 as 1440x1080 pixels 4/3 as wide as they are tall: a square in its picture
    is square in the short, not squeezed to three quarters of its width."""
    hdv = tmp_path / "hdv.mp4"
    ffmpeg("-f", "lavfi", "-i", "color=black:s=1920x1080:r=25:d=2", "-f", "lavfi", "-i", "sine=duration=2",
           "-vf", "drawbox=x=810:y=390:w=300:h=300:color=white:t=fill,scale=1440:1080,setsar=4/3",
           "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(hdv))
    clip = render.render_clip(spec_for(hdv, [(0.2, 1.8)], captions=False), tmp_path / "short.mp4", config)
    ys, xs = np.nonzero(frame(clip.path, 0.5, 360, 640, gray=True) > 128)
    width, height = xs.max() - xs.min() + 1, ys.max() - ys.min() + 1
    assert abs(width / height - 1) < 0.06, f"the square is drawn {width}x{height}"


def onset(samples: np.ndarray, rate: int) -> float:
    """Seconds to the first sample of a loud stretch."""
    return float(np.flatnonzero(np.abs(samples) > 0.3)[0]) / rate


def test_sound_that_starts_after_the_picture_stays_in_time_with_it(config, tmp_path):
    """The sound starts 2 s into the file (a recorder started late). A click at 3.0 s of the file
    is read at 3.0 s by the analysis (so the words are where they are said), 0.5 s into a range
    read from 2.5 s, and heard 2.0 s into a short cut from 1.0 s, where its picture is."""
    from engine.reframe.speaking import range_audio
    from engine.transcribe import decode_audio

    sound, late = tmp_path / "click.wav", tmp_path / "late.mp4"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000:duration=4",
           "-af", "volume='if(between(t,1,1.2),6,0)':eval=frame", str(sound))
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=6", "-itsoffset", "2", "-i", str(sound),
           "-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
           "-c:a", "aac", str(late))
    assert onset(decode_audio(late), 16000) == pytest.approx(3.0, abs=0.03)
    assert onset(range_audio(late, 2.5, 4.0), 16000) == pytest.approx(0.5, abs=0.03)
    clip = render.render_clip(spec_for(late, [(1.0, 4.5)], captions=False), tmp_path / "short.mp4", config)
    assert onset(audio(clip.path), 48000) == pytest.approx(2.0, abs=0.05)


def test_variable_frame_rate_phone_video_comes_out_at_a_constant_rate(config, tmp_path):
    vfr = tmp_path / "vfr.mp4"
    # 30 fps for two seconds, then every third frame only.
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30:duration=4", "-f", "lavfi", "-i", "sine=duration=4",
           "-vf", "select='if(lt(t,2),1,not(mod(n,3)))'", "-fps_mode", "vfr", "-c:v", "libx264",
           "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(vfr))
    spec = spec_for(vfr, [(1.0, 3.5)], captions=False)
    assert spec.media.variable_fps
    clip = render.render_clip(spec, tmp_path / "cfr.mp4", config)
    video = next(s for s in ffprobe(clip.path)["streams"] if s["codec_type"] == "video")
    assert video["r_frame_rate"] == video["avg_frame_rate"]
    assert abs(clip.duration - 2.5) <= 0.1


def test_music_is_mixed_under_the_speech(source, config, plain, tmp_path):
    music = tmp_path / "music.wav"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=1500:sample_rate=48000:duration=1.3", "-af", "volume=0.5", str(music))
    spec = spec_for(source, [SHARED_SPAN], captions=False, music=music, music_volume=0.2)
    with_music = render.render_clip(spec, tmp_path / "music.mp4", config)
    assert abs(with_music.duration - 3.0) <= 0.1, "the music loops; the clip keeps its length"
    without = plain                                     # the same span without the music

    def levels(path):
        samples = audio(path)[48000: 48000 * 2 + 48000 // 2]            # 1.0-2.5 s: past the loop point
        spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
        freqs = np.fft.rfftfreq(len(samples), 1 / 48000)
        at = lambda f: spectrum[np.abs(freqs - f) < 20].max()          # noqa: E731
        return at(440), at(1500)

    speech, tune = levels(with_music.path)
    dry_speech, dry_tune = levels(without.path)
    assert 0.02 * speech < tune < speech, "the music is there, under the speech"
    assert dry_tune < 0.01 * dry_speech


def test_sound_in_one_channel_is_heard_in_both_at_the_platforms_level(config, tmp_path):
    """A lapel mic on one input of a camera: the speech is in the left channel, the right is
    empty. The short has it in both ears, at the target loudness."""
    one_sided = tmp_path / "lapel.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=4",
           "-f", "lavfi", "-i", "sine=frequency=300:sample_rate=48000:duration=4",
           "-filter_complex", "[1:a]volume=0.3,pan=stereo|c0=c0|c1=0*c0[a]", "-map", "0:v", "-map", "[a]",
           "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", str(one_sided))
    assert measure_sound(one_sided, [(0.2, 1.5), (2.0, 3.5)]).only_channel == 0, "found in a reel's segments too"
    clip = render.render_clip(spec_for(one_sided, [(0.5, 3.5)], captions=False), tmp_path / "both.mp4", config)
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(clip.path), "-f", "f32le", "-ac", "2", "pipe:1"],
                         capture_output=True, check=True).stdout
    left, right = np.frombuffer(raw, np.float32).reshape(-1, 2).T
    level = [10 * np.log10(np.mean(side[48000:-48000] ** 2)) for side in (left, right)]
    assert abs(level[0] - level[1]) < 0.5 and level[1] > -30, level
    assert abs(measure_sound(clip.path, [(0.5, clip.duration - 0.5)]).lufs - TARGET_LUFS) <= 1.5


def test_loudness_is_normalised(source, plain):
    quiet = measure_sound(source, [SHARED_SPAN]).lufs
    assert quiet < -24
    assert abs(measure_sound(plain.path, [(0.0, plain.duration)]).lufs - TARGET_LUFS) <= 1.5


def test_silent_source_gets_a_silent_track(config, tmp_path):
    mute = tmp_path / "mute.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=3", "-c:v", "libx264",
           "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(mute))
    clip = render.render_clip(spec_for(mute, [(0.5, 2.5)]), tmp_path / "mute-out.mp4", config)
    streams = ffprobe(clip.path)["streams"]
    assert any(s["codec_type"] == "audio" for s in streams)
    assert abs(clip.duration - 2.0) <= 0.1


def test_cancel_mid_render_stops_ffmpeg_and_leaves_no_file(source, product_config, tmp_path):
    config = product_config       # the product's preset: the render must last long enough to be stopped
    cancel = threading.Event()
    seen = []

    def progress(fraction, label):
        seen.append((fraction, label))
        if label == "rendering" and fraction > 0.3:
            cancel.set()

    spec = spec_for(source, [(0.0, 12.0)], resolution=720)
    out = tmp_path / "out"
    with pytest.raises(Cancelled):
        render.render_clip(spec, out / "clip-01.mp4", config, progress=progress, cancel=cancel)
    assert any(label == "rendering" and 0.3 < f < 1.0 for f, label in seen), "it was stopped mid-way"
    assert list(out.iterdir()) == []


def test_cancel_before_start_renders_nothing(source, config, tmp_path):
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        render.render_clip(spec_for(source, [(0.0, 2.0)]), tmp_path / "x.mp4", config, cancel=cancel)
    assert list(tmp_path.iterdir()) == []


def test_cancel_during_the_second_clip_keeps_the_first_and_nothing_else(source, product_config, tmp_path):
    config = product_config       # the product's preset: the render must last long enough to be stopped
    cancel = threading.Event()

    def progress(fraction, label):
        if label.startswith("clip 2 of 2: rendering") and fraction > 0.6:
            cancel.set()

    specs = [spec_for(source, [(1.0, 3.0)], resolution=240), spec_for(source, [(0.0, 12.0)], resolution=480)]
    with pytest.raises(Cancelled):
        render.render_specs(specs, tmp_path, config, progress=progress, cancel=cancel)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip-01.jpg", "clip-01.mp4"]


def test_time_limit_stops_a_slow_render(source, tmp_path):
    """A source that never delivers a byte (a pipe nobody writes to): the render cannot finish
    however fast the machine is, and RENDER_TIMEOUT_S ends it."""
    stuck = tmp_path / "stuck.mp4"
    os.mkfifo(stuck)
    spec = spec_for(source, [(0.0, 12.0)], resolution=240)
    spec = dataclasses.replace(spec, media=dataclasses.replace(spec.media, path=stuck))
    strict = EngineConfig(cache_dir=tmp_path / "cache", render_timeout_s=0.5)
    with pytest.raises(RenderFailed, match="limit"):
        render.render_clip(spec, tmp_path / "out" / "slow.mp4", strict)
    assert list((tmp_path / "out").iterdir()) == []


def test_impossible_specs_are_refused(source, config, tmp_path):
    with pytest.raises(RenderFailed):
        render.render_clip(spec_for(source, []), tmp_path / "a.mp4", config)
    with pytest.raises(RenderFailed):
        render.render_clip(spec_for(source, [(3.0, 2.0)]), tmp_path / "b.mp4", config)


def test_crop_keeps_a_real_face_in_the_picture(shared_media, config, tmp_path):
    from engine.reframe import FaceDetector

    spec = spec_for(shared_media / "talking_obama_20s.mp4", [(2.0, 5.0)], captions=False)
    clip = render.render_clip(spec, tmp_path / "face.mp4", config)
    picture = frame(clip.path, 1.5, 360, 640, gray=True).astype(np.uint8)
    faces = FaceDetector().detect(picture)
    assert faces, "the face is in the vertical picture"
    assert abs(max(faces, key=lambda f: f.area).cx - 0.5) < 0.2


def test_render_moments_names_files_by_rank(talk_analysis, engine_config, tmp_path):
    engine_config = dataclasses.replace(engine_config, x264_preset="ultrafast")
    from engine.models import ClipRequest, Moment

    sentences = talk_analysis.sentences
    moments = [Moment(rank=2, start=sentences[1].start, end=sentences[1].end, score=60.0, title="Second"),
               Moment(rank=1, start=sentences[0].start, end=sentences[0].end, score=80.0, title="First")]
    request = ClipRequest(resolution=240)
    files = render.render_moments(talk_analysis, moments, request, tmp_path, engine_config)
    assert sorted(files) == [1, 2]
    assert files[1].path.name == "clip-01.mp4" and files[2].path.name == "clip-02.mp4"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip-01.jpg", "clip-01.mp4", "clip-02.jpg", "clip-02.mp4"]
    for m in moments:
        assert abs(files[m.rank].duration - (m.end - m.start)) <= 0.1
        assert (files[m.rank].width, files[m.rank].height) == (240, 426)


def test_clip_command_renders_and_fills_clips_json(talk_video, engine_config, tmp_path):
    from engine.models import ClipRequest
    from engine.pipeline import clip

    request = ClipRequest(length=10.0, min_length=8.0, max_length=12.0, count=1, resolution=240)
    clip_set = clip(talk_video[0], request, tmp_path, dataclasses.replace(engine_config, x264_preset="ultrafast"))
    written = json.loads((tmp_path / "clips.json").read_text())
    assert written["clips"][0]["file"] == "clip-01.mp4" and (tmp_path / "clip-01.mp4").exists()
    assert written["clips"][0]["thumbnail"] == "clip-01.jpg" and (tmp_path / "clip-01.jpg").exists()
    assert written["timings"]["render"] > 0
    assert clip_set.files[1].duration == pytest.approx(clip_set.moments[0].end - clip_set.moments[0].start, abs=0.1)

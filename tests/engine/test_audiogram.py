"""Audiograms (engine.audiogram): a sound file in, a 1080x1920 H.264/AAC short with a moving
waveform and captions in the middle out."""
from __future__ import annotations

import json
import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from engine.audiogram import WAVE_SHARE, centred_captions
from engine.models import RenderSpec, Word
from engine.probe import probe
from engine.render import render_clip
from tests.media import SHARED_MEDIA

APOLLO = SHARED_MEDIA / "apollo11_89s.mp3"
WORDS = [Word(0.3, 0.9, " Houston"), Word(0.95, 1.6, " tranquility"), Word(1.65, 2.2, " base")]


def frame(path: Path, at: float, width: int = 1080, height: int = 1920) -> np.ndarray:
    raw = subprocess.run(["ffmpeg", "-v", "error", "-ss", f"{at:.2f}", "-i", str(path), "-frames:v", "1",
                          "-f", "rawvideo", "-pix_fmt", "gray", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, dtype=np.uint8).reshape(height, width).astype(np.int16)


def streams(path: Path) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_type,codec_name,width,height",
                          "-of", "json", str(path)], capture_output=True, text=True, check=True).stdout
    return {s["codec_type"]: s for s in json.loads(out)["streams"]}


@pytest.fixture(scope="module")
def apollo_spec() -> RenderSpec:
    if not APOLLO.exists():
        pytest.skip(f"{APOLLO} is missing (../shared/media)")
    media = probe(APOLLO)
    assert not media.has_video
    return RenderSpec(media=media, segments=[(30.0, 34.0)], words=[replace(w, start=w.start + 30, end=w.end + 30)
                                                                   for w in WORDS], title="Apollo 11")


@pytest.mark.slow
def test_an_mp3_becomes_a_vertical_short_with_a_moving_waveform_and_captions(apollo_spec, engine_config, tmp_path):
    config = replace(engine_config, x264_preset="ultrafast")
    clip = render_clip(apollo_spec, tmp_path / "clip-01.mp4", config)
    found = streams(clip.path)
    assert found["video"]["codec_name"] == "h264" and found["audio"]["codec_name"] == "aac"
    assert (clip.width, clip.height) == (1080, 1920) and clip.duration == pytest.approx(4.0, abs=0.15)
    assert clip.thumbnail.is_file()
    early, later, after = frame(clip.path, 1.0), frame(clip.path, 1.5), frame(clip.path, 3.5)
    top, height = (round(1920 * share) for share in WAVE_SHARE)
    wave = slice(top, top + height)
    # the waveform moves: two frames differ where it is drawn
    assert np.mean(np.abs(early[wave] - later[wave]) > 40) > 0.005
    # captions in the middle while words are spoken, gone after them
    middle = slice(1920 // 2 - 120, 1920 // 2 + 120)
    assert np.mean(early[middle] > 200) > 0.01
    assert np.mean(after[middle] > 200) < 0.002
    # the background is left alone above the captions (after the title has gone)
    assert np.mean(np.abs(frame(clip.path, 3.2)[300:700] - after[300:700]) > 10) < 0.01


def test_captions_move_to_the_middle_and_grow():
    script = "\n".join(["[V4+ Styles]", "Style: Caption,DejaVu Sans,92,&H00FFFFFF,&H00FFFFFF,&H00000000,&H80000000,"
                        "-1,0,0,0,100,100,0,0,1,6,2,2,86,86,480,1", "Style: Title,DejaVu Sans,65"])
    moved = centred_captions(script, 1920).splitlines()[1].split(",")
    assert moved[2] == str(round(92 * 1.3)) and moved[18] == "5" and moved[21] == "0"


@pytest.mark.slow
@pytest.mark.parametrize("how", ["cover art", "one still frame"])
def test_a_podcast_with_its_own_cover_gets_it_as_the_background(how, engine_config, tmp_path):
    """An mp3 with cover art, or a podcast video whose one frame is its cover: with no photo sent,
    the cover (darkened) is the background, not the gradient."""
    cover, sound = tmp_path / "cover.png", tmp_path / "talk.wav"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=c=0xE03020:s=600x600", "-frames:v", "1",
                    str(cover)], check=True)
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=300:duration=5", str(sound)], check=True)
    if how == "cover art":
        podcast = tmp_path / "episode.mp3"
        subprocess.run(["ffmpeg", "-v", "error", "-i", str(sound), "-i", str(cover), "-map", "0:a", "-map", "1:v",
                        "-c:v", "png", "-disposition:v", "attached_pic", str(podcast)], check=True)
    else:
        still, podcast = tmp_path / "still.mp4", tmp_path / "episode.mp4"
        subprocess.run(["ffmpeg", "-v", "error", "-i", str(cover), "-c:v", "libx264", "-pix_fmt", "yuv420p",
                        str(still)], check=True)
        subprocess.run(["ffmpeg", "-v", "error", "-i", str(still), "-i", str(sound), "-map", "0:v", "-map", "1:a",
                        "-c:v", "copy", "-c:a", "aac", str(podcast)], check=True)
    media = probe(podcast)
    assert media.kind == "audio" and not media.has_video
    clip = render_clip(RenderSpec(media=media, segments=[(1.0, 3.0)], captions=False),
                       tmp_path / "clip-01.mp4", replace(engine_config, x264_preset="ultrafast"))
    rgb = subprocess.run(["ffmpeg", "-v", "error", "-ss", "1.0", "-i", str(clip.path), "-frames:v", "1", "-f", "rawvideo",
                          "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout
    corner = np.frombuffer(rgb, np.uint8).reshape(1920, 1080, 3)[100:300, 100:300].reshape(-1, 3).mean(axis=0)
    assert corner[0] > 1.8 * corner[2] and corner[0] > 90, f"the red cover, darkened: {corner}"


SPEECH = SHARED_MEDIA / "es_speech_40s.wav"


@pytest.mark.slow
def test_steady_speech_draws_a_steady_full_waveform(engine_config, tmp_path):
    """One frame after another in steady speech, the waveform keeps its size (it flickered between flat and
    full when each frame drew only its own 1/25 s of samples) and fills a good part of its band."""
    if not SPEECH.exists():
        pytest.skip(f"{SPEECH} is missing (../shared/media)")
    spec = RenderSpec(media=probe(SPEECH), segments=[(10.0, 14.0)], captions=False)
    clip = render_clip(spec, tmp_path / "clip-01.mp4", replace(engine_config, x264_preset="ultrafast"))
    top, height = (round(1920 * share) for share in WAVE_SHARE)
    painted = [float(np.mean(frame(clip.path, 3.0 + 0.04 * k)[top: top + height] > 200)) for k in range(11)]
    assert max(abs(a - b) for a, b in zip(painted, painted[1:])) < 0.03, painted
    assert min(painted) > 0.2, painted

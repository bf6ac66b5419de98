"""Files with more than one audio track. OBS can put the microphone on a track of its own, and
track 1 then carries only the game, or nothing; a camera records two mics on two tracks. A film
carries dubs and a commentary. A short hears every track of the recording, mixed; of dubs only
the default one; never a commentary."""
from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

from engine import soundtrack
from engine.loudness import TARGET_LUFS, measure_sound
from engine.models import MediaInfo
from engine.pipeline import clip
from engine.probe import probe
from engine.reframe.speaking import AUDIO_RATE, range_audio
from tests.media import run, speak

SILENCE = "anullsrc=r=48000:cl=stereo"


def tone(freq: int, seconds: float = 4.0) -> str:
    return f"sine=frequency={freq}:sample_rate=48000:duration={seconds}"


def with_tracks(path: Path, sounds: list[str], seconds: float = 4.0, metadata: list[str] = ()) -> Path:
    """A small video whose audio tracks are the given lavfi sources (or files), in order."""
    cmd = ["ffmpeg", "-y", "-v", "error", "-f", "lavfi", "-i", f"testsrc2=size=320x180:rate=25:duration={seconds}"]
    for sound in sounds:
        cmd += ["-i", sound] if Path(sound).exists() else ["-f", "lavfi", "-i", sound]
    cmd += ["-map", "0:v", *[x for k in range(len(sounds)) for x in ("-map", f"{k + 1}:a")],
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-t", str(seconds),
            *metadata, str(path)]
    run(cmd)
    return path


def strength(samples: np.ndarray, freq: float, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    freqs = np.fft.rfftfreq(len(samples), 1 / rate)
    return float(spectrum[np.abs(freqs - freq) < 15].max())


def test_every_track_of_one_recording_is_heard_mixed(tmp_path):
    """OBS: nothing on track 1, the microphone on track 2, the game on track 3."""
    video = with_tracks(tmp_path / "obs.mp4", [SILENCE, tone(440), tone(1000)])
    media = probe(video)
    assert media.sound_tracks == (0, 1, 2)
    heard = np.concatenate(list(soundtrack.read_blocks(video, tracks=media.sound_tracks)))
    assert len(heard) >= 3.9 * soundtrack.SAMPLE_RATE
    first_only = np.concatenate(list(soundtrack.read_blocks(video)))
    assert np.abs(first_only).max() < 1e-3, "the first track alone is silence"
    mic, game = strength(heard, 440, soundtrack.SAMPLE_RATE), strength(heard, 1000, soundtrack.SAMPLE_RATE)
    assert mic > 100 and 0.5 < game / mic < 2, (mic, game)
    ranged = range_audio(video, 1.0, 3.0, tracks=media.sound_tracks)
    assert strength(ranged, 440, AUDIO_RATE) > 100 and strength(ranged, 1000, AUDIO_RATE) > 100
    assert measure_sound(video, [(0.5, 3.5)]).lufs is None, "the first track is silent"
    assert measure_sound(video, [(0.5, 1.5), (2.0, 3.5)], tracks=media.sound_tracks).lufs > -30


def test_of_dubs_only_the_default_is_heard_and_never_a_commentary(tmp_path):
    dubbed = with_tracks(tmp_path / "film.mkv", [tone(440), tone(1000)], metadata=[
        "-metadata:s:a:0", "language=eng", "-metadata:s:a:1", "language=spa",
        "-disposition:a:0", "0", "-disposition:a:1", "default"])
    assert probe(dubbed).sound_tracks == (1,), "the Spanish track is the default"
    commented = with_tracks(tmp_path / "commentary.mkv", [tone(440), tone(1000)], metadata=[
        "-metadata:s:a:0", "language=eng", "-metadata:s:a:1", "language=eng",
        "-disposition:a:0", "default", "-disposition:a:1", "comment"])
    assert probe(commented).sound_tracks == (0,)
    one_recording = with_tracks(tmp_path / "two-mics.mov", [tone(440), tone(1000)], metadata=[
        "-metadata:s:a:0", "language=eng", "-metadata:s:a:1", "language=eng"])
    assert probe(one_recording).sound_tracks == (0, 1), "the same language: two mics of one recording"


def test_the_tracks_travel_with_the_media_to_a_worker(tmp_path):
    media = probe(with_tracks(tmp_path / "obs.mp4", [SILENCE, tone(440)]))
    assert MediaInfo.from_dict(media.to_dict()) == media
    old = {k: v for k, v in media.to_dict().items() if k != "sound_tracks"}     # stored before there were tracks
    assert MediaInfo.from_dict(old).sound_tracks == (0,)


def test_a_voice_on_the_second_track_gives_a_short_at_the_platforms_level(engine_config, tmp_path):
    """Before, the first (silent) track was all the engine heard: "No moments found"."""
    voice = speak("Here is the one thing I wish I had known when I started this channel. "
                  "Post every single day for a month, and watch what happens to your numbers. "
                  "Most people quit after a week, and that is exactly why they never grow.",
                  tmp_path / "voice.wav")
    seconds = float(subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of",
                                    "csv=p=0", str(voice)], capture_output=True, text=True, check=True).stdout)
    video = with_tracks(tmp_path / "obs.mp4", [SILENCE, str(voice)], seconds=seconds)
    made = clip(video, "one 10-second short, 360p", tmp_path / "out", engine_config)
    assert made.moments, "moments are found in the second track's speech"
    short = made.files[made.moments[0].rank].path
    level = measure_sound(short, [(0.5, probe(short).duration - 0.5)])
    assert level.lufs is not None and abs(level.lufs - TARGET_LUFS) <= 2.0, level


def test_a_track_ffmpeg_cannot_decode_is_not_heard(tmp_path):
    """A second track in a codec this ffmpeg does not know (a phone's spatial audio): the first is
    heard alone, as before, rather than the whole sound failing."""
    both = with_tracks(tmp_path / "two.mkv", [tone(440), tone(1000)])
    data = both.read_bytes()
    second = data.find(b"A_AAC", data.find(b"A_AAC") + 1)
    assert second > 0
    unknown = tmp_path / "unknown.mkv"
    unknown.write_bytes(data[:second] + b"A_QQQ" + data[second + 5:])
    media = probe(unknown)
    assert media.sound_tracks == (0,)
    heard = np.concatenate(list(soundtrack.read_blocks(unknown, tracks=media.sound_tracks)))
    assert strength(heard, 440, soundtrack.SAMPLE_RATE) > 100 and len(heard) >= 3.9 * soundtrack.SAMPLE_RATE

"""A voice recorded far too low (a lapel mic with its gain down, a phone across the room): its
words are believed, since they stand well above the recording's room tone, and the short is
brought up to the platforms' level. Words Whisper invents over the room tone of a silent video
are still not believed, and near-silence without words is not lifted into loud noise."""
from __future__ import annotations

import subprocess

import numpy as np

from engine.loudness import MAX_GAIN_DB, TARGET_LUFS, SoundLevel, measure_sound
from engine.models import Segment, Word
from engine.pipeline import clip
from engine.probe import probe
from engine.trust import split_trusted

RATE = 16000


def db(level_db: float) -> float:
    return 10 ** (level_db / 20)


def noise(seconds: float, level_db: float, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal(int(seconds * RATE)) * db(level_db)).astype(np.float32)


def words_at(text: str, start: float, step: float = 0.3) -> Segment:
    words = tuple(Word(start + i * step, start + i * step + 0.25, " " + w, 0.9) for i, w in enumerate(text.split()))
    return Segment(start, words[-1].end, text, words)


def test_a_voice_recorded_35_db_too_low_is_believed():
    """Room tone at -85 dBFS; the voice, 2 s at a time, at -55 dBFS (under the old absolute -50)."""
    audio = noise(20.0, -85.0)
    t = np.arange(int(2.0 * RATE)) / RATE
    for start in (2.0, 7.0, 12.0):
        voice = (np.sin(2 * np.pi * 180 * t) * np.sqrt(2) * db(-55.0)).astype(np.float32)
        audio[int(start * RATE): int(start * RATE) + len(voice)] += voice
    said = [words_at("we opened the shop six years ago", 2.0), words_at("and the bread sold out", 7.0)]
    trusted, distrusted = split_trusted(said, audio, RATE)
    assert [s.start for s in trusted] == [2.0, 7.0] and not distrusted


def test_words_over_room_tone_alone_are_not_believed():
    """A silent video's room tone at -60 dBFS, and Whisper's usual invention over it."""
    audio = noise(30.0, -60.0)
    trusted, distrusted = split_trusted([words_at("Thank you for watching the video.", 3.0)], audio, RATE)
    assert trusted == [] and distrusted[0].distrust == "text over silence"


def test_digital_silence_is_no_room_tone():
    """Zeros (a late start padded, a muted intro) are not the floor: words over -65 dBFS room tone
    stay "text over silence" with two seconds of zeros before them."""
    audio = noise(30.0, -65.0)
    audio[: 2 * RATE] = 0.0
    trusted, distrusted = split_trusted([words_at("Thank you for watching the video.", 10.0)], audio, RATE)
    assert trusted == [] and distrusted[0].distrust == "text over silence"


def test_a_voice_is_lifted_further_than_near_silence():
    assert SoundLevel(-51.0, voice=True).gain_db() == TARGET_LUFS + 51.0
    assert SoundLevel(-51.0).gain_db() == MAX_GAIN_DB, "no words: near-silence is not lifted into noise"
    assert SoundLevel(-5.0, voice=True).gain_db() == TARGET_LUFS + 5.0


def test_a_real_interview_recorded_35_db_too_low_gives_a_captioned_short_at_the_level(shared_media, engine_config,
                                                                                     tmp_path):
    """Ted Lieu's 60 s, 35 dB down (-51 LUFS): before, its words were withheld as "text over
    silence" and the short came out at -31 LUFS, with no captions."""
    quiet = tmp_path / "quiet.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(shared_media / "talking_tedlieu_60s.mp4"), "-t", "30",
                    "-af", "volume=-35dB", "-c:v", "copy", "-c:a", "aac", str(quiet)], check=True)
    assert measure_sound(quiet, [(0.0, 30.0)]).lufs < -45
    made = clip(quiet, "one 15-second short, 360p", tmp_path / "out", engine_config)
    assert made.moments and not made.moments[0].captions_withheld
    short = made.files[made.moments[0].rank].path
    level = measure_sound(short, [(0.5, probe(short).duration - 0.5)]).lufs
    assert abs(level - TARGET_LUFS) <= 2.0, level

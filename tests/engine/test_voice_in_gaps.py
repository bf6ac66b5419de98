"""Where the transcript is silent, the sound decides whether someone speaks (engine/reframe/
speaking.py): loud sound counts only where the voice detector hears a voice in it, so a
podcast's music intro or a jingle between segments is nobody speaking, while speech the
recogniser dropped still is."""
from __future__ import annotations

import numpy as np
import pytest

from engine import reframe
from engine.reframe import speaking
from engine.transcribe import decode_audio
from tests.engine.test_speakers import PAIR, SRC_H, SRC_W, speaker_in_view
from tests.media import make_two_people, music, run, write_wav
from tests.run_once import made_once

RATE = speaking.AUDIO_RATE
INTRO_S = 4.0
INTRO_TURNS = [(INTRO_S, 9.0, 0), (9.0, 14.0, 1)]      # music 0-4 s, then two people take turns
INTRO_WORDS = [(4.2 + 0.45 * i, 4.55 + 0.45 * i) for i in range(5)]     # the transcript: 4.2-6.4 s, then nothing


def rttm_speech(path, times: np.ndarray) -> np.ndarray:
    """Frames inside a who-speaks-when turn of an RTTM file."""
    mask = np.zeros(len(times), bool)
    for line in path.read_text().splitlines():
        fields = line.split()
        start, length = float(fields[3]), float(fields[4])
        mask |= (times >= start) & (times < start + length)
    return mask


def test_a_voice_is_heard_in_a_conversation_and_none_in_music(shared_media):
    times = np.arange(0, 30, 0.04)
    band = speaking.voiced_frames(music(30.0, rate=RATE), times)
    assert not band.any(), "chords, drums and hi-hats are no voice"
    assert speaking.loud(speaking.frame_energy(music(30.0, rate=RATE), RATE, 25, len(times))).mean() > 0.9, \
        "the music is loud throughout: loudness alone would call it speech"
    conversation = decode_audio(shared_media / "pyannote_2spk_conversation_30s.wav")
    voiced = speaking.voiced_frames(conversation, times)
    spoken = rttm_speech(shared_media / "pyannote_2spk_conversation_30s.rttm", times)
    assert voiced[spoken].mean() > 0.9, "where the dataset says someone speaks, a voice is heard"


def test_in_a_gap_of_the_transcript_loud_sound_is_speech_only_where_a_voice_is_heard():
    times = np.arange(0, 7.5, 0.25)
    energy = np.full(len(times), -20.0)                     # loud throughout: music, then a voice
    words = [(6.0, 6.5), (6.7, 7.2)]
    voiced = times >= 3.0                                   # the voice starts at 3 s, 3 s before the first word
    mask = speaking.speech_mask(times, words, energy, voiced)
    assert not mask[times < 3.0].any(), "the music before the voice is nobody speaking"
    assert mask[times >= 3.0].all(), "the speech the transcript missed counts, and the words do"
    assert speaking.speech_onsets(times, words, energy, voiced).tolist() == [3.0, 6.0, 6.7]
    assert speaking.speech_mask(times, words, energy, ~voiced)[times < 3.0].all(), "a voice in the gap counts"
    assert np.array_equal(speaking.speech_mask(times, None, energy, voiced), voiced), "without a transcript too"
    assert speaking.speech_mask(times, words, energy).all(), "no voice detector: loudness alone, as before"
    quiet = np.full(len(times), -80.0)
    quiet[-4:] = -20.0
    assert not speaking.speech_mask(times, None, quiet, np.ones(len(times), bool))[:-4].any(), \
        "a voice too quiet for the range is no speaker (a television in the next room)"


def _intro_talk(folder, media):
    talk = make_two_people(folder / "talk.mp4", INTRO_TURNS, 14.0, people=PAIR, media=media, size=f"{SRC_W}x{SRC_H}")
    band = write_wav(music(INTRO_S), folder / "intro.wav")
    video = folder / "intro-talk.mp4"
    run(["ffmpeg", "-v", "error", "-y", "-i", str(talk), "-i", str(band), "-filter_complex",
         "[1:a]aresample=48000[m];[0:a][m]amix=inputs=2:normalize=0:duration=first[a]",
         "-map", "0:v", "-map", "[a]", "-c:v", "copy", "-c:a", "aac", str(video)])
    return video


@pytest.fixture(scope="module")
def intro_talk(shared_media, tmp_path_factory):
    """Two real people on screen (both clips keep moving their lips), 4 s of music on the
    soundtrack, then each speaks in turn."""
    return made_once(tmp_path_factory, "intro-talk-960", lambda folder: _intro_talk(folder, shared_media))


@pytest.mark.slow
def test_a_music_intro_is_heard_as_no_voice_and_the_talk_after_it_as_one(intro_talk):
    times = np.arange(0, 14, 0.08)
    sound = speaking.speech_sound(intro_talk, 0.0, 14.0, times, 12.5, None)
    assert speaking.loud(sound.energy)[times < INTRO_S].mean() > 0.9, "the intro is as loud as the talk"
    assert not speaking.speech_mask(times, None, sound.energy, sound.voiced)[times < INTRO_S - 0.2].any()
    assert sound.voiced[times > INTRO_S + 0.5].mean() > 0.8
    covered = speaking.speech_sound(intro_talk, 0.0, 14.0, times, 12.5, [(0.0, 14.0)])
    assert covered.voiced is None, "words everywhere: nothing is left to the sound to decide"


@pytest.mark.slow
def test_nobody_speaks_during_a_music_intro_and_the_speaker_is_followed_after_it(intro_talk):
    """The transcript starts after the intro and drops most of the talk: the intro is nobody
    speaking (the speaker plan does not crop onto whoever's lips move to the music), the talk
    the transcript dropped is someone speaking."""
    framing = reframe.frame_range(intro_talk, 0.0, 14.0, SRC_W, SRC_H, "9:16", words=INTRO_WORDS)
    assert framing.mode == "speakers" and len(framing.trace.track_ids) == 2
    times, trace = framing.trace.times, framing.trace
    intro = times < INTRO_S - 0.2
    assert not trace.speaking[intro].any() and not trace.scores[:, intro].any(), "the music is nobody speaking"
    assert trace.speaking[times > 7.0].mean() > 0.5, "the speech after the words counts"
    assert speaker_in_view(framing, INTRO_TURNS, PAIR) >= 0.9

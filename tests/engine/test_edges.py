"""Clip edges in the pause (engine.edges): on talks spoken word by word, where every word's
time is known, and on the real talking clips in ../shared/media."""
from __future__ import annotations

import numpy as np
import pytest

from engine.edges import LEAD, SHORTEST_LEAD, SHORTEST_PAUSE, clip_edges
from engine.models import Word
from engine.signals import compute_signals
from tests.media import SAMPLE_RATE, SHARED_MEDIA, build_word_talk

SENTENCES = [
    "Good morning everyone and welcome back.",
    "Today we finish the bridge project.",
    "Stop and listen carefully.",
    "Seven small steps made it possible.",
    "Thanks for staying with us.",
]
# Pause after each sentence: long, short, one that runs together, medium.
PAUSES = [0.7, 0.35, 0.04, 0.5, 0.8]


@pytest.fixture(scope="module")
def word_talk(tmp_path_factory):
    audio, spoken = build_word_talk(SENTENCES, tmp_path_factory.mktemp("word-talk"), pauses=PAUSES)
    room = np.random.default_rng(3).normal(0, 0.002, len(audio)).astype(np.float32)   # room tone, about -54 dBFS
    return audio + room, spoken


def whisper_like(spoken, shift_start: float, shift_end: float) -> list[Word]:
    """The known words with Whisper-like errors at the sentence edges: each sentence's first word
    starts `shift_start` later, its last word ends `shift_end` later (negative: earlier)."""
    words = []
    for sentence in spoken:
        for k, w in enumerate(sentence):
            start = w.start + (shift_start if k == 0 else 0.0)
            end = w.end + (shift_end if k == len(sentence) - 1 else 0.0)
            words.append(Word(start, max(start + 0.05, end), " " + w.text))
    return words


@pytest.mark.parametrize("shift_start,shift_end", [(0.0, 0.0), (0.3, -0.3), (-0.25, 0.25), (0.45, 0.1), (-0.1, -0.3)])
def test_every_edge_sits_in_the_pause_whatever_whisper_says(word_talk, shift_start, shift_end):
    audio, spoken = word_talk
    signals = compute_signals(audio, sample_rate=SAMPLE_RATE)
    words = whisper_like(spoken, shift_start, shift_end)
    duration = len(audio) / SAMPLE_RATE
    flat = [w for sentence in spoken for w in sentence]
    index = 0
    for i, sentence in enumerate(spoken):
        first, last = index, index + len(sentence) - 1
        index += len(sentence)
        start, end = clip_edges(signals, words, words[first].start, words[last].end, duration)
        true_first, true_last = flat[first], flat[last]
        previous_end = flat[first - 1].end if first else 0.0
        next_start = flat[last + 1].start if last + 1 < len(flat) else duration
        gap_before = true_first.start - previous_end
        gap_after = next_start - true_last.end
        # Where two sentences run together (40 ms), an edge a few hundred ms off lands on a gap
        # between words just as well: that boundary is only judged with small errors.
        if (gap_before >= SHORTEST_PAUSE or abs(shift_start) <= 0.1) and (gap_after >= SHORTEST_PAUSE or abs(shift_end) <= 0.1):
            # never inside a word: the start before the first word, after the word before it
            assert previous_end <= start.time <= true_first.start, (i, start, true_first)
            assert true_last.end <= end.time <= next_start, (i, end, true_last)
        if gap_before >= 2 * LEAD:
            assert start.kind == "pause"
            assert SHORTEST_LEAD - 0.03 <= true_first.start - start.time <= LEAD + 0.06
        if gap_after >= 2 * LEAD:
            assert end.kind == "pause"
            assert SHORTEST_LEAD - 0.03 <= end.time - true_last.end <= LEAD + 0.06


def test_sentences_that_run_together_are_cut_at_the_quietest_point(word_talk):
    audio, spoken = word_talk
    signals = compute_signals(audio, sample_rate=SAMPLE_RATE)
    words = whisper_like(spoken, 0.0, 0.0)
    last = spoken[2][-1]                 # "carefully." followed by "Seven" after 40 ms
    _, end = clip_edges(signals, words, spoken[2][0].start, last.end, len(audio) / SAMPLE_RATE)
    assert end.kind == "quietest"
    assert last.end <= end.time <= spoken[3][0].start


def envelope_at(signals, t: float) -> float:
    k = int(t / 0.01)
    return float(np.max(signals.envelope_db[max(0, k - 2): k + 3]))


def real_talk(name: str, engine_config):
    """(analysis, the talk's usual speech level in dB) of a real recording in ../shared/media."""
    path = SHARED_MEDIA / name
    if not path.exists():
        pytest.skip(f"{path} is missing (../shared/media)")
    from engine.pipeline import analyse

    analysis = analyse(path, engine_config)
    envelope = analysis.signals.envelope_db
    return analysis, float(np.percentile(envelope[envelope > -60], 80))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["talking_tedlieu_60s.mp4", "talking_obama_20s.mp4", "jfk_11s.flac"])
def test_edges_on_real_talks_sit_in_quiet(name, engine_config):
    """On real speech, every sentence's edges are in the quiet: at least 12 dB under the talk's
    usual speech level, where a word would be loud (except where the recording itself begins
    or ends in the middle of a word)."""
    analysis, speech_level = real_talk(name, engine_config)
    words = analysis.transcript.words
    checked = 0
    for sentence in analysis.sentences:
        start, end = clip_edges(analysis.signals, words, sentence.start, sentence.end, analysis.media.duration)
        assert start.time < sentence.words[0].end and end.time > sentence.words[-1].start
        for edge in (start, end):
            if not 0.3 < edge.time < analysis.media.duration - 0.3:
                continue                 # the recording itself starts or stops mid-word
            assert envelope_at(analysis.signals, edge.time) <= speech_level - 12, (name, edge, speech_level)
            checked += 1
    assert checked >= 1


def quiet_around(envelope: np.ndarray, t: float, level: float, seconds: float = 0.1) -> bool:
    """Is the sound under `level` for `seconds` centred on t (a pause, not a consonant's closure)?"""
    k, half = int(t / 0.01), int(seconds / 0.02)
    return bool(np.all(envelope[max(0, k - half): k + half + 1] <= level))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["talking_tedlieu_60s.mp4", "talking_obama_20s.mp4"])
def test_neighbouring_sentences_share_no_sound_and_no_edge_cuts_a_word(name, engine_config):
    """Where Whisper stretches a sentence's last word over the pause after it (Ted Lieu, "...shut
    it down." / "End quote."), the cut after it used to run on into the next sentence: no clip of
    one sentence may hold sound of the next (its end comes before the next one's start), and a
    cut inside a word's time (as this run's transcript gives it) is only allowed where that time
    is silence Whisper stretched the word over."""
    analysis, speech_level = real_talk(name, engine_config)
    words, envelope, quiet = analysis.transcript.words, analysis.signals.envelope_db, speech_level - 12
    edges = [clip_edges(analysis.signals, words, s.start, s.end, analysis.media.duration) for s in analysis.sentences]
    for (_, end), (start, _) in zip(edges, edges[1:]):
        assert end.time <= start.time + 0.01, (end, start)
    for start, end in edges:
        for edge in (start, end):
            for w in words:
                if w.start < edge.time < w.end and 0.3 < edge.time < analysis.media.duration - 0.3:
                    assert quiet_around(envelope, edge.time, quiet), (edge, w)
    assert len(edges) >= 2

"""Where a clip may start and end (engine.edges.run_on_sentences, engine.highlights): not where
Whisper wrote a full stop but the speaker ran straight on; and a count asked is given when the
speech has room for it side by side."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.edges import run_on_edges, run_on_sentences
from engine.highlights import Candidate, candidate_windows
from engine.highlights.selection import most_side_by_side
from engine.instructions import parse_instruction
from engine.models import Word
from engine.pipeline import choose_explained
from engine.sentences import split_sentences
from engine.signals import ENVELOPE_HOP, compute_signals
from tests.media import SAMPLE_RATE, SHARED_MEDIA, build_word_talk
from tests.run_once import analysed_once

STANDUP = Path("/work/coord/media/standup/orig_sub.mp4")     # 20 s of stand-up; the punchline follows a full stop at once
TEDLIEU = SHARED_MEDIA / "talking_tedlieu_60s.mp4"


def level_around(envelope: np.ndarray, t: float, before: float, after: float) -> np.ndarray:
    return envelope[max(0, int((t - before) / ENVELOPE_HOP)): int((t + after) / ENVELOPE_HOP)]


def quietest_tenth(envelope: np.ndarray, t: float) -> float:
    """The level (dB) of the quietest 0.1 s stretch within 0.15 s of `t`: in a pause, well under
    the speech; where the speaker talks on, at about the speech's own level."""
    near = level_around(envelope, t, 0.15, 0.15)
    width = int(round(0.1 / ENVELOPE_HOP))
    return float(min(np.mean(near[k:k + width]) for k in range(len(near) - width + 1)))


# --- the stand-up comedian who runs straight on into the punchline --------------------------------

@pytest.fixture(scope="module")
def standup_analysis(tmp_path_factory, engine_config):
    if not STANDUP.is_file():
        pytest.skip(f"real recording not found at {STANDUP} (it lives in /work/coord/media)")
    return analysed_once(tmp_path_factory, STANDUP, engine_config)


def test_a_short_does_not_end_while_the_speaker_runs_straight_on(standup_analysis):
    """Asked for one short of about 15 s, it was cut at 0:03-0:17 on a full stop after which the
    comedian talks on at full level. Now each edge sits where the sound drops well under the
    speech (a pause), or at the start or end of the file; the length is still about 15 s."""
    analysis = standup_analysis
    selection = choose_explained(analysis, parse_instruction("make me one short of about 15 seconds"))
    [moment] = selection.moments
    assert 13.5 - 0.05 <= moment.duration <= 16.5 + 0.05, (moment.start, moment.end)
    envelope = analysis.signals.envelope_db
    speech = float(np.percentile(level_around(envelope, moment.start, 0.0, moment.duration), 90))
    for edge, at_file_edge in ((moment.start, moment.start < 0.2), (moment.end, moment.end > analysis.media.duration - 0.2)):
        if not at_file_edge:
            assert quietest_tenth(envelope, edge) <= speech - 6.0, (edge, quietest_tenth(envelope, edge), speech)


# --- a talk spoken word by word, where every pause is known ----------------------------------------

SENTENCES = [
    "Good morning everyone and welcome back to the show.",
    "Today we finish the bridge project together.",
    "We tried it the old way first.",
    "That was a terrible idea.",
    "The whole thing fell into the river twice.",
    "Thanks for staying with us tonight.",
]
PAUSES = [0.6, 0.7, 0.5, 0.03, 0.6, 0.8]          # "idea." runs straight on into "The whole thing"


@pytest.fixture(scope="module")
def run_on_talk(tmp_path_factory):
    audio, spoken = build_word_talk(SENTENCES, tmp_path_factory.mktemp("run-on-talk"), pauses=PAUSES)
    audio = audio + np.random.default_rng(5).normal(0, 0.002, len(audio)).astype(np.float32)   # room tone
    words = [Word(w.start, w.end, " " + w.text) for sentence in spoken for w in sentence]
    return compute_signals(audio, sample_rate=SAMPLE_RATE), split_sentences(words), words, spoken


def test_the_sound_tells_which_full_stops_the_speaker_ran_straight_on_from(run_on_talk):
    signals, sentences, words, _ = run_on_talk
    assert len(sentences) == len(SENTENCES)
    run_on = run_on_sentences(sentences, words, signals.envelope_db)
    assert run_on.on_from == (False, False, False, True, False, False)
    assert run_on.into == (False, False, False, False, True, False)


def test_an_edit_takes_an_edge_the_speaker_runs_on_from_only_when_a_clean_one_is_much_further(run_on_talk):
    """"make clip 1 shorter by N seconds" snaps to sentence ends: not to "idea." (the speaker runs
    straight on) when a clean end is about as near, but to it when the clean ones are far."""
    from bot.edits import PREFER_CLEAN_SECONDS, _closest

    signals, sentences, _, _ = run_on_talk
    run_on = run_on_edges(sentences, signals.envelope_db)
    assert run_on == {sentences[3].end, sentences[4].start}
    ends = [s.end for s in sentences]
    idea, before = sentences[3].end, sentences[2].end
    assert _closest(ends, idea - 0.5, run_on) == idea                        # no clean end within reach
    halfway = (idea + before) / 2 + 0.3                                      # nearer "idea." by 0.6 s
    assert _closest(ends, halfway, run_on) == before
    assert abs(halfway - before) - abs(halfway - idea) < PREFER_CLEAN_SECONDS


def test_no_window_starts_or_ends_inside_a_run_on_while_others_fit(run_on_talk):
    """For every length some window without a run-on edge fits, no window of that length starts
    on "The whole thing" or ends on "idea." (on Whisper's sentences alone, some would)."""
    signals, sentences, words, spoken = run_on_talk
    run_on = run_on_sentences(sentences, words, signals.envelope_db)
    joined_end, joined_start = spoken[3][-1].end, spoken[4][0].start

    def clean(c: Candidate) -> bool:
        return abs(c.end - joined_end) > 1e-6 and abs(c.start - joined_start) > 1e-6

    judged = would_have_cut = 0
    for low in np.arange(2.0, 14.0, 0.5):
        high = low * 1.25

        def fitting(windows: list[Candidate]) -> list[Candidate]:
            return [c for c in windows if low - 0.05 <= c.duration <= high + 0.05]

        fit = fitting(candidate_windows(sentences, low, high, (low + high) / 2, run_on))
        if not any(clean(c) for c in fit):
            continue
        judged += 1
        assert all(clean(c) for c in fit), (low, [(c.start, c.end) for c in fit])
        would_have_cut += not all(clean(c) for c in fitting(candidate_windows(sentences, low, high, (low + high) / 2)))
    assert judged >= 5 and would_have_cut >= 3, (judged, would_have_cut)


# --- a count asked, and room for it ---------------------------------------------------------------

def test_the_most_windows_side_by_side_beat_the_best_one_alone():
    """The best window overlaps both others, which fit side by side: asked for two, both are given."""
    middle = Candidate(1, 2, 10.0, 30.0, total=60.0)
    early, late = Candidate(0, 1, 0.0, 15.0, total=40.0), Candidate(2, 3, 25.0, 45.0, total=35.0)
    assert sorted(c.start for c in most_side_by_side([middle, early, late], 2)) == [0.0, 25.0]
    assert most_side_by_side([middle, early, late], 1) == [middle]


@pytest.fixture(scope="module")
def tedlieu_analysis(tmp_path_factory, engine_config):
    if not TEDLIEU.is_file():
        pytest.skip(f"real recordings not found at {SHARED_MEDIA} (they live in ../shared/media beside the project)")
    return analysed_once(tmp_path_factory, TEDLIEU, engine_config)


def test_two_shorts_of_25_seconds_from_a_60_second_speech(tedlieu_analysis):
    """The best 27 s window sat in the middle and left no room for a second; the speech has room
    for two side by side, and two are given, each about 25 s."""
    analysis = tedlieu_analysis
    selection = choose_explained(analysis, parse_instruction("two vertical shorts, 25 seconds each"))
    assert len(selection.moments) == 2, [(m.start, m.end) for m in selection.moments]
    first, second = sorted(selection.moments, key=lambda m: m.start)
    assert first.end <= second.start
    for m in selection.moments:
        assert 22.5 - 0.05 <= m.duration <= 27.5 + 0.05, (m.start, m.end)
    assert not [n for n in selection.notes if n.kind == "fewer_than_asked"]


def test_a_pause_inside_a_sentence_is_an_edge_an_edit_may_take():
    """One long sentence: "3 seconds shorter" ends at a comma's pause, not 0.2 s earlier at the only full stop."""
    from bot.edits import _closest
    from engine.edges import phrase_edges
    from engine.sentences import split_sentences

    texts = [" We", " went", " down", " to", " the", " river,", " and", " then", " we", " walked", " home."]
    words, t = [], 0.0
    for text in texts:
        words.append(Word(t, t + 0.3, text))
        t += 0.3 + (0.4 if text.endswith(",") else 0.05)
    [sentence] = split_sentences(words)
    starts, ends = phrase_edges([sentence], np.zeros(0))
    assert ends == {words[5].end} and starts == {words[6].start}
    assert _closest([words[5].end, sentence.end], sentence.end - 2.0, ends) == words[5].end
    assert _closest([words[5].end, sentence.end], sentence.end - 0.3, ends) == sentence.end

"""A stretch the batched decode left without text is read a second time (engine/transcribe.py);
that reading is believed only when it is sure of itself (engine.trust.second_reading_reason):
the first reading heard the stretch and wrote nothing, and the second follows a prompt. On real
radio: tests/engine/test_trust_loops.py."""
from __future__ import annotations

from engine.models import Segment, Word
from engine.trust import LOW_PROBABILITY, SECOND_READING_PROBABILITY, second_reading_reason


def reading(*probabilities: list[float]) -> list[Segment]:
    """Segments, one per list, of words with these probabilities."""
    segments, at = [], 0.0
    for chances in probabilities:
        words = tuple(Word(at + 0.3 * i, at + 0.3 * i + 0.25, f" w{i}", p) for i, p in enumerate(chances))
        segments.append(Segment(words[0].start, words[-1].end, "".join(w.text for w in words), words))
        at = words[-1].end + 0.5
    return segments


def test_a_second_reading_must_be_surer_of_its_words_than_a_first():
    guessed = [0.18, 0.65, 0.29, 0.82, 0.59, 0.2, 0.15, 0.45, 0.96, 0.66, 0.45, 0.38, 0.7, 0.91]
    assert sum(guessed) / len(guessed) > LOW_PROBABILITY, "a first reading this sure is believed"
    assert "second" in second_reading_reason(reading(guessed))
    assert second_reading_reason(reading([0.9, 0.95, 0.99, 0.7, 0.85, 0.92])) == ""
    assert second_reading_reason([]) == "", "nothing read"


def test_a_second_reading_is_judged_over_all_its_words():
    """A short unsure phrase in a sure reading (a name, a cut-off word) does not sink it; a sure
    word or two in an unsure reading does not carry it."""
    assert second_reading_reason(reading([0.95] * 10, [0.5, 0.6], [0.9] * 10)) == ""
    assert second_reading_reason(reading([0.4] * 10, [0.99, 0.99])) != ""
    assert 0.5 < SECOND_READING_PROBABILITY < 0.76


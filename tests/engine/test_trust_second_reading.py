"""A stretch the batched decode left without text is read a second time (engine/transcribe.py),
prompted with the text before it; a second reading unsure of its words is believed only when
readings of the same sound without the prompt say much the same
(engine.trust.second_reading_reason). On real radio: tests/engine/test_trust_loops.py."""
from __future__ import annotations

from engine.models import Segment, Word
from engine.trust import LOW_PROBABILITY, SURE_READING, agreement, second_reading_reason, sure_of_itself


def reading(text: str, probability: float = 0.5) -> list[Segment]:
    """One segment of `text`, each word said with this probability."""
    words = tuple(Word(0.3 * i, 0.3 * i + 0.25, " " + w, probability) for i, w in enumerate(text.split()))
    return [Segment(0.0, words[-1].end, text, words)] if words else []


def test_readings_agree_by_the_words_they_share_in_order():
    said = "We'll let you know where to end up."
    assert agreement(said, " we'll let you know where to end up") == 1.0, "punctuation and case aside"
    assert 0.8 < agreement(said, "We will let you know where to end up.") < 1.0
    assert agreement(said, "I'm proud of my life, no way in a life.") < 0.2
    assert agreement("", "") == 1.0 and agreement(said, "") == 0.0
    assert agreement("秋天总是那么富有诗意", "秋天总是那么富有失意") == 0.9, "by characters, for Chinese"


def test_an_unsure_second_reading_is_believed_when_readings_without_its_prompt_agree():
    guess = reading("Okay, I'm not proud. I'm not letting you know where they're going to be.", 0.53)
    assert 0.53 > LOW_PROBABILITY, "as sure as a first reading that is believed"
    assert not sure_of_itself(guess)
    others = ["I'm proud of my life, no way in a life.", "Okay, I'm no problem, I know where they're in."]
    assert "read differently" in second_reading_reason(guess, others)
    alike = ["Okay, I'm not proud. I'm not going to let you know where they're going to be."] * 2
    assert second_reading_reason(guess, alike) == ""


def test_a_sure_second_reading_needs_no_check():
    sure = reading("Active duty in our military because I believe America is an exceptional country.", SURE_READING)
    assert sure_of_itself(sure)
    assert second_reading_reason(sure, ["something else entirely"]) == ""
    assert second_reading_reason(sure) == ""

"""Whisper's decoding loops are cut out of a segment, and the real speech around them keeps its
captions (engine.trust): noisy radio speech is heard badly, not invented."""
from __future__ import annotations

import re

import numpy as np
import pytest

from engine.models import Segment, Word
from engine.trust import split_trusted
from tests.media import SHARED_MEDIA

RATE = 16000


def words_of(text: str, start: float, step: float = 0.3) -> tuple[Word, ...]:
    return tuple(Word(start + i * step, start + i * step + 0.25, " " + w, 0.8) for i, w in enumerate(text.split()))


def test_a_loop_inside_a_segment_is_cut_out_and_the_speech_around_it_kept():
    loud = (np.sin(np.linspace(0, 4000, RATE * 60)) * 0.3).astype(np.float32)
    before = words_of("We got a recommendation for you on the docking target.", 1.0)
    loop = words_of("We're still here. " * 12, 5.0, step=0.05)
    after = words_of("Okay, fine. We were not sure that this was a suggestion.", 20.0)
    words = before + loop + after
    segment = Segment(1.0, words[-1].end, "".join(w.text for w in words), words)
    trusted, distrusted = split_trusted([segment], loud, RATE)
    assert [s.text.split()[0] for s in trusted] == ["We", "Okay,"]
    assert [len(s.words) for s in trusted] == [len(before), len(after)]
    assert len(distrusted) == 1 and distrusted[0].words == loop and "loop" in distrusted[0].distrust


def judged(text: str):
    """(trusted, distrusted) for one segment of `text` said over a loud tone."""
    loud = (np.sin(np.linspace(0, 4000, RATE * 10)) * 0.3).astype(np.float32)
    words = words_of(text, 0.5)
    return split_trusted([Segment(0.5, words[-1].end, text, words)], loud, RATE)


@pytest.mark.parametrize("text", ["No, no, no, no, that is not what I said.", "We will, we will, we will win this.",
                                  "Very very good indeed, thank you."])
def test_ordinary_repetition_is_speech(text):
    trusted, distrusted = judged(text)
    assert len(trusted) == 1 and not distrusted


@pytest.mark.parametrize("text", ["America has 10,000 cases and Korea has like a thousand.",
                                  "The budget went from 100,000 to 1,000,000 dollars, a trillion is 1,000,000,000,000.",
                                  "Well, Lloyd, that is not what I said."])
def test_numbers_and_letters_across_words_are_no_stuck_sound(text):
    """Whisper writes "10,000" as 10000: four zeros are a number, not a sound held; and the l of
    "Well" followed by the ll of "Lloyd" are two words, not one stuck sound."""
    trusted, distrusted = judged(text)
    assert [s.text for s in trusted] == [text] and not distrusted


@pytest.mark.parametrize("text", ["Zzzzz", "哈哈哈哈哈", "The total is 8,41957777777777777777777777 and that is it."])
def test_a_stuck_sound_or_a_digit_loop_is_distrusted(text):
    """A letter or character held on ("Zzzzz", "哈哈哈哈哈") and a digit repeated more times than any
    number has zeros (Whisper's "8,41957777777...", whisperX issue 336) are not speech."""
    trusted, distrusted = judged(text)
    assert not trusted and [s.distrust for s in distrusted] == ["one sound repeated"]


def looping(text: str) -> bool:
    """A phrase of one to eight words said four times back to back (a word alone: five)."""
    words = re.findall(r"\w+", text.lower())
    for n in range(1, 9):
        for i in range(len(words) - n):
            times = 1
            while words[i + times * n: i + (times + 1) * n] == words[i: i + n]:
                times += 1
            if times >= 4 + (n == 1):
                return True
    return False


@pytest.fixture(scope="module")
def radio(engine_config):
    """The Apollo 11 radio's transcript, through the whole analysis (one run for this file's tests)."""
    path = SHARED_MEDIA / "apollo11_89s.mp3"
    if not path.exists():
        pytest.skip(f"{path} is missing (../shared/media)")
    from engine.pipeline import analyse

    return analyse(path, engine_config).transcript


@pytest.mark.slow
def test_noisy_radio_speech_keeps_captions_where_it_is_heard(radio):
    """Apollo 11 radio: Whisper (tiny.en) hears real words through the noise and loops in places.
    What is kept has no loop in it and is a good part of what was heard."""
    kept = [s for s in radio.segments if s.words]
    assert sum(len(s.words) for s in kept) >= 15
    assert not any(looping(s.text) for s in kept)


@pytest.mark.slow
def test_radio_the_first_reading_left_empty_is_not_captioned_from_a_second_guess(radio):
    """tiny.en's batched decode ends its text at 72.6 s and the voice detector hears speech after
    it; the second reading of that stretch is unsure of its words (as the first readings of this
    radio are) and readings without its prompt say something else: a guess, kept aside with its
    reason (engine.trust.second_reading_reason), not captioned."""
    second = [s for s in radio.distrusted if s.distrust.startswith("read a second time")]
    assert second, "what was read again is kept aside with its reason"
    start, end = min(s.start for s in second), max(s.end for s in second)
    assert not any(start < w.end and w.start < end for w in radio.words), "no trusted word in that stretch"

"""An exact cut (engine.exact_cut): which requests name a stretch to cut as it is rather than a place to
search, and where its edges go: never inside a word, and otherwise where they were asked."""
from __future__ import annotations

import numpy as np
import pytest

from engine.exact_cut import exact_span, exact_too_long
from engine.instructions import parse_instruction
from engine.models import ClipRequest, Word
from engine.signals import compute_signals
from tests.media import SAMPLE_RATE, SHARED_MEDIA, build_word_talk
from tests.run_once import analysed_once

# (request, (start, end) of the exact cut; None for the whole video)
EXACT = [
    ("cut 0:10 to 0:40 into a vertical short", (10.0, 40.0)),
    ("cut from 0:00 to 1:00 vertical", (0.0, 60.0)),
    ("trim 0:05-0:20", (5.0, 20.0)),
    ("give me 0:05 to 0:20", (5.0, 20.0)),
    ("clip 1:10 to 1:45, square, no captions", (70.0, 105.0)),
    ("make a short from 2:00 to 2:30", (120.0, 150.0)),
    ("把0:10到0:40剪出来", (10.0, 40.0)),
    ("剪0:10-0:40", (10.0, 40.0)),
    ("make the whole video vertical with captions", None),
    ("make the entire video a short", None),
    ("turn the full video into a vertical short", None),
    ("all of it vertical please", None),
    ("整个视频做成竖屏", None),
    ("把完整视频做成竖屏，加字幕", None),
    ("全部做成竖屏", None),
]
SEARCH = [
    "find the best moments between 10:00 and 20:00",
    "find the best moments in the first 5 minutes",
    "3 clips from 1:00 to 5:00",
    "30-second clips from 2:00 to 8:00",
    "cut 1:00 to 2:00 into 20 second clips",
    "cut the funny part from 0:10 to 0:40",
    "from 5:00 to 20:00",
    "find the best moments in the whole video",
    "make 3 shorts from the entire video",
    "make the first 5 minutes of the whole video vertical",
    "the second half",
    "make it vertical",
    "从1:00到3:00找几个精彩片段",
    "在整个视频里找三个精彩片段",
    "剪成三个60秒的竖屏短视频",
]


@pytest.mark.parametrize("text, span", EXACT, ids=[t for t, _ in EXACT])
def test_a_stretch_named_to_cut_is_an_exact_cut(text, span):
    request = parse_instruction(text)
    assert request.exact and request.count == 1 and request.unplaced is None
    assert (request.range_start, request.range_end) == (span or (None, None))


@pytest.mark.parametrize("text", SEARCH)
def test_a_place_to_look_a_count_or_a_length_stays_a_search(text):
    assert not parse_instruction(text).exact


def test_a_range_longer_than_a_short_is_searched_and_says_why():
    """Over the longest a short can be (10 minutes): the best moments inside, with too_long set so
    the person hears why; the whole of a video that long the same, once its length is known."""
    request = parse_instruction("cut 0:00 to 20:00")
    assert not request.exact and request.too_long == 1200.0 and (request.range_start, request.range_end) == (0, 1200)
    whole = parse_instruction("make the whole video vertical")
    assert not exact_too_long(whole, 300.0) and whole.exact
    assert exact_too_long(whole, 1800.0) and not whole.exact and whole.too_long == 1800.0


# --- the edges, on a talk spoken word by word (every word's sound known to the sample) -----------

SENTENCES = ["Good morning everyone and welcome back to the show.",
             "Today we finish the enormous bridge project together.",
             "That was a terrible idea."]


@pytest.fixture(scope="module")
def word_talk(tmp_path_factory):
    audio, spoken = build_word_talk(SENTENCES, tmp_path_factory.mktemp("exact-talk"), word_gap=0.12)
    audio = audio + np.random.default_rng(3).normal(0, 0.002, len(audio)).astype(np.float32)   # room tone
    truth = [w for sentence in spoken for w in sentence]
    # Whisper's times are often a little off: these are 0.08 s late at the start and early at the end
    words = [Word(w.start + 0.08, w.end - 0.08, " " + w.text) for w in truth]
    return compute_signals(audio, sample_rate=SAMPLE_RATE).envelope_db, words, truth, len(audio) / SAMPLE_RATE


def inside_a_word(t: float, truth) -> bool:
    """By more than the sound's envelope can tell (10 ms frames) and the cut's fade (8 ms)."""
    return any(w.start + 0.02 < t < w.end - 0.02 for w in truth)


def test_an_asked_edge_inside_a_word_moves_out_of_it_and_no_further_than_a_second(word_talk):
    envelope, words, truth, duration = word_talk
    checked = 0
    for i, word in enumerate(truth[1:-1], start=1):
        if word.end - word.start < 0.3:
            continue
        middle = (word.start + word.end) / 2
        span = exact_span(ClipRequest(range_start=middle, range_end=middle + 3.0, exact=True), words, envelope, duration)
        assert span.start_in_word and not inside_a_word(span.start, truth), (word.text, middle, span)
        assert truth[i - 1].end - 0.02 <= span.start <= word.start + 0.02 and middle - span.start <= 1.2, (word, span)
        span = exact_span(ClipRequest(range_start=middle - 3.0, range_end=middle, exact=True), words, envelope, duration)
        assert span.end_in_word and not inside_a_word(span.end, truth), (word.text, middle, span)
        assert word.end - 0.02 <= span.end <= truth[i + 1].start + 0.02 and span.end - middle <= 1.2, (word, span)
        checked += 1
    assert checked >= 5


def test_an_asked_edge_between_words_stays_where_it_was_asked(word_talk):
    envelope, words, truth, duration = word_talk
    pause_after_show = (truth[8].end + truth[9].start) / 2          # the pause between the first two sentences
    request = ClipRequest(range_start=pause_after_show, range_end=duration - 0.2, exact=True)
    span = exact_span(request, words, envelope, duration)
    assert (span.start, span.end) == (round(pause_after_show, 3), round(duration - 0.2, 3))
    assert not span.start_in_word and not span.end_in_word and span.spoken


# --- a real recording, on the words Whisper heard -------------------------------------------------

@pytest.fixture(scope="module")
def tedlieu(tmp_path_factory, engine_config):
    return analysed_once(tmp_path_factory, SHARED_MEDIA / "talking_tedlieu_60s.mp4", engine_config)


def test_on_a_real_talk_an_edge_asked_inside_a_heard_word_goes_to_its_edge(tedlieu):
    """Whatever words Whisper hears: an asked point in the middle of a word it heard moves to
    before (a start) or after (an end) that word, by little more than the word."""
    words = tedlieu.transcript.words
    envelope, duration = tedlieu.signals.envelope_db, tedlieu.media.duration
    long_words = [w for w in words if w.end - w.start >= 0.3 and 5.0 < w.start < duration - 5.0][:6]
    assert len(long_words) >= 4
    for word in long_words:
        middle = (word.start + word.end) / 2
        span = exact_span(ClipRequest(range_start=middle, range_end=middle + 20.0, exact=True), words, envelope, duration)
        assert span.start_in_word and span.start <= word.start + 0.35 and middle - span.start <= 1.5, (word, span)
        span = exact_span(ClipRequest(range_start=middle - 5.0, range_end=middle, exact=True), words, envelope, duration)
        assert span.end_in_word and span.end >= word.end - 0.35 and span.end - middle <= 1.5, (word, span)


def test_an_exact_cut_is_named_by_its_first_whole_sentence_and_tagged_or_by_its_start_when_silent():
    """It was always "Moment at 0:10" in the chat, with no hashtags, though its words were there."""
    from engine.exact_cut import exact_moment
    from engine.models import ExactSpan, Sentence

    words = [Word(10.0 + i, 10.6 + i, w) for i, w in enumerate("bakers bake bread . bread sells at dawn .".split())]
    sentences = [Sentence(10.0, 12.6, "Bakers bake bread.", ()), Sentence(13.0, 17.6, "Bread sells at dawn.", ()),
                 Sentence(30.0, 31.0, "Later words.", ())]
    span = ExactSpan(10.0, 20.0, 10.0, 20.0, False, False, False, True)
    named = exact_moment(span, words, "en", sentences, ClipRequest())
    assert named.title == "Bakers bake bread" and "#bread" in named.hashtags and named.asked and named.score == 0.0
    late = ExactSpan(11.0, 20.0, 11.0, 20.0, False, False, False, True)       # the first sentence only in part
    assert exact_moment(late, words, "en", sentences, ClipRequest()).title == "Bread sells at dawn"
    silent = exact_moment(ExactSpan(0.0, 6.0, 0.0, 6.0, False, False, True, False), [], "en", [], ClipRequest())
    assert silent.title == "Moment at 0:00" and silent.hashtags == []

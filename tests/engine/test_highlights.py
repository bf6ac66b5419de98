"""engine.highlights on hand-made sentences and signals: candidate windows, sub-scores, choosing
moments and reels, titles and hashtags. Moments chosen by their sound are in test_sound_moments.py,
the highlights of made-up talks in test_highlights_on_media.py."""
from __future__ import annotations

import numpy as np
import pytest

from engine.highlights import (
    candidate_windows,
    make_context,
    score_candidate,
    hashtags_for,
    keyword_document_frequency,
    select_moments,
    sentence_features,
    trim_title,
)
from engine.instructions import parse_instruction
from engine.highlights.selection import choose_moments
from engine.models import ClipRequest
from engine.joins import crossfade_for
from tests.engine.highlight_helpers import DULL, flat_signals, script, sentence


# --- candidates -------------------------------------------------------------------------

def test_windows_start_and_end_on_sentence_edges_within_the_length():
    sentences = script([DULL] * 30)                  # 4.6 s per sentence, ~138 s
    windows = candidate_windows(sentences, low=25.5, high=34.5, target=30.0)
    starts = {s.start for s in sentences}
    ends = {s.end for s in sentences}
    assert windows
    for w in windows:
        assert w.start in starts and w.end in ends
        if w.end == sentences[-1].end:
            assert 0.75 * 25.5 <= w.duration <= 34.5          # running into the end of the talk: a little short is allowed
        else:
            assert 25.5 <= w.duration <= 34.5


def test_a_long_sentence_takes_the_nearest_edge():
    sentences = [sentence(0.0, 10.0, "A short one."), sentence(10.5, 50.0, "A very long sentence " * 10),
                 sentence(50.5, 55.0, "The end.")]
    windows = candidate_windows(sentences, low=25.5, high=34.5, target=30.0)
    assert any(w.first == 0 and w.last == 1 for w in windows)          # 50 s: the nearest end after 10 s


def test_a_talk_shorter_than_asked_is_one_window():
    sentences = script(["Hello there.", "That is all."])
    windows = candidate_windows(sentences, low=51.0, high=69.0, target=60.0)
    assert [(w.first, w.last) for w in windows] == [(0, 1)]


# --- sub-scores ----------------------------------------------------------------------------

def test_hook_features():
    strong = sentence_features(sentence(0, 3, "Do you know the one mistake that cost us a million dollars?"))
    plain = sentence_features(sentence(0, 3, "The room was painted green."))
    greeting = sentence_features(sentence(0, 3, "Welcome back to the channel."))
    assert strong.hook > plain.hook > greeting.hook
    assert "question" in strong.hook_reason and "viewer" in strong.hook_reason
    assert sentence_features(sentence(0, 3, "And then it rained.")).dangling_start == "and"
    assert sentence_features(sentence(0, 3, "They left early.")).dangling_start == "they"


def test_dangling_opening_loses_self_contained():
    texts = ["But that was the biggest lesson we learned about pricing.", DULL, DULL, DULL, DULL, DULL, DULL,
             "Here is the biggest lesson we learned about pricing.", DULL, DULL, DULL, DULL, DULL, DULL]
    sentences = script(texts)
    request = ClipRequest(length=30, min_length=25.5, max_length=34.5)
    ctx = make_context(sentences, flat_signals(70), request, target=30)
    windows = {(c.first, c.last): score_candidate(c, ctx) for c in candidate_windows(sentences, 25.5, 34.5, 30)}
    dangling, clean = windows[(0, 6)], windows[(7, 13)]
    assert clean.scores["self_contained"] == 100
    assert dangling.scores["self_contained"] <= 50
    assert any('"but"' in r for r in dangling.reasons)
    assert clean.total > dangling.total
    chosen = select_moments(sentences, flat_signals(70), ClipRequest(length=30, min_length=25.5, max_length=34.5, count=1), 70)
    assert chosen[0].start == sentences[7].start


def test_topic_decides_when_asked():
    texts = [DULL] * 6 + ["Our pricing changed when we charged for value.", "The price went up and sales grew."] + [DULL] * 6
    sentences = script(texts)
    duration = sentences[-1].end + 1
    asked = select_moments(sentences, flat_signals(duration), parse_instruction("one 10 second clip about pricing"), duration)
    assert len(asked) == 1
    assert asked[0].start == sentences[6].start
    assert asked[0].scores["topic"] > 50 and "pric" in " ".join(asked[0].reasons)
    assert "#Pricing" in asked[0].hashtags


def test_energy_is_relative_to_the_video_itself():
    """The same talk recorded 20 dB quieter gets the same energy scores."""
    sentences = script([DULL] * 20)
    request = ClipRequest(length=20, min_length=17, max_length=23, count=2)
    loud = select_moments(sentences, flat_signals(95, level=-15, loud=[(40, 60, -9)]), request, 95)
    quiet = select_moments(sentences, flat_signals(95, level=-35, loud=[(40, 60, -29)]), request, 95)
    assert [m.scores["energy"] for m in loud] == [m.scores["energy"] for m in quiet]


def test_applause_after_the_end_pays_off():
    texts = [DULL] * 5 + ["That is why we never gave up."] + [DULL] * 5
    sentences = script(texts)
    applause = (sentences[5].end + 0.3, sentences[5].end + 3.3)
    duration = sentences[-1].end + 1
    moments = select_moments(sentences, flat_signals(duration, bursts=(applause,)),
                             ClipRequest(length=14, min_length=11.9, max_length=16.1, count=1), duration)
    assert moments[0].end == sentences[5].end
    assert moments[0].scores["payoff"] >= 80
    assert any("applause" in r for r in moments[0].reasons)


# --- choosing -----------------------------------------------------------------------------

def test_count_non_overlap_rank_order_and_fields():
    sentences = script([DULL, "Why do most shops fail in their first year?", DULL, DULL, "You will not believe this!"] * 6)
    duration = sentences[-1].end + 1
    moments = select_moments(sentences, flat_signals(duration), parse_instruction("4 clips of 20 seconds"), duration)
    assert len(moments) == 4
    assert [m.rank for m in moments] == [1, 2, 3, 4]
    assert [m.score for m in moments] == sorted((m.score for m in moments), reverse=True)
    spans = sorted((m.start, m.end) for m in moments)
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))
    for m in moments:
        assert 0 <= m.score <= 100
        assert set(m.scores) == {"hook", "energy", "emotion", "self_contained", "payoff", "topic"}
        assert len(m.reasons) == 6
        assert 3 <= len(m.hashtags) <= 5 and all(t.startswith("#") for t in m.hashtags)
        assert m.title and len(m.title) <= 71
        assert m.text.startswith(next(s.text for s in sentences if s.start == m.start))
        assert 17 <= m.duration <= 23


def test_the_time_range_is_respected():
    sentences = script([DULL, "Why does this matter to you?"] * 20)       # ~184 s
    duration = sentences[-1].end + 1
    inside = select_moments(sentences, flat_signals(duration), parse_instruction("2 clips of 15s from 1:00 to 2:00"), duration)
    assert inside and all(60 <= m.start and m.end <= 120 for m in inside)
    last = select_moments(sentences, flat_signals(duration), parse_instruction("1 clip of 15s in the last 30 seconds"), duration)
    assert last and last[0].start >= duration - 30 - 0.25
    pictured = sentences[len(sentences) // 2].end         # a video whose pictures stop there, its sound running on
    early = select_moments(sentences, flat_signals(duration), parse_instruction("3 clips of 15s"), pictured)
    assert early and all(m.end <= pictured + 0.25 for m in early), "no moment where there is no picture"


def test_reel_fills_the_total_in_timeline_order():
    sentences = script(["What would you do with a million dollars?", DULL, "This changed everything for us!", DULL] * 10)
    duration = sentences[-1].end + 1
    moments = select_moments(sentences, flat_signals(duration), parse_instruction("compile a 30 second highlight reel"), duration)
    assert len(moments) == 1
    reel = moments[0]
    assert len(reel.segments) >= 2
    assert reel.segments == sorted(reel.segments)
    assert all(a[1] <= b[0] for a, b in zip(reel.segments, reel.segments[1:]))
    assert 30 * 0.9 <= reel.duration <= 30 * 1.1
    edges = {s.start for s in sentences} | {s.end for s in sentences}
    assert all(s in edges and e in edges for s, e in reel.segments)
    assert (reel.start, reel.end) == (reel.segments[0][0], reel.segments[-1][1])


@pytest.mark.parametrize("seed", range(8))
def test_a_reel_fills_its_total_whatever_the_sentence_lengths(seed):
    """Sentences of uneven lengths (as a speech model may cut them): the pieces are grown, trimmed,
    swapped or added on sentence edges until the reel lasts what was asked, within 10%."""
    rng = np.random.default_rng(seed)
    texts = ["What would you do with a million dollars?", DULL, "This changed everything for us!", DULL]
    sentences, t = [], 0.5
    for i in range(14):
        each = float(rng.choice([2.0, 3.5, 5.0, 7.5, 8.0, 9.0]))
        sentences.append(sentence(t, t + each, texts[i % len(texts)]))
        t += each + float(rng.choice([0.4, 0.8, 1.5]))
    edges = {s.start for s in sentences} | {s.end for s in sentences}
    for total in (15, 20, 30):
        [reel] = select_moments(sentences, flat_signals(t + 1), parse_instruction(f"compile a {total} second reel"), t + 1)
        assert total * 0.9 <= reel.duration <= total * 1.1, (total, reel.segments)
        assert all(s in edges and e in edges for s, e in reel.segments)
        assert all(a[1] + 1.0 <= b[0] for a, b in zip(reel.segments, reel.segments[1:]))


def test_the_second_half_is_respected():
    sentences = script([DULL, "Why does this matter to you?"] * 20)       # ~184 s
    duration = sentences[-1].end + 1
    moments = select_moments(sentences, flat_signals(duration), parse_instruction("3 clips of 15s from the second half"),
                             duration)
    assert len(moments) == 3 and all(m.start >= duration / 2 - 0.25 for m in moments)
    first = select_moments(sentences, flat_signals(duration), parse_instruction("3 clips of 15s in the first half"), duration)
    assert len(first) == 3 and all(m.end <= duration / 2 + 0.25 for m in first)


def test_no_speech_and_a_flat_sound_offers_evenly_spaced_moments_and_says_so():
    """Nothing to go by (no words, no burst, no stretch livelier than the rest): evenly spaced
    moments instead of nothing, with a note saying nothing stood out; silence gives nothing."""
    selection = choose_moments([], flat_signals(120), parse_instruction("3 clips of 20 seconds"), 120)
    assert [n.kind for n in selection.notes] == ["nothing_stands_out"]
    starts = sorted(m.start for m in selection.moments)
    assert len(starts) == 3 and starts[0] < 30 and 30 <= starts[1] < 70 and starts[2] >= 70
    assert all(18 <= m.duration <= 22 for m in selection.moments)
    assert select_moments([], flat_signals(120), parse_instruction("compile a 30 second reel"), 120) == []
    assert select_moments([], flat_signals(120, level=-100.0), ClipRequest(), 120) == []


def test_titles_and_hashtags():
    assert trim_title("So, this is the story of how we doubled our revenue in one year without hiring anyone at all.") \
        == "This is the story of how we doubled our revenue in one year without…"
    assert trim_title("and we won.") == "We won"
    sentences = script(["Bread and butter sell best in winter.", "Our bread is baked at dawn.", DULL, DULL])
    tags = hashtags_for(" ".join(s.text for s in sentences[:2]), keyword_document_frequency(sentences), ClipRequest())
    assert "#bread" in tags and 3 <= len(tags) <= 5 and "#shorts" in tags
    cn = hashtags_for("定价定价很重要", keyword_document_frequency([]), ClipRequest(topic="定价"))
    assert cn[0] == "#定价" and 3 <= len(cn) <= 5


def test_hashtags_leave_out_the_filler_words_of_the_clips_language():
    """A Spanish clip's hashtags were #estará and #tres; a German one's #anderen."""
    spanish = script(["Roberto estará aquí con tres amigos de Alba.", "Roberto estará también con Alba."])
    tags = hashtags_for(" ".join(s.text for s in spanish), keyword_document_frequency(spanish, "es"), ClipRequest(), "es")
    assert "#roberto" in tags and not {"#estará", "#tres", "#también"} & set(tags)
    german = script(["Die anderen Bedingungen der Software gelten weiter."])
    tags = hashtags_for(german[0].text, keyword_document_frequency(german, "de"), ClipRequest(), "de")
    assert "#software" in tags and "#anderen" not in tags
    unknown = script(["Kialo kialo estará tres."])
    assert "#kialo" in hashtags_for(unknown[0].text, keyword_document_frequency(unknown, "xx"), ClipRequest(), "xx")


def test_more_clips_than_fit_says_how_many_did():
    """A minute of talk has room for a few 15 s clips, not 50: the reply must not pass over it."""
    sentences = script([DULL, "Why does this matter to you?"] * 6)
    duration = sentences[-1].end + 1
    selection = choose_moments(sentences, flat_signals(duration), parse_instruction("50 clips of 15 seconds"), duration)
    assert 0 < len(selection.moments) < 50
    [note] = [n for n in selection.notes if n.kind == "fewer_than_asked"]
    assert note.asked == 50 and note.kept == len(selection.moments)
    enough = choose_moments(sentences, flat_signals(duration), parse_instruction("2 clips of 15 seconds"), duration)
    assert len(enough.moments) == 2 and not [n for n in enough.notes if n.kind == "fewer_than_asked"]


def test_a_short_longer_than_any_can_be_is_said():
    """"make a 3-hour short": the usual lengths, and a sentence saying why; "my 3-hour podcast" is the source."""
    sentences = script([DULL, "Why does this matter to you?"] * 6)
    duration = sentences[-1].end + 1
    selection = choose_moments(sentences, flat_signals(duration), parse_instruction("make a 3-hour short"), duration)
    assert selection.moments and selection.notes[0].kind == "too_long"
    assert selection.notes[0].asked == 3 * 3600 and selection.notes[0].got == 10
    podcast = choose_moments(sentences, flat_signals(duration), parse_instruction("cut my 3-hour podcast into shorts"),
                             duration)
    assert not [n for n in podcast.notes if n.kind == "too_long"]


def test_a_reel_says_it_is_one_and_when_the_video_had_too_little_for_it():
    """"compile a 1-minute highlight reel": the reply must say it is a reel of N moments, and say so
    when the video holds far less than asked (it read like one ordinary short)."""
    long_talk = script([DULL, "Why does this matter to you?"] * 20)
    duration = long_talk[-1].end + 1
    made = choose_moments(long_talk, flat_signals(duration), parse_instruction("compile a 30 second highlight reel"),
                          duration)
    [note] = made.notes
    assert note.kind == "reel" and note.kept == len(made.moments[0].segments) > 1
    segments = made.moments[0].segments                  # its length as it plays: the joins overlap
    assert note.got == pytest.approx(sum(e - s for s, e in segments) - (len(segments) - 1) * crossfade_for(segments), abs=0.06)
    short_talk = script([DULL, "Why does this matter to you?"] * 2)
    duration = short_talk[-1].end + 1
    little = choose_moments(short_talk, flat_signals(duration), parse_instruction("compile a 2-minute highlight reel"),
                            duration)
    [note] = little.notes
    assert note.kind == "reel_short" and note.asked == 120 and note.got < 90


def test_a_title_stops_where_whisper_left_out_a_full_stop():
    """Whisper sometimes writes two sentences as one but still capitalises the second: a title
    is the first of them, not both run together; names and "I" are no such start."""
    assert trim_title("The market rewards it even more When people know what they want they pay") \
        == "The market rewards it even more"
    assert trim_title("Yeah exactly When people know what to buy they pay more") \
        == "When people know what to buy they pay more"
    assert trim_title("I met Will Smith in May and I said hello") == "I met Will Smith in May and I said hello"
    assert trim_title("so it said OK Google and nothing happened") == "It said OK Google and nothing happened"

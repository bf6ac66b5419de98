"""engine.highlights: on hand-made sentences and signals, then on made-up media: an espeak-ng
talk, and a "game" with nobody speaking (crowd noise and cheers over a lavfi picture)."""
from __future__ import annotations

import json
import re

import numpy as np
import pytest

from engine.highlights import (
    Candidate,
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
from engine.models import ClipRequest, Sentence, Signals, Word
from engine.signals import find_bursts
from tests.engine.conftest import HOOK_SENTENCES, LOUD_SENTENCES
from tests.media import (QUIET_APPLAUSE_GAIN, SAMPLE_RATE, Piece, crowd_audio, make_talk_video, make_video, noise_burst,
                         write_wav)

HOP = 0.5


def sentence(start: float, end: float, text: str) -> Sentence:
    parts = text.split(" ")
    step = (end - start) / len(parts)
    words = tuple(Word(round(start + i * step, 3), round(start + (i + 1) * step - 0.02, 3), " " + p)
                  for i, p in enumerate(parts))
    return Sentence(start=words[0].start, end=words[-1].end, text=text, words=words)


def script(texts: list[str], each: float = 4.0, pause: float = 0.6, start: float = 0.5) -> list[Sentence]:
    out, t = [], start
    for text in texts:
        out.append(sentence(t, t + each, text))
        t += each + pause
    return out


def flat_signals(duration: float, level: float = -30.0, loud: list[tuple[float, float, float]] = (),
                 bursts: tuple = (), words_until: float | None = None) -> Signals:
    frames = int(np.ceil(duration / HOP))
    loudness = np.full(frames, level, dtype=np.float32)
    for start, end, db in loud:
        loudness[int(start / HOP): int(end / HOP)] = db
    rate = np.full(frames, 2.5, dtype=np.float32)
    for start, end in bursts:
        rate[int(start / HOP): int(end / HOP)] = 0.0          # nobody talks during applause
    return Signals(hop=HOP, loudness_db=loudness, bursts=tuple(bursts), scene_cuts=(), speech_rate=rate)


DULL = "The meeting room has green chairs and a small table by the door."


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


# --- moments chosen by their sound, where nobody speaks --------------------------------------

def crowd_signals(duration: float, bursts: list[tuple[float, float, float]], level: float = -30.0,
                  cuts: tuple = (), dips: tuple = (), speaking: tuple = ()) -> Signals:
    """A game: crowd noise (noise-like throughout) at `level`, each burst (start, end, dB louder),
    scene cuts, quiet dips (time: one hop 10 dB down) and (start, end) stretches where someone talks."""
    frames = int(np.ceil(duration / HOP))
    loudness = np.full(frames, level, dtype=np.float32)
    for start, end, rise in bursts:
        loudness[int(start / HOP): int(end / HOP)] = level + rise
    for t in dips:
        loudness[int(t / HOP)] = level - 10
    rate = np.zeros(frames, dtype=np.float32)
    for start, end in speaking:
        rate[int(start / HOP): int(end / HOP)] = 2.5
    return Signals(hop=HOP, loudness_db=loudness, bursts=tuple((s, e) for s, e, _ in bursts), scene_cuts=tuple(cuts),
                   speech_rate=rate, noisiness=np.full(frames, 0.5, dtype=np.float32))


GAME_BURSTS = [(20.0, 23.0, 8.0), (50.0, 54.0, 18.0), (80.0, 83.0, 12.0), (105.0, 108.0, 15.0)]


def holds_whole(moment, burst) -> bool:
    return moment.start <= burst[0] and burst[1] <= moment.end


def no_edge_inside(spans, bursts) -> bool:
    return not any(s < edge < e for start, end in spans for edge in (start, end) for s, e, *_ in bursts)


def test_without_speech_the_strongest_bursts_are_chosen_whole():
    signals = crowd_signals(120, GAME_BURSTS)
    moments = select_moments([], signals, parse_instruction("2 clips of 15 seconds"), 120)
    assert len(moments) == 2
    strongest, second = GAME_BURSTS[1], GAME_BURSTS[3]
    assert holds_whole(moments[0], strongest) and holds_whole(moments[1], second)
    for m, burst in zip(moments, (strongest, second)):
        assert burst[0] - m.start >= 3.0                     # the build-up before the reaction is in
        assert m.end - burst[1] <= 6.0                       # and it ends soon after
        assert 15 * 0.85 <= m.duration <= 15 * 1.15
        assert set(m.scores) == {"hook", "energy", "emotion", "self_contained", "payoff", "topic"}
        assert len(m.reasons) == 6 and all(re.match(r"[a-z-]+( \d+)?:", r) for r in m.reasons)
        assert m.text == "" and m.segments == []
        assert 3 <= len(m.hashtags) <= 5
    assert moments[0].title == "Crowd reaction at 0:50" and moments[1].title == "Crowd reaction at 1:45"
    assert moments[0].score > moments[1].score
    assert moments[0].scores["emotion"] > moments[1].scores["emotion"]
    assert any("crowd reaction 18 dB" in r for r in moments[0].reasons)
    assert no_edge_inside([(m.start, m.end) for m in moments], GAME_BURSTS)


def test_sound_moment_edges_go_to_scene_cuts_and_quiet_points():
    """For 15 s around a burst at 60-63 s the ideal edges are 50.25 and 65.25: a cut at 49.5
    and a quiet dip at 65.5 (hop 65.5-66.0) are close enough to take."""
    signals = crowd_signals(100, [(60.0, 63.0, 15.0)], cuts=(49.5,), dips=(65.5,))
    [moment] = select_moments([], signals, parse_instruction("1 clip of 15 seconds"), 100)
    assert moment.start == 49.5 and moment.end == 65.75
    assert any("opens on a scene cut" in r for r in moment.reasons)
    assert any("starts on a scene cut, ends at a quiet point" in r for r in moment.reasons)


def test_a_sound_moment_never_ends_inside_another_burst():
    """A weaker burst right where the clip would end: the clip stops before it, or takes it whole."""
    bursts = [(60.0, 63.0, 15.0), (64.5, 70.0, 6.0)]
    signals = crowd_signals(100, bursts)
    moments = select_moments([], signals, parse_instruction("3 clips of 15 seconds"), 100)
    assert moments and holds_whole(moments[0], bursts[0])
    assert no_edge_inside([(m.start, m.end) for m in moments], bursts)


def test_a_mixed_video_uses_sentences_where_people_speak():
    """A minute of talk, then a minute of crowd with one big cheer: a clip of each kind."""
    sentences = script(["Why do most teams lose the final quarter?", DULL, DULL, "You will not believe this!"] * 3)
    talk_end = sentences[-1].end
    cheer = (talk_end + 35.0, talk_end + 39.0, 16.0)
    duration = talk_end + 60.0
    signals = crowd_signals(duration, [cheer], speaking=[(s.start, s.end) for s in sentences])
    moments = select_moments(sentences, signals, parse_instruction("2 clips of 20 seconds"), duration)
    assert len(moments) == 2
    spoken = [m for m in moments if m.text]
    sound = [m for m in moments if not m.text]
    assert len(spoken) == 1 and len(sound) == 1
    assert spoken[0].start in {s.start for s in sentences} and spoken[0].end in {s.end for s in sentences}
    assert sound[0].start >= talk_end and holds_whole(sound[0], cheer)
    assert sound[0].title.startswith("Crowd reaction at ")


def test_a_quiet_stretch_in_a_talk_is_not_a_moment():
    """Speech, 30 s of room sound with nothing happening, more speech: only sentence windows."""
    first = script([DULL] * 8)
    second = script([DULL] * 8, start=first[-1].end + 30.0)
    sentences = first + second
    duration = sentences[-1].end + 1
    moments = select_moments(sentences, flat_signals(duration), parse_instruction("4 clips of 15 seconds"), duration)
    assert moments and all(m.text for m in moments)


def test_a_range_through_the_middle_of_sentences_cuts_no_sentence():
    """Only one sentence lies wholly inside 30-45 s, but people speak all through it (and a raised
    voice is a burst there): that is speech, not a stretch for moments chosen by their sound."""
    sentences = script([DULL] * 20, each=8.0)                 # a sentence every 8.6 s
    duration = sentences[-1].end + 1
    signals = crowd_signals(duration, [(31.0, 33.0, 12.0)], speaking=[(s.start, s.end) for s in sentences])
    request = ClipRequest(length=20, min_length=17, max_length=23, count=2, range_start=30, range_end=45)
    moments = select_moments(sentences, signals, request, duration)
    assert all(m.text for m in moments)
    assert no_edge_inside([(m.start, m.end) for m in moments], [(s.start, s.end) for s in sentences])


def test_a_topic_cannot_be_heard_where_nobody_speaks():
    signals = crowd_signals(120, GAME_BURSTS)
    [moment] = select_moments([], signals, parse_instruction("one 15 second clip about pricing"), 120)
    assert moment.scores["topic"] == 0 and any("nobody speaks here" in r for r in moment.reasons)


def test_a_reel_of_sound_moments_fills_the_length_in_timeline_order():
    signals = crowd_signals(120, GAME_BURSTS)
    [reel] = select_moments([], signals, parse_instruction("compile a 30 second highlight reel"), 120)
    assert len(reel.segments) >= 2
    assert reel.segments == sorted(reel.segments)
    assert all(a[1] <= b[0] for a, b in zip(reel.segments, reel.segments[1:]))
    assert 30 * 0.85 <= reel.duration <= 30 * 1.15
    assert no_edge_inside(reel.segments, GAME_BURSTS)
    assert any(s <= GAME_BURSTS[1][0] and GAME_BURSTS[1][1] <= e for s, e in reel.segments)   # the strongest is in
    assert reel.title.startswith("Crowd reaction at ")


def test_titles_and_hashtags():
    assert trim_title("So, this is the story of how we doubled our revenue in one year without hiring anyone at all.") \
        == "This is the story of how we doubled our revenue in one year without…"
    assert trim_title("and we won.") == "We won"
    sentences = script(["Bread and butter sell best in winter.", "Our bread is baked at dawn.", DULL, DULL])
    tags = hashtags_for(" ".join(s.text for s in sentences[:2]), keyword_document_frequency(sentences), ClipRequest())
    assert "#bread" in tags and 3 <= len(tags) <= 5 and "#shorts" in tags
    cn = hashtags_for("定价定价很重要", keyword_document_frequency([]), ClipRequest(topic="定价"))
    assert cn[0] == "#定价" and 3 <= len(cn) <= 5


# --- the test on real media ------------------------------------------------------------

def placed_index(placed, text: str) -> int:
    return next(i for i, p in enumerate(placed) if p.text == text)


def test_hook_and_applause_beat_merely_loud(highlight_talk, highlight_analysis):
    """A quieter passage with a hook, an exclamation and applause after it ranks above a loud, dull one."""
    _, placed = highlight_talk
    analysis = highlight_analysis
    hook_start = placed[placed_index(placed, HOOK_SENTENCES[0])].start
    hook_end = placed[placed_index(placed, HOOK_SENTENCES[-1])].end
    loud_start = placed[placed_index(placed, LOUD_SENTENCES[0])].start
    loud_end = placed[placed_index(placed, LOUD_SENTENCES[-1])].end

    # The sound really is as described: the dull passage is the loudest speech and applause follows the hook.
    applause = next(p for p in placed if not p.is_speech)
    assert any(abs(b[0] - applause.start) < 1.0 for b in analysis.signals.bursts)

    request = parse_instruction("3 clips of 12 seconds")
    moments = select_moments(analysis.sentences, analysis.signals, request, analysis.media.duration)

    def covering(start: float, end: float):
        inside = [m for m in moments if m.start <= start + 1.0 and m.end >= end - 1.0]
        return inside[0] if inside else None

    hook = covering(hook_start, hook_end)
    assert hook is not None, [(m.start, m.end, m.title) for m in moments]
    assert hook.rank == 1
    assert any("applause" in r for r in hook.reasons)
    loud = next((m for m in moments if m.start < loud_end and m.end > loud_start), None)
    assert loud is None or loud.rank > hook.rank
    # the loud passage as heard, scored on its own: louder, and still worth less
    sentences = analysis.sentences
    first, last = heard(sentences, loud_start, "start"), heard(sentences, loud_end, "end")
    ctx = make_context(sentences, analysis.signals, request, 12.0)
    window = score_candidate(Candidate(first, last, sentences[first].start, sentences[last].end), ctx)
    assert window.scores["energy"] > hook.scores["energy"] and window.total < hook.score


def test_no_clip_edge_inside_a_sentence(highlight_talk, highlight_analysis):
    """Against the true sentence times of the synthesised talk (Whisper's word times are within ~0.4 s)."""
    _, placed = highlight_talk
    analysis = highlight_analysis
    tolerance = 0.45
    for instruction in ("3 clips of 12 seconds", "2 clips of 20 seconds", "compile a 25 second reel"):
        moments = select_moments(analysis.sentences, analysis.signals, parse_instruction(instruction),
                                 analysis.media.duration)
        assert moments, instruction
        for m in moments:
            for start, end in (m.segments or [(m.start, m.end)]):
                for edge in (start, end):
                    for p in placed:
                        if p.is_speech:
                            assert not (p.start + tolerance < edge < p.end - tolerance), (instruction, edge, p.text)


# --- applause quieter than the speaker --------------------------------------------------------------

PLAIN_PASSAGE = ("Our bakery sits on a quiet corner near the market.",
                 "The walls are painted yellow and the floor is made of wood.",
                 "Customers often sit by the window and read the paper.")
APPLAUDED_PASSAGE = ("My grandmother taught me how to bake bread at home.",
                     "She kept her recipes in a small notebook in the kitchen.",
                     "Today those recipes are used in our shop every morning.")


@pytest.fixture(scope="module")
def quiet_applause_talk(tmp_path_factory, engine_config):
    """(analysis, placed) of a ~45 s talk spoken at one level, where the second of two equally plain
    passages is followed by applause about 8 dB quieter than the voice."""
    from engine.pipeline import analyse

    pieces = [Piece("Good evening and welcome to this small talk about our town."),
              *[Piece(text) for text in PLAIN_PASSAGE],
              *[Piece(text) for text in APPLAUDED_PASSAGE[:-1]],
              Piece(APPLAUDED_PASSAGE[-1], pause_after=0.3),
              Piece(sound=noise_burst(3.0, level=0.9, seed=5), gain=QUIET_APPLAUSE_GAIN),
              Piece("Next month the market will move to the main square."),
              Piece("The shop will stay where it is.")]
    folder = tmp_path_factory.mktemp("quiet-applause")
    video, placed = make_talk_video(folder / "quiet-applause.mp4", pieces, size="160x90")
    return analyse(video.with_suffix(".wav"), engine_config), placed


def heard(sentences: list[Sentence], at: float, edge: str) -> int:
    """The index of the transcript's sentence whose start (or end) is nearest `at`."""
    return min(range(len(sentences)), key=lambda i: abs(getattr(sentences[i], edge) - at))


def test_applause_quieter_than_the_speaker_pays_off(quiet_applause_talk):
    """Edges and lengths come from the transcript the test got, not from the script: which words
    tiny.en hears (and so where it ends a sentence) varies from one CPU to the next."""
    analysis, placed = quiet_applause_talk
    sentences, signals, duration = analysis.sentences, analysis.signals, analysis.media.duration
    applause = next(p for p in placed if not p.is_speech)
    near = [b for b in signals.bursts if abs(b[0] - applause.start) <= 1.0]
    assert near, signals.bursts
    assert not [b for b in find_bursts(signals.loudness_db) if abs(b[0] - applause.start) <= 1.0]

    # the two equally plain passages as they were heard
    applauded_last = max(i for i, s in enumerate(sentences) if s.end <= near[0][0] + 0.3)
    applauded_first = heard(sentences, next(p for p in placed if p.text == APPLAUDED_PASSAGE[0]).start, "start")
    plain_first = heard(sentences, next(p for p in placed if p.text == PLAIN_PASSAGE[0]).start, "start")
    plain_last = heard(sentences, next(p for p in placed if p.text == PLAIN_PASSAGE[-1]).end, "end")
    assert plain_first <= plain_last < applauded_first <= applauded_last

    length = sentences[applauded_last].end - sentences[applauded_first].start
    request = parse_instruction(f"3 clips of {round(length)} seconds")
    moments = select_moments(sentences, signals, request, duration)
    best = moments[0]
    # it ends on the applauded sentence: its cut in the pause just after it (engine.edges)
    assert 0 <= best.end - sentences[applauded_last].end <= 0.31, [(m.start, m.end, m.title) for m in moments]
    assert any("applause or laughter right after" in r for r in best.reasons)

    ctx = make_context(sentences, signals, request, length)
    applauded, plain = (score_candidate(Candidate(i, j, sentences[i].start, sentences[j].end), ctx)
                        for i, j in ((applauded_first, applauded_last), (plain_first, plain_last)))
    assert applauded.scores["payoff"] > plain.scores["payoff"]
    assert not any("applause" in r for r in plain.reasons)


# --- a game with nobody speaking, through the whole pipeline -------------------------------------------

CROWD_BURSTS = [(15.0, 3.0, 8.0), (40.0, 4.0, 18.0), (65.0, 3.0, 12.0), (88.0, 3.0, 15.0)]   # start, length, dB


@pytest.fixture(scope="module")
def crowd_game(tmp_path_factory):
    """A 100 s lavfi video whose sound is crowd noise with four cheers of different strength."""
    folder = tmp_path_factory.mktemp("crowd-game")
    wav = write_wav(crowd_audio(100.0, CROWD_BURSTS), folder / "game.wav")
    return make_video(folder / "game.mp4", wav, duration=100, size="160x90", fps=10)


def cheer_spans(strongest_first: bool = False) -> list[tuple[float, float]]:
    order = sorted(CROWD_BURSTS, key=lambda b: -b[2]) if strongest_first else CROWD_BURSTS
    return [(start, start + length) for start, length, _ in order]


def test_a_game_without_speech_gets_its_strongest_moments(crowd_game, engine_config, tmp_path):
    from engine.pipeline import CLIPS_JSON, clip

    clip_set = clip(crowd_game, "find the 2 best moments, 15-second clips", tmp_path / "clips", engine_config,
                    render=False)
    clips = json.loads((tmp_path / "clips" / CLIPS_JSON).read_text())["clips"]
    assert len(clips) == 2 and len(clip_set.moments) == 2
    strongest = cheer_spans(strongest_first=True)[:2]
    for c, (start, end) in zip(clips, strongest):
        assert c["start"] <= start + 0.25 and end - 0.25 <= c["end"]          # the cheer whole (to a hop)
        title = re.fullmatch(r"Crowd reaction at (\d+):(\d\d)", c["title"])
        assert title and abs(int(title[1]) * 60 + int(title[2]) - start) <= 1, c["title"]
        assert c["reasons"] and c["scores"]["emotion"] > 50
    assert no_edge_inside([(c["start"], c["end"]) for c in clips], cheer_spans())


def test_a_reel_of_a_game_without_speech(crowd_game, engine_config, tmp_path):
    from engine.pipeline import clip

    [reel] = clip(crowd_game, "extract the best moments and compile them into a 30-second highlight reel",
                  tmp_path, engine_config, render=False).moments
    assert reel.segments == sorted(reel.segments) and len(reel.segments) >= 2
    assert all(a[1] <= b[0] for a, b in zip(reel.segments, reel.segments[1:]))
    assert 30 * 0.85 <= reel.duration <= 30 * 1.15
    cheers = cheer_spans()
    assert no_edge_inside(reel.segments, [(s + 0.25, e - 0.25) for s, e in cheers])
    loudest = cheer_spans(strongest_first=True)[0]
    assert any(s <= loudest[0] + 0.25 and loudest[1] - 0.25 <= e for s, e in reel.segments)

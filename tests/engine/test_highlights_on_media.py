"""Highlights of made-up espeak-ng talks through the whole analysis: a hook followed by applause
beats a merely loud passage, no clip edge inside a sentence, applause quieter than the speaker."""
from __future__ import annotations

from engine.highlights import Candidate, make_context, score_candidate, select_moments
from engine.instructions import parse_instruction
from engine.models import Sentence
from engine.signals import find_bursts
from tests.engine.conftest import APPLAUDED_PASSAGE, HOOK_SENTENCES, LOUD_SENTENCES, PLAIN_PASSAGE


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


# --- applause quieter than the speaker (tests/engine/conftest.py `quiet_applause_talk`) -----------

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

"""One rule marks a moment weak and words the sentence under the list: its score, in whole points as
shown, under engine.models.QUALITY_BAR. A moment placed evenly because nothing else stood out (a filler)
is weak, and its score says so: "(score 42) (weak)" under "Clip 2 scored under 40" read as a lie."""
from __future__ import annotations

import re

import pytest

from bot.backends.base import ChatEvent, Clip
from bot.replies import event_text
from engine.highlights.selection import choose_moments
from engine.instructions import parse_instruction
from engine.models import QUALITY_BAR, Moment, Selection, is_weak, shown_score
from engine.signals import compute_signals
from tests.engine.test_sport import SAMPLE_RATE, broadcast

LINE = re.compile(r"^(\d+)\. .*[(（](?:score|评分) (\d+)[)）](.*)$")


def listed(selection: Selection, lang: str) -> str:
    clips = tuple(Clip(m.rank, m.title, m.start, m.end, m.score, weak=m.weak) for m in selection.moments)
    return event_text(ChatEvent("text", clips=clips, notes=tuple(selection.notes)), lang)


def marks_and_sentence_agree(text: str) -> None:
    lines = text.splitlines()
    shown = {int(m.group(1)): (int(m.group(2)), bool(m.group(3).strip())) for m in map(LINE.match, lines) if m}
    assert shown, text
    weak = sorted(n for n, (_, marked) in shown.items() if marked)
    assert all(marked == (score < QUALITY_BAR) for score, marked in shown.values()), text
    said = [line for line in lines if f"{QUALITY_BAR:g}" in line and not LINE.match(line)]
    if weak:
        assert said and all(str(n) in said[0] for n in weak), text


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_filler_after_a_roar_is_marked_weak_and_scored_under_the_bar_the_sentence_names(lang):
    signals = compute_signals(broadcast(4.0), sample_rate=SAMPLE_RATE)
    selection = choose_moments([], signals, parse_instruction("cut two 15-second shorts"), 60.0)
    best, filler = selection.moments
    assert not best.weak and filler.weak and shown_score(filler.score) < QUALITY_BAR
    assert [(n.kind, n.ranks) for n in selection.notes] == [("weak", (2,))]
    marks_and_sentence_agree(listed(selection, lang))


@pytest.mark.parametrize("score, weak", [(39.4, True), (39.5, False), (39.96, False), (40.0, False)])
def test_a_score_shown_as_40_is_not_weak_and_one_shown_as_39_is(score, weak):
    assert is_weak(score) is weak
    moment = Moment(rank=1, start=0.0, end=10.0, score=score, weak=is_weak(score))
    text = listed(Selection([moment]), "en")
    assert text.splitlines()[1].endswith(f"(score {39 if weak else 40})" + (" (weak)" if weak else ""))

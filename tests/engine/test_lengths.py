"""Lengths as asked: every short within ±10 % of the asked length, built from whole sentences,
on a three-minute talk; and an honest nearest length, said so, when no span fits."""
from __future__ import annotations

import numpy as np
import pytest

from engine.instructions import parse_instruction
from engine.pipeline import analyse, choose_explained
from tests.media import Piece, build_talk_audio, write_wav

SUBJECTS = ("the river", "our bakery", "the new library", "the night train", "the school garden", "the old harbour",
            "the market square")
SAYINGS = (
    "People still talk about {s} every week.",
    "When we first saw {s}, nobody believed it would last more than a single summer.",
    "Here is the surprising part about {s}.",
    "Most visitors never notice how much work goes into {s}, from early morning until late at night.",
    "So what changed with {s}?",
    "The answer was simple, and it cost almost nothing.",
)


def three_minute_talk() -> list[Piece]:
    pieces = [Piece(text=saying.format(s=subject), pause_after=0.5 + 0.1 * (i % 4))
              for subject in SUBJECTS for i, saying in enumerate(SAYINGS)]
    return pieces


@pytest.fixture(scope="module")
def long_talk(tmp_path_factory, engine_config):
    """(analysis, placed pieces) of the talk as a sound file: what is cut does not depend on a picture."""
    folder = tmp_path_factory.mktemp("long-talk")
    audio, placed = build_talk_audio(three_minute_talk(), folder / "pieces")
    return analyse(write_wav(audio, folder / "long-talk.wav"), engine_config), placed


def speech_level(analysis) -> float:
    envelope = analysis.signals.envelope_db
    return float(np.percentile(envelope[envelope > -60], 80))


def level_at(analysis, t: float) -> float:
    k = int(t / 0.01)
    return float(np.max(analysis.signals.envelope_db[max(0, k - 2): k + 3]))


@pytest.mark.slow
@pytest.mark.parametrize("asked", [15, 20, 30, 45, 60])
def test_each_short_is_within_ten_percent_of_the_asked_length(long_talk, asked):
    analysis, placed = long_talk
    assert analysis.media.duration >= 165
    selection = choose_explained(analysis, parse_instruction(f"cut three {asked}-second vertical shorts"))
    assert len(selection.moments) == 3
    for moment in selection.moments:
        assert abs(moment.duration - asked) <= 0.1 * asked, (asked, moment.start, moment.end)
        # whole sentences: every edge is in a pause between the sentences as they were spoken, or
        # (where the speech model ended a sentence at a comma) in the quiet of a pause inside one
        for edge in (moment.start, moment.end):
            inside = any(p.start < edge < p.end for p in placed)
            assert not inside or level_at(analysis, edge) <= speech_level(analysis) - 15, (asked, edge)
    assert not [n for n in selection.notes if n.kind == "length_not_found"]


@pytest.mark.slow
def test_when_no_span_fits_the_nearest_honest_length_is_given_and_said(long_talk):
    selection = choose_explained(long_talk[0], parse_instruction("one 60-second short from 0:00 to 0:20"))
    [moment] = selection.moments
    assert moment.duration < 25
    [note] = [n for n in selection.notes if n.kind == "length_not_found"]
    assert note.asked == 60 and note.rank == 1 and note.got == pytest.approx(moment.duration, abs=0.05)

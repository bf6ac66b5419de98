"""A moment named only by when it happens ("Moment at 0:12", "0:12 精彩瞬间") has no title drawn over
its picture; a title from the speech, or a loud moment's, is drawn."""
from __future__ import annotations

import pytest

from engine.highlights.sound import clock
from engine.highlights.titles import SOUND_TITLES, drawn_title


@pytest.mark.parametrize("at", [0.0, 75.0, 3725.0])
@pytest.mark.parametrize("lang", sorted(SOUND_TITLES))
def test_a_placeholder_title_is_not_drawn(lang, at):
    crowd, loud, plain = SOUND_TITLES[lang]
    assert drawn_title(plain.format(at=clock(at))) is None
    assert drawn_title(loud.format(at=clock(at))) == loud.format(at=clock(at))
    assert drawn_title(crowd.format(at=clock(at))) == crowd.format(at=clock(at))


def test_a_spoken_title_is_drawn():
    assert drawn_title("The moment at which we knew") == "The moment at which we knew"
    assert drawn_title("Moment at 0:12 was when it broke") == "Moment at 0:12 was when it broke"
    assert drawn_title("") is None and drawn_title("  ") is None


def test_a_placeholder_title_is_said_in_the_chats_language():
    from engine.highlights.titles import placeholder_in

    assert placeholder_in("Moment at 1:05", "zh") == "1:05 精彩瞬间"
    assert placeholder_in("0:12 精彩瞬间", "en") == "Moment at 0:12"
    assert placeholder_in("Loud moment at 0:12", "zh") == "0:12 高能时刻"
    assert placeholder_in("Crowd reaction at 1:00:02", "en") == "Crowd reaction at 1:00:02"
    assert placeholder_in("What we learned", "zh") == "What we learned"

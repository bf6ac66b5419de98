"""Every fact the engine gives about its choice (engine.models.SelectionNote) has a sentence in
English and Chinese, filled in with the fact's numbers."""
from __future__ import annotations

import pytest

from bot import texts
from engine.models import SelectionNote

NOTES = [
    SelectionNote("length_not_found", asked=60.0, got=23.4, rank=1),
    SelectionNote("only_strong", kept=2, bar=40.0, got=38.0),
    SelectionNote("weak", ranks=(2, 3), bar=40.0),
    SelectionNote("nothing_stands_out", kept=3),
]


@pytest.mark.parametrize("note", NOTES, ids=[n.kind for n in NOTES])
@pytest.mark.parametrize("lang", texts.LANGUAGES)
def test_each_note_is_one_sentence_with_its_numbers(note, lang):
    sentence = texts.note(lang, note)
    assert "{" not in sentence and "\n" not in sentence
    numbers = {"length_not_found": ("60", "23.4", "1"), "only_strong": ("2", "40", "38"),
               "weak": ("2", "3", "40"), "nothing_stands_out": ("3",)}[note.kind]
    assert all(n in sentence for n in numbers), sentence
    if lang == "zh":
        assert any("\u4e00" <= ch <= "\u9fff" for ch in sentence)

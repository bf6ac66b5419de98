"""An exact cut said in the person's language, from bot/exact_texts.py: "Cut 0:10-0:40 as you asked.",
or where an edge moved so as not to split a word, and that it has no captions when nothing is said."""
from __future__ import annotations

from engine.models import ExactSpan
from bot.texts import clock, say, sentences

MOVED_SECONDS = 0.1          # an edge this far from the asked point or less is where it was asked


def exact_cut(lang: str, span: ExactSpan) -> str:
    start, end = clock(span.start), clock(span.end)
    moved_start = span.start_in_word and abs(span.start - span.asked_start) > MOVED_SECONDS
    moved_end = span.end_in_word and abs(span.end - span.asked_end) > MOVED_SECONDS
    if span.whole:
        said = say(lang, "exact_whole", start=start, end=end)
    elif moved_start or moved_end:
        start, end = (tenths(span.start) if moved_start else start), (tenths(span.end) if moved_end else end)
        why = (say(lang, "exact_both_in_word", start=start, end=end) if moved_start and moved_end
               else say(lang, "exact_start_in_word", at=start) if moved_start else say(lang, "exact_end_in_word", at=end))
        said = say(lang, "exact_moved", start=start, end=end, asked_start=clock(span.asked_start),
                   asked_end=clock(span.asked_end), why=why)
    else:
        said = say(lang, "exact_as_asked", start=start, end=end)
    return sentences(lang, said, say(lang, "exact_no_speech") if not span.spoken else "")


def tenths(seconds: float) -> str:
    """61.44 -> '1:01.4': an edge moved by less than a second is seen to move."""
    minutes, rest = divmod(round(max(0.0, seconds), 1), 60)
    return f"{clock(minutes * 60)[:-3]}:{rest:04.1f}"

"""Words -> sentences, on end punctuation and on long pauses.

A sentence's start and end are exactly its first word's start and its last word's end,
so a clip cut on sentence edges never cuts a word.
"""
from __future__ import annotations

import re

from engine.models import Sentence, Word

SENTENCE_END = (".", "?", "!", "…", "。", "？", "！")
CLOSING = "\"'”’)]}»」』"
# Words ending in a full stop that do not end a sentence.
ABBREVIATIONS = {"mr.", "mrs.", "ms.", "dr.", "prof.", "st.", "vs.", "etc.", "e.g.", "i.e.", "jr.", "sr.", "no.", "u.s."}
# A silence this long ends a sentence even without punctuation (Whisper often leaves it out).
PAUSE_SECONDS = 1.2
# Whisper often writes Chinese, Japanese or Thai without any punctuation: then shorter pauses end sentences.
UNPUNCTUATED_PAUSE = 0.6
# A run of words without an end this long is split at its longest pause.
LONGEST_SENTENCE_SECONDS = 20.0


INITIALISM = re.compile(r"\.?(?:[A-Za-z]\.)+")


def ends_sentence(text: str, following: str | None = None) -> bool:
    """Does this word close a sentence by its punctuation? Letters with full stops ("E.E.A.",
    Whisper's ".A.") close one only when the `following` word starts with a capital."""
    bare = text.strip().rstrip(CLOSING)
    if not bare.endswith(SENTENCE_END):
        return False
    if INITIALISM.fullmatch(bare) and following is not None and following.strip()[:1].islower():
        return False
    return bare.lower() not in ABBREVIATIONS


def split_sentences(words: list[Word] | tuple[Word, ...],
                    pause: float = PAUSE_SECONDS, longest: float = LONGEST_SENTENCE_SECONDS) -> list[Sentence]:
    """Group words (in time order) into sentences by end punctuation (. ? ! 。 ？ ！ …) and by pauses of
    `pause` seconds (UNPUNCTUATED_PAUSE when the words carry no end punctuation at all)."""
    unpunctuated = not any(ends_sentence(w.text) for w in words)
    if unpunctuated:
        pause = min(pause, UNPUNCTUATED_PAUSE)
    groups: list[list[Word]] = []
    current: list[Word] = []
    for i, word in enumerate(words):
        if not word.text.strip():
            continue
        current.append(word)
        following = words[i + 1] if i + 1 < len(words) else None
        gap = (following.start - word.end) if following is not None else 0.0
        closes = ends_sentence(word.text, following.text if following is not None else None)
        if closes or gap >= pause or (unpunctuated and phrase_break(word, following)):
            groups.append(current)
            current = []
    if current:
        groups.append(current)

    sentences: list[Sentence] = []
    for group in groups:
        for piece in split_long_run(group, longest):
            sentences.append(make_sentence(piece))
    return sentences


def is_han(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or "\u3040" <= ch <= "\u30ff"


def phrase_break(word: Word, following: Word | None) -> bool:
    """Unpunctuated Chinese or Japanese: Whisper writes a space where a phrase ends."""
    if following is None or not following.text.startswith(" "):
        return False
    before, after = word.text.strip(), following.text.strip()
    return bool(before and after) and is_han(before[-1]) and is_han(after[0])


def split_long_run(words: list[Word], longest: float) -> list[list[Word]]:
    """Split a run longer than `longest` seconds at its longest pause, again and again."""
    if len(words) < 2 or words[-1].end - words[0].start <= longest:
        return [words]
    gaps = [words[k + 1].start - words[k].end for k in range(len(words) - 1)]
    cut = max(range(len(gaps)), key=lambda k: gaps[k]) + 1
    return split_long_run(words[:cut], longest) + split_long_run(words[cut:], longest)


def join_words(words: list[Word] | tuple[Word, ...]) -> str:
    """Whisper's word texts carry their own leading spaces (none for Chinese or Japanese)."""
    return "".join(w.text for w in words).strip()


def make_sentence(words: list[Word]) -> Sentence:
    return Sentence(start=words[0].start, end=words[-1].end, text=join_words(words), words=tuple(words))

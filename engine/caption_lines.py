"""Words into caption lines: groups of a few words that fit one line, broken where a reader
would break them (after a sentence or a clause, at a pause), with Chinese and Japanese measured
by characters. engine.captions times the lines and writes them for libass."""
from __future__ import annotations

import unicodedata

from engine.models import Word

MAX_WORDS = 4
MAX_UNITS = 20            # a line's width budget: one unit per narrow character, two per wide (CJK)
MAX_GAP = 0.7             # a pause this long starts a new line
CJK_LINE_UNITS = 18       # CJK lines: at most 9 characters, broken between characters, not at spaces

SENTENCE_END = tuple(".!?…。！？")
CLAUSE_END = tuple(",;:，、；：")


def is_wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in ("W", "F")


def text_units(text: str) -> int:
    return sum(2 if is_wide(ch) else 1 for ch in text)


def space_before(previous: str, word: Word) -> str:
    """A space between the text so far and `word`: none where either side is CJK (written
    without spaces), and none before a piece Whisper wrote as part of the word before it
    (",000" after " 10", "'s", "%": no leading space and not starting with a letter or digit)."""
    token = word.text.strip()
    if not previous or not token or is_wide(previous[-1]) or is_wide(token[0]):
        return ""
    return "" if not word.text[:1].isspace() and not token[0].isalnum() else " "


def join_words(words: list[Word] | tuple[Word, ...]) -> str:
    out = ""
    for w in words:
        out += space_before(out, w) + w.text.strip()
    return out


def is_cjk_word(word: Word) -> bool:
    token = word.text.strip()
    return bool(token) and any(is_wide(ch) for ch in token)


def split_long_word(word: Word, max_units: int) -> list[Word]:
    """A CJK 'word' wider than a line, cut between characters, its time shared by character."""
    token = word.text.strip()
    if text_units(token) <= max_units:
        return [word]
    pieces, current = [], ""
    for ch in token:
        if current and text_units(current + ch) > max_units:
            pieces.append(current)
            current = ""
        current += ch
    pieces.append(current)
    per_char = (word.end - word.start) / max(1, len(token))
    out, offset = [], 0
    for piece in pieces:
        start = word.start + offset * per_char
        offset += len(piece)
        out.append(Word(round(start, 3), round(word.start + offset * per_char, 3), piece, word.probability))
    return out


def split_lines(words: list[Word], max_words: int = MAX_WORDS, max_units: int = MAX_UNITS,
                max_gap: float = MAX_GAP) -> list[list[Word]]:
    """Words in groups of at most `max_words` that fit `max_units`, broken after a sentence
    end, after a clause end once a line has two words, and at pauses. A lone word left at
    the end of a run borrows one from a full line before it, so lines hold 2-4 words.

    Chinese and Japanese are written without spaces and Whisper's words there are a character
    or two: their lines are measured by characters only (CJK_LINE_UNITS), and a word wider
    than a line is cut between characters."""
    if words and sum(is_cjk_word(w) for w in words) * 2 > len(words):
        max_units = min(max_units, CJK_LINE_UNITS)
        max_words = 10 ** 6
        words = [piece for w in words for piece in split_long_word(w, max_units)]
    groups: list[list[Word]] = []
    current: list[Word] = []
    for w in (w for w in words if w.text.strip()):
        if current:
            previous = current[-1].text.strip()
            starts_new = (
                len(current) >= max_words
                or text_units(join_words(current + [w])) > max_units
                or previous.endswith(SENTENCE_END)
                or (previous.endswith(CLAUSE_END) and len(current) >= 2)
                or w.start - current[-1].end > max_gap
            )
            if starts_new:
                groups.append(current)
                current = []
        current.append(w)
    if current:
        groups.append(current)
    for i in range(1, len(groups)):
        before, lone = groups[i - 1], groups[i]
        continuous = lone[0].start - before[-1].end <= max_gap and not before[-1].text.strip().endswith(SENTENCE_END)
        if len(lone) == 1 and len(before) >= 3 and continuous:
            lone.insert(0, before.pop())
    return [g for g in groups if g]

"""Words into caption lines: groups of a few words that fit one line, broken where a reader
would break them (after a sentence or a clause, at a pause), with Chinese and Japanese measured
by characters and Chinese broken only between jieba's words. engine.captions times the lines
and writes them for libass."""
from __future__ import annotations

import unicodedata

from engine.chinese_text import is_chinese_text, word_ends
from engine.models import Word

MAX_WORDS = 4
MAX_UNITS = 20            # a line's width budget: one unit per narrow character, two per wide (CJK)
MAX_GAP = 0.7             # a pause this long starts a new line
CJK_LINE_UNITS = 18       # CJK lines: at most 9 characters, broken between words (Chinese) or characters
SHORT_PAUSE = 0.25        # seconds: a Chinese line ends at such a pause unless the next phrase fits on it too

# Chinese particles that lean on the word before them, and prepositions and links that lean on
# the word after them: a line had better not start with the first or end with the second
LEANING_BACK = set("的了着著过地得吗呢吧啊呀嘛")
LEANING_ON = set("给在把被对向从和与跟将")
LEANING_COST = 16         # in squared units of width: worth a line two characters less even

SENTENCE_END = tuple(".!?…。！？")
CLAUSE_END = tuple(",;:，、；：")


def is_wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in ("W", "F")


def is_hangul(ch: str) -> bool:
    return "\uac00" <= ch <= "\ud7af" or "\u1100" <= ch <= "\u11ff" or "\u3130" <= ch <= "\u318f"


def unspaced(ch: str) -> bool:
    """Written without spaces between words (Chinese, Japanese); Korean is wide but spaced."""
    return is_wide(ch) and not is_hangul(ch)


def text_units(text: str) -> int:
    return sum(2 if is_wide(ch) else 1 for ch in text)


def space_before(previous: str, word: Word) -> str:
    """A space between the text so far and `word`: none where either side is written without
    spaces (Chinese, Japanese; Korean keeps the spaces Whisper writes), and none before a piece Whisper wrote as part of the word before it
    (",000" after " 10", "'s", "%": no leading space and not starting with a letter or digit)."""
    token = word.text.strip()
    if not previous or not token or unspaced(previous[-1]) or unspaced(token[0]):
        return ""
    return "" if not word.text[:1].isspace() and not token[0].isalnum() else " "


def join_words(words: list[Word] | tuple[Word, ...]) -> str:
    out = ""
    for w in words:
        out += space_before(out, w) + w.text.strip()
    return out


def is_unspaced_word(word: Word) -> bool:
    token = word.text.strip()
    return bool(token) and any(unspaced(ch) for ch in token)


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


def segment_start(word: Word) -> bool:
    """A Chinese word Whisper wrote a space before, as it does where its segments (sentences)
    begin, when it writes few (few_spaces)."""
    return word.text[:1].isspace() and is_unspaced_word(word)


def few_spaces(words: list[Word]) -> bool:
    return sum(map(segment_start, words)) * 3 < len(words)


def whole_chinese_words(words: list[Word]) -> list[Word]:
    """Whisper's Chinese "words" are mostly single characters or pieces of a word (给 忙 碌): run
    together into jieba's words, ending only where both jieba and Whisper end one (a piece that
    jieba reads across stays whole). A joined word runs from its first piece's start to its last
    piece's end and keeps the first piece's leading space."""
    spaced = few_spaces(words)
    joined, ends = "", []
    for w in words:
        # jieba reads no word across such a space
        sentence_start = spaced and joined and segment_start(w)
        joined += " " if sentence_start else space_before(joined, w)
        joined += w.text.strip()
        ends.append(len(joined))
    jieba_ends = word_ends(joined)
    out, pieces = [], []
    for w, end in zip(words, ends):
        pieces.append(w)
        if end in jieba_ends:
            text = (" " if pieces[0].text[:1].isspace() else "") + join_words(pieces)
            probability = min(p.probability for p in pieces)
            out.append(Word(pieces[0].start, pieces[-1].end, text, probability) if len(pieces) > 1 else w)
            pieces = []
    return out + pieces


def split_lines(words: list[Word], max_words: int = MAX_WORDS, max_units: int = MAX_UNITS,
                max_gap: float = MAX_GAP, language: str | None = None) -> list[list[Word]]:
    """Words in groups of at most `max_words` that fit `max_units`, broken after a sentence
    end, after a clause end once a line has two words, and at pauses. A lone word left at
    the end of a run borrows one from a full line before it, so lines hold 2-4 words.

    Chinese and Japanese are written without spaces and Whisper's words there are a character
    or two: their lines are measured by characters only (CJK_LINE_UNITS), and a word wider than
    a line is cut between characters. Chinese is broken between whole words (chinese_lines);
    Japanese, which jieba does not know, between characters."""
    words = [w for w in words if w.text.strip()]
    if words and sum(is_unspaced_word(w) for w in words) * 2 > len(words):
        max_units = min(max_units, CJK_LINE_UNITS)
        max_words = 10 ** 6
        if is_chinese_text(join_words(words), language):
            words = [piece for w in whole_chinese_words(words) for piece in split_long_word(w, max_units)]
            return chinese_lines(words, max_units, max_gap)
        words = [piece for w in words for piece in split_long_word(w, max_units)]
    groups: list[list[Word]] = []
    current: list[Word] = []
    for w in words:
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


def chinese_lines(words: list[Word], max_units: int, max_gap: float) -> list[list[Word]]:
    """Whole Chinese words in lines as a subtitler breaks them: the speech cut into phrases at
    its pauses and marks (and at the spaces Whisper writes where its segments begin, when it
    writes few), a phrase too wide for a line cut into the fewest, evenest lines, and phrases
    that fit on one line together put together, never across a sentence end or a long pause."""
    spaced = few_spaces(words)
    phrases: list[list[Word]] = []
    for before, w in zip([None] + words, words):
        gap = w.start - before.end if before else 0.0
        marked = before is not None and (before.text.strip().endswith(CLAUSE_END + SENTENCE_END)
                                         or (spaced and segment_start(w)))
        if not phrases or gap >= SHORT_PAUSE or marked:
            phrases.append([])
        phrases[-1].append(w)
    lines: list[list[Word]] = []
    for phrase in phrases:
        if text_units(join_words(phrase)) > max_units:
            lines += evenest_lines(phrase, max_units)
            lines.append([])                # a phrase's last line takes no further phrase
            continue
        last = lines[-1] if lines else []
        apart = last and (last[-1].text.strip().endswith(SENTENCE_END) or phrase[0].start - last[-1].end > max_gap)
        if last and not apart and text_units(join_words(last + phrase)) <= max_units:
            last += phrase
        else:
            lines.append(list(phrase))
    return [line for line in lines if line]


def evenest_lines(words: list[Word], max_units: int) -> list[list[Word]]:
    """`words` in as few lines of at most `max_units` as they fit in, as even in width as can be,
    with no line starting with a particle (的, 了) or ending with a preposition (给, 在) where
    moving the break a word costs little."""
    count, line = 1, []
    for w in words:
        if line and text_units(join_words(line + [w])) > max_units:
            count, line = count + 1, []
        line.append(w)
    target = text_units(join_words(words)) / count
    # best[j][i]: (cost, where the last line starts) for words[:i] in j lines
    best = [[(float("inf"), 0)] * (len(words) + 1) for _ in range(count + 1)]
    best[0][0] = (0.0, 0)
    for j in range(1, count + 1):
        for i in range(1, len(words) + 1):
            for start in range(i - 1, -1, -1):
                width = text_units(join_words(words[start:i]))
                if width > max_units:
                    break
                leaning = (words[start].text.strip() in LEANING_BACK) + (words[i - 1].text.strip() in LEANING_ON)
                cost = best[j - 1][start][0] + (width - target) ** 2 + LEANING_COST * leaning
                if cost < best[j][i][0]:
                    best[j][i] = (cost, start)
    lines, end = [], len(words)
    for j in range(count, 0, -1):
        start = best[j][end][1]
        lines.insert(0, words[start:end])
        end = start
    return lines

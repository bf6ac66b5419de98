"""Chinese text cut into words by jieba (the field's usual segmenter). Chinese is written without
spaces, so captions and titles break only where jieba ends a word. Not for Japanese: jieba knows
only Chinese words."""
from __future__ import annotations

import logging
import re
import threading

_jieba_lock = threading.Lock()
KANA_OR_HANGUL = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff\u1100-\u11ff\uac00-\ud7af]")


def jieba_words(text: str) -> list[str]:
    """`text` cut into jieba's tokens, all of them (punctuation, spaces and Latin runs too), so
    that they join back into `text`."""
    import jieba

    with _jieba_lock:
        jieba.setLogLevel(logging.WARNING)
        return jieba.lcut(text)


def word_ends(text: str) -> set[int]:
    """The character offsets in `text` where a jieba word ends (len(text) among them)."""
    ends, at = set(), 0
    for token in jieba_words(text):
        at += len(token)
        ends.add(at)
    return ends


def is_chinese_text(text: str, language: str | None = None) -> bool:
    """Chinese by its language code, or, with none given (or another, perhaps misheard), Han
    characters without Japanese kana or Korean hangul beside them."""
    if language in ("zh", "yue", "ja", "ko"):
        return language in ("zh", "yue")
    return bool(re.search(r"[\u4e00-\u9fff]", text)) and not KANA_OR_HANGUL.search(text)

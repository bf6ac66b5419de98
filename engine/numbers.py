"""Normalising a request's text: lower case, full-width punctuation, "9x16", and number words
and Chinese numerals turned into digits ("two 30-second clips", "剪成三个六十秒")."""
from __future__ import annotations

import re

UNITS = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
         "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
         "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19}
TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_NUMBER_WORD = re.compile(
    r"\b(?:(?P<tens>" + "|".join(TENS) + r")(?:[\s-](?P<unit>" + "|".join(k for k in UNITS if k != "zero") + r"))?"
    r"|(?P<single>" + "|".join(UNITS) + r"))\b")

CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
CN_NUMERAL = "零〇一二两三四五六七八九十百"
# Chinese numerals become digits only before a unit or a measure word (一 alone is also "a", "one whole").
_CN_NUMBER = re.compile(rf"([{CN_NUMERAL}]+)(?=\s*(?:个|段|条|支|部|份|秒|分钟|分|小时|钟|p|P|k|K))")
_CN_AFTER_PREFIX = re.compile(rf"(?<=[前第后])([{CN_NUMERAL}]+)")


def chinese_number(text: str) -> int | None:
    """'三' -> 3, '十五' -> 15, '六十' -> 60, '一百二十' -> 120, '两' -> 2."""
    total, current = 0, 0
    for ch in text:
        if ch in CN_DIGITS:
            current = CN_DIGITS[ch]
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        elif ch == "百":
            total += (current or 1) * 100
            current = 0
        else:
            return None
    return total + current


def normalise(text: str) -> str:
    text = text.lower().replace("：", ":").replace("，", ",").replace("～", "~").replace("－", "-").replace("–", "-")
    text = re.sub(r"(\d)\s*x\s*(\d)", r"\1:\2", text)           # 9x16 -> 9:16

    def english(m: re.Match) -> str:
        if m.group("single"):
            return str(UNITS[m.group("single")])
        return str(TENS[m.group("tens")] + (UNITS[m.group("unit")] if m.group("unit") else 0))

    text = _NUMBER_WORD.sub(english, text)

    def chinese(m: re.Match) -> str:
        value = chinese_number(m.group(1))
        return m.group(1) if value is None else str(value)

    text = _CN_NUMBER.sub(chinese, text)
    text = _CN_AFTER_PREFIX.sub(chinese, text)
    return text

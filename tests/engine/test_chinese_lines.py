"""Chinese captions and titles break between whole words (jieba's), at pauses and marks where it can:
Whisper's Chinese words are single characters or pieces, and Chinese has no spaces to break at."""
from __future__ import annotations

import re
import subprocess

import numpy as np

from engine import captions
from engine.caption_lines import CJK_LINE_UNITS, join_words, split_lines, text_units
from engine.captions import caption_script
from engine.chinese_text import word_ends
from engine.highlights.titles import trim_title
from engine.models import Word

MARKS = "，。？！、"
# words of the passage that the old lines cut in two (给忙 / 碌, 一 / 场, 脚 / 步, ...)
WORDS = ("忙碌", "一抹", "温暖", "一场", "脚步", "银杏树", "诗意", "薄雾", "笼罩", "弥漫", "暖洋洋", "抚慰", "静谧", "外套")


def whisper_like(text: str, start: float = 0.0, step: float = 0.22, pause: float = 0.35) -> list[Word]:
    """Per-character words as Whisper gives Chinese: a mark joined to the character before it,
    a pause after each mark (or, in `text` without marks, at each space, which is dropped)."""
    pieces: list[str] = []
    pauses: set[int] = set()
    for ch in text:
        if ch == " ":
            pauses.add(len(pieces) - 1)
        elif ch in MARKS and pieces:
            pieces[-1] += ch
            pauses.add(len(pieces) - 1)
        else:
            pieces.append(ch)
    words, at = [], start
    for i, piece in enumerate(pieces):
        words.append(Word(round(at, 3), round(at + step * 0.9, 3), piece, 0.9))
        at += step + (pause if i in pauses else 0.0)
    return words


def line_texts(lines: list[list[Word]]) -> list[str]:
    return [join_words(line) for line in lines]


def test_the_passage_is_captioned_in_lines_of_whole_words(shared_media):
    """The sentences of the recording read for zh_read_passage_53s.wav, timed as Whisper times them."""
    passage = (shared_media / "zh_read_passage_53s.txt").read_text(encoding="utf-8").strip()
    for sentence in re.findall(r"[^。？！]+[。？！]", passage):
        lines = line_texts(split_lines(whisper_like(sentence), language="zh"))
        assert "".join(lines) == sentence
        assert all(text_units(line) <= CJK_LINE_UNITS for line in lines), lines
        breaks = np.cumsum([len(line) for line in lines])[:-1]
        assert set(breaks) <= word_ends(sentence), lines
        for word in WORDS:
            if word in sentence:
                assert any(word in line for line in lines), (word, lines)


def test_unpunctuated_chinese_breaks_at_its_pauses_and_not_around_a_particle():
    """Whisper often writes Chinese without marks: the pauses are where the commas were."""
    said = "黄昏时分 夕阳洒在街道上 给忙碌的一天增添了一抹温暖"
    lines = line_texts(split_lines(whisper_like(said), language="zh"))
    assert lines[:2] == ["黄昏时分", "夕阳洒在街道上"]
    assert "".join(lines[2:]) == "给忙碌的一天增添了一抹温暖" and len(lines) == 4
    assert not any(line[0] in "的了着" for line in lines), lines
    assert line_texts(split_lines(whisper_like("人们穿上厚重的外套，"), language="zh")) == ["人们穿上", "厚重的外套，"]
    assert any("一抹温暖" in line for line in lines), lines
    unbroken = line_texts(split_lines(whisper_like("夕阳洒在街道上给忙碌的一天增添了一抹温暖无论是散步"),
                                        language="zh"))
    assert len(unbroken) == 3 and not any(line.endswith(("给", "在")) for line in unbroken), unbroken


def test_whisper_pieces_join_into_a_word_timed_from_its_first_piece_to_its_last():
    pieces = [(0.0, 0.2, "给"), (0.2, 0.45, "忙"), (0.5, 0.7, "碌"), (0.7, 0.8, "的"), (0.8, 1.1, "一天")]
    lines = split_lines([Word(a, b, t, 0.8) for a, b, t in pieces], language="zh")
    words = [w for line in lines for w in line]
    assert [(w.text, w.start, w.end) for w in words] == [
        ("给", 0.0, 0.2), ("忙碌", 0.2, 0.7), ("的", 0.7, 0.8), ("一天", 0.8, 1.1)]


def test_japanese_is_still_broken_by_characters():
    """jieba knows no Japanese: kana text keeps its lines of nine characters."""
    text = "今日はとても良い天気ですね"
    words = [Word(i * 0.2, i * 0.2 + 0.18, ch) for i, ch in enumerate(text)]
    for language in ("ja", None):
        assert line_texts(split_lines(words, language=language)) == ["今日はとても良い天", "気ですね"]


def test_a_chinese_title_is_cut_after_a_whole_word():
    assert trim_title("黄昏时分夕阳洒在街道上给忙碌的一天增添了一抹温暖") == "黄昏时分夕阳洒在街道上给忙碌的…"
    assert trim_title("好多人都喜欢秋天的银杏树和落叶") == "好多人都喜欢秋天的银杏树和落叶"   # 好多 is no filler 好
    assert trim_title("那么今天我们来聊一聊秋天的银杏树") == "今天我们来聊一聊秋天的银杏树"


def test_a_highlight_lights_a_whole_word(tmp_path):
    """Drawn by libass: while 忙 is said, the highlight covers 忙碌, two characters wide."""
    words = whisper_like("给忙碌的一天", start=0.0, step=0.3)
    script = caption_script(words, [(0.0, 3.0, 0.0)], 360, 640, style="bold", language="zh")
    karaoke = caption_script(words, [(0.0, 3.0, 0.0)], 360, 640, style="karaoke", language="zh")
    assert re.search(r"\{\\kf\d+\}忙碌\{", karaoke) and "}碌" not in karaoke
    ass = tmp_path / "zh.ass"
    ass.write_text(script, encoding="utf-8")
    font = captions.caption_font("zh")
    fonts = f":fontsdir={font.directory}" if font.directory else ""
    raw = subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=black:s=360x640:r=10:d=2",
                          "-vf", f"ass={ass}{fonts},format=rgb24", "-ss", "0.4", "-frames:v", "1",
                          "-f", "rawvideo", "pipe:1"], capture_output=True, check=True).stdout
    frame = np.frombuffer(raw, np.uint8).reshape(640, 360, 3).astype(int)
    yellow = (frame[..., 0] > 180) & (frame[..., 1] > 160) & (frame[..., 2] < 90)
    lit = np.flatnonzero(yellow.any(axis=0))
    drawn = np.flatnonzero((frame.max(axis=2) > 180).any(axis=0))
    character = (drawn.max() - drawn.min()) / 6                  # the line's width over its six characters
    assert len(lit) and lit.max() - lit.min() > 1.5 * character, "two characters lit, not one"

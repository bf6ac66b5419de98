"""Captions: timing, line splitting, styles and escaping as text, and as libass draws them."""
from __future__ import annotations

import re
import subprocess

import numpy as np
import pytest

from engine import captions
from engine.caption_lines import MAX_UNITS, join_words, split_lines, text_units
from engine.captions import Line, ass_document, escape, place_words, timed_lines
from engine.models import Word


def words_from(text: str, start: float = 0.0, step: float = 0.4, length: float = 0.3) -> list[Word]:
    return [Word(start + i * step, start + i * step + length, " " + token) for i, token in enumerate(text.split())]


def texts(groups) -> list[str]:
    return [join_words(g) for g in groups]


# --- timing -----------------------------------------------------------------------------------

def test_words_are_shifted_to_clip_time_and_kept_inside_the_clip():
    words = words_from("zero one two three four five six seven", start=10.0, step=1.0, length=0.5)
    placed = place_words(words, [(12.0, 15.0, 0.0)])
    assert [w.text.strip() for w in placed] == ["two", "three", "four"]
    assert [(w.start, w.end) for w in placed] == [(0.0, 0.5), (1.0, 1.5), (2.0, 2.5)]


def test_a_word_cut_by_the_clip_edge_is_clamped_to_it():
    placed = place_words([Word(9.8, 10.6, " edge")], [(10.0, 20.0, 0.0)])
    assert [(w.start, w.end) for w in placed] == [(0.0, 0.6)]
    assert place_words([Word(9.2, 10.2, " outside")], [(10.0, 20.0, 0.0)]) == []


def test_reel_words_are_shifted_per_segment():
    words = [Word(5.0, 5.4, " first"), Word(30.2, 30.6, " second"), Word(50.0, 50.5, " dropped")]
    placed = place_words(words, [(4.0, 8.0, 0.0), (30.0, 34.0, 3.7)])
    assert [(w.text.strip(), w.start, w.end) for w in placed] == [("first", 1.0, 1.4), ("second", 3.9, 4.3)]


def test_lines_hold_briefly_and_never_overlap():
    groups = [words_from("one two", 0.0), words_from("three four", 1.0), words_from("five six", 5.0)]
    lines = timed_lines(groups)
    assert lines[0].end == pytest.approx(1.0), "cut short by the next line"
    assert lines[1].end == pytest.approx(1.7 + captions.HOLD)
    assert all(a.end <= b.start for a, b in zip(lines, lines[1:]))


def test_ass_times_are_centiseconds():
    assert captions.ass_time(0) == "0:00:00.00"
    assert captions.ass_time(61.237) == "0:01:01.24"
    assert captions.ass_time(3725.5) == "1:02:05.50"


# --- lines ------------------------------------------------------------------------------------

def test_lines_have_two_to_four_words():
    groups = split_lines(words_from("we measured this over two years in our own small company and learned a lot"))
    assert all(2 <= len(g) <= 4 for g in groups)
    assert " ".join(texts(groups)) == "we measured this over two years in our own small company and learned a lot"


def test_lines_break_after_a_sentence_and_at_pauses():
    words = words_from("That is it. Now the next part") + [Word(10.0, 10.3, " later")]
    groups = split_lines(words)
    assert texts(groups)[0] == "That is it."
    assert texts(groups)[-1] == "later"


def test_a_lone_word_borrows_from_the_line_before():
    groups = split_lines(words_from("one two three four five"))
    assert [len(g) for g in groups] == [3, 2]


def test_long_words_make_shorter_lines():
    groups = split_lines(words_from("internationalisation responsibilities notwithstanding"))
    assert all(text_units(t) <= MAX_UNITS for t in texts(groups) if " " in t)


def test_chinese_words_join_without_spaces_and_lines_stay_narrow():
    words = [Word(i * 0.3, i * 0.3 + 0.25, token) for i, token in enumerate(["我们", "今天", "讨论", "定价", "策略", "和", "增长"])]
    groups = split_lines(words)
    assert texts(groups) == ["我们今天讨论", "定价策略和增长"]      # the fewest lines, as even as can be
    assert all(text_units(t) <= MAX_UNITS for t in texts(groups))
    assert join_words([Word(0, 1, " 价格"), Word(1, 2, " OK")]) == "价格OK"



def test_pieces_whisper_wrote_onto_the_word_before_keep_no_space():
    """Whisper starts a new word at a space or a punctuation mark: ",000" after " 10" and "'s"
    carry no leading space and belong to the word before; a word with its space does not."""
    pieces = [" It", " cost", " 10", ",000", " and", " it", "'s", " 50", "%", " -", " really", "."]
    words = [Word(i * 0.3, i * 0.3 + 0.25, t) for i, t in enumerate(pieces)]
    assert join_words(words) == "It cost 10,000 and it's 50% - really."
    line = Line(0.0, 4.5, tuple(words[:4]))
    for style in ("bold", "karaoke"):
        script = ass_document([line], 1080, 1920, style=style)
        shown = re.sub(r"\{[^}]*\}", "", script.rsplit("Dialogue:", 1)[-1].split(",", 9)[-1])
        assert shown.strip() == "It cost 10,000"

# --- escaping ---------------------------------------------------------------------------------

def test_escape_makes_ass_control_text_literal():
    assert escape("{\\b1}bold") == "\\{\\\u2060b1\\}bold"
    assert escape("C:\\New line") == "C:\\\u2060New line"
    assert escape("two\nlines\r\nhere") == "two lines here"
    assert "{" not in escape("a {b} c").replace("\\{", "")


def test_no_user_text_reaches_the_script_unescaped():
    line = Line(0.0, 1.0, (Word(0.0, 0.5, " {\\fs200}big"), Word(0.5, 1.0, " end\\N")))
    for style in captions.STYLES:
        doc = ass_document([line], 1080, 1920, style=style, title="Title {\\pos(0,0)}")
        events = [row for row in doc.splitlines() if row.startswith("Dialogue:")]
        for row in events:
            text = row.split(",", 9)[9]
            tags = re.findall(r"(?<!\\)\{[^}]*\}", text)
            assert all("\\fs200" not in t and "\\pos" not in t for t in tags), row
            assert "\\N" not in text.replace("\\\u2060N", "")


# --- styles -----------------------------------------------------------------------------------

def _style(doc: str, name: str) -> dict:
    fields = next(r for r in doc.splitlines() if r.startswith("Format: Name"))[8:].split(", ")
    values = next(r for r in doc.splitlines() if r.startswith(f"Style: {name},"))[7:].split(",")
    return dict(zip(fields, values))


def test_styles_highlight_the_spoken_word():
    line = timed_lines(split_lines(words_from("charge for the value")))[0]
    bold = ass_document([line], 1080, 1920, "bold")
    events = [r for r in bold.splitlines() if r.startswith("Dialogue:")]
    assert len(events) == 4, "one event per word"
    for i, row in enumerate(events):
        highlighted = re.findall(r"\{\\c&H[0-9A-F]{6}&\}(\w+)\{\\r\}", row)
        assert highlighted == [["charge", "for", "the", "value"][i]]
    karaoke = ass_document([line], 1080, 1920, "karaoke")
    rows = [r for r in karaoke.splitlines() if r.startswith("Dialogue:")]
    assert len(rows) == 1
    centis = [int(c) for c in re.findall(r"\\kf(\d+)", rows[0])]
    assert len(centis) == 4 and sum(centis) == pytest.approx(round((line.end - line.start) * 100), abs=2)
    boxed = ass_document([line], 1080, 1920, "boxed")
    assert _style(boxed, "Caption")["BorderStyle"] == "4"
    with pytest.raises(ValueError):
        ass_document([line], 1080, 1920, "comic")


def test_captions_sit_above_the_bottom_fifth():
    doc = ass_document([], 1080, 1920)
    style = _style(doc, "Caption")
    assert style["Alignment"] == "2" and int(style["MarginV"]) >= 0.2 * 1920 + int(style["Outline"])


def test_lines_of_stacked_stretches_move_to_the_seam_and_split_at_their_edges():
    line = Line(1.0, 3.0, (Word(1.0, 1.5, " one"), Word(1.5, 3.0, " two")))
    moved = captions.at_the_seam([line], [(2.0, 5.0)])
    assert [(m.start, m.end, m.at_seam, m.words) for m in moved] == [(1.0, 2.0, False, line.words),
                                                                     (2.0, 3.0, True, line.words)]
    assert captions.at_the_seam([line], []) == [line]
    karaoke = [r for r in ass_document(moved, 1080, 1920, "karaoke").splitlines() if r.startswith("Dialogue:")]
    # the sweep goes on where it was: 'one' already sung, the second half of 'two' to come
    assert karaoke == ["Dialogue: 0,0:00:01.00,0:00:02.00,Caption,,0,0,0,,{\\kf50}one {\\kf150}two",
                       "Dialogue: 0,0:00:02.00,0:00:03.00,Seam,,0,0,0,,{\\kf0}one {\\kf100}two"]
    bold = [r.split(",")[1:4] for r in ass_document(moved, 1080, 1920, "bold").splitlines() if r.startswith("Dialogue:")]
    assert bold == [["0:00:01.00", "0:00:01.50", "Caption"], ["0:00:01.50", "0:00:02.00", "Caption"],
                    ["0:00:02.00", "0:00:03.00", "Seam"]], "each word's highlight is cut at the layout change"
    seam, caption = _style(ass_document([], 1080, 1920), "Seam"), _style(ass_document([], 1080, 1920), "Caption")
    assert seam["Alignment"] == "5" and {k: v for k, v in seam.items() if k not in ("Name", "Alignment", "MarginV")} \
        == {k: v for k, v in caption.items() if k not in ("Name", "Alignment", "MarginV")}


# --- as libass draws them ------------------------------------------------------------------------

def render_frame(tmp_path, doc: str, width: int = 360, height: int = 640, at: float = 0.5) -> np.ndarray:
    """One grey frame of `doc` burned onto black by ffmpeg's ass filter."""
    ass = tmp_path / f"c{abs(hash(doc))}.ass"
    ass.write_text(doc, encoding="utf-8")
    font = captions.caption_font("zh")
    fonts = f":fontsdir={font.directory}" if font.directory else ""
    cmd = ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", f"color=black:s={width}x{height}:r=10:d=1",
           "-vf", f"ass={ass}{fonts},format=gray", "-ss", str(at), "-frames:v", "1", "-f", "rawvideo", "pipe:1"]
    raw = subprocess.run(cmd, capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(height, width)


def one_line(text: str, style: str = "bold", title: str | None = None) -> str:
    return ass_document([Line(0.0, 1.0, (Word(0.0, 1.0, text),))], 360, 640, style=style, title=title,
                        font=captions.caption_font("zh"))


def test_escaped_braces_are_drawn_not_swallowed(tmp_path):
    drawn = render_frame(tmp_path, one_line("{hidden}"))
    assert (drawn > 128).sum() > 200, "the escaped text is drawn"
    raw = ass_document([], 360, 640) + "Dialogue: 0,0:00:00.00,0:00:01.00,Caption,,0,0,0,,{hidden}\n"
    assert (render_frame(tmp_path, raw) > 128).sum() == 0, "unescaped, libass reads it as a tag"


def test_captions_are_drawn_in_the_safe_zone_and_the_title_at_the_top(tmp_path):
    frame = render_frame(tmp_path, one_line("Safe zone words", title="A title"))
    rows = np.flatnonzero((frame > 100).any(axis=1))
    caption_rows = rows[rows > 640 * 0.4]
    title_rows = rows[rows < 640 * 0.4]
    assert len(caption_rows) and caption_rows.max() < 0.8 * 640
    assert len(title_rows) and title_rows.min() > 0.05 * 640


def test_chinese_captions_render_real_glyphs(tmp_path):
    assert captions.caption_font("zh").name.startswith("Noto Sans CJK")
    a = render_frame(tmp_path, one_line("你好世界"))
    b = render_frame(tmp_path, one_line("天地玄黄"))
    assert (a > 128).sum() > 300 and (b > 128).sum() > 300
    # Missing glyphs (tofu) draw the same box for every character; real glyphs differ.
    assert np.abs(a.astype(int) - b.astype(int)).sum() > 0.3 * np.abs(a.astype(int)).sum()


def test_every_style_draws_the_line(tmp_path):
    counts = {style: (render_frame(tmp_path, one_line("Every style", style)) > 128).sum() for style in captions.STYLES}
    assert all(c > 200 for c in counts.values()), counts


def test_korean_keeps_the_spaces_between_its_words():
    """Korean is written with spaces: its lines keep Whisper's, and break between words, not
    between syllables as Chinese and Japanese lines may."""
    texts = [" 안녕하세요", " 여러분", " 오늘은", " 날씨가", " 정말", " 좋습니다.", " 우리는", " 공원에", " 갑니다."]
    words = [Word(i * 0.4, i * 0.4 + 0.35, t) for i, t in enumerate(texts)]
    assert join_words(words) == "안녕하세요 여러분 오늘은 날씨가 정말 좋습니다. 우리는 공원에 갑니다."
    lines = split_lines(words, language="ko")
    assert [w for line in lines for w in line] == words
    assert all(" " in join_words(line) for line in lines if len(line) > 1)

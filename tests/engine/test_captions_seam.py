"""Captions over a stacked two-person layout (engine/caption_placement.py, engine.captions.seam_spans):
never two lines at once (libass moves apart only lines without a position, and seam lines have
one), a one-row caption as near the seam as the faces allow (not centred in room kept for two
rows), and clear of the title's box. Geometry from the ASS events written; libass renders where
what is drawn matters."""
from __future__ import annotations

import gc
import re
import subprocess
import warnings

import numpy as np
import pytest

from engine import captions, joins
from engine.caption_fonts import bold_font_file, caption_font, font_metrics
from engine.caption_placement import StackedSpan
from engine.captions import Layout, caption_script, drawn_height, look, rows_drawn, timed_lines, title_bottom
from engine.models import Word
from engine.reframe.panels import face_rows
from tests.engine.test_captions import words_from

FONT = captions.caption_font("en")
LAYOUT = Layout(1080, 1920)
ROW = drawn_height(1, LAYOUT, look("bold", LAYOUT.font_size))       # one row of bold captions, in pixels


def events(script: str, styles=("Caption", "Seam")) -> list[tuple[float, float, str, int | None]]:
    """(start, end, style, y of \\pos or None) of each caption event, in the order written."""
    out = []
    for row in script.splitlines():
        if not row.startswith("Dialogue:"):
            continue
        fields = row.split(",", 9)
        if fields[3] not in styles:
            continue
        seconds = [sum(float(p) * m for p, m in zip(t.split(":"), (3600, 60, 1))) for t in fields[1:3]]
        pos = re.search(r"\\pos\((\d+),(\d+)\)", fields[9])
        out.append((seconds[0], seconds[1], fields[3], int(pos.group(2)) if pos else None))
    return out


def render_frame(tmp_path, doc: str, at: float) -> np.ndarray:
    """One grey 1080x1920 frame of `doc` at `at` seconds, burned onto black by ffmpeg's ass filter."""
    ass = tmp_path / f"c{abs(hash(doc))}.ass"
    ass.write_text(doc, encoding="utf-8")
    fonts = f":fontsdir={FONT.directory}" if FONT.directory else ""
    cmd = ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", f"color=black:s=1080x1920:r=10:d={at + 1:.1f}",
           "-vf", f"ass={ass}{fonts},format=gray", "-ss", f"{at}", "-frames:v", "1", "-f", "rawvideo", "pipe:1"]
    raw = subprocess.run(cmd, capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(1920, 1080)


def never_two_at_once(script: str) -> bool:
    shown = sorted(events(script))
    return all(a[1] <= b[0] + 1e-9 for a, b in zip(shown, shown[1:]))


# --- one line at a time -----------------------------------------------------------------------------

def test_a_line_ends_where_the_next_begins_even_while_its_last_word_is_said():
    before = [Word(0.0, 0.4, " so"), Word(0.4, 0.8, " it"), Word(0.8, 1.5, " works.")]
    after = [Word(1.3, 1.6, " Then"), Word(1.6, 2.0, " we")]           # starts under 'works.'
    lines = timed_lines([before, after])
    assert [(line.start, line.end) for line in lines] == [(0.0, 1.3), (1.3, 2.0 + captions.HOLD)]


def test_at_a_join_the_lines_change_at_the_middle_of_the_crossfade():
    placed, _ = joins.placements([(0.0, 4.0), (10.0, 14.0), (20.0, 24.0)], 0.3)   # joins 3.7-4.0, 7.4-7.7
    first = timed_lines([[Word(2.0, 2.5, " so"), Word(3.1, 3.95, " works.")]])
    second = timed_lines([[Word(3.75, 4.2, " Then")], [Word(6.0, 6.5, " end.")], [Word(7.6, 7.65, " gone")]])
    fitted = captions.across_joins([first, second, timed_lines([[Word(8.3, 8.8, " late")]])], placed)
    times = [[(line.start, pytest.approx(line.end)) for line in lines] for lines in fitted]
    assert times[0] == [(2.0, 3.85)], "the first segment's line ends at the crossfade's middle, 'works.' still heard"
    assert times[1] == [(3.85, 4.2 + captions.HOLD), (6.0, 6.5 + captions.HOLD)], \
        "the next begins there; a line in the last moments of a crossfade is dropped"
    assert times[2] == [(8.3, 8.8 + captions.HOLD)], "one starting over JOIN_SNAP after the join keeps its time"
    pulled = captions.across_joins([second, timed_lines([[Word(7.9, 8.2, " soon")]])], placed[1:])
    assert pulled[1][0].start == pytest.approx(7.55), "one starting sooner is pulled back to it: no blank blinks"


def reel_script(stacked: bool, style: str = "bold", last: str = " created.") -> tuple[str, float]:
    """Two segments joined by a crossfade, the first one's last word running into the second one's
    first: at 3.7-4.0 s of the output both are heard."""
    segments = [(0.0, 4.0), (10.0, 14.0)]
    placed, duration = joins.placements(segments, joins.CROSSFADE)
    words = (words_from("we charge for the value", start=0.3, step=0.5, length=0.45)
             + [Word(3.2, 3.95, last)] + words_from("and then the price moves", start=10.05, step=0.5))
    faces = ((0.05, 0.12, 0.3, 0.4), (0.6, 0.67, 0.85, 0.9))
    spans = [StackedSpan(at, at + end - start, faces, segment=i) for i, (start, end, at) in enumerate(placed)]
    return caption_script(words, placed, 1080, 1920, style=style, stacked=spans if stacked else []), placed[1][2]


@pytest.mark.parametrize("style", captions.STYLES)
def test_at_a_reel_crossfade_two_lines_are_never_shown_at_once(style):
    for stacked in (True, False):
        script, join = reel_script(stacked, style)
        shown = events(script)
        assert never_two_at_once(script), shown
        middle = join + joins.CROSSFADE / 2
        ends, starts = [e for _, e, _, _ in shown], [s for s, _, _, _ in shown]
        assert pytest.approx(middle) in ends and pytest.approx(middle) in starts, \
            "one line hands over to the next at the crossfade's middle"
        if stacked:
            assert all(kind == "Seam" for _, _, kind, _ in shown)


def test_in_a_crossfade_each_line_is_placed_by_its_own_segments_framing():
    """The first segment is framed on one person (captions low), the second stacked from its first
    frame: the first segment's last line stays low until the crossfade's middle rather than jumping
    to the seam as the crossfade begins; from there the second segment's lines are at the seam."""
    segments = [(0.0, 4.0), (10.0, 14.0)]
    placed, duration = joins.placements(segments, joins.CROSSFADE)
    words = words_from("we charge for the value", start=0.3, step=0.5, length=0.45) + [Word(3.2, 3.95, " created.")] \
        + words_from("and then the price moves", start=10.05, step=0.5)
    second = placed[1][2]
    stacked = [StackedSpan(second, duration, ((0.05, 0.12, 0.3, 0.4), (0.6, 0.67, 0.85, 0.9)), segment=1)]
    shown = events(caption_script(words, placed, 1080, 1920, stacked=stacked))
    assert [kind for s, _, kind, _ in shown if s < 3.2] == ["Caption"] * 5
    created = [(s, e, kind) for s, e, kind, _ in shown if 3.2 <= s < second + 0.05]
    assert created and all(kind == "Caption" for _, _, kind in created), shown
    assert all(kind == "Seam" for s, _, kind, _ in shown if s >= second + 0.05)
    assert never_two_at_once(caption_script(words, placed, 1080, 1920, stacked=stacked))


def test_a_line_never_holds_words_of_two_segments():
    script, join = reel_script(stacked=False, last=" created")
    texts = [row.split(",", 9)[9] for row in script.splitlines() if row.startswith("Dialogue:")]
    assert not any("created" in t and "and" in re.sub(r"\{[^}]*\}", "", t).split() for t in texts)


def test_at_the_crossfade_libass_draws_only_the_next_line(tmp_path):
    """Positioned seam lines are not moved apart by libass: overlapping, they would be drawn over
    each other. In the crossfade only the next segment's line is drawn."""
    script, join = reel_script(stacked=True)
    at = join + 0.2
    drawn = render_frame(tmp_path, script, at)
    current = [row for row in script.splitlines() if not row.startswith("Dialogue:")
               or (lambda e: e[0][0] <= at < e[0][1])(events(row))]
    assert sum(r.startswith("Dialogue:") for r in current) == 1
    assert np.array_equal(drawn, render_frame(tmp_path, "\n".join(current) + "\n", at))
    ink = np.flatnonzero((drawn > 128).any(axis=1))
    assert ink.max() - ink.min() < ROW, "one row of text"


# --- one row as near the seam as it fits ------------------------------------------------------------

HEAD_BELOW_SEAM = ((0.02, 0.1, 0.28, 0.36), (0.52, 0.6, 0.75, 0.8))     # the lower head reaches over the seam
ABOVE_HEAD = 0.52 * 1920 - captions.FACE_GAP * LAYOUT.font_size          # the lowest a caption may reach there


def test_the_rows_counted_are_the_rows_libass_draws(tmp_path):
    for text, expected in (("we charge for the", 1), ("value you create", 1),
                           ("WWWWWW WWWWWW WWWWWW", 2), ("internationalization", 1)):
        assert rows_drawn(text, LAYOUT.font_size, LAYOUT, FONT) == expected, text
        doc = captions.ass_document([captions.Line(0.0, 1.0, (Word(0.0, 1.0, text),))], 1080, 1920, font=FONT)
        ink = np.flatnonzero((render_frame(tmp_path, doc, 0.5) > 128).any(axis=1))
        runs = 1 + int((np.diff(ink) > 5).sum())
        assert runs == expected, f"{text!r}: libass drew {runs} rows"


def test_a_one_row_caption_moved_off_the_seam_sits_against_the_head_it_avoids(tmp_path):
    words = words_from("we charge for the")
    script = caption_script(words, [(0.0, 2.0, 0.0)], 1080, 1920, stacked=[StackedSpan(0.0, 2.0, HEAD_BELOW_SEAM)])
    ys = {y for _, _, _, y in events(script)}
    assert len(ys) == 1
    bottom = ys.pop() + ROW / 2
    assert ABOVE_HEAD - 2 <= bottom <= ABOVE_HEAD, "its bottom a small gap above the head, not 63 px more"
    drawn = render_frame(tmp_path, script, 0.5)
    ink = np.flatnonzero((drawn > 128).any(axis=1))
    assert ABOVE_HEAD - 40 <= ink.max() <= ABOVE_HEAD, f"drawn down to row {ink.max()}"


def test_a_two_row_caption_grows_away_from_the_seam_and_one_row_lines_keep_their_place():
    words = words_from("we charge for") + [Word(2.0 + i / 2, 2.5 + i / 2, " WWWWWW") for i in range(3)]
    script = caption_script(words, [(0.0, 4.0, 0.0)], 1080, 1920, stacked=[StackedSpan(0.0, 4.0, HEAD_BELOW_SEAM)])
    two = drawn_height(2, LAYOUT, look("bold", LAYOUT.font_size))
    bottoms = {round(y + (two if s >= 2.0 else ROW) / 2) for s, _, _, y in events(script)}
    assert len(bottoms) == 1 and abs(bottoms.pop() - ABOVE_HEAD) <= 1, "both end just above the head"


def test_on_the_seam_a_caption_is_centred_there():
    roomy = ((0.05, 0.12, 0.3, 0.35), (0.6, 0.67, 0.85, 0.9))
    script = caption_script(words_from("we charge for the"), [(0.0, 2.0, 0.0)], 1080, 1920,
                            stacked=[StackedSpan(0.0, 2.0, roomy)])
    assert {y for _, _, _, y in events(script)} == {None}, "the Seam style alone centres it on the middle"


# --- clear of the title ---------------------------------------------------------------------------

# both faces fill the middle: the only room clear of them is above the top person's head
def filled(head: float) -> tuple:
    return ((head, head + 0.06, 0.45, 0.5), (0.5, 0.55, 0.72, 0.78))


TITLE = "Why pricing on value is the hardest thing a founder does"     # two rows


@pytest.mark.parametrize("head", [0.22, 0.27])
def test_the_caption_keeps_clear_of_the_titles_box_while_the_title_shows(tmp_path, head):
    """Above a head at 0.27 there is room under the title; above one at 0.22 there is not, and the
    caption goes back between the faces, over a chin and hair but clear of the eyes and mouths."""
    words = words_from("we charge for the value you create")
    spans = [StackedSpan(0.0, 4.0, filled(head))]
    untitled = caption_script(words, [(0.0, 4.0, 0.0)], 1080, 1920, stacked=spans)
    titled = caption_script(words, [(0.0, 4.0, 0.0)], 1080, 1920, title=TITLE, stacked=spans)
    box = title_bottom(TITLE, LAYOUT, FONT)
    assert rows_drawn(TITLE, LAYOUT.title_size, LAYOUT, FONT) == 2
    assert all(y + ROW / 2 <= head * 1920 + 1 for _, _, _, y in events(untitled)), "untitled: above the top head"
    if head == 0.22:
        assert all(y - ROW / 2 < box for _, _, _, y in events(untitled)), "where the title's box is"
    else:
        assert events(titled) == events(untitled), "room under the title: where it would be without one"
    tops = {(y or 960) - ROW / 2 for _, _, _, y in events(titled)}
    assert all(top >= box + captions.TITLE_GAP * LAYOUT.font_size - 1 for top in tops), (tops, box)
    drawn = render_frame(tmp_path, titled.replace("&H40000000", "&H00FFFFFF"), 1.0)
    rows = np.flatnonzero((drawn > 128).sum(axis=1) > 2)
    title_rows, caption_rows = rows[rows <= box + 2], rows[rows > box + 2]
    assert len(title_rows) and len(caption_rows)
    assert title_rows.max() >= box - 2, "the title's box is drawn where title_bottom says"
    assert caption_rows.min() - title_rows.max() >= 0.3 * LAYOUT.font_size, "a clear gap under the title's box"


def test_without_room_under_the_title_the_caption_gives_up_part_of_a_face_not_the_title():
    crowded = ((0.17, 0.24, 0.45, 0.5), (0.5, 0.52, 0.74, 0.8))
    script = caption_script(words_from("we charge for the"), [(0.0, 2.0, 0.0)], 1080, 1920, title=TITLE,
                            stacked=[StackedSpan(0.0, 2.0, crowded)])
    box = title_bottom(TITLE, LAYOUT, FONT)
    for _, _, _, y in events(script):
        assert (y or 960) - ROW / 2 >= box + captions.TITLE_GAP * LAYOUT.font_size - 1
    assert title_rows(script) == [(0.0, captions.TITLE_SECONDS, None)], "no room lower: the title stays at the top"


def title_rows(script: str) -> list[tuple[float, float, int | None]]:
    """(start, end, y of \\pos or None: at the top margin) of each Title event."""
    return [(s, e, y) for s, e, _, y in events(script, styles=("Title",))]


# the stand-up's short (debate-club recording): the top person's hair reaches the top of the frame
TALL = ((0.055, 0.16, 0.265, 0.322), (0.558, 0.664, 0.77, 0.828))


def test_a_title_that_would_cover_the_top_face_goes_just_above_the_seam_captions(tmp_path):
    """At the top margin the title's box would cover the top person's forehead; it goes over his
    chest instead, between his chin and the captions on the seam, which stay where they would be
    without a title (drawn by libass, the box made opaque to be seen)."""
    words = words_from("every decision in life is a set of questions")
    spans = [StackedSpan(0.0, 6.0, TALL)]
    title = "Every decision in life"
    assert title_bottom(title, LAYOUT, FONT) + captions.FACE_GAP * LAYOUT.font_size > TALL[0][0] * 1920
    titled = caption_script(words, [(0.0, 6.0, 0.0)], 1080, 1920, title=title, stacked=spans)
    untitled = caption_script(words, [(0.0, 6.0, 0.0)], 1080, 1920, stacked=spans)
    assert events(titled) == events(untitled), "the captions do not make way for the title"
    assert [(s, e) for s, e, _ in title_rows(titled)] == [(0.0, captions.TITLE_SECONDS)]
    drawn = render_frame(tmp_path, titled.replace("&H40000000", "&H00FFFFFF"), 1.0)
    caption_top = min((y or 960) - ROW / 2 for s, e, _, y in events(titled) if s <= 1.0 < e)
    rows = np.flatnonzero((drawn > 128).sum(axis=1) > 2)
    box = rows[rows < caption_top - 2]
    assert len(box), "the title is drawn above the captions"
    assert box.min() >= TALL[0][3] * 1920 + captions.FACE_GAP * LAYOUT.font_size - 2, "clear of the top chin"
    assert caption_top - box.max() >= captions.TITLE_GAP * LAYOUT.font_size - 2, "a clear gap above the captions"


# the TV interview's short: the host's chin comes down to the captions on the seam (his mouth row
# is the bottom of his lower lip, panels.MOUTH)
TV = ((0.038, 0.19, 0.368, 0.424), (0.531, 0.676, 0.848, 0.9))


def test_with_no_room_clear_of_a_mouth_the_title_stays_over_the_forehead_clear_of_the_brows(tmp_path):
    """Between the host's lower lip and the captions there is no room for the two-row title (with
    the mouth counted at its middle, the box sat on his lower lip and chin while he spoke). It stays
    at the top, over his hair and forehead, clear of his brows (drawn by libass, the box opaque)."""
    words = words_from("if you are talking to me now")
    title = "If you're talking to me now, am I going to speak my piece or not?"
    assert rows_drawn(title, LAYOUT.title_size, LAYOUT, FONT) == 2
    script = caption_script(words, [(0.0, 6.0, 0.0)], 1080, 1920, title=title, stacked=[StackedSpan(0.0, 6.0, TV)])
    assert title_rows(script) == [(0.0, captions.TITLE_SECONDS, None)], "at the top"
    drawn = render_frame(tmp_path, script.replace("&H40000000", "&H00FFFFFF"), 1.0)
    caption_top = min((y or 960) - ROW / 2 for s, e, _, y in events(script) if s <= 1.0 < e)
    rows = np.flatnonzero((drawn > 128).sum(axis=1) > 2)
    box = rows[rows < caption_top - 2]
    assert len(box) and box.max() < TV[0][1] * 1920, "clear of the brows"


def test_the_mouth_row_is_the_lower_lip():
    """What a caption or title keeps clear of ends at the bottom of the lower lip, not the middle of the mouth."""
    box = np.array([0.4, 0.1, 0.2, 0.3])                 # x, y, w, h of a face box in a panel (0, 0, 1, 1)
    rows = face_rows(box, (0.0, 0.0, 1.0, 1.0))
    assert rows.mouth >= 0.1 + 0.88 * 0.3 and rows.mouth < rows.chin


def test_a_title_over_hair_alone_stays_at_the_top_rather_than_go_over_a_chin():
    tall_hair = ((0.1, 0.25, 0.4, 0.45), (0.55, 0.62, 0.77, 0.82))
    script = caption_script(words_from("we charge for the"), [(0.0, 4.0, 0.0)], 1080, 1920, title="A short hook",
                            stacked=[StackedSpan(0.0, 4.0, tall_hair)])
    assert title_rows(script) == [(0.0, captions.TITLE_SECONDS, None)]


def test_a_title_clear_of_the_faces_stays_at_the_top():
    roomy = ((0.2, 0.27, 0.42, 0.47), (0.58, 0.65, 0.8, 0.85))
    script = caption_script(words_from("we charge for the"), [(0.0, 4.0, 0.0)], 1080, 1920, title="A short hook",
                            stacked=[StackedSpan(0.0, 4.0, roomy)])
    assert title_rows(script) == [(0.0, captions.TITLE_SECONDS, None)]


def test_the_title_moves_at_a_cut_to_a_stacked_stretch_and_never_just_flashes_there():
    words = words_from("every decision in life is a set of questions")
    def titled(stacked_from: float) -> list:
        return title_rows(caption_script(words, [(0.0, 6.0, 0.0)], 1080, 1920, title="Every decision in life",
                                         stacked=[StackedSpan(stacked_from, 6.0, TALL)]))
    moved = titled(1.5)
    assert [(s, e) for s, e, _ in moved] == [(0.0, 1.5), (1.5, captions.TITLE_SECONDS)]
    assert moved[0][2] is None and moved[1][2] is not None, "at the top over one person, lower once stacked"
    assert titled(captions.TITLE_SECONDS - 0.06) == [(0.0, captions.TITLE_SECONDS - 0.06, None)], \
        "a stacked stretch in the title's last moments ends it at the cut"
    assert titled(0.2) == [(0.2, captions.TITLE_SECONDS, titled(0.0)[0][2])], "one in its first moments starts it there"
    two_stretches = title_rows(caption_script(words, [(0.0, 6.0, 0.0)], 1080, 1920, title="Every decision in life",
                                              stacked=[StackedSpan(0.0, 2.8, TALL), StackedSpan(2.8, 6.0, TALL)]))
    assert [(s, e) for s, e, _ in two_stretches] == [(0.0, captions.TITLE_SECONDS)], \
        "stacked stretches that give it the same place: one title, whole"


def test_a_stretch_that_begins_after_the_title_may_rise_to_the_top_margin():
    words = words_from("we charge for the value you create", start=4.0)
    script = caption_script(words, [(0.0, 8.0, 0.0)], 1080, 1920, title=TITLE,
                            stacked=[StackedSpan(captions.TITLE_SECONDS + 0.5, 8.0, filled(0.22))])
    assert all(y - ROW / 2 < title_bottom(TITLE, LAYOUT, FONT) for _, _, _, y in events(script))


def test_reading_the_fonts_metrics_leaves_no_file_open():
    """The metrics are read once per process; the font file must be closed then, not at some
    later garbage collection (a ResourceWarning in whatever code runs then)."""
    font = caption_font("en")
    path = bold_font_file(font.name, font.directory)
    if path is None:
        pytest.skip(f"no font file for {font.name!r} on this machine")
    font_metrics.cache_clear()
    gc.collect()                                          # what earlier tests in this worker left is theirs
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        metrics = font_metrics(path)
        gc.collect()
    assert metrics is not None and metrics.width("Hello", 90) > 0
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]

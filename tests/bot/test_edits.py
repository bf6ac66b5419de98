"""Edits: what people say to change their clips, and what each change does to a draft."""
from __future__ import annotations

import pytest

from bot.edits import (
    EditContext,
    apply_edit,
    draft_key,
    make_draft,
    music_of,
    ready_to_export,
    segments_of,
    summary_line,
    title_of,
)
from bot.vocabulary import Edit, parse_edits, understand

PARSE_TABLE = [
    ("make clip 2 longer by 10 seconds", [Edit("longer", clip=2, seconds=10)]),
    ("make clip 2 shorter by 10 seconds", [Edit("shorter", clip=2, seconds=10)]),
    ("make clip 1 shorter by 5 seconds", [Edit("shorter", clip=1, seconds=5)]),
    ("make it shorter", [Edit("shorter")]),
    ("trim the second clip by five seconds", [Edit("shorter", clip=2, seconds=5)]),
    ("extend #3 by half a minute", [Edit("longer", clip=3, seconds=30)]),
    ("start clip 1 earlier", [Edit("start_earlier", clip=1)]),
    ("start clip 1 3 seconds earlier", [Edit("start_earlier", clip=1, seconds=3)]),
    ("begin the first clip later", [Edit("start_later", clip=1)]),
    ("end clip 2 a bit later", [Edit("end_later", clip=2)]),
    ("stop clip 2 earlier", [Edit("end_earlier", clip=2)]),
    ("remove captions", [Edit("captions", on=False)]),
    ("no subtitles on clip 2 please", [Edit("captions", clip=2, on=False)]),
    ("add captions", [Edit("captions", on=True)]),
    ("turn subtitles on", [Edit("captions", on=True)]),
    ("make it square", [Edit("aspect", value="1:1")]),
    ("make clip 2 landscape", [Edit("aspect", clip=2, value="16:9")]),
    ("back to vertical", [Edit("aspect", value="9:16")]),
    ("more clips", [Edit("more")]),
    ("give me 2 more clips", [Edit("more", count=2)]),
    ("more clips like clip 2", [Edit("more")]),
    ("add a title 'Big News'", [Edit("title", value="Big News")]),
    ('add a title "Square Deal"', [Edit("title", value="Square Deal")]),
    ("put the title “How we grew” on clip 1", [Edit("title", clip=1, value="How we grew")]),
    ("remove the title", [Edit("title", on=False)]),
    ("use this as background music at 30%", [Edit("music", volume=0.3)]),
    ("add it as bgm", [Edit("music")]),
    ("remove the music", [Edit("music", on=False)]),
    ("compile them into a 2-minute highlight reel", [Edit("reel", seconds=120)]),
    ("combine them into one video", [Edit("reel")]),
    ("make clip 1 square and add a title 'Big News'",
     [Edit("title", clip=1, value="Big News"), Edit("aspect", clip=1, value="1:1")]),
    ("make clip 1 square without captions and add a title 'Big News'",
     [Edit("title", clip=1, value="Big News"), Edit("captions", clip=1, on=False), Edit("aspect", clip=1, value="1:1")]),
    ("remove the burned-in captions", [Edit("captions", on=False)]),
    ("no music and no title", [Edit("music", on=False), Edit("title", on=False)]),
    # 中文
    ("把第2个片段加长10秒", [Edit("longer", clip=2, seconds=10)]),
    ("第一个片段缩短五秒", [Edit("shorter", clip=1, seconds=5)]),
    ("去掉字幕", [Edit("captions", on=False)]),
    ("加字幕", [Edit("captions", on=True)]),
    ("改成方形", [Edit("aspect", value="1:1")]),
    ("再来几个", [Edit("more")]),
    ("加标题「我的故事」", [Edit("title", value="我的故事")]),
    ("把这个作为背景音乐，音量30%", [Edit("music", volume=0.3)]),
    ("合成一个2分钟的集锦", [Edit("reel", seconds=120)]),
    ("第1个片段提前开始", [Edit("start_earlier", clip=1)]),
    # the words a request uses for a clip's look mean the same as an edit
    ("skip captions", [Edit("captions", on=False)]),
    ("make it an instagram post", [Edit("aspect", value="4:5")]),
    ("don't add subtitles to clip 2", [Edit("captions", clip=2, on=False)]),
    ("make it a tiktok", [Edit("aspect", value="9:16")]),
    ("give me 2 more shorts", [Edit("more", count=2)]),
    # not edits
    ("find the best moments and cut them into 30-second vertical shorts", [Edit("aspect", value="9:16")]),
    ("hello there", []),
    ("", []),
]


@pytest.mark.parametrize("text,expected", PARSE_TABLE, ids=[t or "empty" for t, _ in PARSE_TABLE])
def test_parse_edits(text, expected):
    assert parse_edits(text) == expected


def test_a_cut_request_is_not_a_structural_edit():
    assert not any(e.structural for e in parse_edits("cut them into 3 square shorts without captions"))


SENTENCES = [(0.1, 1.8), (2.2, 5.4), (5.9, 8.5), (9.3, 12.8), (13.5, 16.0), (16.6, 18.4), (19.0, 20.4),
             (21.2, 22.0), (22.4, 25.5), (25.8, 28.5), (28.9, 32.9), (33.4, 36.8), (37.5, 38.3), (38.9, 39.8)]
CTX = EditContext(duration=40.4, sentence_starts=tuple(s for s, _ in SENTENCES),
                  sentence_ends=tuple(e for _, e in SENTENCES), music={"src": "abc", "label": "song.mp3"})


def draft(start=16.6, end=32.9, **kwargs) -> dict:
    values = dict(source="f00d", label="talk.mp4", segments=[(start, end)], aspect="9:16", resolution=360,
                  title="Do you know what happened next?", meta={"rank": 1, "score": 52.0, "hashtags": ["#a"]})
    values.update(kwargs)
    return make_draft(**values)


def test_a_draft_has_the_clouds_shape_and_summary():
    d = make_draft(source="f00d", label="city timelapse", segments=[(0.0, 10.0)], title="Urban Dreams",
                   captions=False, music={"src": "beef", "label": "Lo-fi", "volume": 0.35})
    assert set(d) == {"t", "d", "m"} and d["d"] == 10000
    assert [t["tt"] for t in d["t"]] == [0, 7, 1]
    assert d["m"]["width"] == 1080 and d["m"]["height"] == 1920
    assert ready_to_export(d)
    assert summary_line(d) == ('Timeline (3 tracks): 1. Video: city timelapse 0:00-0:10 (0-10s) '
                               '2. Title: "Urban Dreams" (0-3s) 3. BGM: Lo-fi (0-10s, 35%)')
    assert not ready_to_export({"t": [{"tt": 0, "sg": []}], "d": 0, "m": {}})


def test_shorter_snaps_to_a_sentence_end():
    result = apply_edit([draft(), draft(2.2, 16.0)], Edit("shorter", clip=1, seconds=5), CTX)
    assert result.changed == [0] and result.problem is None
    assert segments_of(result.drafts[0]) == [(16.6, 28.5)]        # 32.9 - 5 = 27.9 -> the sentence end at 28.5
    assert result.drafts[1] is not None and segments_of(result.drafts[1]) == [(2.2, 16.0)]
    assert result.drafts[0]["d"] == 11900


def test_longer_start_earlier_and_later():
    assert segments_of(apply_edit([draft()], Edit("longer", seconds=10), CTX).drafts[0]) == [(16.6, 39.8)]
    assert segments_of(apply_edit([draft()], Edit("start_earlier", clip=1), CTX).drafts[0]) == [(13.5, 32.9)]
    assert segments_of(apply_edit([draft()], Edit("start_later", clip=1, seconds=3), CTX).drafts[0]) == [(19.0, 32.9)]
    at_the_end = draft(33.4, 39.8)
    # nothing after the last sentence: "longer" moves the start instead
    assert segments_of(apply_edit([at_the_end], Edit("longer", seconds=4), CTX).drafts[0]) == [(28.9, 39.8)]


def test_without_sentences_edits_are_exact():
    ctx = EditContext(duration=60.0)
    assert segments_of(apply_edit([draft(10, 30)], Edit("shorter", seconds=5), ctx).drafts[0]) == [(10, 25)]
    assert segments_of(apply_edit([draft(10, 30)], Edit("longer", seconds=45), ctx).drafts[0]) == [(10, 60)]


def test_look_edits():
    d = draft()
    no_captions = apply_edit([d], Edit("captions", on=False), CTX).drafts[0]
    assert "Captions" not in summary_line(no_captions) and no_captions["m"]["captions"] is False
    square = apply_edit([d], Edit("aspect", value="1:1"), CTX).drafts[0]
    assert (square["m"]["width"], square["m"]["height"]) == (360, 360)
    titled = apply_edit([d], Edit("title", value="Big News"), CTX).drafts[0]
    assert title_of(titled) == "Big News" and 'Title: "Big News" (0-3s)' in summary_line(titled)
    untitled = apply_edit([d], Edit("title", on=False), CTX).drafts[0]
    assert title_of(untitled) is None
    assert len({draft_key(x) for x in (d, no_captions, square, titled, untitled)}) == 5


def test_music_needs_a_sound_and_keeps_its_volume():
    ctx = EditContext(duration=40.4)
    result = apply_edit([draft()], Edit("music", volume=0.3), ctx)
    assert not result.changed and "send me a song" in result.problem
    with_music = apply_edit([draft()], Edit("music", volume=0.3), CTX).drafts[0]
    assert music_of(with_music) == {"src": "abc", "label": "song.mp3", "volume": 0.3}
    assert "BGM: song.mp3 (0-16.3s, 30%)" in summary_line(with_music)
    louder = apply_edit([with_music], Edit("music", volume=0.5), ctx).drafts[0]
    assert music_of(louder)["volume"] == 0.5
    assert music_of(apply_edit([louder], Edit("music", on=False), ctx).drafts[0]) is None


def test_an_edit_that_changes_nothing_says_why():
    result = apply_edit([draft()], Edit("captions", on=True), CTX)
    assert result.changed == [] and result.problem == "that is already how the clips are"
    result = apply_edit([draft()], Edit("shorter", clip=3), CTX)
    assert result.changed == [] and "no clip 3" in result.problem


def test_compile_a_reel_in_source_order_within_the_length():
    clips = [draft(16.6, 32.9, meta={"rank": 1, "score": 60}), draft(2.2, 16.0, meta={"rank": 2, "score": 50}),
             draft(33.4, 39.8, meta={"rank": 3, "score": 10})]
    reel = apply_edit(clips, Edit("reel", seconds=30), CTX)
    assert reel.changed == [0] and len(reel.drafts) == 1
    assert segments_of(reel.drafts[0]) == [(2.2, 16.0), (16.6, 32.9)]   # the weakest clip did not fit in 30 s
    assert reel.drafts[0]["m"]["reel"] is True
    assert "Video: talk.mp4 0:02-0:16, 0:17-0:33" in summary_line(reel.drafts[0])
    assert apply_edit([draft()], Edit("reel"), CTX).problem.startswith("a reel needs")


@pytest.mark.parametrize("text,kind", [
    ("skip captions", "edit"), ("make it an instagram post", "edit"), ("make clip 1 shorter", "edit"),
    ("find 3 moments about pricing", "cut"), ("hello there", "not_understood"), ("去掉字幕", "edit"),
])
def test_with_clips_on_screen_the_look_words_are_edits(text, kind):
    assert understand(text, has_clips=True).kind == kind


def test_without_clips_the_same_words_shape_the_cut():
    understood = understand("skip captions, make it an instagram post", has_clips=False)
    assert understood.kind == "cut"
    assert (understood.request.captions, understood.request.aspect) == (False, "4:5")

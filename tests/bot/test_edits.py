"""Edits: what people say to change their clips, and what each change does to a (typed) draft."""
from __future__ import annotations

import dataclasses

import pytest

from bot.backends.base import ClipTimeline, EdgeMoved, Landed, Track
from bot.edits import Draft, EditContext, Music, apply_edit, timeline_of
from bot import texts
from bot.texts import landed, timeline
from bot.vocabulary import Edit, parse_edits, understand


def summary_line(d: Draft, lang: str = "en") -> str:
    return timeline(lang, timeline_of(d))

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
    ("把片段1提前2秒开始", [Edit("start_earlier", clip=1, seconds=2)]),
    ("片段2晚3秒结束", [Edit("end_later", clip=2, seconds=3)]),
    ("把第一个片段推迟3秒结束", [Edit("end_later", clip=1, seconds=3)]),
    ("remove captions", [Edit("captions", on=False)]),
    ("no subtitles on clip 2 please", [Edit("captions", clip=2, on=False)]),
    ("add captions", [Edit("captions", on=True)]),
    ("turn subtitles on", [Edit("captions", on=True)]),
    ("make it square", [Edit("aspect", value="1:1")]),
    ("make clip 2 landscape", [Edit("aspect", clip=2, value="16:9")]),
    ("back to vertical", [Edit("aspect", value="9:16")]),
    ("more clips", [Edit("more")]),
    ("give me 2 more clips", [Edit("more", count=2)]),
    ("more clips like clip 2", [Edit("more", clip=2)]),
    ("add a title 'Big News'", [Edit("title", value="Big News")]),
    ('add a title "Square Deal"', [Edit("title", value="Square Deal")]),
    ("put the title “How we grew” on clip 1", [Edit("title", clip=1, value="How we grew")]),
    ("remove the title", [Edit("title", on=False)]),
    ("use this as background music at 30%", [Edit("music", volume=0.3)]),
    ("add it as bgm", [Edit("music")]),
    ("remove the music", [Edit("music", on=False)]),
    ("compile them into a 2-minute highlight reel", [Edit("reel", seconds=120)]),
    ("combine them into one video", [Edit("reel")]),
    # a reel named: its length ("make the reel 30 seconds"), a step, or its look beside it
    ("make the reel 30 seconds", [Edit("reel", seconds=30)]),
    ("make the reel shorter", [Edit("shorter")]),
    ("make the reel 30 seconds and square", [Edit("reel", seconds=30), Edit("aspect", value="1:1")]),
    ("make the reel square", [Edit("reel"), Edit("aspect", value="1:1")]),
    ("trim the reel to 25 s", [Edit("reel", seconds=25)]),
    ("集锦加长10秒", [Edit("longer", seconds=10)]),
    ("把集锦改成30秒", [Edit("reel", seconds=30)]),
    # shorter or longer *to* a length is that length, not a step of it
    ("shorten it to 30 seconds", [Edit("length", seconds=30)]),
    ("make clip 2 longer, to about 40 seconds", [Edit("length", clip=2, seconds=40)]),
    ("缩短到30秒", [Edit("length", seconds=30)]),
    ("把第1个片段加长到45秒", [Edit("length", clip=1, seconds=45)]),
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
    # the clip named, however a Chinese speaker names it
    ("把片段2缩短3秒", [Edit("shorter", clip=2, seconds=3)]),
    ("片段 2 缩短 3 秒", [Edit("shorter", clip=2, seconds=3)]),
    ("把片段二缩短三秒", [Edit("shorter", clip=2, seconds=3)]),
    ("把第2个片段缩短3秒", [Edit("shorter", clip=2, seconds=3)]),
    ("把第二个片段缩短3秒", [Edit("shorter", clip=2, seconds=3)]),
    ("把2号片段缩短3秒", [Edit("shorter", clip=2, seconds=3)]),
    ("二号片段缩短3秒", [Edit("shorter", clip=2, seconds=3)]),
    ("把视频2缩短3秒", [Edit("shorter", clip=2, seconds=3)]),
    ("短视频3去掉字幕", [Edit("captions", clip=3, on=False)]),
    ("片段十二加长5秒", [Edit("longer", clip=12, seconds=5)]),
    # a number after the noun that is a length, or a date, names no clip
    ("把片段缩短30秒", [Edit("shorter", seconds=30)]),
    ("片段10秒就够了，缩短一点", [Edit("shorter", seconds=10)]),
    # the words a request uses for a clip's look mean the same as an edit
    ("skip captions", [Edit("captions", on=False)]),
    ("make it an instagram post", [Edit("aspect", value="4:5")]),
    ("don't add subtitles to clip 2", [Edit("captions", clip=2, on=False)]),
    ("make it a tiktok", [Edit("aspect", value="9:16")]),
    ("give me 2 more shorts", [Edit("more", count=2)]),
    # the caption styles the engine has (engine.captions.STYLES), on one clip or all
    ("use karaoke captions on clip 1", [Edit("captions", clip=1, value="karaoke")]),
    ("make the captions boxed", [Edit("captions", value="boxed")]),
    ("bold subtitles on the second clip", [Edit("captions", clip=2, value="bold")]),
    ("字幕改成逐字高亮", [Edit("captions", value="karaoke")]),
    ("把第2个片段的字幕改成底框", [Edit("captions", clip=2, value="boxed")]),
    ("make the title bold", []),
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
                  sentence_ends=tuple(e for _, e in SENTENCES), music=Music("abc", "song.mp3"))


def draft(start=16.6, end=32.9, **kwargs) -> Draft:
    values = dict(source="f00d", label="talk.mp4", segments=((start, end),), aspect="9:16", resolution=360,
                  title="Do you know what happened next?")
    values.update(kwargs)
    return Draft(**values)


def test_a_draft_is_typed_stored_once_and_summarised():
    d = Draft(source="f00d", label="city timelapse", segments=((0.0, 10.0),), title="Urban Dreams",
              captions=False, music=Music("beef", "Lo-fi", 0.35))
    assert d.duration == 10.0 and d.size == (1080, 1920)
    assert summary_line(d) == ('Timeline (3 tracks): 1. Video: city timelapse 0:00-0:10 (0-10s) '
                               '2. Title: "Urban Dreams" (0-3s) 3. BGM: Lo-fi (0-10s, 35%)')
    assert Draft.from_stored(d.stored()) == d and Draft.from_stored(d.stored()).key == d.key
    assert not {"score", "hashtags", "rank"} & set(d.stored())          # the engine's facts live in the clip row


def test_a_drafts_tracks_are_facts_worded_in_the_persons_language():
    d = Draft(source="f00d", label="talk.mp4", segments=((16.6, 32.9),), caption_style="karaoke", title="Big News",
              music=Music("beef", "song.mp3", 0.3))
    assert timeline_of(d) == ClipTimeline((Track("video", "talk.mp4", d.duration, ranges=((16.6, 32.9),)),
                                           Track("captions", "karaoke", d.duration), Track("title", "Big News", 3.0),
                                           Track("music", "song.mp3", d.duration, volume=0.3)))
    assert summary_line(d) == ('Timeline (4 tracks): 1. Video: talk.mp4 0:17-0:33 (0-16.3s) 2. Captions: karaoke '
                               '(0-16.3s) 3. Title: "Big News" (0-3s) 4. BGM: song.mp3 (0-16.3s, 30%)')
    assert summary_line(d, "zh") == ("时间线（4 条轨道）：1. 视频：talk.mp4 0:17-0:33（0-16.3 秒） 2. 字幕：逐字高亮（0-16.3 秒） "
                                     "3. 标题：“Big News”（0-3 秒） 4. 背景音乐：song.mp3（0-16.3 秒，音量 30%）")
    bare = dataclasses.replace(d, captions=False, title=None, music=None, segments=((2.0, 3.5),))
    assert summary_line(bare) == "Timeline (1 track): 1. Video: talk.mp4 0:02-0:04 (0-1.5s)"
    assert summary_line(bare, "zh") == "时间线（1 条轨道）：1. 视频：talk.mp4 0:02-0:04（0-1.5 秒）"
    assert timeline("zh", "Timeline (1 track): 1. Video: clip (0-10s)") == "Timeline (1 track): 1. Video: clip (0-10s)"


def test_a_draft_stored_in_the_clouds_shape_is_still_read():
    old = {"t": [{"tt": 0, "n": "Video", "sg": [{"src": "f00d", "label": "talk.mp4", "in": 16600, "out": 32900,
                                                "s": 0, "e": 16300}]},
                 {"tt": 7, "n": "Title", "sg": [{"text": "Hi", "s": 0, "e": 3000}]},
                 {"tt": 1, "n": "BGM", "sg": [{"src": "beef", "label": "song.mp3", "volume": 0.3, "s": 0, "e": 16300}]}],
           "d": 16300, "m": {"aspect": "1:1", "resolution": 360, "captions": False, "source": {"src": "f00d",
                                                                                          "label": "talk.mp4"}}}
    assert Draft.from_stored(old) == Draft("f00d", "talk.mp4", ((16.6, 32.9),), "1:1", 360, False, "bold", "Hi",
                                           Music("beef", "song.mp3", 0.3))


def test_shorter_snaps_to_a_sentence_end():
    result = apply_edit([draft(), draft(2.2, 16.0)], Edit("shorter", clip=1, seconds=5), CTX)
    assert result.changed == [0] and result.problem is None
    assert result.drafts[0].segments == ((16.6, 28.5),)          # 32.9 - 5 = 27.9 -> the sentence end at 28.5
    assert result.drafts[1].segments == ((2.2, 16.0),)
    assert round(result.drafts[0].duration, 3) == 11.9


def test_a_length_edit_that_lands_over_a_second_from_the_length_asked_says_where_it_landed():
    # 16.3 s shorter by 3: 13.3 s asked; the sentence end nearest 29.9 is 28.5, so 11.9 s
    result = apply_edit([draft(), draft(2.2, 16.0)], Edit("shorter", clip=1, seconds=3), CTX)
    assert result.landed == [Landed(1, asked=13.3, got=11.9, edge="sentence_end")]
    assert landed("en", result.landed[0]) == "Clip 1 is now 11.9 s: the nearest sentence end to 13.3 s."
    assert landed("zh", result.landed[0]) == "片段 1 现在是 11.9 秒：最接近 13.3 秒的句子结尾。"
    # within a second of the length asked, or no length asked: nothing to say
    assert apply_edit([draft()], Edit("shorter", clip=1, seconds=5), CTX).landed == []
    assert apply_edit([draft()], Edit("shorter", clip=1), CTX).landed == []
    assert apply_edit([draft()], Edit("start_later", seconds=3), CTX).landed == []
    assert apply_edit([draft()], Edit("longer", clip=1, seconds=10), CTX).landed == [
        Landed(1, asked=26.3, got=23.2, edge="sentence_end")]
    # a start or an end moved: where it is now is said instead of a length (test_a_moved_edge_says_where_it_is_now)
    assert apply_edit([draft()], Edit("start_earlier", seconds=5), CTX).landed == []
    [limit] = apply_edit([draft(10, 30)], Edit("longer", seconds=45), EditContext(duration=60.0)).landed
    assert landed("en", limit) == "Clip 1 is now 50 s, not 65 s: the video or the clip ends there."
    assert landed("zh", limit) == "片段 1 现在是 50 秒，而不是 65 秒：视频或片段到此为止。"


def test_the_reply_to_an_edit_says_where_a_length_landed_in_the_persons_language():
    from bot.backends.base import ChatEvent, Sentence
    from bot.replies import event_text

    d = draft(16.6, 28.5)
    event = ChatEvent("text", sentence=Sentence("changed", changes=((2, timeline_of(d)),),
                                                landed=(Landed(2, asked=13.0, got=9.2, edge="sentence_end"),)))
    assert event_text(event, "en").endswith("\nClip 2 is now 9.2 s: the nearest sentence end to 13 s.")
    assert event_text(event, "zh").endswith("\n片段 2 现在是 9.2 秒：最接近 13 秒的句子结尾。")


def test_longer_start_earlier_and_later():
    assert apply_edit([draft()], Edit("longer", seconds=10), CTX).drafts[0].segments == ((16.6, 39.8),)
    assert apply_edit([draft()], Edit("start_earlier", clip=1), CTX).drafts[0].segments == ((13.5, 32.9),)
    assert apply_edit([draft()], Edit("start_later", clip=1, seconds=3), CTX).drafts[0].segments == ((19.0, 32.9),)
    at_the_end = draft(33.4, 39.8)
    # nothing after the last sentence: "longer" moves the start instead
    assert apply_edit([at_the_end], Edit("longer", seconds=4), CTX).drafts[0].segments == ((28.9, 39.8),)


def test_without_sentences_edits_are_exact():
    ctx = EditContext(duration=60.0)
    assert apply_edit([draft(10, 30)], Edit("shorter", seconds=5), ctx).drafts[0].segments == ((10, 25),)
    assert apply_edit([draft(10, 30)], Edit("longer", seconds=45), ctx).drafts[0].segments == ((10, 60),)


def test_look_edits():
    d = draft()
    no_captions = apply_edit([d], Edit("captions", on=False), CTX).drafts[0]
    assert "Captions" not in summary_line(no_captions) and no_captions.captions is False
    square = apply_edit([d], Edit("aspect", value="1:1"), CTX).drafts[0]
    assert square.size == (360, 360)
    titled = apply_edit([d], Edit("title", value="Big News"), CTX).drafts[0]
    assert titled.title == "Big News" and 'Title: "Big News" (0-3s)' in summary_line(titled)
    untitled = apply_edit([d], Edit("title", on=False), CTX).drafts[0]
    assert untitled.title is None
    assert len({x.key for x in (d, no_captions, square, titled, untitled)}) == 5


def test_a_caption_style_changes_the_clips_it_names_and_turns_captions_on():
    clips = [draft(), draft(2.2, 16.0)]
    one = apply_edit(clips, Edit("captions", clip=1, value="karaoke"), CTX)
    assert one.changed == [0] and [d.caption_style for d in one.drafts] == ["karaoke", "bold"]
    assert "Captions: karaoke (0-16.3s)" in summary_line(one.drafts[0])
    assert apply_edit(one.drafts, Edit("captions", clip=1, value="karaoke"), CTX).problem_key == "edit_already"
    every = apply_edit([dataclasses.replace(d, captions=False) for d in one.drafts], Edit("captions", value="boxed"), CTX)
    assert every.changed == [0, 1] and all(d.captions and d.caption_style == "boxed" for d in every.drafts)
    assert apply_edit(every.drafts, Edit("captions", on=True), CTX).drafts == every.drafts    # on keeps the style


def test_music_needs_a_sound_and_keeps_its_volume():
    ctx = EditContext(duration=40.4)
    result = apply_edit([draft()], Edit("music", volume=0.3), ctx)
    assert not result.changed and "send me a song" in result.problem
    with_music = apply_edit([draft()], Edit("music", volume=0.3), CTX).drafts[0]
    assert with_music.music == Music("abc", "song.mp3", 0.3)
    assert "BGM: song.mp3 (0-16.3s, 30%)" in summary_line(with_music)
    louder = apply_edit([with_music], Edit("music", volume=0.5), ctx).drafts[0]
    assert louder.music.volume == 0.5
    assert apply_edit([louder], Edit("music", on=False), ctx).drafts[0].music is None


def test_an_edit_that_changes_nothing_says_why():
    result = apply_edit([draft()], Edit("captions", on=True), CTX)
    assert result.changed == [] and result.problem == "that is already how the clips are"
    result = apply_edit([draft()], Edit("shorter", clip=3), CTX)
    assert result.changed == [] and "no clip 3" in result.problem


def test_compile_a_reel_in_source_order_within_the_length():
    clips = [draft(16.6, 32.9), draft(2.2, 16.0), draft(33.4, 39.8)]
    ctx = dataclasses.replace(CTX, scores=(60.0, 50.0, 10.0))
    reel = apply_edit(clips, Edit("reel", seconds=30), ctx)
    assert reel.changed == [0] and len(reel.drafts) == 1 and reel.reel_of == (0, 1)
    assert reel.drafts[0].segments == ((2.2, 16.0), (16.6, 32.9))   # the weakest clip did not fit in 30 s
    assert "Video: talk.mp4 0:02-0:16, 0:17-0:33" in summary_line(reel.drafts[0])
    assert apply_edit([draft()], Edit("reel"), CTX).problem.startswith("a reel needs")


@pytest.mark.parametrize("text,kind", [
    ("skip captions", "edit"), ("make it an instagram post", "edit"), ("make clip 1 shorter", "edit"),
    ("find 3 moments about pricing", "cut"), ("hello there", "not_understood"), ("去掉字幕", "edit"), ("片段2去掉字幕", "edit"), ("2号片段改成方形", "edit"),
    ("make the captions boxed", "edit"), ("use karaoke captions on all the clips", "edit"),
    ("把第2个片段的字幕改成底框", "edit"), ("2 vertical shorts of 20 seconds with karaoke captions", "cut"),
])
def test_with_clips_on_screen_the_look_words_are_edits(text, kind):
    assert understand(text, has_clips=True).kind == kind


def test_without_clips_the_same_words_shape_the_cut():
    understood = understand("skip captions, make it an instagram post", has_clips=False)
    assert understood.kind == "cut"
    assert (understood.request.captions, understood.request.aspect) == (False, "4:5")


def test_an_edge_asked_past_the_video_says_which():
    """"start clip 1 earlier" when it starts at 0:00 is not "already how the clips are": the video starts there."""
    at_start = apply_edit([draft(0.0, 12.0)], Edit("start_earlier", clip=1), CTX)
    assert (at_start.changed, at_start.problem_key, at_start.problem_values) == ([], "edit_at_video_start", {"clip": 1})
    assert texts.reason("zh", at_start.problem_key, at_start.problem, **at_start.problem_values) == "片段 1 已经从视频开头开始"
    at_end = apply_edit([draft(16.6, 32.9), draft(30.0, 40.4)], Edit("end_later", clip=2), CTX)
    assert at_end.problem == "clip 2 already ends where the video ends"
    both = apply_edit([draft(0.0, 12.0), draft(16.6, 32.9)], Edit("captions", value="bold"), CTX)
    assert both.problem_key == "edit_already"


@pytest.mark.parametrize("text, clip", [
    ("把视频一起缩短5秒", None), ("视频一律改成方形", None), ("所有视频一起加长5秒", None),
    ("片段一去掉字幕", 1), ("把片段二缩短3秒", 2),
])
def test_one_after_the_noun_counts_only_when_it_names_a_clip(text, clip):
    """视频一起 is "the videos together", not "video 1"."""
    [edit] = parse_edits(text)
    assert edit.clip == clip


def test_a_box_or_bold_title_is_no_caption_style():
    assert parse_edits("put the title in a box") == [] and parse_edits("make the title bold") == []
    assert parse_edits("make the captions boxed")[0].value == "boxed"


@pytest.mark.parametrize("text, clip, seconds", [
    ("make clip 1 30 seconds", 1, 30.0), ("set clip 2 to 20 s", 2, 20.0), ("把片段1改成30秒", 1, 30.0),
    ("make it 15 seconds long", None, 15.0),
])
def test_a_length_to_reach_is_read(text, clip, seconds):
    assert understand(text, has_clips=True).edits == (Edit("length", clip=clip, seconds=seconds),)


@pytest.mark.parametrize("text", ["cut it into 30-second vertical shorts", "make 3 clips of 30 seconds",
                                  "剪成三个60秒的竖屏短视频"])
def test_a_new_cut_with_a_length_is_no_length_edit(text):
    assert understand(text, has_clips=True).kind == "cut"


def test_a_length_to_reach_takes_the_sentence_edges_nearest_it_and_says_where_it_landed():
    longer = apply_edit([draft()], Edit("length", clip=1, seconds=draft().duration + 5), CTX)
    shorter = apply_edit([draft()], Edit("length", clip=1, seconds=draft().duration - 5), CTX)
    assert longer.changed == [0] and longer.drafts[0].duration > draft().duration
    assert shorter.changed == [0] and shorter.drafts[0].duration < draft().duration
    for result, asked in ((longer, draft().duration + 5), (shorter, draft().duration - 5)):
        got = result.drafts[0].duration
        assert (abs(got - asked) > 1.0) == bool(result.landed), "a miss of over a second is said"
    same = apply_edit([draft()], Edit("length", clip=1, seconds=round(draft().duration, 1)), CTX)
    assert same.changed == [] and same.problem_key == "edit_already"


def test_the_cloud_service_is_told_a_length_to_reach_in_words():
    from bot.backends.nemo.service import _said

    assert _said(Edit("length", clip=1, seconds=30.0)) == "make clip 1 30 seconds long"


def test_a_moved_edge_says_where_it_is_now_and_how_far_it_went():
    from bot.backends.base import ChatEvent, Sentence
    from bot.edit_words import moved
    from bot.replies import event_text

    # 16.6 two seconds earlier: 14.6 asked, the sentence start nearest it (before 16.6) is 13.5
    result = apply_edit([draft()], Edit("start_earlier", clip=1, seconds=2), CTX)
    assert result.drafts[0].segments == ((13.5, 32.9),) and result.landed == []
    assert result.moved == [EdgeMoved(1, "start", at=13.5, moved=-3.1, landed_on="sentence_start")]
    assert moved("en", result.moved[0]) == "Clip 1 now starts at 0:14, 3.1 s earlier: the nearest sentence start."
    assert moved("zh", result.moved[0]) == "片段 1 现在从 0:14 开始，提前了 3.1 秒：最近的句子开头。"
    [later] = apply_edit([draft()], Edit("end_later", clip=1, seconds=2), CTX).moved
    assert moved("en", later) == "Clip 1 now ends at 0:37, 3.9 s later: the nearest sentence end."
    assert moved("zh", later) == "片段 1 现在在 0:37 结束，推后了 3.9 秒：最近的句子结尾。"
    [sooner] = apply_edit([draft()], Edit("end_earlier", clip=1, seconds=1), CTX).moved
    assert moved("en", sooner) == "Clip 1 now ends at 0:28, 4.4 s earlier: the nearest sentence end."
    # within a second of the step asked, or no step asked: nothing to say
    assert apply_edit([draft()], Edit("start_earlier", clip=1, seconds=3), CTX).moved == []
    assert apply_edit([draft()], Edit("start_earlier", clip=1), CTX).moved == []
    # without sentences, at the video's start
    [limit] = apply_edit([draft(3, 20)], Edit("start_earlier", seconds=10), EditContext(duration=60.0)).moved
    assert moved("en", limit) == "Clip 1 now starts at 0:00, 3 s earlier: the video starts there."
    assert moved("zh", limit) == "片段 1 现在从 0:00 开始，提前了 3 秒：视频从这里开始。"
    event = ChatEvent("text", sentence=Sentence("changed", changes=((1, timeline_of(result.drafts[0])),),
                                                moved=tuple(result.moved)))
    assert event_text(event, "en").endswith("\nClip 1 now starts at 0:14, 3.1 s earlier: the nearest sentence start.")
    assert event_text(event, "zh").endswith("\n片段 1 现在从 0:14 开始，提前了 3.1 秒：最近的句子开头。")


UNDO_WORDS = ["undo", "Undo that", "undo it please", "go back", "revert", "revert that", "can you undo that?",
              "ugh, undo", "take that back", "撤销", "撤回", "恢复上一步", "撤销上一步", "回到上一步", "还原"]


@pytest.mark.parametrize("text", UNDO_WORDS)
def test_undo_words_ask_for_the_last_change_back_with_clips_or_without(text):
    assert parse_edits(text) == [Edit("undo")]
    for has_clips in (True, False):
        assert understand(text, has_clips=has_clips) == understand("undo", has_clips=has_clips)
        assert understand(text, has_clips=has_clips).edits == (Edit("undo"),)


@pytest.mark.parametrize("text", ["go back to bold captions", "go back 5 seconds", "undo and cut 3 clips",
                                  "start clip 1 2 seconds earlier"])
def test_words_that_ask_more_than_undo_are_not_undo(text):
    assert Edit("undo") not in parse_edits(text)


@pytest.mark.parametrize("text", ["redo", "Redo that", "redo please", "undo the undo", "ctrl+y", "重做", "恢复撤销",
                                  "取消撤销"])
def test_redo_words_ask_for_what_undo_took_back_with_clips_or_without(text):
    assert parse_edits(text) == [Edit("redo")]
    for has_clips in (True, False):
        assert understand(text, has_clips=has_clips).edits == (Edit("redo"),)


@pytest.mark.parametrize("text", ["redo the cut with 3 clips", "redo it square", "重做一个30秒的短视频"])
def test_words_that_ask_more_than_redo_are_not_redo(text):
    assert Edit("redo") not in parse_edits(text)


def test_what_undo_took_back_is_said_in_the_persons_language():
    from bot.backends.base import ChatEvent, Sentence
    from bot.replies import event_text

    said = Sentence("undone", undone=(Edit("start_earlier", clip=1, seconds=2),),
                    changes=((1, timeline_of(draft())),))
    en, zh = event_text(ChatEvent("text", sentence=said), "en"), event_text(ChatEvent("text", sentence=said), "zh")
    assert en.startswith("Undone: clip 1 starting earlier by 2 s. The clips are as they were before it:\nClip 1: ")
    assert zh.startswith("已撤销：片段 1 提前 2 秒开始。片段已恢复到这次修改之前：\n片段 1：")
    looks = Sentence("undone", undone=(Edit("captions", value="karaoke"), Edit("aspect", clip=2, value="1:1")))
    assert event_text(ChatEvent("text", sentence=looks), "en").startswith(
        "Undone: karaoke captions on all clips; clip 2 made square (1:1).")
    assert event_text(ChatEvent("text", sentence=looks), "zh").startswith("已撤销：所有片段的字幕改成逐字高亮；片段 2 改成方形（1:1）。")
    remade = Sentence("undone", undone=(Edit("reel", seconds=20),))          # "make the reel 20 seconds"
    assert event_text(ChatEvent("text", sentence=remade), "en").startswith("Undone: the reel of 20 s.")
    assert event_text(ChatEvent("text", sentence=remade), "zh").startswith("已撤销：20 秒的集锦。")

"""engine.instructions: a table of real phrasings -> the ClipRequest fields they set.

Each row lists only the fields that differ from the defaults (vertical 9:16, captions on,
3 clips of 30-60 s, separate clips); every other field must keep its default.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine.instructions import parse_instruction
from engine.numbers import chinese_number
from engine.models import ClipRequest

SEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "seeds"

SIXTY = {"length": 60.0, "min_length": 51.0, "max_length": 69.0}
THIRTY = {"length": 30.0, "min_length": 25.5, "max_length": 34.5}
NINETY = {"length": 90.0, "min_length": 76.5, "max_length": 103.5}
FIRST_HALF = {"range_start_fraction": 0.0, "range_end_fraction": 0.5}
SECOND_HALF = {"range_start_fraction": 0.5, "range_end_fraction": 1.0}

# The example sentences of ../shared/seeds/*.txt ("Try saying" and the quoted prompts).
SEED_TABLE = [
    ("find the best moments and cut them into 60-second vertical shorts", {**SIXTY}),
    ("find the best moments and cut", {}),
    ("generate my long-form video", {}),
    ("export 1080p MP4", {"resolution": 1080}),
    ("convert a 45-minute podcast recording or YouTube video into a 1080p MP4", {"resolution": 1080}),
    ("find the most engaging moments and cut them into short viral clips", {}),
    ("generating short shareable clips from long recordings for content creators and podcasters", {}),
    ("generate my video clips", {}),
    ("cut this into a 60-second short", {**SIXTY, "count": 1}),
    ("cut this into a 60-second short for TikTok with captions", {**SIXTY, "count": 1}),
    ("extract my video files", {}),
    ("extract the key highlights and save", {}),
    ("extract the key highlights and save them as separate clips", {}),
    ("generate my raw video footage", {}),
    ("extract the best moments and compile", {"reel": True}),
    ("extract the best moments and compile them into a 2-minute highlight reel", {"reel": True, "reel_length": 120.0}),
    ("make it look better", {"unplaced": "look better"}),
]

TABLE = SEED_TABLE + [
    # length
    ("30s clips", {**THIRTY}),
    ("give me 3 clips of 30 seconds each", {**THIRTY, "count": 3}),
    ("1 min clips", {**SIXTY}),
    ("make one-minute shorts", {**SIXTY}),
    ("two 2-minute clips", {"length": 120.0, "min_length": 102.0, "max_length": 138.0, "count": 2}),
    ("forty-five second clips", {"length": 45.0, "min_length": 38.25, "max_length": 51.75}),
    ("a couple of half-minute clips", {**THIRTY, "count": 2}),
    ("a minute and a half clip", {"length": 90.0, "min_length": 76.5, "max_length": 103.5}),
    ("clips under 45 seconds", {"min_length": 22.5, "max_length": 45.0}),
    ("between 20 and 40 seconds please", {"min_length": 20.0, "max_length": 40.0}),
    ("15-20 second teasers", {"min_length": 15.0, "max_length": 20.0}),
    ("half a minute", {**THIRTY}),
    ("clips of half a minute", {**THIRTY}),
    ("90 sec", {**NINETY}),
    ("90 sec clips", {**NINETY}),
    ("1:30 long", {**NINETY}),
    ("make them 1:30 long", {**NINETY}),
    ("2 clips of 1:30", {**NINETY, "count": 2}),
    ("0:45 shorts", {"length": 45.0, "min_length": 38.25, "max_length": 51.75}),
    ("a 2:00 highlight reel", {"reel": True, "reel_length": 120.0}),
    # count
    ("top 5", {"count": 5}),
    ("the 4 best moments", {"count": 4}),
    ("a few clips", {"count": 3}),
    ("several shorts", {"count": 4}),
    ("three 60-second vertical shorts", {**SIXTY, "count": 3}),
    ("just one clip", {"count": 1}),
    ("3 of them", {"count": 3}),
    ("give me two of them, square", {"count": 2, "aspect": "1:1"}),
    ("cut 4 of those", {"count": 4}),
    ("a couple of clips", {"count": 2}),
    ("a couple of shorts about hiring", {"count": 2, "topic": "hiring"}),
    # aspect
    ("vertical", {}),
    ("9:16 please", {}),
    ("9x16", {}),
    ("9:16 clips", {}),                                          # an aspect ratio, not 16 clips
    ("3 9:16 clips", {"count": 3}),
    ("4:5 shorts", {"aspect": "4:5"}),
    ("square clips", {"aspect": "1:1"}),
    ("1:1 for instagram", {"aspect": "1:1"}),
    ("4:5 format", {"aspect": "4:5"}),
    ("landscape", {"aspect": "16:9"}),
    ("keep it 16:9 horizontal", {"aspect": "16:9"}),
    ("for youtube shorts", {}),
    # resolution
    ("export in 720p", {"resolution": 720}),
    ("4K please", {"resolution": 1080}),
    # captions
    ("no captions", {"captions": False}),
    ("without subtitles", {"captions": False}),
    ("turn off captions", {"captions": False}),
    ("don't add subtitles", {"captions": False}),
    ("with captions", {}),
    ("karaoke captions", {"caption_style": "karaoke"}),
    ("boxed subtitles", {"caption_style": "boxed"}),
    # separate vs reel
    ("make a montage", {"reel": True}),
    ("compile a 90 second recap", {"reel": True, "reel_length": 90.0}),
    ("a 2 minute highlight reel of 10-second moments",
     {"reel": True, "reel_length": 120.0, "length": 10.0, "min_length": 8.5, "max_length": 11.5}),
    ("3 instagram reels", {"count": 3}),
    # time range
    ("from 5:00 to 20:00", {"range_start": 300.0, "range_end": 1200.0}),
    ("between 1:30 and 4:00", {"range_start": 90.0, "range_end": 240.0}),
    ("only 00:10:00-00:15:30", {"range_start": 600.0, "range_end": 930.0}),
    ("from minute 5 to minute 20", {"range_start": 300.0, "range_end": 1200.0}),
    ("in the first 10 minutes", {"range_start": 0.0, "range_end": 600.0}),
    ("the last 5 minutes", {"range_start": -300.0}),
    ("after 12:30", {"range_start": 750.0}),
    ("before 3:00", {"range_end": 180.0}),
    ("in the first half minute", {"range_start": 0.0, "range_end": 30.0}),
    ("the first half hour", {"range_start": 0.0, "range_end": 1800.0}),
    ("the first hour", {"range_start": 0.0, "range_end": 3600.0}),
    ("in the last half hour", {"range_start": -1800.0}),
    # a part of the video by its share of the length
    ("the first half", {**FIRST_HALF}),
    ("the second half", {**SECOND_HALF}),
    ("clips from the second half", {**SECOND_HALF}),
    ("3 clips from the second half of the game", {**SECOND_HALF, "count": 3}),
    ("the best moments of the first half of the match, 30s each", {**FIRST_HALF, **THIRTY}),
    ("extract the best moments of the second half and compile them into a 2-minute highlight reel",
     {**SECOND_HALF, "reel": True, "reel_length": 120.0}),
    ("the last quarter", {"range_start_fraction": 0.75, "range_end_fraction": 1.0}),
    ("the 4th quarter", {"range_start_fraction": 0.75, "range_end_fraction": 1.0}),
    ("the third quarter", {"range_start_fraction": 0.5, "range_end_fraction": 0.75}),
    ("the last third of the video", {"range_start_fraction": 0.6667, "range_end_fraction": 1.0}),
    ("the fourth half", {"unplaced": "the fourth half"}),
    # topic
    ("clips about pricing", {"topic": "pricing"}),
    ("find the parts where they talk about hiring", {"topic": "hiring"}),
    ("anything related to the new product launch", {"topic": "new product launch"}),
    ("about 30 seconds long", {**THIRTY}),
    ("what is this video about", {}),
    # all at once
    ("5 30-second clips about pricing from 5:00 to 20:00, square, no captions",
     {**THIRTY, "count": 5, "topic": "pricing", "range_start": 300.0, "range_end": 1200.0, "aspect": "1:1",
      "captions": False}),
    ("Find the 2 best moments about hiring in the first 10 minutes, 45-second vertical clips",
     {"length": 45.0, "min_length": 38.25, "max_length": 51.75, "count": 2, "topic": "hiring",
      "range_start": 0.0, "range_end": 600.0}),
    # Chinese
    ("剪成三个60秒的竖屏短视频", {**SIXTY, "count": 3}),
    ("导出1080p", {"resolution": 1080}),
    ("剪成两段三十秒的横屏视频", {**THIRTY, "count": 2, "aspect": "16:9"}),
    ("做一个两分钟的精彩集锦", {"reel": True, "reel_length": 120.0}),
    ("前10分钟里找几段关于定价的片段，不要字幕",
     {"count": 3, "topic": "定价", "range_start": 0.0, "range_end": 600.0, "captions": False}),
    ("从5:00到20:00剪5个30秒的短视频", {**THIRTY, "count": 5, "range_start": 300.0, "range_end": 1200.0}),
    ("最后五分钟，正方形，一分钟", {**SIXTY, "range_start": -300.0, "aspect": "1:1"}),
    ("导出720p竖屏", {"resolution": 720}),
    ("下半场的精彩集锦", {**SECOND_HALF, "reel": True}),
    ("前半段剪3个短视频", {**FIRST_HALF, "count": 3}),
    # a sound file's short is an audiogram: the word asks for nothing a model must read
    ("make one 20-second audiogram", {"length": 20.0, "min_length": 17.0, "max_length": 23.0, "count": 1}),
    ("make 2 audiograms of 15 seconds", {"length": 15.0, "min_length": 12.75, "max_length": 17.25, "count": 2}),
    ("做一个20秒的音频波形视频", {"length": 20.0, "min_length": 17.0, "max_length": 23.0, "count": 1}),
    # one short longer than any can be: said; a long source is not
    ("make a 3-hour short", {"count": 1, "too_long": 10800.0}),
    ("剪一个3小时的短视频", {"count": 1, "too_long": 10800.0}),
    ("cut my 3-hour podcast into shorts", {}),
    # nothing to read: defaults, never an error
    ("", {}),
    ("lol", {"unplaced": "lol"}),
    ("🙂🎬", {}),
    ("please do your magic", {"unplaced": "do your magic"}),
    # what only a language model can read: kept, as written, for the model (or for the bot to say so)
    ("the funniest bits", {"unplaced": "the funniest bits"}),
    ("give me the funniest bits, 30 s each", {**THIRTY, "unplaced": "the funniest bits"}),
    ("3 funny clips", {"count": 3, "unplaced": "funny clips"}),
    ("cut the funniest bits into 15-second vertical shorts, 1 clip, 360p",
     {"length": 15.0, "min_length": 12.75, "max_length": 17.25, "count": 1, "resolution": 360,
      "unplaced": "the funniest bits"}),
    ("clips a founder would share", {"unplaced": "clips a founder would share"}),
    ("the part where they argue about AI", {"topic": "ai", "unplaced": "the part where they argue"}),
    ("every time he talks about pricing", {"topic": "pricing"}),
    ("clips under 45 seconds where he laughs", {"min_length": 22.5, "max_length": 45.0, "unplaced": "where he laughs"}),
    ("剪出最搞笑的片段", {"unplaced": "剪出最搞笑的片段"}),
]


@pytest.mark.parametrize("text, expected", TABLE, ids=[t or "<empty>" for t, _ in TABLE])
def test_instruction_table(text, expected):
    request = parse_instruction(text)
    wanted = {**ClipRequest().to_dict(), **expected}
    assert request.to_dict() == wanted


def test_defaults_when_silent():
    request = parse_instruction(None)
    assert (request.aspect, request.captions, request.reel, request.count) == ("9:16", True, False, None)
    assert (request.min_length, request.max_length) == (30.0, 60.0)


def test_chinese_numbers():
    assert [chinese_number(t) for t in ("三", "十", "十五", "六十", "两", "一百二十", "二十五")] == [3, 10, 15, 60, 2, 120, 25]


def seed_examples() -> set[str]:
    """Every example a user might type, from the seeds: "Try saying" bullets and quoted prompts."""
    found = set()
    for seed in sorted(SEEDS.glob("*.txt")):
        text = seed.read_text(encoding="utf-8")
        for block in re.findall(r"Try saying:\**\s*\n((?:\s*- .*\n?)+)", text):
            found.update(re.findall(r'- "([^"]+)"', block))
        found.update(re.findall(r'\b(?:type|try) "([^"]+)"', text))
    return found


def test_every_seed_example_is_in_the_table():
    if not SEEDS.is_dir():
        pytest.skip(f"seeds not found at {SEEDS}")
    examples = seed_examples()
    assert len(examples) >= 10
    assert examples <= {text for text, _ in SEED_TABLE}, examples - {text for text, _ in SEED_TABLE}

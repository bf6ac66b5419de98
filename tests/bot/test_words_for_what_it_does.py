"""Words that ask for what every short gets anyway (follow the speaker, auto reframe, with subtitles,
for TikTok) are understood without a word about them; a caption size, which cannot change, is said
so plainly; words beside a change of look that choose moments are named, not dropped in silence."""
from __future__ import annotations

import re

import pytest

from bot.texts import say
from bot.vocabulary import understand
from engine.instructions import parse_instruction
from tests.bot.chat_helpers import file_attachment, last_text, make_settings, message, started_app
from tests.bot.chat_helpers import warm_talk  # noqa: F401  (fixture)

ALWAYS_DONE = [
    "cut it into one 15-second vertical short, follow whoever is talking",
    "track the speaker", "follow the person speaking", "focus on the active speaker", "keep the speaker in frame",
    "keep the faces centered", "auto reframe", "auto-reframe it", "smart crop", "face tracking on",
    "a vertical short with subtitles for TikTok", "with auto captions for instagram reels", "for youtube shorts",
    "剪一个15秒的竖屏短视频，跟随说话人", "自动构图", "带字幕，发抖音", "人脸跟踪", "说话人居中",
]
CAPTION_SIZES = ["captions big", "bigger captions please", "make the captions bigger", "larger subtitles",
                 "大字幕", "字幕大一点", "字幕放大"]


@pytest.mark.parametrize("text", ALWAYS_DONE)
def test_what_every_short_gets_leaves_no_words_unused(text):
    assert parse_instruction(text).unplaced is None
    assert understand(text, has_clips=False).kind == "cut"


@pytest.mark.parametrize("text", CAPTION_SIZES)
def test_a_caption_size_is_heard_and_is_no_criterion(text):
    assert parse_instruction(text).unplaced is None
    assert understand(text, has_clips=False).caption_size and understand(text, has_clips=True).caption_size


def test_a_criterion_still_goes_unused_and_is_said():
    assert parse_instruction("the funniest bits, follow the speaker").unplaced == "the funniest bits"
    beside_an_edit = understand("with the funniest bit, square", has_clips=True)
    assert beside_an_edit.kind == "edit" and "funniest bit" in beside_an_edit.unused
    assert understand("make it square", has_clips=True).unused is None
    assert understand("add the captions back", has_clips=True).unused is None
    assert understand("把第2个片段改成方形", has_clips=True).unused is None


async def test_the_chat_says_what_it_cannot_do_and_does_the_rest(tmp_path, warm_talk):
    app, recorder = await started_app(make_settings(tmp_path / "data", warm_talk))
    try:
        async def say_and_wait(text: str, **fields) -> list[str]:
            before = len(recorder.posted)
            await app.conversation.handle(message(text, **fields))
            await app.jobs.wait_idle(timeout=180)
            return [r.text for _, r in recorder.posted[before:] if r.kind == "text"]

        await app.conversation.handle(message("", attachments=(file_attachment(warm_talk.path),)))
        said = await say_and_wait("cut one 10-second vertical short, follow whoever is talking, bigger captions")
        assert said[0] == say("en", "caption_size_fixed") and len(recorder.videos()) == 1
        assert not any("language model" in s for s in said)
        said = await say_and_wait("with the funniest bit, square")
        assert said[0] == say("en", "words_unused_in_edit", reason="with the funniest bit")
        assert recorder.videos()[-1].width == recorder.videos()[-1].height
        said = await say_and_wait("字幕大一点", language="zh")
        assert said == [say("zh", "caption_size_fixed")] and len(recorder.videos()) == 2
        assert last_text(recorder) == say("zh", "caption_size_fixed")
    finally:
        await app.stop()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_phrase_the_help_offers_is_read_as_what_it_offers(lang):
    """/help's quoted phrases are promises: each edit is read as an edit of clips there are, and each
    exact cut as an exact cut (the "(after sending a song)" music line needs a song first)."""
    text = say(lang, "help", examples="")
    edits_line = next(line for line in text.splitlines() if line.startswith(("Edits:", "修改：")))
    exact_line = next(line for line in text.splitlines() if line.startswith(("Exactly a part:", "按时间剪：")))
    quoted = re.compile(r"[\"“]([^\"”]+)[\"”]")
    edits = [p for p in quoted.findall(edits_line) if "music" not in p and "背景音乐" not in p]
    assert len(edits) >= 8
    for phrase in edits:
        assert understand(phrase, has_clips=True).kind == "edit", phrase
    exact = quoted.findall(exact_line)
    assert len(exact) == 2 and all(parse_instruction(p).exact for p in exact), exact

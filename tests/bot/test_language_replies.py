"""The cut's reply names the language heard and says which clips go without captions, in the
person's language (the sentences live in bot/texts.py)."""
from __future__ import annotations

from bot.backends.base import ChatEvent, Clip, Media
from bot.replies import clip_reply, event_text, media_line
from bot.texts import language_name, say


def moments_event() -> ChatEvent:
    moments = (
        Clip(1, "秋天的街道", start=0.0, end=15.0, score=60, language="zh"),
        Clip(2, "Moment at 0:20", start=20.0, end=35.0, score=40, language="zh",
             captions_withheld="repeats itself (compresses too well)"),
    )
    return ChatEvent("text", "", clips=moments)


def test_the_reply_names_the_language_and_the_clip_without_captions():
    english = event_text(moments_event(), "en")
    assert say("en", "language_heard", language="Chinese") in english
    assert say("en", "captions_withheld", rank=2) in english
    assert say("en", "captions_withheld", rank=1) not in english
    chinese = event_text(moments_event(), "zh")
    assert "识别到的语言：中文。" in chinese and say("zh", "captions_withheld", rank=2) in chinese


def test_language_names_in_both_languages():
    assert language_name("en", "es") == "Spanish" and language_name("zh", "es") == "西班牙语"
    assert language_name("en", "xx") == "xx"                       # a code without a name is shown as it is


def test_a_clip_reply_carries_the_persons_language_for_what_the_adapter_adds():
    clip = Clip(1, "秋天的街道", start=0.0, end=15.0, score=60, clip_id=7)
    assert clip_reply(clip, "zh", lambda reply: None).language == "zh"
    assert clip_reply(clip, "en", lambda reply: None).language == "en"


def test_a_media_line_in_both_languages():
    talk = Media("f00d", "talk.mp4", "video", duration=40.2)
    assert media_line(talk) == "talk.mp4 (0:40)" and media_line(talk, "zh") == "talk.mp4（0:40）"
    photo = Media("beef", "photo.jpg", "image", duration=0.04)          # a still probes as one frame long
    assert media_line(photo) == "photo.jpg" == media_line(photo, "zh")

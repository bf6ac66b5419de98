"""The cut's reply names the language heard and says which clips go without captions, in the
person's language (the sentences live in bot/texts.py)."""
from __future__ import annotations

from bot.backends.base import ChatEvent
from bot.conversation import Conversation
from bot.texts import language_name, say


def moments_event(**extra) -> ChatEvent:
    moments = [
        {"rank": 1, "start": 0.0, "end": 15.0, "title": "秋天的街道", "score": 60, "language": "zh",
         "captions_withheld": ""},
        {"rank": 2, "start": 20.0, "end": 35.0, "title": "Moment at 0:20", "score": 40, "language": "zh",
         "captions_withheld": "repeats itself (compresses too well)"},
    ]
    return ChatEvent("text", "", data={"moments": moments, **extra})


def test_the_reply_names_the_language_and_the_clip_without_captions():
    english = Conversation._event_text(None, moments_event(), "en")
    assert say("en", "language_heard", language="Chinese") in english
    assert say("en", "captions_withheld", rank=2) in english
    assert say("en", "captions_withheld", rank=1) not in english
    chinese = Conversation._event_text(None, moments_event(), "zh")
    assert "识别到的语言：中文。" in chinese and say("zh", "captions_withheld", rank=2) in chinese


def test_language_names_in_both_languages():
    assert language_name("en", "es") == "Spanish" and language_name("zh", "es") == "西班牙语"
    assert language_name("en", "xx") == "xx"                       # a code without a name is shown as it is

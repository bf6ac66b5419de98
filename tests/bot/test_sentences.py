"""Failures -> sentences through the one table: the engine raises facts, the bot words them."""
from __future__ import annotations

import pytest

from bot.backends.base import FileTooLarge, OutOfCredits
from bot.jobs import Undelivered
from bot.sentences import error_reply
from engine.models import BrokenMedia, RenderFailed
from engine.probe import probe


def test_an_engine_error_is_said_in_the_persons_language(tmp_path):
    empty = tmp_path / "holiday.mp4"
    empty.write_bytes(b"")
    with pytest.raises(BrokenMedia) as broken:
        probe(empty)
    assert error_reply(broken.value, "en", 100).text == "holiday.mp4 is empty (0 bytes)."
    assert error_reply(broken.value, "zh", 100).text == "holiday.mp4 是空文件（0 字节）。"


def test_a_render_failure_keeps_the_tools_own_words_when_there_is_no_key():
    said = error_reply(RenderFailed("ffmpeg could not render the clip: exit code 1"), "zh", 100).text
    assert "ffmpeg could not render the clip: exit code 1" in said
    timed_out = error_reply(RenderFailed("rendering took longer", "render_timeout", seconds=30), "zh", 100).text
    assert "渲染超过了 30 秒的上限" in timed_out


@pytest.mark.parametrize("exc,code", [(FileTooLarge("big", limit_mb=5, size_mb=9.0), 4002),
                                      (OutOfCredits("none", available=0, needed=2, ask_admin=True), 2001)])
def test_the_table_finds_the_failure_and_keeps_its_code(exc, code):
    reply = error_reply(exc, "en", 100)
    assert reply.code == code and reply.text and "Traceback" not in reply.text


def test_an_unknown_failure_is_something_went_wrong_not_a_traceback():
    class Odd(Exception):
        pass

    assert error_reply(Odd("boom"), "en", 100).text == error_reply(KeyError("x"), "en", 100).text
    assert "boom" not in error_reply(Odd("boom"), "en", 100).text
    assert "clip 2" in error_reply(Undelivered("refused", 2), "en", 100).text

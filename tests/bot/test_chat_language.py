"""The language of a reply: a bare link or a file has no words of its own, so it is answered in the
language the person has been writing (even after a restart), before the platform's hint of them; the
bot says so when it is written to in a language it does not read, and reads Spanish's commonest words."""
from __future__ import annotations

import pytest

from bot.intents import IntentKind, route
from bot.texts import pick_language, say, written_language
from engine.instructions import parse_instruction
from engine.spanish_words import other_language
from tests.bot.chat_helpers import file_attachment, last_text, make_settings, message, started_app


def test_a_links_letters_are_not_english_words():
    assert written_language("https://example.com/about") is None
    assert written_language("www.youtube.com/watch?v=abc") is None
    assert written_language("剪成三个短视频 http://127.0.0.1:8765/page.html") == "zh"
    assert written_language("cut 3 shorts http://127.0.0.1:8765/page.html") == "en"


def test_the_persons_last_words_come_before_the_platforms_hint():
    assert pick_language("", hint="en", fallback="zh") == "zh"
    assert pick_language("https://example.com/a.mp4", hint="en", fallback="zh") == "zh"
    assert pick_language("", hint="zh-hans", fallback=None) == "zh"
    assert pick_language("cut it", hint="zh", fallback="zh") == "en"


async def test_a_bare_link_and_a_file_after_chinese_are_answered_in_chinese_even_after_a_restart(tmp_path):
    settings = make_settings(tmp_path / "data")
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    app, recorder = await started_app(settings)
    try:
        await app.conversation.handle(message("余额", language="en"))
        assert last_text(recorder).startswith("积分：")
        link = "https://127.0.0.1:9/about"        # nothing answers there
        await app.conversation.handle(message(link, language="en"))
        said = recorder.texts()
        assert say("zh", "fetching", url=link) in said, said
        assert last_text(recorder).startswith("无法下载这个链接："), last_text(recorder)
    finally:
        await app.stop()
    app, recorder = await started_app(settings)        # a restart: her last words are in her row
    try:
        await app.conversation.handle(message("", attachments=(file_attachment(notes),), language="en"))
        assert last_text(recorder).startswith("不支持这种文件格式。"), last_text(recorder)
        await app.conversation.handle(message("/credits", command="credits", language="en"))
        assert last_text(recorder).startswith("积分：")
        await app.conversation.handle(message("credits?", language="zh"))
        assert last_text(recorder).startswith("Credits:"), "her words decide, whatever the hint"
        await app.conversation.handle(message("", attachments=(file_attachment(notes),), language="zh"))
        assert last_text(recorder).startswith("That file type is not supported."), last_text(recorder)
    finally:
        await app.stop()


def test_the_commonest_spanish_words_of_a_request_are_read():
    request = parse_instruction("córtalo en dos clips verticales de 15 segundos con subtítulos")
    assert (request.count, request.length, request.aspect, request.captions, request.unplaced) == (2, 15, "9:16", True, None)
    request = parse_instruction("tres clips cuadrados de 30 segundos sin subtítulos")
    assert (request.count, request.length, request.aspect, request.captions, request.unplaced) == (3, 30, "1:1", False, None)
    # English is read as it was: "de" or "con" alone make no Spanish
    assert parse_instruction("3 clips about la la land").topic == "la la land"
    assert parse_instruction("two clips about the con artist").count == 2


@pytest.mark.parametrize("text, span", [
    ("corta del 0:10 al 0:40", (10.0, 40.0)), ("córtalo de 1:00 a 1:30 en vertical", (60.0, 90.0)),
    ("haz todo el vídeo vertical", None), ("pon el vídeo completo en vertical con subtítulos", None)])
def test_a_spanish_stretch_to_cut_or_the_whole_video_is_an_exact_cut(text, span):
    request = parse_instruction(text)
    assert request.exact and not request.unplaced, text
    assert (request.range_start, request.range_end) == (span or (None, None))


def test_spanish_status_and_credits_are_understood():
    assert route("estado").kind is IntentKind.STATUS
    assert route("¿cuántos créditos me quedan?").kind is IntentKind.CREDITS


def test_words_in_another_language_are_told_apart_from_english():
    assert other_language("empieza el clip 1 3 segundos antes")
    assert other_language("fais trois clips de la vidéo")
    assert not other_language("make it funnier")
    assert not other_language("do 3 clips, 30 s per clip")
    assert "English and Chinese" in say("en", "unread_language", words="empieza el clip 1 3 segundos antes")
    assert "英文和中文" in say("zh", "unread_language", words="empieza el clip 1 3 segundos antes")


def test_leftover_words_in_another_language_are_marked_unread():
    request = parse_instruction("dame algo divertido, un clip de 10 segundos")
    assert (request.count, request.length, request.unplaced, request.unplaced_unread) == (1, 10, "algo divertido", True)
    assert parse_instruction("fais trois clips de la vidéo drôle").unplaced_unread
    request = parse_instruction("the funniest bits, 2 clips")
    assert request.unplaced == "the funniest bits" and not request.unplaced_unread


async def test_a_spanish_creator_gets_clips_and_a_plain_word_about_what_was_not_read(tmp_path, shared_media):
    app, recorder = await started_app(make_settings(tmp_path / "data"))
    try:
        handle = app.conversation.handle
        await handle(message("", attachments=(file_attachment(shared_media / "es_speech_40s.wav"),), language="es-es"))
        await handle(message("dame algo divertido, un clip de 10 segundos, 360p", language="es-es"))
        user = await app.repos.users.find("test", "u1")
        assert await app.jobs.wait_idle(user.id, timeout=600)
        said = "\n".join(recorder.texts())
        assert say("en", "unplaced_unread_language", reason="algo divertido") in said, said
        assert "language model" not in said
        assert len(recorder.videos()) == 1
        await handle(message("empieza el clip 1 3 segundos antes", language="es-es"))
        assert await app.jobs.wait_idle(user.id, timeout=120)
        assert say("en", "unread_language", words="empieza el clip 1 3 segundos antes") in recorder.texts()
        await handle(message("estado", language="es-es"))
        assert last_text(recorder).startswith("Media: es_speech_40s.wav"), last_text(recorder)
        await handle(message("¿cuántos créditos me quedan?", language="es-es"))
        assert last_text(recorder).startswith("Credits: "), last_text(recorder)
    finally:
        await app.stop()

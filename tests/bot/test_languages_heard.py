"""A recording in two languages: each clip says the languages spoken in it, after the cut and in
/status, in English and Chinese (multilingual_60s: English, then German, from ../shared/media)."""
from __future__ import annotations

import pytest

from bot.backends.base import Clip
from bot.replies import languages_heard
from tests.bot.chat_helpers import WarmTalk, file_attachment, last_text, make_settings, message, started_app, warm_cache


def test_one_language_for_every_clip_is_said_once_and_two_are_said_per_clip():
    english, german = Clip(1, "a", language="en", languages=("en",)), Clip(2, "b", language="de", languages=("de",))
    assert languages_heard("en", [english, Clip(2, "b", language="en")]) == "Language heard: English."
    assert languages_heard("en", [english, german]) == "Languages heard: English in clip 1; German in clip 2."
    assert languages_heard("zh", [english, german]) == "识别到的语言：第 1 个片段为英语；第 2 个片段为德语。"
    both = Clip(1, "a", language="en", languages=("en", "de"))
    assert languages_heard("en", [both]) == "Languages heard: English, German."
    assert languages_heard("zh", [both]) == "识别到的语言：英语、德语。"
    assert languages_heard("en", [Clip(1, "a")]) == ""               # no speech heard: nothing said


@pytest.fixture(scope="module")
def two_languages(shared_media, engine_config, tmp_path_factory) -> WarmTalk:
    path = shared_media / "multilingual_60s.mp3"
    return WarmTalk(path, warm_cache(tmp_path_factory, path, engine_config))


async def test_the_clips_of_a_recording_in_english_and_german_say_so(tmp_path, two_languages):
    app, recorder = await started_app(make_settings(tmp_path / "data", two_languages))
    try:
        await app.conversation.handle(message("", attachments=(file_attachment(two_languages.path),)))
        await app.conversation.handle(message("cut 2 vertical shorts of 25 seconds, 360p"))
        user = await app.repos.users.find("test", "u1")
        assert await app.jobs.wait_idle(user.id, timeout=600)
        heard = [line for text in recorder.texts() for line in text.splitlines() if "heard" in line]
        # each clip is one half: English in one, German in the other (whichever is clip 1)
        assert len(heard) == 1 and heard[0].startswith("Languages heard: "), heard
        assert "English in clip" in heard[0] and "German in clip" in heard[0], heard
        await app.conversation.handle(message("status"))
        assert heard[0] in last_text(recorder).splitlines(), last_text(recorder)
        await app.conversation.handle(message("状态"))
        status = last_text(recorder)
        assert "识别到的语言：第 " in status and "为英语" in status and "为德语" in status, status
    finally:
        await app.stop()

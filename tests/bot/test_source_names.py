"""What the bot calls a source in its replies: a video from a video site's page by its title (not
"fetch-<random>.mp4"); a sound file as a sound file, not as a video."""
from __future__ import annotations

import subprocess

import pytest

from tests.bot.chat_helpers import file_attachment, last_text, make_settings, message, started_app
from tests.bot.chat_helpers import warm_talk  # noqa: F401  (fixture)
from tests.bot.fetch_site import video_site

# The generic page reader, allowed only on this loopback "video site": no real site may be contacted from tests.
GENERIC = ("generic", "html5")


async def test_a_video_sites_video_is_called_by_its_title(tmp_path, warm_talk, monkeypatch):
    pytest.importorskip("yt_dlp")
    monkeypatch.setattr("bot.fetch.direct.VIDEO_SITES", ("127.0.0.1",))
    monkeypatch.setattr("bot.fetch.sites.YTDLP_EXTRACTORS", GENERIC)
    app, recorder = await started_app(make_settings(tmp_path / "data", warm_talk))
    try:
        async with video_site(warm_talk.path, "Why we sleep: part 1/2") as base:
            await app.conversation.handle(message(f"{base}/watch-page"))
        got = last_text(recorder)
        assert got.startswith("Got Why_we_sleep_part_1_2") and ".mp4 (0:" in got, got
        await app.conversation.handle(message("/status"))
        status = last_text(recorder)
        assert "Why_we_sleep_part_1_2" in status and "fetch-" not in status, status
        assert not list((tmp_path / "data" / "incoming").rglob("*.mp4")), "the download is not kept beside the store"
    finally:
        await app.stop()


@pytest.fixture(scope="module")
def talk_sound(tmp_path_factory, warm_talk):
    """The made-up talk's sound alone, as a podcast's .wav."""
    path = tmp_path_factory.mktemp("sound") / "talk.wav"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(warm_talk.path), "-vn", "-ac", "1", "-ar", "16000", str(path)],
                   check=True)
    return path


async def test_a_sound_file_is_called_a_recording_not_a_video(tmp_path, warm_talk, talk_sound):
    app, recorder = await started_app(make_settings(tmp_path / "data", warm_talk))
    try:
        await app.conversation.handle(message("剪一个10秒的竖屏短视频，360p", attachments=(file_attachment(talk_sound),)))
        user = await app.repos.users.find("test", "u1")
        assert await app.jobs.wait_idle(user.id, timeout=300)
        [short] = recorder.videos()
        assert "原音频 0:" in short.caption and "原视频" not in short.caption, short.caption
        progress = {r.text.rstrip(" 0123456789%") for r in recorder.replies(kind="progress")}
        assert progress & {"正在听写音频", "正在听写视频"} == {"正在听写音频"}, progress
        await app.conversation.handle(message("状态"))
        status = last_text(recorder)
        assert "1. 音频：talk.wav 0:" in status and "视频：talk.wav" not in status, status
        await app.conversation.handle(message("status"))
        assert "1. Sound: talk.wav 0:" in last_text(recorder), last_text(recorder)
    finally:
        await app.stop()

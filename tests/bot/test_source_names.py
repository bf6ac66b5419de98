"""What the bot calls a source in its replies: a video from a video site's page by its title (not
"fetch-<random>.mp4"); a sound file as a sound file, not as a video."""
from __future__ import annotations

import pytest

from tests.bot.chat_helpers import last_text, make_settings, message, started_app
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

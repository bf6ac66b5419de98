"""Web pages as links: only known video sites go to yt-dlp (which downloads a page's video on
loopback within the size limit); any other page is refused with a sentence."""
from __future__ import annotations

import asyncio
import sys
import threading

import pytest

from bot.fetch import (
    VIDEO_SITES,
    BlockedAddress,
    DownloadFailed,
    NotAVideoPage,
    TooLarge,
    fetch_page,
    ytdlp_download,
    fetch_url,
    is_video_site,
)
from bot.fetch.files import TITLE_CHARS, title_filename
from tests.bot.fetch_site import LIMIT, SMALL
from tests.bot.fetch_site import guard, site, tiny_mp4  # noqa: F401  (fixtures)


# ---------------------------------------------------------------------------
# Web pages: only known video sites go to yt-dlp


@pytest.mark.parametrize("path", ["/page", "/video-page", "/blocked-video-page"])
async def test_a_web_page_that_is_not_a_video_site_is_not_handed_to_ytdlp(site, guard, tmp_path, path):
    # yt-dlp's generic extractor would follow the page's <video> to wherever it points.
    base, _, _ = site
    with pytest.raises(NotAVideoPage) as caught:
        await fetch_url(f"{base}{path}", tmp_path, max_bytes=LIMIT, allow_private=True, client=guard)
    assert "couldn't find a video" in str(caught.value) and "known video sites" in str(caught.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("host,routed", [
    ("www.youtube.com", True), ("youtu.be", True), ("m.youtube.com", True), ("VIMEO.COM.", True),
    ("b23.tv", True), ("youtube.com.evil.example", False), ("notyoutube.com", False),
    ("127.0.0.1", False), ("example.com", False),
])
def test_which_hosts_go_to_ytdlp(host, routed):
    assert is_video_site(host) is routed
    assert all(is_video_site(site) for site in VIDEO_SITES)


async def test_a_link_that_redirects_to_a_video_site_goes_to_ytdlp(site, guard, tmp_path):
    """localhost is named as a video site here (no real site may be contacted): the redirect is
    followed to it, and its page goes to yt-dlp, whose site extractors find nothing there."""
    pytest.importorskip("yt_dlp")
    base, port, _ = site
    with pytest.raises(NotAVideoPage) as caught:
        await fetch_url(f"{base}/to-site", tmp_path, max_bytes=LIMIT, allow_private=True, client=guard,
                        video_sites=("localhost",))
    assert "web page" not in str(caught.value), "answered by yt-dlp, not by the page check"
    assert list(tmp_path.iterdir()) == []


async def test_ytdlp_without_the_generic_extractor_refuses_an_ordinary_page(site, tmp_path):
    """The option that keeps yt-dlp to the sites' own extractors is spelled right for the installed yt-dlp."""
    pytest.importorskip("yt_dlp")
    base, _, _ = site
    with pytest.raises(NotAVideoPage):
        await asyncio.to_thread(ytdlp_download, f"{base}/video-page", tmp_path, LIMIT, True, 5, threading.Event())
    assert list(tmp_path.iterdir()) == []


# The download machinery a video site's link goes through, exercised on loopback pages: the
# generic extractor is allowed only here, since no real video site may be contacted from tests.
GENERIC = ("generic", "html5")            # the generic page reader and its <video> finder


async def ytdlp(url: str, dest, max_bytes: int = LIMIT):
    return await fetch_page(url, dest, max_bytes, True, 5, extractors=GENERIC)


async def test_ytdlp_downloads_a_page_video(site, tmp_path):
    pytest.importorskip("yt_dlp")
    base, _, _ = site
    path = await ytdlp(f"{base}/video-page", tmp_path)
    assert path.read_bytes() == SMALL
    assert list(tmp_path.iterdir()) == [path.parent] and path.parent.name.startswith("fetch-"), "a folder of its own"


async def test_a_page_video_is_named_by_its_title_made_safe(site, tmp_path):
    pytest.importorskip("yt_dlp")
    base, _, _ = site
    path = await ytdlp(f"{base}/titled-video-page", tmp_path)
    # yt-dlp's generic reader may number the page's video ("... (1)"); a real site's extractor does not
    assert path.name.startswith("Why_we_sleep_part_1_2_live") and path.suffix == ".mp4"
    assert path.read_bytes() == SMALL
    assert list(path.parent.iterdir()) == [path] and path.parent.parent == tmp_path


@pytest.mark.parametrize("title, name", [
    ("Why we sleep: part 1/2", "Why_we_sleep_part_1_2.mp4"),
    ("../../etc/passwd", "etc_passwd.mp4"),
    ("为什么我们要睡觉？第1集", "为什么我们要睡觉_第1集.mp4"),
    ("...", "video.mp4"),
    ("", "video.mp4"),
    ("a" * 300, "a" * TITLE_CHARS + ".mp4"),
])
def test_a_title_becomes_a_bounded_safe_file_name(title, name):
    assert title_filename(title, ".mp4") == name


async def test_a_page_video_over_the_limit_is_refused_and_removed(site, tmp_path):
    pytest.importorskip("yt_dlp")
    base, _, _ = site
    with pytest.raises(TooLarge):
        await ytdlp(f"{base}/video-page", tmp_path, max_bytes=len(SMALL) - 1)
    assert list(tmp_path.iterdir()) == []


async def test_a_page_video_that_streams_past_the_limit_is_stopped_and_removed(site, tmp_path):
    pytest.importorskip("yt_dlp")
    base, _, _ = site
    with pytest.raises(TooLarge):
        await ytdlp(f"{base}/endless-video-page", tmp_path)
    assert list(tmp_path.iterdir()) == []


async def test_a_page_whose_video_lives_at_a_blocked_address_is_refused(site, tmp_path):
    pytest.importorskip("yt_dlp")
    base, _, _ = site
    with pytest.raises(BlockedAddress, match="0.0.0.0"):
        await ytdlp(f"{base}/blocked-video-page", tmp_path)
    assert list(tmp_path.iterdir()) == []


async def test_a_video_site_without_ytdlp_installed_gets_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "yt_dlp", None)      # how Python marks a package as absent
    with pytest.raises(DownloadFailed, match="yt-dlp"):
        await fetch_page("https://www.youtube.com/watch?v=aqz-KE-bpKQ", tmp_path, LIMIT, False, 5)

"""Links as uploads: a real aiohttp server on 127.0.0.1 and the real httpx client.

No test reaches beyond loopback: the clients here refuse any other destination, so a
check that failed to refuse an address before connecting fails the test instead of
touching the network.
"""
from __future__ import annotations

import asyncio
import ipaddress
import subprocess
import sys

import httpx
import pytest
from aiohttp import web

import threading

from bot.fetch import (
    VIDEO_SITES,
    BlockedAddress,
    DownloadFailed,
    FetchError,
    NotAVideoPage,
    TooLarge,
    fetch_page,
    ytdlp_download,
    fetch_url,
    find_urls,
    is_refused_address,
    is_video_site,
    save_stream,
    stream_to_file,
)
from engine.probe import probe

SMALL = bytes(range(256)) * 200            # 51200 bytes
LIMIT = 200_000
HTML = b"<!DOCTYPE html><html><head><title>Nothing here</title></head><body><p>No video.</p></body></html>"


class LoopbackOnly(httpx.AsyncHTTPTransport):
    """The real transport, for loopback destinations only; anything else is recorded and refused."""

    def __init__(self):
        super().__init__()
        self.refused: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host not in ("127.0.0.1", "::1"):
            self.refused.append(str(request.url))
            raise RuntimeError(f"the test tried to reach {request.url}")
        return await super().handle_async_request(request)


@pytest.fixture
async def guard():
    transport = LoopbackOnly()
    async with httpx.AsyncClient(transport=transport, timeout=5, trust_env=False) as client:
        yield client
    assert transport.refused == []


MP4 = web.AppKey("mp4", object)
SERVED_ON: list[asyncio.Transport] = []      # the server side of each connection /small.mp4 was served on


@pytest.fixture(scope="module")
def tiny_mp4(tmp_path_factory):
    path = tmp_path_factory.mktemp("media") / "tiny.mp4"
    subprocess.run(["ffmpeg", "-y", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=64x36:rate=10:duration=1",
                    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path)], check=True)
    return path


@pytest.fixture
async def site(tiny_mp4):
    seen_hosts: list[str] = []

    async def small(request):
        seen_hosts.append(request.headers.get("Host", ""))
        SERVED_ON.append(request.transport)
        return web.Response(body=SMALL, content_type="application/octet-stream")

    async def lying_length(request):
        response = web.StreamResponse(headers={"Content-Type": "video/mp4"})
        response.content_length = 50 * 1024**3
        await response.prepare(request)
        try:
            await response.write(b"\0" * 1024)
        except ConnectionError:
            pass
        return response

    async def endless(request):
        response = web.StreamResponse(headers={"Content-Type": "video/mp4"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        try:
            for _ in range(160):                 # 10 MB if nobody stops reading
                await response.write(b"\1" * 65536)
        except ConnectionError:
            pass
        return response

    async def slow(request):
        response = web.StreamResponse(headers={"Content-Type": "video/mp4"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        try:
            for _ in range(200):
                await response.write(b"\2" * 1024)
                await asyncio.sleep(0.05)
        except ConnectionError:
            pass
        return response

    async def page(request):
        return web.Response(body=HTML, content_type="text/html")

    async def disguised_page(request):
        return web.Response(body=HTML, content_type="video/mp4")

    async def video_page(request):
        return web.Response(text='<!DOCTYPE html><html><body><video src="/small.mp4"></video></body></html>', content_type="text/html")

    async def endless_video_page(request):
        return web.Response(text='<!DOCTYPE html><html><body><video src="/endless.mp4"></video></body></html>', content_type="text/html")

    async def blocked_video_page(request):
        # yt-dlp's own requests are not guarded by the test client: the refused address is one on this machine.
        html = '<!DOCTYPE html><html><body><video src="http://0.0.0.0:9/v.mp4"></video></body></html>'
        return web.Response(text=html, content_type="text/html")

    async def nameless_video(request):
        return web.FileResponse(request.app[MP4])

    async def empty(request):
        return web.Response(body=b"", content_type="video/mp4")

    async def to_site(request):
        raise web.HTTPFound(f"http://localhost:{request.url.port}/video-page")

    def redirect_to(target):
        async def handler(request):
            raise web.HTTPFound(target)
        return handler

    app = web.Application()
    app[MP4] = tiny_mp4
    app.router.add_get("/watch", nameless_video)
    app.router.add_get("/small.mp4", small)
    app.router.add_get("/lying.mp4", lying_length)
    app.router.add_get("/endless.mp4", endless)
    app.router.add_get("/slow.mp4", slow)
    app.router.add_get("/page", page)
    app.router.add_get("/disguised.mp4", disguised_page)
    app.router.add_get("/video-page", video_page)
    app.router.add_get("/blocked-video-page", blocked_video_page)
    app.router.add_get("/endless-video-page", endless_video_page)
    app.router.add_get("/empty.mp4", empty)
    app.router.add_get("/hop", redirect_to("/small.mp4"))
    app.router.add_get("/to-metadata", redirect_to("http://169.254.169.254/latest/meta-data/"))
    app.router.add_get("/to-link-local", redirect_to("http://[fe80::1]/v.mp4"))
    app.router.add_get("/to-ftp", redirect_to("ftp://127.0.0.1/v.mp4"))
    app.router.add_get("/loop", redirect_to("/loop"))
    app.router.add_get("/to-site", to_site)
    runner = web.AppRunner(app)
    await runner.setup()
    server = web.TCPSite(runner, "127.0.0.1", 0)
    await server.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}", port, seen_hosts
    await runner.cleanup()


# ---------------------------------------------------------------------------
# Direct files


async def test_a_small_file_is_streamed_to_a_new_file(site, guard, tmp_path):
    base, _, _ = site
    path = await fetch_url(f"{base}/small.mp4", tmp_path, max_bytes=LIMIT, allow_private=True, client=guard)
    assert path.parent == tmp_path and path.suffix == ".mp4" and path.name.startswith("fetch-")
    assert path.read_bytes() == SMALL
    assert list(tmp_path.iterdir()) == [path]


async def test_redirects_are_followed(site, guard, tmp_path):
    base, _, _ = site
    path = await fetch_url(f"{base}/hop", tmp_path, max_bytes=LIMIT, allow_private=True, client=guard)
    assert path.read_bytes() == SMALL


async def test_a_hostname_connects_to_the_checked_address_and_keeps_its_name(site, guard, tmp_path):
    _, port, seen_hosts = site
    path = await fetch_url(f"http://localhost:{port}/small.mp4", tmp_path, max_bytes=LIMIT, allow_private=True, client=guard)
    assert path.read_bytes() == SMALL
    assert seen_hosts[-1] == f"localhost:{port}"


async def test_without_a_client_one_is_made_and_closed(site, tmp_path):
    base, _, _ = site
    SERVED_ON.clear()
    path = await fetch_url(f"{base}/small.mp4", tmp_path, max_bytes=LIMIT, allow_private=True)
    assert path.read_bytes() == SMALL
    [connection] = SERVED_ON
    # a client left open would keep its connection alive (the server keeps it 75 s); closed, it ends now
    for _ in range(200):
        if connection.is_closing():
            break
        await asyncio.sleep(0.05)
    assert connection.is_closing(), "fetch_url left its own client's connection open"


async def test_a_large_declared_length_is_refused_before_reading(site, guard, tmp_path):
    base, _, _ = site
    with pytest.raises(TooLarge) as caught:
        await fetch_url(f"{base}/lying.mp4", tmp_path, max_bytes=LIMIT, allow_private=True, client=guard)
    assert caught.value.limit_mb == pytest.approx(LIMIT / 2**20)
    assert "limit" in str(caught.value) and "Trim or compress" in str(caught.value)
    assert list(tmp_path.iterdir()) == []


async def test_a_stream_that_grows_past_the_limit_is_stopped_and_removed(site, guard, tmp_path):
    base, _, _ = site
    with pytest.raises(TooLarge):
        await fetch_url(f"{base}/endless.mp4", tmp_path, max_bytes=LIMIT, allow_private=True, client=guard)
    assert list(tmp_path.iterdir()) == []


async def test_a_cancelled_download_leaves_nothing_behind(site, guard, tmp_path):
    base, _, _ = site
    task = asyncio.create_task(fetch_url(f"{base}/slow.mp4", tmp_path, max_bytes=LIMIT, allow_private=True, client=guard))
    for _ in range(100):
        if any(tmp_path.glob("*.part")):
            break
        await asyncio.sleep(0.02)
    assert any(tmp_path.glob("*.part")), "the download never started"
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert list(tmp_path.iterdir()) == []


def test_the_limit_reads_in_megabytes():
    assert str(TooLarge(500)) == "That video is larger than the 500 MB limit. Trim or compress it and send it again."


async def test_http_errors_and_empty_answers_are_sentences(site, guard, tmp_path):
    base, _, _ = site
    with pytest.raises(DownloadFailed, match="HTTP 404"):
        await fetch_url(f"{base}/nothing.mp4", tmp_path, max_bytes=LIMIT, allow_private=True, client=guard)
    with pytest.raises(DownloadFailed, match="empty"):
        await fetch_url(f"{base}/empty.mp4", tmp_path, max_bytes=LIMIT, allow_private=True, client=guard)
    with pytest.raises(DownloadFailed, match="redirected more than"):
        await fetch_url(f"{base}/loop", tmp_path, max_bytes=LIMIT, allow_private=True, client=guard)
    with pytest.raises(DownloadFailed, match="http"):
        await fetch_url(f"{base}/to-ftp", tmp_path, max_bytes=LIMIT, allow_private=True, client=guard)
    assert list(tmp_path.iterdir()) == []


async def test_a_closed_port_is_a_sentence(guard, tmp_path):
    with pytest.raises(DownloadFailed, match="couldn't download from 127.0.0.1"):
        await fetch_url("http://127.0.0.1:9/v.mp4", tmp_path, max_bytes=LIMIT, allow_private=True, client=guard)


# ---------------------------------------------------------------------------
# Addresses that are refused before any connection


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/v.mp4",
        "http://127.1.2.3:8080/v.mp4",
        "http://10.1.2.3/v.mp4",
        "http://192.168.1.20/v.mp4",
        "http://172.16.0.9/v.mp4",
        "http://100.64.0.1/v.mp4",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/v.mp4",
        "http://[::ffff:127.0.0.1]/v.mp4",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://[fe80::1]/v.mp4",
        "http://0.0.0.0/v.mp4",
        "http://224.0.0.251/v.mp4",
        "http://localhost/v.mp4",
        "https://LOCALHOST/v.mp4",
    ],
)
async def test_private_and_local_addresses_are_refused(url, guard, tmp_path):
    with pytest.raises(BlockedAddress) as caught:
        await fetch_url(url, tmp_path, max_bytes=LIMIT, client=guard)
    assert "not allowed" in str(caught.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://[fe80::1]/v.mp4",
        "http://0.0.0.0/v.mp4",
        "http://224.0.0.251/v.mp4",
    ],
)
async def test_metadata_link_local_and_multicast_stay_refused_when_private_is_allowed(url, guard, tmp_path):
    with pytest.raises(BlockedAddress):
        await fetch_url(url, tmp_path, max_bytes=LIMIT, allow_private=True, client=guard)


@pytest.mark.parametrize("path", ["/to-metadata", "/to-link-local"])
async def test_each_redirect_hop_is_checked(site, guard, tmp_path, path):
    base, _, _ = site
    with pytest.raises(BlockedAddress):
        await fetch_url(f"{base}{path}", tmp_path, max_bytes=LIMIT, allow_private=True, client=guard)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "address,allow_private,refused",
    [
        ("8.8.8.8", False, False),
        ("2606:4700:4700::1111", False, False),
        ("127.0.0.1", False, True),
        ("127.0.0.1", True, False),
        ("::1", True, False),
        ("10.0.0.1", True, False),
        ("169.254.169.254", True, True),
        ("::ffff:10.0.0.1", False, True),
        ("::ffff:8.8.8.8", False, False),
        ("fd00:ec2::254", True, True),
    ],
)
def test_address_verdicts(address, allow_private, refused):
    assert is_refused_address(ipaddress.ip_address(address), allow_private) is refused


@pytest.mark.parametrize("url", ["ftp://example.com/v.mp4", "file:///etc/passwd", "http:///nohost", "not a url"])
async def test_only_http_links_are_fetched(url, guard, tmp_path):
    with pytest.raises(DownloadFailed):
        await fetch_url(url, tmp_path, max_bytes=LIMIT, client=guard)


async def test_a_direct_link_without_a_suffix_is_probed_as_the_video_it_is(site, guard, tmp_path):
    base, _, _ = site
    path = await fetch_url(f"{base}/watch", tmp_path, max_bytes=LIMIT, allow_private=True, client=guard)
    assert path.suffix == "" and path.name.startswith("fetch-")
    info = probe(path)
    assert (info.kind, info.extension, info.width, info.height) == ("video", "mp4", 64, 36)


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
    assert list(tmp_path.iterdir()) == [path] and path.name.startswith("fetch-")


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


async def test_the_content_type_does_not_decide_what_a_file_is(site, guard, tmp_path):
    # Labelled video/mp4 but HTML inside: saved as it is, for the caller's probe to judge.
    base, _, _ = site
    path = await fetch_url(f"{base}/disguised.mp4", tmp_path, max_bytes=LIMIT, allow_private=True, client=guard)
    assert path.read_bytes() == HTML


async def test_a_video_site_without_ytdlp_installed_gets_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "yt_dlp", None)      # how Python marks a package as absent
    with pytest.raises(DownloadFailed, match="yt-dlp"):
        await fetch_page("https://www.youtube.com/watch?v=aqz-KE-bpKQ", tmp_path, LIMIT, False, 5)


# ---------------------------------------------------------------------------
# save_stream / stream_to_file: the one way downloads reach the disk


async def chunks_then(pieces, error: BaseException | None = None):
    for piece in pieces:
        yield piece
        await asyncio.sleep(0)
    if error is not None:
        raise error


async def test_save_stream_writes_through_a_part_file(tmp_path):
    dest = tmp_path / "out" / "v.mp4"
    seen_part = []

    async def watched():
        async for piece in chunks_then([b"a" * 10, b"b" * 10]):
            seen_part.append(dest.with_name("v.mp4.part").exists() and not dest.exists())
            yield piece

    assert await save_stream(watched(), dest, 100) == dest
    assert dest.read_bytes() == b"a" * 10 + b"b" * 10 and seen_part == [True, True]
    assert list(dest.parent.iterdir()) == [dest]


@pytest.mark.parametrize("pieces,max_bytes,declared,error", [
    ([b"x" * 60, b"x" * 60], 100, None, TooLarge),            # grows past the limit
    ([b"x" * 10], 100, 1000, TooLarge),                        # declared too large: refused before writing
    ([b"x" * 10], 100, None, ConnectionResetError),            # the connection broke
])
async def test_save_stream_leaves_nothing_when_it_fails(tmp_path, pieces, max_bytes, declared, error):
    dest = tmp_path / "v.mp4"
    failing = error if error is not TooLarge else None
    with pytest.raises(error):
        await save_stream(chunks_then(pieces, failing() if failing else None), dest, max_bytes, declared_size=declared)
    assert list(tmp_path.iterdir()) == []


async def test_stream_to_file_says_the_status_and_names_only_the_host(site, tmp_path):
    base, _, _ = site
    async with httpx.AsyncClient(trust_env=False) as client:
        path = await stream_to_file(client, f"{base}/small.mp4", tmp_path / "a.mp4", LIMIT)
        assert path.read_bytes() == SMALL
        with pytest.raises(DownloadFailed) as caught:
            await stream_to_file(client, f"{base}/secret-token/nothing.mp4", tmp_path / "b.mp4", LIMIT)
        assert caught.value.values["status"] == 404 and "secret-token" not in str(caught.value)
        with pytest.raises(TooLarge):
            await stream_to_file(client, f"{base}/lying.mp4", tmp_path / "c.mp4", LIMIT)
        with pytest.raises(DownloadFailed, match="couldn't download from 127.0.0.1"):
            await stream_to_file(client, "http://127.0.0.1:9/v.mp4", tmp_path / "d.mp4", LIMIT)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.mp4"]


def test_errors_share_one_base():
    for error in (BlockedAddress("x"), TooLarge(1), NotAVideoPage(), DownloadFailed("x")):
        assert isinstance(error, FetchError)


# ---------------------------------------------------------------------------
# Finding links


@pytest.mark.parametrize(
    "text,urls",
    [
        ("https://example.com/a.mp4", ["https://example.com/a.mp4"]),
        ("look: https://example.com/a.mp4.", ["https://example.com/a.mp4"]),
        ("two https://a.example/x, http://b.example/y?z=1&w=2!", ["https://a.example/x", "http://b.example/y?z=1&w=2"]),
        ("(see https://example.com/v)", ["https://example.com/v"]),
        ("https://en.wikipedia.org/wiki/Film_(disambiguation)", ["https://en.wikipedia.org/wiki/Film_(disambiguation)"]),
        ("<https://example.com/quiet>", ["https://example.com/quiet"]),
        ("看看这个https://b23.tv/xyz，剪成竖屏", ["https://b23.tv/xyz"]),
        ("HTTPS://EXAMPLE.COM/A.MP4", ["HTTPS://EXAMPLE.COM/A.MP4"]),
        ("ftp://example.com/a.mp4 file:///etc/passwd", []),
        ("no links here", []),
        ("http://", []),
    ],
)
def test_find_urls(text, urls):
    assert find_urls(text) == urls

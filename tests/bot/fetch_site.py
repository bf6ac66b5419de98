"""The loopback web site the link tests fetch from (a real aiohttp server on 127.0.0.1: files,
redirects, pages, errors) and an httpx client that refuses any destination beyond loopback."""
from __future__ import annotations

import asyncio
import contextlib
import html
import subprocess
from pathlib import Path
from typing import AsyncIterator

import httpx
import pytest
from aiohttp import web


SMALL = bytes(range(256)) * 200            # 51200 bytes


LIMIT = 200_000


HTML = b"<!DOCTYPE html><html><head><title>Nothing here</title></head><body><p>No video.</p></body></html>"


TITLE = "Why we sleep: part 1/2 <live>"          # a video site's title: spaces, a colon, a slash, brackets


def titled_page(title: str, video: str) -> str:
    """A page as a video site's looks to yt-dlp's generic reader: a <title> and one <video>."""
    return (f"<!DOCTYPE html><html><head><title>{html.escape(title)}</title></head>"
            f'<body><video src="{video}"></video></body></html>')


@contextlib.asynccontextmanager
async def video_site(video: Path, title: str) -> AsyncIterator[str]:
    """A loopback site whose page /watch-page is titled `title` and shows `video`; yields its base URL."""
    async def page(request):
        return web.Response(text=titled_page(title, "/video.mp4"), content_type="text/html")

    async def media(request):
        return web.FileResponse(video)

    app = web.Application()
    app.router.add_get("/watch-page", page)
    app.router.add_get("/video.mp4", media)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


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

    async def titled_video_page(request):
        return web.Response(text=titled_page(TITLE, "/small.mp4"), content_type="text/html")

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
    app.router.add_get("/titled-video-page", titled_video_page)
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

"""Links as uploads, direct files: a real aiohttp server on 127.0.0.1 (tests/bot/fetch_site.py) and
the real httpx client; the one way downloads reach the disk; finding links in a message.

No test reaches beyond loopback: the clients here refuse any other destination, so a
check that failed to refuse an address before connecting fails the test instead of
touching the network. Refused addresses are in test_fetch_addresses.py, web pages and yt-dlp
in test_fetch_pages.py.
"""
from __future__ import annotations

import asyncio

import httpx
import pytest

from bot.fetch import (
    BlockedAddress,
    DownloadFailed,
    FetchError,
    NotAVideoPage,
    TooLarge,
    fetch_url,
    find_urls,
    save_stream,
    stream_to_file,
)
from engine.probe import probe
from tests.bot.fetch_site import HTML, LIMIT, SERVED_ON, SMALL
from tests.bot.fetch_site import guard, site, tiny_mp4  # noqa: F401  (fixtures)


# ---------------------------------------------------------------------------
# Direct files


async def test_a_small_file_is_streamed_to_a_new_file(site, guard, tmp_path):
    base, _, _ = site
    path = await fetch_url(f"{base}/small.mp4", tmp_path, max_bytes=LIMIT, allow_private=True, client=guard)
    assert path.name == "small.mp4", "the link's own name, for the replies"
    assert path.parent.parent == tmp_path and path.parent.name.startswith("fetch-"), "in a folder of its own"
    assert path.read_bytes() == SMALL
    assert list(tmp_path.iterdir()) == [path.parent]


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
        if any(tmp_path.glob("*/*.part")):
            break
        await asyncio.sleep(0.02)
    assert any(tmp_path.glob("*/*.part")), "the download never started"
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


async def test_a_direct_link_without_a_suffix_is_probed_as_the_video_it_is(site, guard, tmp_path):
    base, _, _ = site
    path = await fetch_url(f"{base}/watch", tmp_path, max_bytes=LIMIT, allow_private=True, client=guard)
    assert path.name == "video" and path.parent.name.startswith("fetch-")
    info = probe(path)
    assert (info.kind, info.extension, info.width, info.height) == ("video", "mp4", 64, 36)


async def test_the_content_type_does_not_decide_what_a_file_is(site, guard, tmp_path):
    # Labelled video/mp4 but HTML inside: saved as it is, for the caller's probe to judge.
    base, _, _ = site
    path = await fetch_url(f"{base}/disguised.mp4", tmp_path, max_bytes=LIMIT, allow_private=True, client=guard)
    assert path.read_bytes() == HTML


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

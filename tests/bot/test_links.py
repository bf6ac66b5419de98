"""Signed links: a real aiohttp server on loopback, real httpx requests."""
from __future__ import annotations

import asyncio
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from bot.links import LinkServer, LinkSigner

KEY = b"test-link-secret"
CONTENT = bytes(range(256)) * 40          # 10240 bytes, every offset distinguishable


@pytest.fixture
def stored(tmp_path) -> dict[str, Path]:
    """What storage would hold: file ids to paths outside anything the request can name."""
    media = tmp_path / "media"
    media.mkdir()
    (media / "3f9a1c").write_bytes(CONTENT)          # stored by content hash, no extension
    (tmp_path / "secret.txt").write_text("not for download")
    return {"abc123": media / "3f9a1c", "gone": media / "missing"}


@pytest.fixture
async def served(stored):
    signer = LinkSigner(KEY, "http://127.0.0.1", 24)
    server = LinkServer(signer, stored.get, host="127.0.0.1", port=0)
    await server.start()
    signer.base_url = f"http://127.0.0.1:{server.port}"     # the port is known only once bound
    async with httpx.AsyncClient(timeout=5, trust_env=False) as client:
        yield signer, server, client
    await server.stop()


def _parts(url: str) -> tuple[str, dict[str, str]]:
    split = urlsplit(url)
    return split.path, {k: v[0] for k, v in parse_qs(split.query).items()}


def test_sign_and_verify_round_trip():
    signer = LinkSigner(KEY, "https://bot.example.com/", 1)
    url = signer.sign("abc123", "clip-1.mp4", now=1_000_000)
    path, query = _parts(url)
    assert url.startswith("https://bot.example.com/f/abc123/clip-1.mp4?exp=1003600&sig=")
    assert signer.verify("abc123", "clip-1.mp4", query["exp"], query["sig"], now=1_000_000)
    assert signer.verify("abc123", "clip-1.mp4", query["exp"], query["sig"], now=1_003_600)
    assert not signer.verify("abc123", "clip-1.mp4", query["exp"], query["sig"], now=1_003_601)
    assert not signer.verify("abc123", "clip-2.mp4", query["exp"], query["sig"], now=1_000_000)
    assert not signer.verify("abc124", "clip-1.mp4", query["exp"], query["sig"], now=1_000_000)
    assert not signer.verify("abc123", "clip-1.mp4", str(int(query["exp"]) + 1), query["sig"], now=1_000_000)
    assert not signer.verify("abc123", "clip-1.mp4", "soon", query["sig"], now=1_000_000)
    assert not LinkSigner(b"another key", "https://x", 1).verify("abc123", "clip-1.mp4", query["exp"], query["sig"], now=1_000_000)


@pytest.mark.parametrize("file_id,filename", [("../etc", "x.mp4"), ("abc", "../x.mp4"), ("abc", "a/b.mp4"), ("abc", ".hidden"), ("", "x")])
def test_only_generated_names_can_be_signed(file_id, filename):
    with pytest.raises(ValueError):
        LinkSigner(KEY, "https://x", 1).sign(file_id, filename)


async def test_a_valid_link_serves_the_file(served):
    signer, _, client = served
    response = await client.get(signer.sign("abc123", "clip-1.mp4"))
    assert response.status_code == 200
    assert response.content == CONTENT
    assert response.headers["content-type"] == "video/mp4"
    assert 'filename="clip-1.mp4"' in response.headers["content-disposition"]


async def test_range_requests_get_the_right_bytes(served):
    signer, _, client = served
    url = signer.sign("abc123", "clip-1.mp4")
    response = await client.get(url, headers={"Range": "bytes=1000-1099"})
    assert response.status_code == 206
    assert response.content == CONTENT[1000:1100]
    assert response.headers["content-range"] == f"bytes 1000-1099/{len(CONTENT)}"
    tail = await client.get(url, headers={"Range": "bytes=-16"})
    assert (tail.status_code, tail.content) == (206, CONTENT[-16:])


async def test_head_answers_without_a_body(served):
    signer, _, client = served
    response = await client.head(signer.sign("abc123", "clip-1.mp4"))
    assert response.status_code == 200
    assert response.headers["content-length"] == str(len(CONTENT))
    assert response.content == b""


async def test_tampered_signature_or_name_is_forbidden(served):
    signer, _, client = served
    url = signer.sign("abc123", "clip-1.mp4")
    path, query = _parts(url)
    base = url.split("/f/")[0]
    flipped = ("A" if query["sig"][0] != "A" else "B") + query["sig"][1:]
    assert (await client.get(f"{base}{path}?exp={query['exp']}&sig={flipped}")).status_code == 403
    assert (await client.get(f"{base}/f/abc123/clip-2.mp4?exp={query['exp']}&sig={query['sig']}")).status_code == 403
    later = int(query["exp"]) + 3600
    assert (await client.get(f"{base}{path}?exp={later}&sig={query['sig']}")).status_code == 403
    assert (await client.get(f"{base}{path}")).status_code == 403


async def test_expired_link_is_forbidden(served):
    signer, _, client = served
    url = signer.sign("abc123", "clip-1.mp4", now=time.time() - 25 * 3600)
    response = await client.get(url)
    assert response.status_code == 403
    assert "expired" in response.text and "已过期" in response.text      # the reader's language is unknown


async def test_unknown_or_vanished_file_is_not_found(served):
    signer, _, client = served
    assert (await client.get(signer.sign("nosuchid", "clip-1.mp4"))).status_code == 404
    gone = await client.get(signer.sign("gone", "clip-1.mp4"))
    assert gone.status_code == 404 and "no longer available" in gone.text and "不在了" in gone.text


@pytest.mark.parametrize(
    "path",
    [
        "/f/..%2F..%2Fetc%2Fpasswd/x",
        "/f/abc123/..%2F..%2Fsecret.txt",
        "/f/%2e%2e/secret.txt",
        "/f/abc123/",
        "/f/",
        "/f",
        "/",
        "/media/3f9a1c",
        "/abc123.mp4",
        "/secret.txt",
    ],
)
async def test_traversal_and_listing_find_nothing(served, path):
    signer, _, client = served
    response = await client.get(signer.base_url + path)
    assert response.status_code in (403, 404)
    assert CONTENT not in response.content and b"not for download" not in response.content


async def test_a_signed_traversal_name_is_not_served(served, stored):
    # Even with the signature of the traversal string, the server never opens a path from the request.
    signer, server, client = served
    forged = signer._signature("abc123", "../secret.txt", int(time.time()) + 60)
    response = await client.get(f"{signer.base_url}/f/abc123/..%2Fsecret.txt?exp={int(time.time()) + 60}&sig={forged}")
    assert response.status_code == 404
    assert b"not for download" not in response.content


async def test_other_methods_are_refused(served):
    signer, _, client = served
    url = signer.sign("abc123", "clip-1.mp4")
    for method in ("POST", "PUT", "DELETE"):
        response = await client.request(method, url, content=b"x")
        assert response.status_code == 405
    assert (await client.get(url)).content == CONTENT      # and nothing was changed


async def test_health_check(served):
    signer, _, client = served
    response = await client.get(f"{signer.base_url}/healthz")
    assert (response.status_code, response.text) == (200, "ok")


async def test_an_async_resolver_backed_by_storage_works(stored):
    async def resolve(file_id: str):
        await asyncio.sleep(0)
        return stored.get(file_id)

    signer = LinkSigner(KEY, "http://127.0.0.1", 1)
    server = LinkServer(signer, resolve, host="127.0.0.1", port=0)
    await server.start()
    try:
        signer.base_url = f"http://127.0.0.1:{server.port}"
        async with httpx.AsyncClient(trust_env=False) as client:
            response = await client.get(signer.sign("abc123", "clip-1.mp4"))
        assert response.content == CONTENT
    finally:
        await server.stop()


# ---------------------------------------------------------------- the App's links
# (that a link serves one exact file of one person's clip, and nothing after a re-cut or an edit,
# is checked with the real LocalBackend in tests/bot/test_conversation.py, two people at once)

def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_links_without_a_secret_are_announced_as_dying_with_a_restart(tmp_path, caplog):
    from shortsbot.app import App
    from bot.settings import Settings

    for secret, warned in ((None, True), ("s3cret", False)):
        port = _free_port()
        app = App(Settings(_env_file=None, data_dir=tmp_path / f"data-{warned}", link_secret=secret,
                           public_base_url=f"http://127.0.0.1:{port}", http_port=port))
        caplog.clear()
        with caplog.at_level("WARNING", logger="shortsbot.app"):
            await app.start()
            await app.stop()
        said = [r.getMessage() for r in caplog.records if "LINK_SECRET" in r.getMessage()]
        assert bool(said) == warned, said
        if warned:
            assert "stops working when the bot restarts" in said[0]

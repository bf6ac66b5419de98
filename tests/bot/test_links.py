"""Signed links: a real aiohttp server on loopback, real httpx requests."""
from __future__ import annotations

import asyncio
import dataclasses
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
    assert "expired" in response.text


async def test_unknown_or_vanished_file_is_not_found(served):
    signer, _, client = served
    assert (await client.get(signer.sign("nosuchid", "clip-1.mp4"))).status_code == 404
    assert (await client.get(signer.sign("gone", "clip-1.mp4"))).status_code == 404


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


# ---------------------------------------------------------------- the App's links: one exact file each

def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
async def linked_app(tmp_path):
    from shortsbot.app import App
    from bot.settings import Settings

    port = _free_port()
    app = App(Settings(_env_file=None, data_dir=tmp_path / "data", public_base_url=f"http://127.0.0.1:{port}",
                       http_port=port, link_secret="s3cret"))
    await app.start()
    yield app
    await app.stop()


async def _rendered(app, session, rank: int, look: str, content: bytes):
    """A clip as LocalBackend leaves it after rendering: a row whose output is out/<session>/clip-NN-<look>.mp4."""
    from bot.messages import VideoReply

    clip = await app.repos.clips.add(session.id, rank, 0.0, 10.0)
    out = app.settings.output_dir / session.remote_session_id / f"clip-{rank:02d}-{look}.mp4"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(content)
    await app.repos.clips.update(clip.id, output_path=str(out))
    return VideoReply(out, 360, 640, 10.0, clip_id=clip.id)


async def _forget(app, session) -> None:
    """What a new cut does first (LocalBackend._forget_clips): the session's clips and files go."""
    for clip in await app.repos.clips.for_session(session.id):
        Path(clip.output_path).unlink(missing_ok=True)
    await app.repos.clips.delete_for_session(session.id)


async def test_an_old_link_never_serves_a_newer_clip_of_anyone(linked_app):
    app = linked_app
    ann, _ = await app.repos.users.get_or_create("telegram", "1", "Ann")
    bob, _ = await app.repos.users.get_or_create("telegram", "2", "Bob")
    ann_session = await app.repos.sessions.start(ann.id, "telegram:1", "local", "loc_ann")
    bob_session = await app.repos.sessions.start(bob.id, "telegram:2", "local", "loc_bob")
    await _rendered(app, bob_session, 1, "b0b000000001", b"bob's first clip")
    ann_clips = [await _rendered(app, ann_session, 1, "a00000000001", b"ann's clip one"),
                 await _rendered(app, ann_session, 2, "a00000000002", b"ann's clip two")]
    ann_links = [app.link_for(v) for v in ann_clips]
    assert urlsplit(ann_links[1]).path == f"/f/{ann_clips[1].clip_id}-clip-02-a00000000002/clip-02-a00000000002.mp4"

    async with httpx.AsyncClient(timeout=5, trust_env=False) as http:
        assert (await http.get(ann_links[1])).content == b"ann's clip two"
        # Ann cuts again (one clip), then Bob does (two): the ids her old clips had were free to come back
        await _forget(app, ann_session)
        ann_new = await _rendered(app, ann_session, 1, "a00000000003", b"ann's new clip")
        await _forget(app, bob_session)
        bob_new = [await _rendered(app, bob_session, n, f"b0b00000000{n + 1}", f"bob's clip {n}".encode())
                   for n in (1, 2)]
        for link in ann_links:
            answer = await http.get(link)
            assert answer.status_code == 404, answer.content
            assert not any(answer.content == v.path.read_bytes() for v in (*bob_new, ann_new))

        # a link moved onto another clip keeps the old signature: refused before any lookup
        path, query = _parts(app.link_for(ann_new))
        bob_path, _ = _parts(app.link_for(bob_new[0]))
        forged = f"{app.signer.base_url}{bob_path}?exp={query['exp']}&sig={query['sig']}"
        assert (await http.get(forged)).status_code == 403

        # an edit renders the clip to a new file: the old link does not serve the new content
        before = app.link_for(ann_new)
        edited = app.settings.output_dir / "loc_ann" / "clip-01-a00000000004.mp4"
        edited.write_bytes(b"ann's edited clip")
        await app.repos.clips.update(ann_new.clip_id, output_path=str(edited))
        assert (await http.get(before)).status_code == 404
        after = app.link_for(dataclasses.replace(ann_new, path=edited))
        assert (await http.get(after)).content == b"ann's edited clip"


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

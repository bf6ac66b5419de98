"""Files both ways between the real Telegram adapter and the fake Bot API: streamed, intact, and
nothing left half-written. No engine here: the files are made-up bytes."""
from __future__ import annotations

import hashlib
import os
import tracemalloc

import pytest
from telegram.error import BadRequest

from adapters.telegram_adapter import TelegramAdapter
from shortsbot.app import App
from bot.fetch import TooLarge
from bot.messages import ChatRef, VideoReply
from bot.settings import Settings
from tests.telegram.fake_bot_api import FakeBotApi

MB = 1024 * 1024
CHAT = ChatRef("telegram", "1001")


@pytest.fixture
async def fake(tmp_path):
    server = await FakeBotApi(upload_dir=tmp_path / "received").start()
    yield server
    await server.stop()


@pytest.fixture
async def adapter(fake, tmp_path):
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", telegram_bot_token=fake.token,
                        telegram_api_url=fake.base_url, telegram_file_url=fake.base_file_url, max_upload_mb=2,
                        telegram_retry_delays_s=[0.05, 0.1])
    running = TelegramAdapter(App(settings))
    await running.start()
    yield running
    await running.stop()


@pytest.fixture(scope="module")
def short(tmp_path_factory):
    """24 MB of made-up "video" (under the 50 MB a bot may send) and a small JPEG-named thumbnail."""
    folder = tmp_path_factory.mktemp("short")
    video, thumbnail = folder / "short.mp4", folder / "short.jpg"
    video.write_bytes(os.urandom(24 * MB))
    thumbnail.write_bytes(os.urandom(30 * 1024))
    return video, thumbnail


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def test_a_video_goes_up_streamed_from_disk_not_read_into_memory(adapter, fake, short):
    video, thumbnail = short
    tracemalloc.start()
    try:
        await adapter.send(CHAT, VideoReply(video, 1080, 1920, 30.0, caption="#one", thumbnail=thumbnail))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    [sent] = fake.calls_to("sendVideo", ok_only=True)
    assert sent.file("video").filename == "short.mp4" and sha256(sent.file("video").path) == sha256(video)
    assert sent.params["thumbnail"].startswith("attach://")
    assert sha256(sent.file("thumbnail").path) == sha256(thumbnail)
    # Without streaming, python-telegram-bot reads the whole 24 MB into memory before sending.
    assert peak < 6 * MB, f"the upload held {peak / MB:.1f} MB in memory"


@pytest.mark.parametrize("status, retry_after", [(502, None), (429, 1)])
async def test_a_retried_upload_sends_the_whole_file_again(adapter, fake, short, status, retry_after):
    """502: the adapter's retry opens the file again. 429: PTB's rate limiter re-sends the same request,
    and httpx rewinds the handle."""
    video, _ = short
    fake.fail_next("sendVideo", status=status, description="Bad Gateway" if status == 502 else
                   "Too Many Requests: retry after 1", retry_after=retry_after)
    await adapter.send(CHAT, VideoReply(video, 1080, 1920, 30.0))
    failed, sent = fake.calls_to("sendVideo")
    assert (failed.status, sent.status) == (status, 200)
    assert sent.file("video").size == video.stat().st_size and sha256(sent.file("video").path) == sha256(video)


async def test_a_download_arrives_whole_and_a_refused_or_oversized_one_leaves_nothing(adapter, fake, tmp_path):
    source = tmp_path / "talk.mp4"
    source.write_bytes(os.urandom(MB + 5))
    target = tmp_path / "incoming" / "talk.mp4"
    file = fake.add_file(source)
    assert await adapter._download(file["file_id"], file["file_size"], target) == target
    assert sha256(target) == sha256(source)

    fake.fail_next("download", status=403, description="Forbidden")
    refused = tmp_path / "incoming" / "refused.mp4"
    with pytest.raises(BadRequest, match="HTTP 403") as forbidden:
        await adapter._download(file["file_id"], file["file_size"], refused)

    big = tmp_path / "big.mp4"
    big.write_bytes(os.urandom(3 * MB))             # over MAX_UPLOAD_MB=2, though Telegram says 1 MB
    lying = fake.add_file(big, size=MB)
    with pytest.raises(TooLarge) as too_large:
        await adapter._download(lying["file_id"], lying["file_size"], tmp_path / "incoming" / "big.mp4")
    assert sorted(p.name for p in (tmp_path / "incoming").iterdir()) == ["talk.mp4"]
    # the file URL carries the bot token; what the failures say (and what is logged of them) does not
    for failure in (forbidden.value, too_large.value):
        assert fake.token not in f"{failure} {failure!r}"

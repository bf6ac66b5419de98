"""Starting and stopping the adapter the way `shortsbot run` does, against the fake Bot API."""
from __future__ import annotations

import asyncio
import time

import pytest

from adapters.telegram_adapter import TelegramAdapter
from shortsbot.app import App, AppError
from bot.messages import ChatRef, TextReply
from shortsbot.commands.serve import serve
from bot.settings import Settings
from tests.bot.chat_helpers import LAST_WORDS, run_a_job_that_speaks_when_stopped
from tests.telegram.fake_bot_api import FakeBotApi


LONG_POLL_S = 0.1      # the longest the fake holds a getUpdates: a running poller asks again at least this often


@pytest.fixture
async def fake():
    server = await FakeBotApi(long_poll_cap=LONG_POLL_S).start()
    yield server
    await server.stop()


def settings_for(fake: FakeBotApi, token: str, tmp_path) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path, telegram_bot_token=token,
                    telegram_api_url=fake.base_url, telegram_file_url=fake.base_file_url)


async def test_a_refused_token_stops_the_start_with_one_line_that_says_what_to_do(fake, tmp_path):
    adapter = TelegramAdapter(App(settings_for(fake, "123456:WRONG", tmp_path)))
    with pytest.raises(AppError, match="Telegram refused TELEGRAM_BOT_TOKEN.*BotFather"):
        await adapter.start()
    [get_me] = fake.calls_to("getMe")
    assert get_me.status == 401
    assert not fake.calls_to("getUpdates"), "no polling with a bad token"


async def test_start_registers_the_sink_and_polls_and_stop_ends_polling(fake, tmp_path):
    app = App(settings_for(fake, fake.token, tmp_path))
    adapter = TelegramAdapter(app)
    await adapter.start()
    try:
        assert adapter.identity.username == fake.bot_username
        assert app.upload_limit("telegram") == 50 * 1024 * 1024     # what the cloud Bot API takes from bots
        await fake.wait_for(lambda c: c.method == "getUpdates")
        await app.post(ChatRef("telegram", "1001"), TextReply("Your short is ready <3"))   # routed to our sink
        [sent] = fake.calls_to("sendMessage", chat_id=1001)
        assert sent.params["text"] == "Your short is ready &lt;3" and sent.params["parse_mode"] == "HTML"
    finally:
        await adapter.stop()
    stopped_at = time.monotonic()
    assert adapter.application is None
    await asyncio.sleep(5 * LONG_POLL_S)         # a poller still running would have asked again by now
    assert not [c for c in fake.calls_to("getUpdates") if c.at > stopped_at]


async def test_shortsbot_run_stops_polling_then_lets_jobs_finish_speaking_then_disconnects(fake, tmp_path):
    app = App(settings_for(fake, fake.token, tmp_path))
    stop = asyncio.Event()
    running = asyncio.create_task(serve(app.settings, stop, app=app))
    await fake.wait_for(lambda c: c.method == "getUpdates")
    await run_a_job_that_speaks_when_stopped(app, "telegram", "1001")

    stop.set()                                   # what SIGTERM does
    assert await asyncio.wait_for(running, 30) == 0
    [said] = fake.calls_to("sendMessage", chat_id=1001)
    assert said.status == 200 and said.params["text"] == LAST_WORDS
    assert max(c.at for c in fake.calls_to("getUpdates")) < said.at, "no new updates were taken while stopping"

"""PerChatRateLimiter and the network retries, with python-telegram-bot's real Bot against the fake Bot API."""
from __future__ import annotations

import asyncio
import time

import pytest
from telegram import Bot
from telegram.error import BadRequest
from telegram.ext import ExtBot

from adapters.telegram_adapter import PerChatRateLimiter, with_network_retries
from tests.telegram.fake_bot_api import FakeBotApi


@pytest.fixture
async def fake():
    server = await FakeBotApi().start()
    yield server
    await server.stop()


async def limited_bot(fake: FakeBotApi, **limiter_args) -> ExtBot:
    bot = ExtBot(fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url,
                 rate_limiter=PerChatRateLimiter(**limiter_args))
    await bot.initialize()
    return bot


async def test_one_message_a_second_per_chat_while_other_chats_go_at_once(fake):
    """Per chat, one message per 1/per_chat_rate seconds (Telegram's one a second, shortened here)."""
    bot = await limited_bot(fake, per_chat_rate=4.0)
    try:
        started = time.monotonic()

        async def three_to_one_chat() -> None:
            for text in ("one", "two", "three"):
                await bot.send_message(1001, text)

        first_chat_task = asyncio.create_task(three_to_one_chat())
        await fake.wait_for(lambda c: c.chat_id == "1001", timeout=10)
        await bot.send_message(1002, "elsewhere")
        await first_chat_task
    finally:
        await bot.shutdown()
    first_chat = [c.at for c in fake.calls_to("sendMessage", chat_id=1001)]
    assert len(first_chat) == 3 and first_chat[-1] - started >= 2 * 0.25    # the limiter held two of them back
    [other] = fake.calls_to("sendMessage", chat_id=1002)
    assert other.at < first_chat[1], "another chat does not wait for this one"


async def test_429_is_retried_after_retry_after(fake):
    bot = await limited_bot(fake, max_retries=2)
    fake.fail_next("sendMessage", status=429, description="Too Many Requests: retry after 1", retry_after=1)
    try:
        await bot.send_message(1001, "hello")
    finally:
        await bot.shutdown()
    limited, sent = fake.calls_to("sendMessage")
    assert (limited.status, sent.status) == (429, 200)
    assert sent.at - limited.at >= 1.0


async def test_network_errors_are_retried_with_backoff_but_bad_requests_are_not(fake):
    bot = Bot(fake.token, base_url=fake.base_url)
    await bot.initialize()
    try:
        fake.fail_next("sendMessage", status=503, description="Service Unavailable", times=2)
        await with_network_retries(lambda: bot.send_message(1001, "hi"), "sendMessage", delays=(0.2, 0.4, 0.8))
        attempts = fake.calls_to("sendMessage")
        assert [c.status for c in attempts] == [503, 503, 200]
        assert attempts[1].at - attempts[0].at >= 0.2 and attempts[2].at - attempts[1].at >= 0.4

        fake.fail_next("sendMessage", status=400, description="Bad Request: chat not found")
        with pytest.raises(BadRequest):
            await with_network_retries(lambda: bot.send_message(1001, "hi"), "sendMessage", delays=(0.2,))
        assert len(fake.calls_to("sendMessage")) == 4
    finally:
        await bot.shutdown()

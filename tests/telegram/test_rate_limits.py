"""Telegram's limits: the chat pacer's order and reserve, PerChatRateLimiter and the network retries,
with python-telegram-bot's real Bot against the fake Bot API. Rates are shortened; nothing here
asserts how fast anything is, only what went first and what waited."""
from __future__ import annotations

import asyncio
import time

import pytest
from telegram import Bot
from telegram.error import BadRequest
from telegram.ext import ExtBot

from adapters.telegram_adapter import TelegramAdapter
from adapters.telegram_limits import (GROUP_CHAT, PRIVATE_CHAT, Answering, Budget, ChatPacer, PerChatRateLimiter,
                                      Urgency, answering, with_network_retries)
from bot.messages import ChatRef, ProgressReply
from bot.settings import Settings
from shortsbot.app import App
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


async def settle(rounds: int = 20) -> None:
    for _ in range(rounds):
        await asyncio.sleep(0.01)


async def test_the_pacer_serves_answers_then_job_messages_then_progress():
    pacer = ChatPacer(Budget(per_second=20, burst=1, kept_for_answers=0))
    await pacer.turn(Urgency.ANSWER)                 # the bucket is empty now: everyone after waits
    served: list[str] = []

    async def wait(urgency: Urgency, name: str) -> None:
        await pacer.turn(urgency)
        served.append(name)

    arrivals = [(Urgency.PROGRESS, "progress"), (Urgency.JOB, "clip"), (Urgency.ANSWER, "answer 1"),
                (Urgency.PROGRESS, "progress 2"), (Urgency.ANSWER, "answer 2")]
    tasks = []
    for urgency, name in arrivals:                   # in this order of arrival
        tasks.append(asyncio.create_task(wait(urgency, name)))
        await asyncio.sleep(0)
    await asyncio.gather(*tasks)
    assert served == ["answer 1", "answer 2", "clip", "progress", "progress 2"]


async def test_progress_leaves_part_of_the_bucket_for_answers():
    """A bucket of 4 that hardly refills: progress takes 2 and then waits; answers still find 2."""
    pacer = ChatPacer(Budget(per_second=0.001, burst=4, kept_for_answers=2))
    progress_done = []

    async def progress() -> None:
        await pacer.turn(Urgency.PROGRESS)
        progress_done.append(True)

    waiting = [asyncio.create_task(progress()) for _ in range(3)]
    await settle()
    assert len(progress_done) == 2
    await asyncio.wait_for(asyncio.gather(pacer.turn(Urgency.ANSWER), pacer.turn(Urgency.ANSWER)), 5)
    assert len(progress_done) == 2
    for task in waiting:
        task.cancel()
    await asyncio.gather(*waiting, return_exceptions=True)


async def test_job_messages_leave_a_quarter_of_the_bucket_for_answers():
    """A bucket of 4 that hardly refills: the jobs' messages take 3 and then wait; an answer still finds one."""
    pacer = ChatPacer(Budget(per_second=0.001, burst=4, kept_for_answers=2))
    sent = []

    async def job_message() -> None:
        await pacer.turn(Urgency.JOB)
        sent.append(True)

    waiting = [asyncio.create_task(job_message()) for _ in range(4)]
    await settle()
    assert len(sent) == 3
    await asyncio.wait_for(pacer.turn(Urgency.ANSWER), 5)
    for task in waiting:
        task.cancel()
    await asyncio.gather(*waiting, return_exceptions=True)


async def test_a_cancelled_waiter_gives_its_place_to_the_next():
    pacer = ChatPacer(Budget(per_second=20, burst=1, kept_for_answers=0))
    await pacer.turn(Urgency.ANSWER)
    gone = asyncio.create_task(pacer.turn(Urgency.ANSWER))
    await asyncio.sleep(0)
    gone.cancel()
    await asyncio.wait_for(pacer.turn(Urgency.JOB), 5)
    assert gone.cancelled()


async def test_each_chat_is_paced_alone_and_groups_have_their_own_budget(fake):
    """In a chat with a budget of one message per 0.25 s, three wait for each other; another chat
    does not wait for them."""
    bot = await limited_bot(fake, private=Budget(per_second=4.0, burst=1, kept_for_answers=0))
    try:
        started = time.monotonic()

        async def three_to_one_chat() -> None:
            for text in ("one", "two", "three"):
                await bot.send_message(1001, text)

        first_chat_task = asyncio.create_task(three_to_one_chat())
        await fake.wait_for(lambda c: c.chat_id == "1001")
        await bot.send_message(1002, "elsewhere")
        await first_chat_task
        limiter = bot.rate_limiter
        assert limiter.pacer(-100123).budget is limiter.group and limiter.pacer(1001).budget is limiter.private
    finally:
        await bot.shutdown()
    first_chat = [c.at for c in fake.calls_to("sendMessage", chat_id=1001)]
    assert len(first_chat) == 3 and first_chat[-1] - started >= 2 * 0.25    # the pacer held two of them back
    [other] = fake.calls_to("sendMessage", chat_id=1002)
    assert other.at < first_chat[1], "another chat does not wait for this one"


def test_the_rates_are_settings_and_the_bursts_and_reserves_are_telegrams(tmp_path):
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", telegram_bot_token="1:x",
                        telegram_private_chat_per_s=2.5, telegram_group_per_minute=30)
    limiter = TelegramAdapter(App(settings)).limiter
    assert (limiter.private.per_second, limiter.group.per_second) == (2.5, 0.5)
    assert (limiter.private.burst, limiter.group.burst) == (PRIVATE_CHAT.burst, GROUP_CHAT.burst)
    assert limiter.group.kept_from(Urgency.PROGRESS) == GROUP_CHAT.kept_from(Urgency.PROGRESS)
    default = TelegramAdapter(App(Settings(_env_file=None, data_dir=tmp_path / "data", telegram_bot_token="1:x"))).limiter
    assert (default.private, default.group) == (PRIVATE_CHAT, GROUP_CHAT)


async def test_an_answer_overtakes_progress_waiting_in_the_same_chat(fake):
    bot = await limited_bot(fake, private=Budget(per_second=5.0, burst=1, kept_for_answers=0))
    pacer = bot.rate_limiter.pacer(1001)
    try:
        await bot.send_message(1001, "first")                       # takes the chat's only token

        async def progress() -> None:
            await pacer.turn(Urgency.PROGRESS)
            await bot.send_message(1001, "progress", rate_limit_args=Urgency.PACED)

        async def answer() -> None:
            answering.set(Answering("1001", "7", time.monotonic()))
            await bot.send_message(1001, "answer")

        behind = asyncio.create_task(progress())
        await asyncio.sleep(0)
        await asyncio.gather(answer(), behind)
    finally:
        await bot.shutdown()
    assert [c.params["text"] for c in fake.calls_to("sendMessage", chat_id=1001)] == ["first", "answer", "progress"]


async def test_progress_states_superseded_while_waiting_for_a_turn_are_never_sent(fake, tmp_path):
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", telegram_bot_token=fake.token,
                        telegram_api_url=fake.base_url, telegram_file_url=fake.base_file_url)
    adapter = TelegramAdapter(App(settings))
    adapter.limiter = PerChatRateLimiter(private=Budget(per_second=5.0, burst=1, kept_for_answers=0))
    await adapter.start()
    ref = ChatRef("telegram", "1001")
    try:
        await adapter.send(ref, ProgressReply("job-1", "step 0", 0.0))
        await fake.wait_for(lambda c: c.method == "sendMessage" and c.status == 200)
        for step in range(1, 10):                    # all while the writer waits for its turn
            await adapter.send(ref, ProgressReply("job-1", f"step {step}", step / 10))
        await adapter.send(ref, ProgressReply("job-1", "Done", 1.0, done=True))
    finally:
        await adapter.stop()
    shown = [c.params["text"].split("\n")[0] for c in fake.calls
             if c.method in ("sendMessage", "editMessageText") and c.chat_id == "1001"]
    assert shown[0] == "step 0" and shown[-1] == "Done"
    assert len(shown) <= 3, f"superseded states were sent: {shown}"


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
        await with_network_retries(lambda: bot.send_message(1001, "hi"), "sendMessage", delays=(0.02, 0.04, 0.08))
        attempts = fake.calls_to("sendMessage")
        assert [c.status for c in attempts] == [503, 503, 200]
        assert attempts[1].at - attempts[0].at >= 0.02 and attempts[2].at - attempts[1].at >= 0.04

        fake.fail_next("sendMessage", status=400, description="Bad Request: chat not found")
        with pytest.raises(BadRequest):
            await with_network_retries(lambda: bot.send_message(1001, "hi"), "sendMessage", delays=(0.02,))
        assert len(fake.calls_to("sendMessage")) == 4
    finally:
        await bot.shutdown()

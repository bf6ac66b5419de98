"""A busy group: Telegram allows about 20 messages a minute there, edits included, shared by
everyone in it. The jobs' messages and progress must leave enough of that for answers, and a
job's progress message is edited sparingly there. No clocks are raced: the pacer's clock is
frozen (nothing refills), and the adapter's spacing is checked by what was sent."""
from __future__ import annotations

import asyncio

import pytest

from adapters.telegram_adapter import TelegramAdapter
from adapters.telegram_limits import GROUP_CHAT, ChatPacer, Urgency, is_group_chat
from bot.messages import ChatRef, ProgressReply, TextReply
from bot.settings import Settings
from shortsbot.app import App
from tests.telegram.fake_bot_api import FakeBotApi

GROUP = "-100123"


@pytest.fixture
async def fake():
    server = await FakeBotApi().start()
    yield server
    await server.stop()


async def settle(rounds: int = 20) -> None:
    for _ in range(rounds):
        await asyncio.sleep(0.01)


async def test_in_a_group_jobs_and_progress_never_take_the_reserve_a_round_of_answers_needs():
    """Nothing refills: jobs' messages take half of the group's 20, progress none of the rest, and
    ten answers (five people asking "status" and "credits?") still find a token each at once."""
    pacer = ChatPacer(GROUP_CHAT, clock=lambda: 0.0)
    granted: list[Urgency] = []

    async def wants(urgency: Urgency) -> None:
        await pacer.turn(urgency)
        granted.append(urgency)

    waiting = [asyncio.create_task(wants(Urgency.JOB)) for _ in range(30)]
    waiting += [asyncio.create_task(wants(Urgency.PROGRESS)) for _ in range(10)]
    await settle()
    assert granted.count(Urgency.JOB) == GROUP_CHAT.burst / 2 and Urgency.PROGRESS not in granted
    answers = [asyncio.create_task(wants(Urgency.ANSWER)) for _ in range(10)]
    await settle()
    assert all(task.done() for task in answers), "an answer waited behind the jobs' messages"
    assert granted.count(Urgency.ANSWER) == 10 and pacer.tokens == 0
    for task in waiting:
        task.cancel()
    await asyncio.gather(*waiting, return_exceptions=True)


def test_group_and_private_chats_are_told_apart_by_their_id():
    assert is_group_chat(GROUP) and is_group_chat("@channel") and not is_group_chat("1001")


async def test_a_progress_message_in_a_group_is_edited_sparingly_and_its_end_shown_at_once(fake, tmp_path):
    """Ten states come while the first is on screen; in a group none of them is shown (the next
    edit is not due yet) but the final state goes out at once: one message and one edit."""
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", telegram_bot_token=fake.token,
                        telegram_api_url=fake.base_url, telegram_file_url=fake.base_file_url)
    adapter = TelegramAdapter(App(settings))
    adapter.group_progress_every_s = 3600.0
    await adapter.start()
    ref = ChatRef("telegram", GROUP, reply_to="5")
    try:
        await adapter.send(ref, ProgressReply("job-1", "step 0", 0.0))
        await fake.wait_for(lambda c: c.method == "sendMessage" and c.status == 200)
        for step in range(1, 10):
            await adapter.send(ref, ProgressReply("job-1", f"step {step}", step / 10))
            await asyncio.sleep(0.01)
        await asyncio.wait_for(adapter.send(ref, ProgressReply("job-1", "Done", 1.0, done=True)), 60)
    finally:
        await adapter.stop()
    shown = [(c.method, c.params["text"].split("\n")[0]) for c in fake.calls
             if c.method in ("sendMessage", "editMessageText") and c.chat_id == GROUP]
    assert shown == [("sendMessage", "step 0"), ("editMessageText", "Done")]


async def test_in_a_group_a_progress_message_never_shown_is_not_posted_only_to_say_done(fake, tmp_path):
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", telegram_bot_token=fake.token,
                        telegram_api_url=fake.base_url, telegram_file_url=fake.base_file_url)
    adapter = TelegramAdapter(App(settings))
    await adapter.start()
    pacer = adapter.limiter.pacer(GROUP)
    pacer.tokens = 0.0                     # the group's minute is used up: progress gets no turn
    try:
        await adapter.send(ChatRef("telegram", GROUP), ProgressReply("job-1", "step 0", 0.0))
        await settle()                     # the writer now waits for a turn that will not come soon
        await adapter.send(ChatRef("telegram", GROUP), ProgressReply("job-1", "Done", 1.0, done=True))
        await adapter.send(ChatRef("telegram", "1001"), TextReply("after"))
    finally:
        await adapter.stop()
    assert [c.chat_id for c in fake.calls if c.method in ("sendMessage", "editMessageText")] == ["1001"]

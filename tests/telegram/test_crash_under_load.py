"""The bot killed (SIGKILL) while several people's jobs run, then started again as a new process:
every job finishes, every clip arrives once, every credit is charged once.

The kill never lands in the few milliseconds between Telegram taking a short and the bot writing
down that it was taken: a kill there sends that short again after the restart (delivery is at
least once: the Bot API has no way to ask whether a message arrived), and on a busy machine those
milliseconds grow. So before the kill the fake Bot API stops taking shorts, and the bot is killed
once every short it is sending waits there, unanswered; those are never taken, and the restarted
bot sends them again.

The bot is `shortsbot run` in a subprocess against the fake Bot API on loopback; the only waits
with a limit are there so a hang fails the test instead of stalling the run. The shorts are small
(360p): what is tested is delivery, not the picture."""
from __future__ import annotations

import asyncio

import pytest

from tests.bot.chat_helpers import link_cache
from tests.bot.chat_helpers import warm_talk  # noqa: F401  (fixture)
from tests.telegram.crowd import (
    BOT_ID, BOT_NAME, TOKEN, BotProcess, Crowd, crowd, first_job_done, jobs_left, ledger_of, sends_in_flight,
    wait_jobs_done,
)
from tests.telegram.fake_bot_api import FakeBotApi

pytestmark = [pytest.mark.slow]

HANG = 600.0        # seconds after which a wait counts as a hang
SENDS = {"sendVideo", "sendDocument"}
INSTRUCTION = "cut 1 short of 10 seconds in 360p"


@pytest.mark.timeout(1800)
async def test_a_bot_killed_mid_run_finishes_every_job_once_after_restart(tmp_path, warm_talk):
    fake = await FakeBotApi(token=TOKEN, bot_id=BOT_ID, bot_username=BOT_NAME, upload_dir=tmp_path / "uploads").start()
    people = crowd([warm_talk.path], people=3, in_group=1, cancelling=None)
    link_cache(warm_talk.cache, tmp_path / "data")      # the talk's transcript: what is tested is delivery, not Whisper
    # Telegram's pacing is tested elsewhere (test_rate_limits, test_group_budget, bench/bench_load.py):
    # this fake takes what the bot sends at once, so no job waits for its turn to speak.
    bot = BotProcess(fake, tmp_path / "data", render_concurrency=2, telegram_private_chat_per_s=50,
                     telegram_group_per_minute=3000)
    try:
        bot.start()
        talk = Crowd(fake, people)
        await talk.ready()
        await talk.send_videos(INSTRUCTION)
        # Killed once the first job is done: the others are being analysed, rendered or wait their turn.
        assert await first_job_done(bot.database)
        fake.close_gate(SENDS)
        assert await every_send_waiting(fake, bot.database, HANG)
        assert jobs_left(bot.database) > 0, "everything finished before the kill; nothing was tested"
        bot.kill()
        fake.open_gate(drop_waiting=True)

        bot.start()
        assert await wait_jobs_done(bot.database, HANG)
        assert await talk.wait_answered(HANG) == []
        # Stopped before anything is counted: whatever the bot would send twice, it sent before it exited.
        assert await bot.stopped() == 0, (bot.data_dir / "bot.log").read_text()[-3000:]
    finally:
        await bot.stopped()
        await fake.stop()
    for person in people:
        ledger = ledger_of(bot.database, person.user["id"])
        assert ledger.job_states == ["done"], (person.number, ledger, (bot.data_dir / "bot.log").read_text()[-3000:])
        clips = talk.clips_sent(person)
        assert len(clips) == 1, f"person {person.number} got {len(clips)} shorts"
        assert len(ledger.charges) == 1 and ledger.open_holds == 0, ledger
    assert max(ledger_of(bot.database, p.user["id"]).attempts[0] for p in people) == 2, "no job was interrupted"


async def every_send_waiting(fake: FakeBotApi, database, timeout: float) -> bool:
    """Whether every short the bot began sending is waiting at the fake's gate (none taken and
    not yet written down)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while sends_in_flight(database) != fake.waiting_at_gate:
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True

"""Load benchmark: twenty people using one bot at once, through the fake Telegram Bot API.

    .venv/bin/python bench/bench_load.py [--people 20] [--group 5] [--crash] [--loop-debug]

The bot is the real `shortsbot run` (local engine, real SQLite, ffmpeg, Whisper) in its own
process. Fifteen people write to it in private chats and five in one group; each sends a short
talk (three different ones go round) with "cut 1 short of 10 seconds in 480p", then, every few
"status" and "credits?" twice while the renders run (once everyone's video is in, and again once
the first job is done). Person 3 sends /cancel. With --crash the bot is also SIGKILLed a few
seconds after the first round of questions, and started again.

Reported: messages answered, time to answer a text message while renders run (p50, p99, max;
target p99 < 300 ms), in private chats and in the group; the bot's own account of each answer
(its log, adapters/telegram_limits.py): how long handling the message took before the answer
asked for its turn in the chat, and how long it then waited for that turn; queue positions said
against the database's record, shorts per person (exactly one each, none for the cancelled one),
charges per person (one each, none for the cancelled one), open holds left (none); the load
average. --loop-debug runs the bot with asyncio's debug mode and counts the event-loop steps it
reports as slow (over 100 ms): CPU work on the loop would show there.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.media import Piece, make_talk_video  # noqa: E402
from tests.telegram.crowd import (  # noqa: E402
    BOT_ID, BOT_NAME, TOKEN, BotProcess, Crowd, answer_timings, any_job_done, crowd, expected_positions, ledger_of,
    percentile, slow_callbacks, wait_jobs_done,
)
from adapters.telegram_limits import UNPACED  # noqa: E402
from tests.telegram.fake_bot_api import FakeBotApi  # noqa: E402

OUT = ROOT / "bench" / "out" / "load"
TALKS = [
    ["Welcome to the bakery show.", "Do you want to know how we doubled our sales?",
     "We gave free bread to every child, and the parents loved it!", "That is the lesson. Generosity brings them back.",
     "Thank you for listening."],
    ["Today we talk about rice farming.", "The water must stay ankle deep for the first weeks.",
     "Here is the surprise: ducks in the field ate every pest!", "Our harvest grew by a third in one season.",
     "See you next time."],
    ["This is a short talk about running.", "I ran my first marathon at fifty years old.",
     "Never start too fast. That is the secret that saved my race!", "Rest days matter as much as long runs.",
     "Goodbye for now."],
]
ROUND_SECONDS = 3.0
HANG = 1800.0
CANCELLING = 3


def make_talks() -> list[Path]:
    OUT.mkdir(parents=True, exist_ok=True)
    made = []
    for n, sentences in enumerate(TALKS):
        path = OUT / f"talk-{n}.mp4"
        if not path.exists():
            make_talk_video(path, [Piece(text=t, pause_after=1.0) for t in sentences], size="320x180", fps=15)
        made.append(path)
    return made


async def run(people_count: int, in_group: int, crash: bool, render_concurrency: int, loop_debug: bool) -> dict:
    work = Path(tempfile.mkdtemp(prefix="bench-load-"))
    fake = await FakeBotApi(token=TOKEN, bot_id=BOT_ID, bot_username=BOT_NAME, upload_dir=work / "uploads").start()
    people = crowd(make_talks(), people_count, in_group, CANCELLING)
    extra = {"pythonasynciodebug": "1"} if loop_debug else {}
    bot = BotProcess(fake, work / "data", render_concurrency=render_concurrency, **extra)
    talk = Crowd(fake, people)
    killed_at = None
    load_before = os.getloadavg()
    started = time.monotonic()
    try:
        bot.start()
        await talk.ready()
        await talk.send_videos()
        # Questions start once everyone's video is in (before that a person's question waits, by
        # design, for their own upload to be handled: their messages are handled in order).
        unanswered = await talk.wait_answered(HANG)
        assert not unanswered, unanswered
        uploaded_at = time.monotonic() - started
        # Everyone asks "status" and "credits?" twice while the renders run: at once, and again
        # once the first job is done; person 3 also sends /cancel.
        for round_ in range(2):
            if round_:
                while not any_job_done(bot.database):
                    await asyncio.sleep(0.5)
            for person in people:
                if round_ == 0 and person.cancels:
                    await talk.ask(person, "/cancel")
                await talk.ask(person, "status")
                await talk.ask(person, "credits?")
                await asyncio.sleep(0.1)
            if crash and killed_at is None:
                await asyncio.sleep(ROUND_SECONDS)
                bot.kill()
                killed_at = time.monotonic() - started
                bot.start()
                await talk.ready()
        assert await wait_jobs_done(bot.database, HANG)
        unanswered = await talk.wait_answered(60)
        wall = time.monotonic() - started
    finally:
        await bot.stopped()
        await fake.stop()
    result = report(talk, bot, people, unanswered, wall, killed_at, render_concurrency)
    result["all_uploads_answered_s"] = round(uploaded_at, 1)
    result["group_sends"] = group_sends(fake, people)
    result["load_average_1min"] = {"start": round(load_before[0], 1), "end": round(os.getloadavg()[0], 1)}
    slow = slow_callbacks(bot.log)
    if loop_debug:
        result["slow_loop_steps"] = {"count": len(slow), "max_ms": round(max(slow) * 1000) if slow else 0,
                                     "total_s": round(sum(slow), 1)}
    return result


def report(talk: Crowd, bot: BotProcess, people, unanswered, wall: float, killed_at: float | None,
           workers: int) -> dict:
    questions = ("status", "credits?", "/cancel")
    text_times = talk.answer_times(questions)
    private = talk.answer_times(questions, group=False)
    group = talk.answer_times(questions, group=True)
    timings = answer_timings(bot.log)
    own = {"private": [], "group": []}
    by_question = {what: [] for what in questions}
    for person in people:
        for what, message_id, _ in person.asked:
            if what in questions and (timing := timings.get((person.chat_id, message_id))) is not None:
                own["group" if person.in_group else "private"].append(timing)
                by_question[what].append(timing.handled_s)
    positions = expected_positions(bot.database, workers)
    wrong_positions, shorts, charges, holds = [], {}, {}, 0
    for person in people:
        ledger = ledger_of(bot.database, person.user["id"])
        said = talk.queue_answers(person)
        expected = positions.get(ledger.job_ids[0], 0) if ledger.job_ids else 0
        if (said[0] if said else 0) != expected:
            wrong_positions.append((person.number, said, expected))
        shorts[person.number] = len(talk.clips_sent(person))
        charges[person.number] = len(ledger.charges)
        holds += ledger.open_holds
    asked = sum(len(p.asked) for p in people)
    cancelled = people[CANCELLING] if CANCELLING < len(people) else None
    return {
        "people": len(people), "in_group": sum(p.in_group for p in people), "wall_s": round(wall, 1),
        "killed_at_s": None if killed_at is None else round(killed_at, 1),
        "messages": asked, "unanswered": [(p.number, what) for p, what in unanswered],
        "text_answers": len(text_times),
        "text_answer_ms": {"p50": round(percentile(text_times, 50) * 1000), "p99": round(percentile(text_times, 99) * 1000),
                           "max": round(max(text_times) * 1000) if text_times else None},
        "text_answer_ms_private": p50_p99(private),
        "text_answer_ms_group": p50_p99(group),
        # the bot's own account: handling before the answer asked for its turn, then the wait for it
        "handle_ms_private": p50_p99([t.handled_s for t in own["private"]]),
        "handle_ms_group": p50_p99([t.handled_s for t in own["group"]]),
        "turn_wait_ms_private": p50_p99([t.waited_s for t in own["private"]]),
        "turn_wait_ms_group": p50_p99([t.waited_s for t in own["group"]]),
        # "credits?" comes right after "status": its handling starts with waiting for that one's (by design)
        "handle_ms_by_question": {what: p50_p99(times) for what, times in by_question.items()},
        "bot_api_call_ms": p50_p99([t.sent_s for t in own["private"] + own["group"]]),
        "timed_answers": len(own["private"]) + len(own["group"]),
        "queue_positions_wrong": wrong_positions,
        "shorts_per_person": shorts, "charges_per_person": charges, "open_holds": holds,
        "cancelled_person": None if cancelled is None else cancelled.number,
        "all_others_one_short_once": all(n == 1 for k, n in shorts.items() if k != CANCELLING),
        "all_others_charged_once": all(n == 1 for k, n in charges.items() if k != CANCELLING),
        "cancelled_charged": None if cancelled is None else charges[cancelled.number],
    }


def group_sends(fake: FakeBotApi, people) -> dict:
    """What the bot sent into the group chat, per Bot API method and, for texts, per how they begin."""
    group = {p.chat_id for p in people if p.in_group}
    by_method, by_text = Counter(), Counter()
    for call in fake.calls:
        if call.status != 200 or call.chat_id not in group or call.method in UNPACED:
            continue
        by_method[call.method] += 1
        if call.method in ("sendMessage", "editMessageText"):
            words = " ".join(str(call.params.get("text", "")).split()[:2])
            by_text[f"{call.method}: {words}"] += 1
    return {"total": sum(by_method.values()), "by_method": dict(by_method.most_common()),
            "by_text": dict(by_text.most_common())}


def p50_p99(seconds: list[float]) -> dict:
    if not seconds:
        return {"n": 0}
    return {"n": len(seconds), "p50": round(percentile(seconds, 50) * 1000), "p99": round(percentile(seconds, 99) * 1000)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=20)
    parser.add_argument("--group", type=int, default=5, help="how many of them write in one group chat")
    parser.add_argument("--crash", action="store_true", help="SIGKILL the bot once the first short is out, restart it")
    parser.add_argument("--render-concurrency", type=int, default=2)
    parser.add_argument("--loop-debug", action="store_true", help="asyncio debug mode in the bot: count slow loop steps")
    args = parser.parse_args(argv)
    result = asyncio.run(run(args.people, args.group, args.crash, args.render_concurrency, args.loop_debug))
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Many people using one real bot at once, through the fake Bot API on loopback.

The bot is `shortsbot run` in its own process (so it can be SIGKILLed and started again); the
fake Bot API runs in the caller's event loop. Each person sends a short talk with an instruction
in one message, then "status" and "credits?" while the renders run; one of them sends /cancel.
What the bot sent is read from the fake's record of Bot API calls, what it charged from its
SQLite database once it has stopped. Used by tests/telegram/test_crash_under_load.py (a few
people) and bench/bench_load.py (twenty).
"""
from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.telegram import bot_api_objects as tg
from tests.telegram.fake_bot_api import Call, FakeBotApi

BOT_ID = 7000000002
BOT_NAME = "CrowdBot"
TOKEN = f"{BOT_ID}:AAE-crowd-token-for-tests"
GROUP = tg.group_chat(-1001555000111, "Crowd editors")
INSTRUCTION = "cut 1 short of 10 seconds in 480p"
QUEUED = re.compile(r"^(\d+) jobs? ahead of yours", re.MULTILINE)   # in a group, after "Got ..."
# What an answer to each question starts with (a job's own messages may come in between).
ANSWERS = {"status": re.compile(r"^(Media: |No video yet)"), "credits?": re.compile(r"^Credits: "),
           "/cancel": re.compile(r"^(Stopped\.|Nothing is running)")}


@dataclass
class Person:
    number: int
    user: dict
    chat: dict
    video: Path
    cancels: bool = False
    video_message_id: int = 0
    asked: list[tuple[str, int, float]] = field(default_factory=list)    # (what, message id, sent at)

    @property
    def in_group(self) -> bool:
        return self.chat["id"] == GROUP["id"]

    @property
    def chat_id(self) -> str:
        return str(self.chat["id"])

    def text(self, words: str) -> str:
        return f"@{BOT_NAME} {words}" if self.in_group else words


def crowd(videos: list[Path], people: int, in_group: int, cancelling: int | None) -> list[Person]:
    """`people` people, the last `in_group` of them in one group chat, the rest each in a private chat."""
    found = []
    for n in range(people):
        user = tg.user(5000 + n, f"Person{n}", f"person{n}")
        chat = GROUP if n >= people - in_group else tg.private_chat(user)
        found.append(Person(n, user, chat, videos[n % len(videos)], cancels=n == cancelling))
    return found


class BotProcess:
    """`shortsbot run` with the Telegram adapter pointed at the fake."""

    def __init__(self, fake: FakeBotApi, data_dir: Path, **settings: str):
        self.fake, self.data_dir, self.settings = fake, data_dir, settings
        self.proc: subprocess.Popen | None = None
        self.log = data_dir / "bot.log"

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "BACKEND": "local", "DATA_DIR": str(self.data_dir), "TELEGRAM_BOT_TOKEN": TOKEN,
               "TELEGRAM_API_URL": self.fake.base_url, "TELEGRAM_FILE_URL": self.fake.base_file_url,
               "X264_PRESET": "ultrafast", "LOG_LEVEL": "INFO",
               **{k.upper(): str(v) for k, v in self.settings.items()}}
        for unset in ("DISCORD_BOT_TOKEN", "NEMO_TOKEN"):
            env.pop(unset, None)
        script = Path(sys.executable).with_name("shortsbot")
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen([str(script), "run"], env=env, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, as when the machine loses power."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        _reap_orphans(self.data_dir)

    async def stopped(self) -> int | None:
        """stop(), waited for outside the event loop: the fake Bot API in this loop answers the
        bot's last calls while it stops (a blocked loop would leave its last getUpdates to time out)."""
        return await asyncio.to_thread(self.stop)

    def stop(self) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.proc.returncode

    @property
    def database(self) -> Path:
        return self.data_dir / "shortsbot.sqlite3"


def _reap_orphans(data_dir: Path) -> None:
    """ffmpeg runs of a killed bot outlive it (as they would on a real machine until they end);
    they are ended here so the next start is not slowed by them."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if command.startswith("ffmpeg") and str(data_dir) in command:
            try:
                os.kill(int(entry.name), signal.SIGKILL)
            except OSError:
                pass


class Crowd:
    def __init__(self, fake: FakeBotApi, people: list[Person]):
        self.fake, self.people = fake, people
        self._indexed = 0
        self._by_chat: dict[str, list[Call]] = {}

    def _sent_to(self, chat_id: str) -> list[Call]:
        """The messages the bot sent to a chat, indexed as the fake records them."""
        for call in self.fake.calls[self._indexed:]:
            if call.status == 200 and call.method in ("sendMessage", "sendVideo", "sendDocument"):
                self._by_chat.setdefault(call.chat_id or "", []).append(call)
        self._indexed = len(self.fake.calls)
        return self._by_chat.get(chat_id, [])

    async def ready(self, timeout: float = 60) -> None:
        await self.fake.wait_for(lambda c: c.method == "getUpdates", timeout=timeout)

    def send(self, person: Person, words: str | None = None, *, with_video: bool = False) -> int:
        media = None
        if with_video:
            media = tg.video_fields(self.fake.add_file(person.video), file_name=person.video.name, duration=20)
        update = tg.message_update(person.chat, person.user, None if with_video else person.text(words or ""),
                                   caption=person.text(words or "") if with_video else None, media=media)
        self.fake.queue_update(update)
        return update["message"]["message_id"]

    async def send_videos(self, instruction: str = INSTRUCTION) -> None:
        for person in self.people:
            person.video_message_id = self.send(person, instruction, with_video=True)
            person.asked.append(("video", person.video_message_id, time.monotonic()))
            await asyncio.sleep(0.05)

    def answers_to(self, person: Person, message_id: int) -> list[Call]:
        """What the bot sent in answer to one message: in a group, what names that message as the
        one it replies to (as Telegram shows it); in a private chat, what it sent there after it."""
        sent = self._sent_to(person.chat_id)
        if person.in_group:
            return [c for c in sent if str((c.params.get("reply_parameters") or {}).get("message_id")) == str(message_id)]
        mine = [at for _, mid, at in person.asked if mid == message_id]
        if not mine:
            return []
        return [c for c in sent if c.at >= mine[0]]

    def answer_to(self, person: Person, what: str, message_id: int) -> Call | None:
        """The bot's answer to a question, recognised by how it starts."""
        pattern = ANSWERS.get(what)
        for call in self.answers_to(person, message_id):
            if pattern is None or pattern.match(call.params.get("text", "")):
                return call
        return None

    async def ask(self, person: Person, words: str) -> None:
        message_id = self.send(person, words)
        person.asked.append((words, message_id, time.monotonic()))

    async def wait_answered(self, timeout: float) -> list[tuple[Person, str]]:
        """Waits until every question asked so far has an answer; returns the unanswered ones."""
        deadline = time.monotonic() + timeout
        while True:
            missing = [(p, what) for p in self.people for what, message_id, _ in p.asked
                       if self.answer_to(p, what, message_id) is None]
            if not missing or time.monotonic() > deadline:
                return missing
            await asyncio.sleep(0.1)

    def answer_times(self, kinds: tuple[str, ...], group: bool | None = None) -> list[float]:
        """Seconds from sending each question of these kinds to the bot's first answer to it
        (`group`: only the people in the group chat, or only the others)."""
        times = []
        for person in self.people:
            if group is not None and person.in_group != group:
                continue
            for what, message_id, sent in person.asked:
                if what in kinds and (answer := self.answer_to(person, what, message_id)) is not None:
                    times.append(answer.at - sent)
        return times

    def clips_sent(self, person: Person) -> list[Call]:
        return [c for c in self.answers_to(person, person.video_message_id) if c.method in ("sendVideo", "sendDocument")]

    def queue_answers(self, person: Person) -> list[int]:
        return [int(m.group(1)) for c in self.answers_to(person, person.video_message_id)
                if c.method == "sendMessage" and (m := QUEUED.search(c.params.get("text", "")))]


# ---------------------------------------------------------------- what the bot's log says

ANSWER_TIMING = re.compile(r"answer to message (\d+) in chat (-?\d+): handled in (\d+) ms, "
                           r"waited (\d+) ms for its turn, sent in (\d+) ms")
SLOW_CALLBACK = re.compile(r"Executing .* took (\d+\.\d+) seconds")


@dataclass(frozen=True)
class AnswerTiming:
    """The bot's own account of its first answer to a message (adapters/telegram_limits.py)."""

    handled_s: float       # from the update's handler starting to the answer asking for its turn
    waited_s: float        # waiting for its turn in the chat's pacer
    sent_s: float          # the Bot API call itself


def answer_timings(log: Path) -> dict[tuple[str, int], AnswerTiming]:
    """(chat id, message id) -> the timing the bot logged for its first answer to that message."""
    found = {}
    for match in ANSWER_TIMING.finditer(log.read_text(errors="replace") if log.exists() else ""):
        message_id, chat_id, handled, waited, sent = match.groups()
        found[(chat_id, int(message_id))] = AnswerTiming(int(handled) / 1000, int(waited) / 1000, int(sent) / 1000)
    return found


def slow_callbacks(log: Path) -> list[float]:
    """Seconds of each event-loop step asyncio's debug mode reported as slow (PYTHONASYNCIODEBUG=1)."""
    return [float(m.group(1)) for m in SLOW_CALLBACK.finditer(log.read_text(errors="replace") if log.exists() else "")]


# ---------------------------------------------------------------- what the bot's database says

def jobs_left(database: Path) -> int:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10) as db:
        return db.execute("SELECT COUNT(*) FROM jobs WHERE state IN ('queued', 'running')").fetchone()[0]


def any_job_done(database: Path) -> bool:
    if not database.exists():
        return False
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10) as db:
        return db.execute("SELECT 1 FROM jobs WHERE state = 'done' LIMIT 1").fetchone() is not None


async def first_job_done(database: Path, timeout: float = 1800.0) -> bool:
    """Waits until some job has finished (its shorts delivered and recorded)."""
    deadline = time.monotonic() + timeout
    while not any_job_done(database):
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.2)
    return True


def sends_in_flight(database: Path) -> int:
    """Jobs that began sending a short and have not written down that it was taken."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10) as db:
        payloads = [json.loads(p or "{}") for (p,) in db.execute("SELECT payload_json FROM jobs")]
    return sum(1 for p in payloads if p.get("sending"))


async def wait_jobs_done(database: Path, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if database.exists() and jobs_left(database) == 0:
            return True
        await asyncio.sleep(0.1)
    return False


@dataclass
class Ledger:
    charges: list[tuple[str, int]]          # (hold ref, amount)
    open_holds: int
    job_states: list[str]
    attempts: list[int]
    job_ids: list[int]


def ledger_of(database: Path, telegram_user_id: int) -> Ledger:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10) as db:
        row = db.execute("SELECT id FROM users WHERE platform = 'telegram' AND platform_user_id = ?",
                         (str(telegram_user_id),)).fetchone()
        if row is None:
            return Ledger([], 0, [], [], [])
        user_id = row[0]
        charges = db.execute("SELECT hold_ref, amount FROM credit_ledger WHERE user_id = ? AND kind = 'charge'",
                             (user_id,)).fetchall()
        holds = db.execute(
            "SELECT COUNT(*) FROM credit_ledger h WHERE h.user_id = ? AND h.kind = 'hold' AND NOT EXISTS ("
            " SELECT 1 FROM credit_ledger s WHERE s.hold_ref = h.hold_ref AND s.kind IN ('charge', 'release'))",
            (user_id,)).fetchone()[0]
        jobs = db.execute("SELECT state, attempts, id FROM jobs WHERE user_id = ? AND kind = 'chat' ORDER BY id",
                          (user_id,)).fetchall()
    return Ledger([(r[0], r[1]) for r in charges], holds, [j[0] for j in jobs], [j[1] for j in jobs],
                  [j[2] for j in jobs])


def expected_positions(database: Path, workers: int) -> dict[int, int]:
    """For each job, how many jobs had to finish before it could start, from the times the
    database kept: the jobs unfinished when it was queued (running, or queued earlier) beyond the
    free workers, and at least the same person's unfinished earlier ones."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10) as db:
        rows = db.execute("SELECT id, user_id, created_at, finished_at FROM jobs ORDER BY id").fetchall()
    ahead = {}
    for job_id, user_id, created, _ in rows:
        before = [(other, who) for other, who, o_created, o_finished in rows
                  if other < job_id and o_created <= created and (o_finished is None or o_finished > created)]
        own = sum(1 for _, who in before if who == user_id)
        ahead[job_id] = max(len(before) - (workers - 1), own, 0)
    return ahead


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, int(round(q / 100 * len(ordered) + 0.5)) - 1))
    return ordered[index]

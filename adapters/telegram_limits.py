"""Telegram's limits: per-chat pacing with answers first, and retries after network errors.

Telegram's bot FAQ ("My bot is hitting limits"): in one chat, avoid more than about one message
a second, short bursts are allowed; no more than 20 messages a minute to one group; about 30 a
second overall. python-telegram-bot's AIORateLimiter keeps the overall limit and retries after a
429; its group limit (a leaky bucket of 20) is replaced here by `ChatPacer`, one per chat:

- a token bucket per chat: in a private chat one a second with bursts of PRIVATE_BURST, in a
  group 20 a minute with bursts of 20 (the bucket AIORateLimiter uses); the rates are settings
  (TELEGRAM_PRIVATE_CHAT_PER_S, TELEGRAM_GROUP_PER_MINUTE), the bursts and reserves are not;
- whoever waits is served in order of `Urgency`: answers to a person's message first, then the
  jobs' own messages (clips, "done"), progress edits last;
- progress edits leave half of a private chat's bucket for answers and the jobs' messages a
  quarter; in a group, where one bucket of 20 a minute is shared by everyone there, progress
  leaves three quarters and the jobs' messages half, so a round of questions from five people
  cutting at once is answered from the reserve at once instead of behind their clips. Telegram
  counts edits against the same limit as sends (tdlib/td#2592, #3034), so edits take tokens too.

A send made while handling a person's message (`answering` is set) is an answer. The progress
writer takes its turn first (`pacer(chat).turn(Urgency.PROGRESS)`), then picks the newest state
and sends it with `rate_limit_args=Urgency.PACED`, so a superseded state is never sent. The first answer to each message logs how long
handling took before it, how long it waited for its turn, and how long Telegram took.
"""
from __future__ import annotations

import asyncio
import contextvars
import heapq
import itertools
import logging
import time
import warnings
from dataclasses import dataclass, field
from datetime import timedelta
from enum import IntEnum
from typing import Any, Awaitable, Callable, TypeVar

from telegram.error import BadRequest, NetworkError, RetryAfter
from telegram.ext import AIORateLimiter


log = logging.getLogger(__name__)

NETWORK_RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0)  # then give up (TELEGRAM_RETRY_DELAYS_S)
PRIVATE_BURST = 4                            # the FAQ's "short bursts" over one a second
GROUP_PER_MINUTE = 20
UNPACED = frozenset({"sendChatAction", "answerCallbackQuery", "getFile", "getMe", "getUpdates",
                     "setMyCommands", "deleteWebhook", "getChat"})

T = TypeVar("T")


class Urgency(IntEnum):
    ANSWER = 0        # to a message a person just sent
    JOB = 1           # a job's own messages: queue place, clips, "done"
    PROGRESS = 2      # edits of a progress message; the newest one replaces any older one
    PACED = 3         # the sender already had its turn (ChatPacer.turn) before choosing what to send


@dataclass
class Answering:
    """The person's message being handled: when its handling began, and its first answer's times."""

    chat_id: str
    message_id: str
    received_at: float
    answered: bool = False


answering: contextvars.ContextVar[Answering | None] = contextvars.ContextVar("answering", default=None)


@dataclass(frozen=True)
class Budget:
    per_second: float
    burst: float
    kept_for_answers: float      # tokens progress edits leave in the bucket
    kept_from_jobs: float | None = None     # tokens the jobs' own messages leave (None: half of the above)

    def kept_from(self, urgency: "Urgency") -> float:
        jobs = self.kept_for_answers / 2 if self.kept_from_jobs is None else self.kept_from_jobs
        return {Urgency.PROGRESS: self.kept_for_answers, Urgency.JOB: jobs}.get(urgency, 0.0)


PRIVATE_CHAT = Budget(per_second=1.0, burst=PRIVATE_BURST, kept_for_answers=PRIVATE_BURST / 2,
                      kept_from_jobs=PRIVATE_BURST / 4)
GROUP_CHAT = Budget(per_second=GROUP_PER_MINUTE / 60, burst=GROUP_PER_MINUTE, kept_for_answers=GROUP_PER_MINUTE * 3 / 4,
                    kept_from_jobs=GROUP_PER_MINUTE / 2)


@dataclass(order=True)
class _Waiter:
    urgency: Urgency
    order: int
    turn: asyncio.Future = field(compare=False)


class ChatPacer:
    """One chat's token bucket; `turn(urgency)` returns when a message may go, most urgent first."""

    def __init__(self, budget: Budget, clock: Callable[[], float] = time.monotonic):
        self.budget = budget
        self.clock = clock
        self.tokens = budget.burst
        self._at = clock()
        self._waiting: list[_Waiter] = []
        self._order = itertools.count()
        self._granter: asyncio.Task | None = None
        self._newcomer = asyncio.Event()

    @property
    def idle(self) -> bool:
        self._refill()
        return not self._waiting and self.tokens >= self.budget.burst

    async def turn(self, urgency: Urgency) -> None:
        waiter = _Waiter(urgency, next(self._order), asyncio.get_running_loop().create_future())
        heapq.heappush(self._waiting, waiter)
        if self._granter is None or self._granter.done():
            self._granter = asyncio.create_task(self._grant(), name="telegram chat pacer")
        else:
            self._newcomer.set()
        await waiter.turn            # cancelled: the granter skips it

    async def close(self) -> None:
        """Stops granting; whoever still waits is cancelled."""
        for waiter in self._waiting:
            waiter.turn.cancel()
        self._waiting.clear()
        if self._granter is not None:
            self._granter.cancel()
            await asyncio.gather(self._granter, return_exceptions=True)

    def _refill(self) -> None:
        now = self.clock()
        self.tokens = min(self.budget.burst, self.tokens + (now - self._at) * self.budget.per_second)
        self._at = now

    def _wait_for(self, urgency: Urgency) -> float:
        """Seconds until a message of this urgency may take a token."""
        needed = 1 + self.budget.kept_from(urgency)
        return max(0.0, (needed - self.tokens) / self.budget.per_second)

    async def _grant(self) -> None:
        while self._waiting:
            first = self._waiting[0]
            if first.turn.done():
                heapq.heappop(self._waiting)
                continue
            self._refill()
            wait = self._wait_for(first.urgency)
            if wait <= 0:
                heapq.heappop(self._waiting)
                self.tokens -= 1
                first.turn.set_result(None)
                continue
            self._newcomer.clear()
            try:                     # a more urgent newcomer is looked at at once
                await asyncio.wait_for(self._newcomer.wait(), wait)
            except asyncio.TimeoutError:
                pass


@dataclass
class ProgressMessage:
    """One progress message being kept up to date; `latest` is what it should say next."""

    message_id: int | None = None
    latest: Any = None                   # a bot.messages.ProgressReply
    writer: asyncio.Task | None = None
    shown_at: float | None = None
    finishing: asyncio.Event = field(default_factory=asyncio.Event)    # a done state came: show it now

    def offer(self, reply: Any) -> None:
        self.latest = reply
        if reply.done:
            self.finishing.set()

    async def next_edit_due(self, every: float) -> None:
        """Waits until `every` seconds after the last state shown; a done state goes out at once.
        In a group, where everyone shares 20 messages a minute, progress is edited sparingly."""
        wait = 0.0 if self.shown_at is None else self.shown_at + every - time.monotonic()
        if wait > 0 and not self.finishing.is_set():
            try:
                await asyncio.wait_for(self.finishing.wait(), wait)
            except asyncio.TimeoutError:
                pass

    async def turn(self, pacer: ChatPacer, in_group: bool) -> bool:
        """Progress's turn in the chat; False when, in a group, the message was never shown and
        its final state came meanwhile: a message posted only to say "Done" would spend the group's
        shared minute on nothing the person needs."""
        if not in_group or self.message_id is not None:
            await pacer.turn(Urgency.PROGRESS)
            return True
        turn = asyncio.ensure_future(pacer.turn(Urgency.PROGRESS))
        ended = asyncio.ensure_future(self.finishing.wait())
        await asyncio.wait({turn, ended}, return_when=asyncio.FIRST_COMPLETED)
        ended.cancel()
        if not turn.done():
            turn.cancel()                # the pacer skips a cancelled waiter
            return False
        return not (self.latest is not None and self.latest.done)


class PerChatRateLimiter(AIORateLimiter):
    """AIORateLimiter (30 requests/s overall, retries after RetryAfter) with a ChatPacer per chat
    in place of its group limiter. `rate_limit_args` may be an Urgency (PTB passes it through)."""

    def __init__(self, private: Budget = PRIVATE_CHAT, group: Budget = GROUP_CHAT,
                 clock: Callable[[], float] = time.monotonic, **kwargs: Any):
        super().__init__(group_max_rate=0, **kwargs)
        self.private, self.group, self.clock = private, group, clock
        self._pacers: dict[str, ChatPacer] = {}

    async def shutdown(self) -> None:
        for pacer in self._pacers.values():
            await pacer.close()
        await super().shutdown()

    def pacer(self, chat_id: Any) -> ChatPacer:
        key = str(chat_id)
        if len(self._pacers) > 1024:
            for other, pacer in list(self._pacers.items()):
                if other != key and pacer.idle:
                    del self._pacers[other]
        if key not in self._pacers:
            self._pacers[key] = ChatPacer(self.group if is_group_chat(key) else self.private, self.clock)
        return self._pacers[key]

    async def process_request(self, callback, args, kwargs, endpoint, data, rate_limit_args):
        urgency = rate_limit_args if isinstance(rate_limit_args, Urgency) else None
        retries = None if urgency is not None else rate_limit_args
        chat_id = data.get("chat_id")
        if chat_id is None or endpoint in UNPACED or urgency is Urgency.PACED:
            return await super().process_request(callback, args, kwargs, endpoint, data, retries)
        asking = answering.get()
        if urgency is None:
            urgency = Urgency.ANSWER if asking is not None else Urgency.JOB
        timed = asking if urgency is Urgency.ANSWER and asking is not None and not asking.answered else None
        if timed is not None:
            timed.answered = True
            queued_at = self.clock()
        await self.pacer(chat_id).turn(urgency)
        if timed is None:
            return await super().process_request(callback, args, kwargs, endpoint, data, retries)
        granted_at = self.clock()
        try:
            return await super().process_request(callback, args, kwargs, endpoint, data, retries)
        finally:
            log.info("answer to message %s in chat %s: handled in %.0f ms, waited %.0f ms for its turn, "
                     "sent in %.0f ms", timed.message_id, timed.chat_id, (queued_at - timed.received_at) * 1000,
                     (granted_at - queued_at) * 1000, (self.clock() - granted_at) * 1000)


def is_group_chat(chat_id: Any) -> bool:
    """Groups and channels have negative ids (or an @username); people's private chats positive ones."""
    key = str(chat_id)
    return not key.lstrip("-").isdigit() or int(key) < 0


def retry_after_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():          # PTB 22 warns while retry_after moves from int to timedelta
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


async def with_network_retries(call: Callable[[], Awaitable[T]], what: str,
                               delays: tuple[float, ...] = NETWORK_RETRY_DELAYS) -> T:
    """`call()`, again after each delay while the network fails (timeouts, 5xx, resets).

    A BadRequest is an answer, not a network failure, and is raised at once. A RetryAfter that
    the rate limiter already gave up on is waited out like a network failure.
    """
    for delay in (*delays, None):
        try:
            return await call()
        except BadRequest:
            raise
        except (NetworkError, RetryAfter) as exc:
            if delay is None:
                raise
            wait = max(delay, retry_after_seconds(exc)) if isinstance(exc, RetryAfter) else delay
            log.warning("%s failed (%s); retrying in %.1f s", what, exc, wait)
            await asyncio.sleep(wait)
    raise AssertionError("unreachable")

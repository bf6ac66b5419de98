"""Telegram's limits: per-chat pacing on top of AIORateLimiter, and retries after network errors."""
from __future__ import annotations

import asyncio
import logging
import warnings
from datetime import timedelta
from typing import Any, Awaitable, Callable, TypeVar

from aiolimiter import AsyncLimiter
from telegram.error import BadRequest, NetworkError, RetryAfter
from telegram.ext import AIORateLimiter


log = logging.getLogger(__name__)

NETWORK_RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0)  # then give up

T = TypeVar("T")


class PerChatRateLimiter(AIORateLimiter):
    """AIORateLimiter (30 requests/s overall, 20/min per group, retries after RetryAfter)
    plus Telegram's one message a second per chat, which AIORateLimiter leaves out."""

    def __init__(self, per_chat_rate: float = 1.0, **kwargs: Any):
        super().__init__(**kwargs)
        self._per_chat_rate = per_chat_rate
        self._chat_limiters: dict[str, AsyncLimiter] = {}

    def _chat_limiter(self, chat_id: Any) -> AsyncLimiter:
        key = str(chat_id)
        if len(self._chat_limiters) > 1024:
            for other, limiter in list(self._chat_limiters.items()):
                if other != key and limiter.has_capacity(limiter.max_rate):
                    del self._chat_limiters[other]
        if key not in self._chat_limiters:
            self._chat_limiters[key] = AsyncLimiter(max_rate=1, time_period=1 / self._per_chat_rate)
        return self._chat_limiters[key]

    async def process_request(self, callback, args, kwargs, endpoint, data, rate_limit_args):
        chat_id = data.get("chat_id")
        if chat_id is None or endpoint == "sendChatAction":
            return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
        async with self._chat_limiter(chat_id):
            return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)


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

"""The platforms the bot talks on, as they registered: where replies go and what each one takes.

An adapter registers one `Platform`: its sink (posts one reply, raises when the platform did not
take it), the largest file it takes from the bot, and where /share posts (its share target and
the setting that names it, for the sentence when there is none). Nothing below adapters/ names
a platform; the conversation asks this registry.

`Platforms.post(ref, reply)` hands the reply to the platform's sink. A reply for a platform that
has not registered (a job resumed right after a restart, before its adapter is up) waits for the
platform up to `wait_s` seconds and then raises `PlatformMissing`: a reply is never reported
delivered when nobody took it, so a job never charges for a clip nobody received, and nothing is
kept in memory (the job itself is durable and runs again after a restart).
"""
from __future__ import annotations

import asyncio
import inspect
from dataclasses import dataclass

from bot.messages import ChatRef, Reply, ReplySink


class AppError(Exception):
    """One line a person can act on, printed when the bot cannot start."""


class PlatformMissing(ConnectionError):
    """No adapter is registered for the platform a reply is for."""


@dataclass(frozen=True)
class Platform:
    name: str                                # "telegram", "discord", "console"
    sink: ReplySink
    upload_limit: int | None = None          # bytes the platform takes from the bot; None: any size
    share_target: str | None = None          # the chat /share posts to; None: sharing is not set up
    share_setting: str | None = None         # the setting naming it, e.g. "TELEGRAM_SHARE_CHAT_ID"
    label: str = ""                          # how people call the platform: "Telegram"

    @property
    def shown_name(self) -> str:
        return self.label or self.name.capitalize()


class Platforms:
    def __init__(self, wait_s: float = 30.0):
        self.wait_s = wait_s
        self._registered: dict[str, Platform] = {}
        self._arrived: dict[str, asyncio.Event] = {}

    def register(self, platform: Platform) -> None:
        self._registered[platform.name] = platform
        self._arrival(platform.name).set()

    def get(self, name: str) -> Platform | None:
        return self._registered.get(name)

    def upload_limit(self, name: str) -> int | None:
        platform = self._registered.get(name)
        return platform.upload_limit if platform is not None else None

    async def post(self, ref: ChatRef, reply: Reply) -> None:
        platform = self._registered.get(ref.platform)
        if platform is None:
            try:
                await asyncio.wait_for(self._arrival(ref.platform).wait(), timeout=self.wait_s)
            except asyncio.TimeoutError:
                raise PlatformMissing(f"no {ref.platform} adapter is running to take the reply") from None
            platform = self._registered[ref.platform]
        result = platform.sink(ref, reply)
        if inspect.isawaitable(result):
            await result

    def _arrival(self, name: str) -> asyncio.Event:
        return self._arrived.setdefault(name, asyncio.Event())

    @classmethod
    def posting_to(cls, sink: ReplySink, *names: str) -> "Platforms":
        """A registry whose every platform (or the named ones) posts through one sink; for tests and tools."""
        platforms = _AnyPlatform(sink)
        for name in names:
            platforms.register(Platform(name, sink))
        return platforms


class _AnyPlatform(Platforms):
    def __init__(self, sink: ReplySink):
        super().__init__(wait_s=0.0)
        self._sink = sink

    def get(self, name: str) -> Platform | None:
        return self._registered.get(name) or Platform(name, self._sink)

    async def post(self, ref: ChatRef, reply: Reply) -> None:
        result = self.get(ref.platform).sink(ref, reply)
        if inspect.isawaitable(result):
            await result

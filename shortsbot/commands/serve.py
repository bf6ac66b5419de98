"""`shortsbot run` / `make run`: the App with the Telegram and/or Discord adapters when their
tokens are set, all in one asyncio loop; the terminal chat when neither is. SIGINT and SIGTERM
stop everything cleanly (running jobs go back to the queue for the next start), in this order:
the adapters stop taking new messages, then the App stops (its jobs end and say their last
words through the adapters, which can still post), then the adapters close their connections."""
from __future__ import annotations

import asyncio
import logging
import signal
import sys

from bot.settings import Settings

log = logging.getLogger(__name__)


def run_bot(settings: Settings) -> int:
    if settings.telegram_bot_token is None and settings.discord_bot_token is None:
        from shortsbot.commands.chat import run_chat

        return run_chat(settings)
    try:
        return asyncio.run(serve(settings))
    except KeyboardInterrupt:
        return 130


def _platform_adapters(app, settings: Settings) -> list:
    adapters = []
    if settings.telegram_bot_token is not None:
        from adapters.telegram_adapter import TelegramAdapter

        adapters.append(TelegramAdapter(app))
    if settings.discord_bot_token is not None:
        from adapters.discord_adapter import DiscordAdapter

        adapters.append(DiscordAdapter(app))
    return adapters


async def serve(settings: Settings, stop: asyncio.Event | None = None, app=None) -> int:
    """Runs until `stop` is set (or a signal sets it). `app`: an App not started yet (default: a new one)."""
    from shortsbot.app import App, AppError

    app = app or App(settings)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, stop.set)
        except (NotImplementedError, RuntimeError):
            pass
    started = []
    try:
        await app.start()
        for adapter in _platform_adapters(app, settings):
            await adapter.start()
            started.append(adapter)
        log.info("shortsbot is running (%s); Ctrl-C stops it", ", ".join(type(a).__name__ for a in started))
        await stop.wait()
        return 0
    except (AppError, ImportError) as exc:
        print(f"shortsbot: {exc}", file=sys.stderr)
        return 2
    finally:
        for adapter in reversed(started):
            await _quietly(adapter, "stop_receiving")
        await app.stop()
        for adapter in reversed(started):
            await _quietly(adapter, "stop")


async def _quietly(adapter, step: str) -> None:
    try:
        await getattr(adapter, step)()
    except Exception:  # noqa: BLE001 - stopping the others matters more
        log.exception("%s of %s failed", step, type(adapter).__name__)

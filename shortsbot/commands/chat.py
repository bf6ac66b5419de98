"""`shortsbot chat`: the bot in this terminal, as one local user (adapters/console.py)."""
from __future__ import annotations

import asyncio
import sys

from bot.settings import Settings


def run_chat(settings: Settings) -> int:
    try:
        return asyncio.run(chat(settings))
    except KeyboardInterrupt:
        return 130


async def chat(settings: Settings) -> int:
    from adapters.console import ConsoleAdapter
    from shortsbot.app import App, AppError

    app = App(settings)
    try:
        await app.start()
    except AppError as exc:
        print(f"shortsbot: {exc}", file=sys.stderr)
        return 2
    try:
        return await ConsoleAdapter(app).run()
    finally:
        await app.stop()

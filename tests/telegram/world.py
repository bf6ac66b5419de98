"""A running Telegram bot for end-to-end tests: a fake Bot API on loopback, the real App with the
local engine, and the real Telegram adapter polling the fake; `World` is how a test talks to it and
reads what the bot sent."""
from __future__ import annotations

import json
import re
import socket
import subprocess
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from adapters.telegram_adapter import TelegramAdapter
from bot.settings import Settings
from bot.texts import say
from shortsbot.app import App
from tests.bot.chat_helpers import WarmTalk, link_cache
from tests.telegram.fake_bot_api import Call, FakeBotApi

BOT_ID = 7000000001
BOT_NAME = "ClipperBot"
TOKEN = f"{BOT_ID}:AAE-fake-token-for-tests"
RETRY_DELAYS = [0.1, 0.2, 0.4, 0.8]                  # TELEGRAM_RETRY_DELAYS_S, shortened
PRIVATE_CHAT_PER_S = 50.0                            # TELEGRAM_PRIVATE_CHAT_PER_S: this fake Telegram's pace
CHAT_ACTION_EVERY_S = 0.2                            # "uploading video…" shown again (Telegram: every 4 s)


def probe(path: Path) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                          "stream=width,height:format=duration", "-of", "json", str(path)],
                         capture_output=True, text=True, check=True).stdout
    data = json.loads(out)
    return {"width": data["streams"][0]["width"], "height": data["streams"][0]["height"],
            "duration": float(data["format"]["duration"])}


def talk_seconds(talk: WarmTalk) -> int:
    return round(probe(talk.path)["duration"])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class World:
    fake: FakeBotApi
    app: App
    adapter: TelegramAdapter
    settings: Settings

    def send(self, update: dict) -> int:
        """Queues an update; returns the index of the first Bot API call that can be its answer."""
        mark = len(self.fake.calls)
        self.fake.queue_update(update)
        return mark

    def sent_to(self, chat_id, after: int = 0, method: str | None = None) -> list[Call]:
        return [c for c in self.fake.calls[after:]
                if c.chat_id == str(chat_id) and c.status == 200
                and (method is None or c.method == method) and c.method != "sendChatAction"]

    async def job_ended(self, chat_id, after: int, how: str = "progress_done") -> Call:
        """The job's last progress word ("Done"), posted or edited in: nothing of that job comes later."""
        return await self.fake.wait_for(
            lambda c: c.method in ("sendMessage", "editMessageText") and c.status == 200
            and c.chat_id == str(chat_id) and c.params.get("text") == say("en", how), after=after)

    async def reply_text(self, chat_id, after: int, pattern: str, timeout: float = 180) -> Call:
        return await self.fake.wait_for(
            lambda c: c.method == "sendMessage" and c.status == 200 and c.chat_id == str(chat_id)
            and re.search(pattern, c.params.get("text", "")) is not None,
            after=after, timeout=timeout)


@asynccontextmanager
async def running_bot(folder: Path, *, warm: WarmTalk | None = None, local_mode: bool = False, **settings_args):
    """A fake Bot API, the App with the local engine, and the Telegram adapter polling the fake;
    `warm`: a talk whose analysis the bot finds in its cache."""
    if warm is not None:
        link_cache(warm.cache, folder / "data")
    fake = await FakeBotApi(token=TOKEN, bot_id=BOT_ID, bot_username=BOT_NAME, upload_dir=folder / "uploads",
                            local_mode=local_mode).start()
    settings = Settings(
        _env_file=None, backend="local", data_dir=folder / "data", x264_preset="ultrafast",
        telegram_bot_token=TOKEN, telegram_api_url=fake.base_url, telegram_file_url=fake.base_file_url,
        telegram_local_mode=local_mode, telegram_private_chat_per_s=PRIVATE_CHAT_PER_S,
        **{"telegram_retry_delays_s": RETRY_DELAYS, **settings_args},
    )
    app = App(settings, progress_interval=0.2)      # the jobs report often; the chat's pacer takes its turns
    await app.start()
    adapter = TelegramAdapter(app)
    adapter.chat_action_every_s = CHAT_ACTION_EVERY_S
    try:
        await adapter.start()
        yield World(fake, app, adapter, settings)
    finally:
        await adapter.stop()
        await app.stop()
        await fake.stop()

"""No token in any log line: the CLI's own logging set-up at LOG_LEVEL=DEBUG, the bot as `shortsbot run`
serves it (Telegram and Discord at once, BACKEND=nemo), one whole conversation on each platform
against the fake Telegram, Discord and NemoVideo servers, and every captured line searched for
every token: the two bot tokens, each anonymous NemoVideo token the cloud handed out, LINK_SECRET."""
from __future__ import annotations

import asyncio
import io
import logging
import socket

import discord
import pytest
import yarl

from shortsbot.cli import configure_logging
from shortsbot.commands.serve import serve
from bot.settings import Settings
from tests.discord.fake_discord import FakeDiscord
from tests.media import make_video
from tests.nemo.fake_nemo import FakeNemo
from tests.telegram import bot_api_objects as tg
from tests.telegram.fake_bot_api import FakeBotApi

TELEGRAM_TOKEN = "7000000009:AAH-telegram-secret-for-the-log-test"
DISCORD_TOKEN = "MTAwMDAwMDAwMDAw.discord-secret-for-the-log-test"
LINK_SECRET = "link-secret-for-the-log-test"


@pytest.fixture
def cli_logging():
    """cli_logging(settings) -> the stream the CLI's own logging set-up writes to (stderr in a real run),
    as a fresh process gets it; the process's logging is put back afterwards."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    chatty = {name: logging.getLogger(name).level for name in ("aiosqlite", "httpcore", "hpack", "httpx")}

    def set_up(settings: Settings) -> io.StringIO:
        root.handlers = []                  # pytest's own capture handlers would make basicConfig a no-op
        stream = io.StringIO()
        configure_logging(settings, stream=stream)
        return stream

    yield set_up
    root.handlers = saved_handlers
    root.setLevel(saved_level)
    for name, level in chatty.items():
        logging.getLogger(name).setLevel(level)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_no_token_reaches_any_log_line_at_debug(tmp_path, monkeypatch, cli_logging):
    video = make_video(tmp_path / "talk.mp4", None, 2.0, size="160x90")
    telegram = await FakeBotApi(token=TELEGRAM_TOKEN, bot_id=7000000009, bot_username="ClipperBot",
                                upload_dir=tmp_path / "telegram").start()
    discord_fake = await FakeDiscord(tmp_path / "discord", token=DISCORD_TOKEN).start()
    channel = discord_fake.add_text_channel(discord_fake.add_guild("Makers"), "general")
    alice = discord_fake.add_user("alice")
    port = free_port()
    nemo = FakeNemo(result_bytes=video.read_bytes())
    await nemo.start()
    monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(discord_fake.gateway_url))
    monkeypatch.setattr(discord.http.Route, "BASE", discord.http.Route.BASE)       # restored afterwards
    settings = Settings(
        _env_file=None, log_level="DEBUG", data_dir=tmp_path / "data", backend="nemo", nemo_api_url=nemo.base_url,
        nemo_poll_interval_s=0.05, telegram_private_chat_per_s=50.0,        # this fake Telegram's pace
        telegram_bot_token=TELEGRAM_TOKEN, telegram_api_url=telegram.base_url,
        telegram_file_url=telegram.base_file_url, discord_bot_token=DISCORD_TOKEN,
        discord_api_url=discord_fake.api_url, link_secret=LINK_SECRET,
        public_base_url=f"http://127.0.0.1:{port}", http_port=port)
    printed = cli_logging(settings)
    stop = asyncio.Event()
    running = asyncio.create_task(serve(settings, stop))
    try:
        await discord_fake.wait_connected()
        await discord_fake.wait_for(lambda: discord_fake.commands, what="the slash commands")

        # Telegram: a video with what to make of it, then /export
        ada = tg.user(1001, "Ada", "ada")
        chat = tg.private_chat(ada)
        file = telegram.add_file(video)
        mark = len(telegram.calls)
        telegram.queue_update(tg.message_update(chat, ada, caption="find the best moments",
                                                media=tg.video_fields(file, duration=2)))
        await telegram.wait_for(lambda c: c.method == "sendMessage" and "Done!" in c.params.get("text", ""),
                                after=mark, timeout=60)
        telegram.queue_update(tg.message_update(chat, ada, "/export"))
        await telegram.wait_for(lambda c: c.method == "sendVideo" and c.status == 200, after=mark, timeout=60)

        # Discord: /clip with the video attached, in a server channel
        payload = discord_fake.command_interaction(channel, alice, "clip", {
            "video": discord_fake.host_file(video), "instruction": "find the best moments"})
        await discord_fake.dispatch("INTERACTION_CREATE", payload)
        await discord_fake.wait_for(
            lambda: any("Done!" in (m.get("content") or "") for m in discord_fake.messages.values()), 60,
            "the cloud's answer on Discord")
    finally:
        stop.set()
        await asyncio.wait_for(running, 60)
        await discord_fake.close()
        await telegram.stop()
        await nemo.stop()

    secrets = {"TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN, "DISCORD_BOT_TOKEN": DISCORD_TOKEN, "LINK_SECRET": LINK_SECRET}
    secrets.update({f"NemoVideo token {n}": token for n, token in enumerate(nemo.tokens, 1)})
    assert len(nemo.tokens) == 2 and len(nemo.uploads) == 2           # a cloud user each, and each one's video
    lines = printed.getvalue().splitlines()
    assert sum(" DEBUG " in line for line in lines) > 20, "LOG_LEVEL=DEBUG was in force"
    assert any("Set Bot API URL" in line for line in lines)         # the line that used to carry the bot token
    leaks = [(name, line) for line in lines for name, secret in secrets.items() if secret in line]
    assert leaks == [], "\n".join(f"{n}: {l}" for n, l in leaks)

"""Starting and stopping the Discord adapter against the fake Discord, with the real App."""
from __future__ import annotations

import asyncio
import logging

import pytest

from adapters.discord_adapter import DiscordAdapter
from shortsbot.app import App, AppError
from shortsbot.commands.serve import serve
from bot.settings import Settings
from tests.bot.chat_helpers import LAST_WORDS, run_a_job_that_speaks_when_stopped


@pytest.fixture
async def app(tmp_path, fake):
    def make(**overrides) -> App:
        values = dict(data_dir=tmp_path / "data", discord_bot_token=fake.token, discord_api_url=fake.api_url)
        values.update(overrides)
        return App(Settings(_env_file=None, **values))

    apps: list[App] = []

    async def started(**overrides) -> App:
        instance = make(**overrides)
        await instance.start()
        apps.append(instance)
        return instance

    yield started
    for instance in apps:
        await instance.stop()


async def test_start_connects_and_stop_closes_everything(fake, app):
    the_app = await app()
    adapter = DiscordAdapter(the_app)
    await adapter.start()
    await fake.wait_connected()
    assert fake.identify[0]["token"] == fake.token
    assert the_app.upload_limit("discord") == 10 * 1024 * 1024    # what every server takes
    assert len(fake.calls_to("PUT /applications/{application_id}/commands")) == 1

    await adapter.stop()

    assert adapter.client.is_closed()
    assert adapter._connection.done() and adapter._connection.exception() is None
    await fake.wait_for(lambda: not fake._sockets, what="the gateway socket to close")


async def test_commands_are_synced_only_when_they_changed(fake, app):
    the_app = await app()
    for _ in range(2):
        adapter = DiscordAdapter(the_app)
        await adapter.start()
        await adapter.stop()
    assert len(fake.calls_to("GET /applications/{application_id}/commands")) == 2
    assert len(fake.calls_to("PUT /applications/{application_id}/commands")) == 1


async def test_a_wrong_token_is_one_clear_sentence(fake, app):
    adapter = DiscordAdapter(await app(discord_bot_token="not-the-token"))
    with pytest.raises(AppError, match="Discord refused DISCORD_BOT_TOKEN"):
        await adapter.start()
    assert adapter.client.is_closed()


async def test_message_content_not_enabled_in_the_portal_is_explained(fake, app, caplog):
    adapter = DiscordAdapter(await app(discord_message_content=True))
    with caplog.at_level(logging.ERROR, logger="adapters.discord_adapter"):
        await adapter.start()
        await fake.wait_for(lambda: adapter._connection.done(), what="the refused connection to end")
    assert fake.identify[0]["intents"] & (1 << 15)
    assert any("enable it on the Bot page" in r.getMessage() for r in caplog.records)
    await adapter.stop()


async def test_shortsbot_run_lets_jobs_finish_speaking_before_discord_closes(fake, tmp_path):
    guild = fake.add_guild("Makers")
    channel = fake.add_text_channel(guild, "general")
    app = App(Settings(_env_file=None, data_dir=tmp_path / "data", discord_bot_token=fake.token,
                       discord_api_url=fake.api_url))
    stop = asyncio.Event()
    running = asyncio.create_task(serve(app.settings, stop, app=app))
    await fake.wait_connected()
    await run_a_job_that_speaks_when_stopped(app, "discord", channel["id"])

    stop.set()                                   # what SIGTERM does
    assert await asyncio.wait_for(running, 30) == 0
    assert [m["content"] for m in fake.sent_by_bot(channel["id"])] == [LAST_WORDS]
    await fake.wait_for(lambda: not fake._sockets, what="the gateway socket to close")

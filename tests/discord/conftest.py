"""Fixtures of the Discord tests: the fake Discord on loopback and discord.py pointed at it."""
from __future__ import annotations

import discord
from discord import app_commands
import pytest
import yarl

from adapters.discord_commands import add_slash_commands
from tests.discord.fake_discord import FakeDiscord


@pytest.fixture
async def fake(tmp_path, monkeypatch):
    server = await FakeDiscord(tmp_path / "fake-discord").start()
    monkeypatch.setattr(discord.http.Route, "BASE", server.api_url)
    monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(server.gateway_url))
    yield server
    await server.close()


@pytest.fixture
async def client(fake):
    """A real discord.py client logged in to the fake (REST only): its ConnectionState builds
    Messages and Interactions from gateway payloads exactly as it would from the websocket."""
    bot = discord.Client(intents=discord.Intents.default())
    # Interactions resolve their options through the client's tree: the bot's real command definitions
    # (their callbacks, which need an adapter, are not called here).
    add_slash_commands(app_commands.CommandTree(bot), adapter=None)
    await bot.login(fake.token)
    yield bot
    await bot.close()

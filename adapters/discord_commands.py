"""Discord's slash commands: declared on the CommandTree, synced only when they changed."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands


if TYPE_CHECKING:
    from adapters.discord_adapter import DiscordAdapter

log = logging.getLogger(__name__)



# ---------------------------------------------------------------------------- slash commands

def add_slash_commands(tree: app_commands.CommandTree, adapter: "DiscordAdapter") -> None:
    @tree.command(name="clip", description="Cut a long video into short vertical clips")
    @app_commands.describe(video="The long video", instruction="What you want, e.g. 3 vertical shorts of 60 seconds")
    async def clip(interaction: discord.Interaction, video: discord.Attachment, instruction: str = "") -> None:
        await adapter.on_command(interaction, text=instruction, video=video)

    @tree.command(name="export", description="Render the clips of your current video")
    async def export(interaction: discord.Interaction) -> None:
        await adapter.on_command(interaction, command="export")

    @tree.command(name="credits", description="How many credits you have")
    async def credits(interaction: discord.Interaction) -> None:
        await adapter.on_command(interaction, command="credits", private=True)

    @tree.command(name="status", description="What your current session holds")
    async def status(interaction: discord.Interaction) -> None:
        await adapter.on_command(interaction, command="status", private=True)

    @tree.command(name="cancel", description="Stop the job that is running")
    async def cancel(interaction: discord.Interaction) -> None:
        await adapter.on_command(interaction, command="cancel")

    @tree.command(name="new", description="Start over with a new video")
    async def new(interaction: discord.Interaction) -> None:
        await adapter.on_command(interaction, command="new")

    @tree.command(name="share", description="Post one of your clips to the share channel")
    @app_commands.describe(clip="The clip's number")
    async def share(interaction: discord.Interaction, clip: app_commands.Range[int, 1, 99]) -> None:
        await adapter.on_command(interaction, command="share", args=str(clip))

    @tree.command(name="help", description="What this bot does and how to use it")
    async def help_(interaction: discord.Interaction) -> None:
        await adapter.on_command(interaction, command="help", private=True)


async def sync_commands_if_changed(client: discord.Client) -> bool:
    """Overwrites the global commands only when they differ from Discord's, as discord.py advises
    (syncing on every start spends a rate-limited call for nothing). True when it synced."""
    tree: app_commands.CommandTree = client.tree  # type: ignore[attr-defined]
    wanted = [command.to_dict(tree) for command in tree.get_commands()]
    registered = await client.http.get_global_commands(client.application_id)
    if command_shapes(wanted) == command_shapes(registered):
        return False
    await tree.sync()
    log.info("synced %d Discord slash commands", len(wanted))
    return True


def command_shapes(commands: list[dict]) -> set[tuple]:
    """What makes two command lists the same to a user: names, descriptions and options."""
    def option(o: dict) -> tuple:
        return (o["name"], o.get("description", ""), o["type"], bool(o.get("required", False)),
                o.get("min_value"), o.get("max_value"))

    return {(c["name"], c.get("description", ""), c.get("type", 1), tuple(option(o) for o in c.get("options") or []))
            for c in commands}


# ---------------------------------------------------------------------------- state kept per message

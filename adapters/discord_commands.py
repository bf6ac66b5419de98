"""Discord's slash commands: declared on the CommandTree, synced only when they changed."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands

from adapters.discord_events import locale_language
from bot import texts

if TYPE_CHECKING:
    from adapters.discord_adapter import DiscordAdapter

log = logging.getLogger(__name__)



# ---------------------------------------------------------------------------- slash commands

def described(key: str) -> app_commands.locale_str:
    """A description from bot/texts.py: its English, and its key for Descriptions to find the rest."""
    return app_commands.locale_str(texts.say("en", key), key=key)


class Descriptions(app_commands.Translator):
    """The commands' descriptions in each language of bot/texts.py, by Discord locale (zh-CN, zh-TW: Chinese);
    names stay as they are typed."""

    async def translate(self, string: app_commands.locale_str, locale: discord.Locale,
                        context: app_commands.TranslationContext) -> str | None:
        lang, key = locale_language(locale), string.extras.get("key")
        if key is None or lang == "en" or lang not in texts.LANGUAGES:
            return None
        return texts.say(lang, key)


def add_slash_commands(tree: app_commands.CommandTree, adapter: "DiscordAdapter") -> None:
    @tree.command(name="clip", description=described("slash_clip"))
    @app_commands.describe(video=described("slash_clip_video"), instruction=described("slash_clip_instruction"))
    async def clip(interaction: discord.Interaction, video: discord.Attachment, instruction: str = "") -> None:
        await adapter.on_command(interaction, text=instruction, video=video)

    @tree.command(name="export", description=described("slash_export"))
    async def export(interaction: discord.Interaction) -> None:
        await adapter.on_command(interaction, command="export")

    @tree.command(name="credits", description=described("slash_credits"))
    async def credits(interaction: discord.Interaction) -> None:
        await adapter.on_command(interaction, command="credits", private=True)

    @tree.command(name="status", description=described("slash_status"))
    async def status(interaction: discord.Interaction) -> None:
        await adapter.on_command(interaction, command="status", private=True)

    @tree.command(name="cancel", description=described("slash_cancel"))
    async def cancel(interaction: discord.Interaction) -> None:
        await adapter.on_command(interaction, command="cancel")

    @tree.command(name="new", description=described("slash_new"))
    async def new(interaction: discord.Interaction) -> None:
        await adapter.on_command(interaction, command="new")

    @tree.command(name="share", description=described("slash_share"))
    @app_commands.describe(clip=described("slash_share_clip"))
    async def share(interaction: discord.Interaction, clip: app_commands.Range[int, 1, 99]) -> None:
        await adapter.on_command(interaction, command="share", args=str(clip))

    @tree.command(name="help", description=described("slash_help"))
    async def help_(interaction: discord.Interaction) -> None:
        await adapter.on_command(interaction, command="help", private=True)


async def sync_commands_if_changed(client: discord.Client) -> bool:
    """Overwrites the global commands only when they differ from Discord's, as discord.py advises
    (syncing on every start spends a rate-limited call for nothing). True when it synced."""
    tree: app_commands.CommandTree = client.tree  # type: ignore[attr-defined]
    translator = tree.translator
    wanted = [await command.get_translated_payload(tree, translator) if translator is not None else command.to_dict(tree)
              for command in tree.get_commands()]
    registered = await client.http.request(              # with their descriptions in every language
        discord.http.Route("GET", "/applications/{application_id}/commands", application_id=client.application_id),
        params={"with_localizations": "true"})
    if command_shapes(wanted) == command_shapes(registered):
        return False
    await tree.sync()
    log.info("synced %d Discord slash commands", len(wanted))
    return True


def command_shapes(commands: list[dict]) -> set[tuple]:
    """What makes two command lists the same to a user: names, descriptions (in every language) and options."""
    def localized(d: dict) -> tuple:
        return tuple(sorted((d.get("description_localizations") or {}).items()))

    def option(o: dict) -> tuple:
        return (o["name"], o.get("description", ""), localized(o), o["type"], bool(o.get("required", False)),
                o.get("min_value"), o.get("max_value"))

    return {(c["name"], c.get("description", ""), localized(c), c.get("type", 1),
             tuple(option(o) for o in c.get("options") or [])) for c in commands}


# ---------------------------------------------------------------------------- state kept per message

"""The fake's world as a test builds it: users, guilds, channels, DMs, hosted files, and the gateway
payloads of a user's message, a slash command and a button press."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.discord.fake_discord.model import (
    DEFAULT_UPLOAD_LIMIT, DM, GUILD_TEXT, TIER_UPLOAD_LIMIT, BOT_PERMISSIONS, EVERYONE_PERMISSIONS,
    partial_channel, iso_now,
)


class WorldBuilding:
    """Methods of FakeDiscord (server.py); they use its state."""

    def add_user(self, name: str, bot: bool = False, user_id: int | None = None) -> dict:
        user = {"id": str(user_id or self.next_id()), "username": name, "discriminator": "0",
                "global_name": name.title(), "avatar": None, "bot": bot, "public_flags": 0}
        self.users[int(user["id"])] = user
        return user

    def add_guild(self, name: str, premium_tier: int = 0) -> dict:
        guild_id = self.next_id()
        guild = {
            "id": str(guild_id), "name": name, "icon": None, "owner_id": str(self.next_id()),
            "premium_tier": premium_tier, "features": [], "member_count": 2, "large": False,
            "unavailable": False, "joined_at": iso_now(), "verification_level": 0,
            "default_message_notifications": 0, "explicit_content_filter": 0, "mfa_level": 0,
            "nsfw_level": 0, "system_channel_flags": 0, "preferred_locale": "en-US", "afk_timeout": 300,
            "roles": [{"id": str(guild_id), "name": "@everyone", "permissions": str(EVERYONE_PERMISSIONS),
                       "position": 0, "color": 0, "hoist": False, "managed": False, "mentionable": False,
                       "flags": 0}],
            "emojis": [], "stickers": [], "channels": [], "threads": [], "voice_states": [], "presences": [],
            "stage_instances": [], "guild_scheduled_events": [], "soundboard_sounds": [],
            "members": [self._member(self.bot)],
        }
        self.guilds[guild_id] = guild
        return guild

    def add_text_channel(self, guild: dict, name: str) -> dict:
        channel = {"id": str(self.next_id()), "type": GUILD_TEXT, "guild_id": guild["id"], "name": name,
                   "position": len(guild["channels"]), "permission_overwrites": [], "nsfw": False,
                   "parent_id": None, "topic": None, "last_message_id": None, "rate_limit_per_user": 0, "flags": 0}
        guild["channels"].append({k: v for k, v in channel.items() if k != "guild_id"})
        self.channels[int(channel["id"])] = channel
        return channel

    def add_dm(self, user: dict) -> dict:
        channel = {"id": str(self.next_id()), "type": DM, "recipients": [user], "last_message_id": None, "flags": 0}
        self.channels[int(channel["id"])] = channel
        return channel

    def host_file(self, path: Path, filename: str | None = None, content_type: str = "video/mp4",
                  claimed_size: int | None = None) -> dict:
        """An attachment object whose URL this fake serves. `claimed_size` lets a test say the file is bigger."""
        attachment_id = self.next_id()
        filename = filename or path.name
        key = f"{attachment_id}-{filename}"
        self.hosted[key] = path
        url = f"{self.base_url}/attachments/{key}?ex=0&is=0&hm=fake"
        return {"id": str(attachment_id), "filename": filename, "size": claimed_size or path.stat().st_size,
                "url": url, "proxy_url": url, "content_type": content_type, "width": 640, "height": 360}

    def upload_limit(self, channel_id: int) -> int:
        channel = self.channels.get(channel_id, {})
        guild = self.guilds.get(int(channel.get("guild_id", 0) or 0))
        return TIER_UPLOAD_LIMIT.get(guild["premium_tier"], DEFAULT_UPLOAD_LIMIT) if guild else DEFAULT_UPLOAD_LIMIT

    def _member(self, user: dict, with_user: bool = True) -> dict:
        member = {"roles": [], "joined_at": iso_now(), "deaf": False, "mute": False, "flags": 0, "nick": None}
        if with_user:
            member["user"] = user
        return member

    def user_message(self, channel: dict, author: dict, content: str = "", attachments: tuple[dict, ...] = (),
                     mentions: tuple[dict, ...] = (), reply_to: dict | None = None) -> dict:
        """A MESSAGE_CREATE payload from a user; the message is stored as Discord would."""
        message = {
            "id": str(self.next_id()), "channel_id": channel["id"], "author": author, "content": content,
            "timestamp": iso_now(), "edited_timestamp": None, "tts": False, "mention_everyone": False,
            "mentions": list(mentions), "mention_roles": [], "attachments": list(attachments), "embeds": [],
            "pinned": False, "type": 19 if reply_to else 0, "flags": 0, "components": [],
        }
        if "guild_id" in channel:
            message["guild_id"] = channel["guild_id"]
            message["member"] = self._member(author, with_user=False)
        if reply_to is not None:
            message["message_reference"] = {"type": 0, "message_id": reply_to["id"],
                                            "channel_id": reply_to["channel_id"], "guild_id": channel.get("guild_id")}
            message["referenced_message"] = reply_to
        self.messages[int(message["id"])] = message
        return message

    def command_interaction(self, channel: dict, user: dict, name: str, options: dict[str, Any] | None = None,
                            attachment_size_limit: int | None = None) -> dict:
        """An INTERACTION_CREATE payload for a slash command; attachment options take attachment objects."""
        data: dict[str, Any] = {"id": self._command_id(name), "name": name, "type": 1}
        resolved: dict[str, dict] = {}
        typed = []
        for option_name, value in (options or {}).items():
            if isinstance(value, dict):
                resolved[value["id"]] = value
                typed.append({"name": option_name, "type": 11, "value": value["id"]})
            elif isinstance(value, int):
                typed.append({"name": option_name, "type": 4, "value": value})
            else:
                typed.append({"name": option_name, "type": 3, "value": value})
        if typed:
            data["options"] = typed
        if resolved:
            data["resolved"] = {"attachments": resolved}
        return self._interaction(2, data, channel, user, attachment_size_limit)

    def button_interaction(self, message: dict, custom_id: str, user: dict) -> dict:
        channel = self.channels[int(message["channel_id"])]
        payload = self._interaction(3, {"custom_id": custom_id, "component_type": 2}, channel, user, None)
        payload["message"] = message
        return payload

    def _interaction(self, kind: int, data: dict, channel: dict, user: dict, size_limit: int | None) -> dict:
        interaction_id = self.next_id()
        payload: dict[str, Any] = {
            "id": str(interaction_id), "application_id": str(self.app_id), "type": kind, "data": data,
            "channel_id": channel["id"], "channel": partial_channel(channel),
            "token": f"itoken-{interaction_id}", "version": 1, "locale": "en-US",
            "app_permissions": str(BOT_PERMISSIONS), "entitlements": [],
            "attachment_size_limit": size_limit or self.upload_limit(int(channel["id"])),
        }
        if "guild_id" in channel:
            payload["guild_id"] = channel["guild_id"]
            payload["guild_locale"] = "en-US"
            payload["member"] = {**self._member(user), "permissions": str(EVERYONE_PERMISSIONS)}
            payload["authorizing_integration_owners"] = {"0": channel["guild_id"]}
            payload["context"] = 0
        else:
            payload["user"] = user
            payload["authorizing_integration_owners"] = {"0": "0"}
            payload["context"] = 1
        return payload

    def _command_id(self, name: str) -> str:
        for command in self.commands:
            if command["name"] == name:
                return command["id"]
        return str(self.next_id())

"""REST routes of the application and its interactions: the callback (once, within 3 s), the
original response and followups through the interaction's webhook (a token lives 15 minutes)."""
from __future__ import annotations

import time
from typing import Any

from tests.discord.fake_discord.model import (
    INTERACTION_CALLBACK_WINDOW_S, INTERACTION_TOKEN_TTL_S, Interaction, LOADING_FLAG, snowflake_time,
)


class InteractionRoutes:
    """Methods of FakeDiscord (server.py); they use its state."""

    # users and application
    async def _get_users_me(self, args, body, files, request):
        return 200, self.bot

    async def _get_application_me(self, args, body, files, request):
        return 200, {"id": str(self.app_id), "name": "shortsbot", "icon": None, "description": "",
                     "bot_public": True, "bot_require_code_grant": False, "verify_key": "0" * 64,
                     "flags": 0, "owner": self.add_user("owner"), "team": None, "summary": ""}

    async def _get_commands(self, args, body, files, request):
        return 200, self.commands

    async def _put_commands(self, args, body, files, request):
        self.commands = [{**command, "id": self._command_id(command["name"]), "application_id": str(self.app_id),
                          "version": str(self.next_id()), "default_member_permissions": None}
                         for command in body]
        return 200, self.commands

    # interactions
    async def _post_interaction_callback(self, args, body, files, request):
        interaction = self.interactions.get(args[1])
        if interaction is None or interaction.payload["id"] != args[0]:
            return 404, {"code": 10062, "message": "Unknown interaction"}
        if interaction.acknowledged_at is not None:
            return 400, {"code": 40060, "message": "Interaction has already been acknowledged."}
        if time.monotonic() - interaction.dispatched_at > INTERACTION_CALLBACK_WINDOW_S:
            return 404, {"code": 10062, "message": "Unknown interaction"}
        interaction.acknowledged_at = time.monotonic()
        interaction.callback_type = body["type"]
        interaction.expired = self.tokens_expire_on_ack
        response: dict[str, Any] = {"interaction": {"id": args[0], "type": interaction.payload["type"]}}
        data = body.get("data") or {}
        if body["type"] in (4, 5):
            flags = data.get("flags", 0) | (LOADING_FLAG if body["type"] == 5 else 0)
            status, message = self._create_message(
                interaction.channel_id, {**data, "flags": flags}, files, interaction_id=args[0])
            if status >= 400:
                interaction.acknowledged_at = None
                return status, message
            interaction.original_message_id = int(message["id"])
            response["interaction"].update(response_message_id=message["id"],
                                           response_message_loading=body["type"] == 5,
                                           response_message_ephemeral=bool(flags & 64))
            response["resource"] = {"type": body["type"], "message": message}
        elif body["type"] == 7 and "message" in interaction.payload:
            target = self.messages[int(interaction.payload["message"]["id"])]
            self._edit_message(target, data, files)
        return 200, response

    def _webhook_interaction(self, args) -> tuple[Interaction | None, tuple[int, dict] | None]:
        interaction = self.interactions.get(args[1])
        if interaction is None or str(self.app_id) != args[0]:
            return None, (404, {"code": 10015, "message": "Unknown Webhook"})
        too_old = time.time() - snowflake_time(int(interaction.payload["id"])) > INTERACTION_TOKEN_TTL_S
        if interaction.expired or too_old:
            return None, (401, {"code": 50027, "message": "Invalid Webhook Token"})
        if interaction.acknowledged_at is None:
            return None, (404, {"code": 10015, "message": "Unknown Webhook"})
        return interaction, None

    async def _get_webhook_original(self, args, body, files, request):
        interaction, error = self._webhook_interaction(args)
        if error:
            return error
        if interaction.original_message_id is None:
            return 404, {"code": 10008, "message": "Unknown Message"}
        return 200, self.messages[interaction.original_message_id]

    async def _patch_webhook_original(self, args, body, files, request):
        interaction, error = self._webhook_interaction(args)
        if error:
            return error
        if interaction.original_message_id is None:
            return 404, {"code": 10008, "message": "Unknown Message"}
        message = self.messages[interaction.original_message_id]
        return self._edit_message(message, body, files, clear_loading=True)

    async def _patch_webhook_message(self, args, body, files, request):
        interaction, error = self._webhook_interaction(args)
        if error:
            return error
        message = self.messages.get(int(args[2]))
        if message is None or message.get("interaction_id") != interaction.payload["id"]:
            return 404, {"code": 10008, "message": "Unknown Message"}
        return self._edit_message(message, body, files)

    async def _post_webhook(self, args, body, files, request):
        interaction, error = self._webhook_interaction(args)
        if error:
            return error
        original = self.messages.get(interaction.original_message_id or 0)
        if original is not None and original["flags"] & LOADING_FLAG:
            # Documented: the first followup after a deferral edits the loading message.
            return self._edit_message(original, body, files, clear_loading=True)
        return self._create_message(interaction.channel_id, body, files, interaction_id=interaction.payload["id"])

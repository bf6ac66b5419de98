"""REST routes of channels, messages and threads, and the message rules they share (the upload
limit, attachments, edits)."""
from __future__ import annotations

import time

from tests.discord.fake_discord.model import GUILD_TEXT, LOADING_FLAG, PUBLIC_THREAD, UploadedFile, iso_now


class MessageRoutes:
    """Methods of FakeDiscord (server.py); they use its state."""

    # channels
    async def _get_channel(self, args, body, files, request):
        channel = self.channels.get(int(args[0]))
        return (200, channel) if channel else (404, {"code": 10003, "message": "Unknown Channel"})

    async def _post_channel_messages(self, args, body, files, request):
        channel_id = int(args[0])
        if channel_id not in self.channels:
            return 404, {"code": 10003, "message": "Unknown Channel"}
        return self._create_message(channel_id, body, files)

    async def _get_channel_message(self, args, body, files, request):
        message = self.messages.get(int(args[1]))
        if message is None or message["channel_id"] != args[0]:
            return 404, {"code": 10008, "message": "Unknown Message"}
        return 200, message

    async def _patch_channel_message(self, args, body, files, request):
        message = self.messages.get(int(args[1]))
        if message is None or message["channel_id"] != args[0]:
            return 404, {"code": 10008, "message": "Unknown Message"}
        if message["author"]["id"] != self.bot["id"]:
            return 403, {"code": 50005, "message": "Cannot edit a message authored by another user"}
        return self._edit_message(message, body, files)

    async def _post_message_threads(self, args, body, files, request):
        channel = self.channels.get(int(args[0]))
        message = self.messages.get(int(args[1]))
        if channel is None:
            return 404, {"code": 10003, "message": "Unknown Channel"}
        if message is None or message["channel_id"] != args[0]:
            return 404, {"code": 10008, "message": "Unknown Message"}
        if channel["type"] != GUILD_TEXT:
            return 400, {"code": 50024, "message": "Cannot execute action on this channel type"}
        if int(message["id"]) in self.channels:
            return 400, {"code": 160004, "message": "A thread has already been created for this message"}
        if not 1 <= len(body.get("name", "")) <= 100:
            return 400, {"code": 50035, "message": "Invalid Form Body (name)"}
        return 201, self.start_thread(channel, message, body["name"], body.get("auto_archive_duration", 1440))

    def start_thread(self, channel: dict, message: dict, name: str, archive_minutes: int = 1440) -> dict:
        """A public thread on a message, as Discord makes it: the thread takes the message's id."""
        thread = {"id": message["id"], "type": PUBLIC_THREAD, "guild_id": channel["guild_id"],
                  "parent_id": channel["id"], "owner_id": self.bot["id"], "name": name,
                  "last_message_id": None, "message_count": 0, "member_count": 1, "rate_limit_per_user": 0,
                  "flags": 0, "total_message_sent": 0,
                  "thread_metadata": {"archived": False, "locked": False, "create_timestamp": iso_now(),
                                      "auto_archive_duration": archive_minutes, "archive_timestamp": iso_now()}}
        self.channels[int(thread["id"])] = thread
        self.guilds[int(channel["guild_id"])]["threads"].append(thread)
        message["thread"] = thread
        return thread

    # message bookkeeping
    def _create_message(self, channel_id: int, body: dict, files: list[UploadedFile],
                        interaction_id: str | None = None) -> tuple[int, dict]:
        channel = self.channels.get(channel_id)
        if channel is None:
            return 404, {"code": 10003, "message": "Unknown Channel"}
        if error := self._check_message_body(channel_id, body, files):
            return error
        reference = body.get("message_reference")
        if reference is not None:
            reference = {k: str(v) if k.endswith("_id") and v is not None else v for k, v in reference.items()}
            referenced = self.messages.get(int(reference["message_id"]))
            if referenced is None and reference.get("fail_if_not_exists", True):
                return 400, {"code": 50035, "message": "Invalid Form Body (message_reference: Unknown message)"}
        message = {
            "id": str(self.next_id()), "channel_id": str(channel_id), "author": self.bot,
            "content": body.get("content") or "", "timestamp": iso_now(), "edited_timestamp": None,
            "tts": False, "mention_everyone": False, "mentions": [], "mention_roles": [],
            "attachments": self._attachments(files), "embeds": body.get("embeds") or [], "pinned": False,
            "type": 19 if reference else (20 if interaction_id else 0), "flags": body.get("flags") or 0,
            "components": body.get("components") or [],
        }
        if "guild_id" in channel:
            message["guild_id"] = channel["guild_id"]
        if reference is not None:
            message["message_reference"] = reference
        if interaction_id is not None:
            message["interaction_id"] = interaction_id
            message["webhook_id"] = str(self.app_id)
        self.messages[int(message["id"])] = message
        self.created[int(message["id"])] = time.monotonic()
        return 200, message

    def _edit_message(self, message: dict, body: dict, files: list[UploadedFile],
                      clear_loading: bool = False) -> tuple[int, dict]:
        if error := self._check_message_body(int(message["channel_id"]), body, files):
            return error
        if "content" in body:
            message["content"] = body["content"] or ""
        if "components" in body:
            message["components"] = body["components"] or []
        if "embeds" in body:
            message["embeds"] = body["embeds"] or []
        if files or "attachments" in body:
            kept = [a for a in message["attachments"]
                    if any(str(k.get("id")) == a["id"] for k in body.get("attachments") or [])]
            message["attachments"] = kept + self._attachments(files)
        if clear_loading:
            message["flags"] = message.get("flags", 0) & ~LOADING_FLAG
        message["edited_timestamp"] = iso_now()
        self.edits.setdefault(int(message["id"]), []).append(time.monotonic())
        return 200, message

    def _check_message_body(self, channel_id: int, body: dict, files: list[UploadedFile]) -> tuple[int, dict] | None:
        if len(body.get("content") or "") > 2000:
            return 400, {"code": 50035, "message": "Invalid Form Body (content: Must be 2000 or fewer in length.)"}
        if sum(f.size for f in files) > self.upload_limit(channel_id):
            return 413, {"code": 40005, "message": "Request entity too large"}
        for row in body.get("components") or []:
            for component in row.get("components", []):
                if len(component.get("custom_id", "")) > 100 or len(component.get("label", "")) > 80:
                    return 400, {"code": 50035, "message": "Invalid Form Body (components)"}
        return None

    def _attachments(self, files: list[UploadedFile]) -> list[dict]:
        return [{"id": str(self.next_id()), "filename": f.filename, "size": f.size,
                 "url": f"{self.base_url}/attachments/sent-{f.filename}", "proxy_url": "",
                 "content_type": "video/mp4" if f.filename.endswith(".mp4") else None}
                for f in files]

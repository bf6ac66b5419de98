"""A fake Discord on loopback: the REST API (v10) and a gateway websocket, as discord.py calls them.

https://discord.com/developers/docs: REST calls are `{Route.BASE}/...` with `Authorization: Bot
<token>`; JSON bodies, or multipart/form-data with a `payload_json` part and `files[n]` parts when
files are uploaded; errors are `{"code": n, "message": "..."}` with the HTTP status; 429 carries
`retry_after` (seconds). The gateway sends HELLO (op 10), takes IDENTIFY (op 2), answers with
READY and one GUILD_CREATE per guild, acknowledges heartbeats (op 1 -> op 11) and then
dispatches events (op 0) that the test pushes with `dispatch()`.

The fake keeps a small world (users, guilds, channels, threads, messages, interactions) so that
what the bot does behaves as on Discord:
- a deferred interaction (callback type 5) creates a "thinking" message in the channel, which
  the original-response webhook edits; followups are new messages in the channel;
- an interaction is answered once (a second callback is 400 / 40060), the callback must come
  within 3 s of the dispatch, and webhook calls with a token older than 15 minutes (or one the
  test expired) fail with 401 / 50027;
- a thread started from a message takes the message's id; a second thread on the same message
  is 400 / 160004; no threads in DMs or inside threads (400 / 50024);
- uploads over the channel's limit (the guild's premium tier, 10 MiB elsewhere) are 413 / 40005;
- attachment URLs the fake hands out (`host_file`) are served from disk, and downloads recorded.

Every call is recorded (method, route, JSON body, uploaded files saved to disk, time).
Payload builders follow the documented gateway shapes (Message Create, Interaction Create).
"""
from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from aiohttp import WSMsgType, web

DISCORD_EPOCH_MS = 1420070400000
DEFAULT_UPLOAD_LIMIT = 10 * 1024 * 1024
TIER_UPLOAD_LIMIT = {0: DEFAULT_UPLOAD_LIMIT, 1: DEFAULT_UPLOAD_LIMIT, 2: 50 * 1024 * 1024, 3: 100 * 1024 * 1024}
INTERACTION_CALLBACK_WINDOW_S = 3.0
INTERACTION_TOKEN_TTL_S = 15 * 60

# Channel types and message flags from the docs.
GUILD_TEXT, DM, PUBLIC_THREAD = 0, 1, 11
LOADING_FLAG = 1 << 7
MESSAGE_CONTENT_INTENT = 1 << 15


def snowflake_at(unix_seconds: float, counter: int = 0) -> int:
    return ((int(unix_seconds * 1000) - DISCORD_EPOCH_MS) << 22) | (counter & 0xFFF)


def snowflake_time(value: int) -> float:
    return ((value >> 22) + DISCORD_EPOCH_MS) / 1000


def iso_now() -> str:
    return datetime.now(timezone.utc).isoformat()


@dataclass(frozen=True)
class UploadedFile:
    part: str
    filename: str
    size: int
    path: Path


@dataclass(frozen=True)
class Call:
    method: str
    path: str                     # the route as requested, e.g. /channels/12/messages
    route: str                    # the route template, e.g. POST /channels/{channel_id}/messages
    params: dict[str, str]
    body: dict[str, Any]          # the JSON body, or the payload_json part of a multipart body
    files: tuple[UploadedFile, ...]
    status: int
    at: float                     # time.monotonic() when the request arrived


@dataclass
class Interaction:
    payload: dict[str, Any]
    dispatched_at: float
    channel_id: int
    acknowledged_at: float | None = None
    callback_type: int | None = None
    original_message_id: int | None = None
    expired: bool = False


@dataclass
class Failure:
    status: int
    code: int
    message: str
    retry_after: float | None = None


class FakeDiscord:
    def __init__(self, workdir: Path, token: str = "fake-token"):
        self.workdir = workdir
        self.token = token
        self._ids = itertools.count(1)
        self.calls: list[Call] = []
        self.identify: list[dict[str, Any]] = []
        self.downloads: list[str] = []
        self.users: dict[int, dict] = {}
        self.guilds: dict[int, dict] = {}
        self.channels: dict[int, dict] = {}
        self.messages: dict[int, dict] = {}            # every message, the bot's and the users'
        self.created: dict[int, float] = {}           # message id -> when the bot posted it (monotonic)
        self.edits: dict[int, list[float]] = {}       # message id -> times it was edited
        self.interactions: dict[str, Interaction] = {}  # by token
        self.hosted: dict[str, Path] = {}
        self.commands: list[dict] = []
        self._failures: dict[str, list[Failure]] = {}
        self.tokens_expire_on_ack = False              # as if every interaction's results came 15+ minutes late
        self.message_content_enabled = False           # the portal's Message Content switch
        self._sockets: list[web.WebSocketResponse] = []
        self._seq = itertools.count(1)
        self._changed = asyncio.Event()
        self.app_id = self.next_id()
        self.bot = self.add_user("shortsbot", bot=True, user_id=self.app_id)
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    # ------------------------------------------------------------------ server

    async def start(self) -> "FakeDiscord":
        self.workdir.mkdir(parents=True, exist_ok=True)
        app = web.Application(client_max_size=200 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/attachments/{name}", self._download)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._api)
        self._runner = web.AppRunner(app, access_log=None)      # its lines are not the bot's
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def close(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/v10"

    @property
    def gateway_url(self) -> str:
        return self.base_url.replace("http://", "ws://") + "/gateway"

    def next_id(self) -> int:
        return snowflake_at(time.time(), next(self._ids))

    # ------------------------------------------------------------------ the world

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
            "roles": [{"id": str(guild_id), "name": "@everyone", "permissions": str(_EVERYONE_PERMISSIONS),
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

    # ------------------------------------------------------------------ gateway payloads a test dispatches

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
            "channel_id": channel["id"], "channel": _partial_channel(channel),
            "token": f"itoken-{interaction_id}", "version": 1, "locale": "en-US",
            "app_permissions": str(_BOT_PERMISSIONS), "entitlements": [],
            "attachment_size_limit": size_limit or self.upload_limit(int(channel["id"])),
        }
        if "guild_id" in channel:
            payload["guild_id"] = channel["guild_id"]
            payload["guild_locale"] = "en-US"
            payload["member"] = {**self._member(user), "permissions": str(_EVERYONE_PERMISSIONS)}
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

    # ------------------------------------------------------------------ gateway

    async def dispatch(self, event: str, data: dict) -> None:
        if event == "INTERACTION_CREATE":
            self.interactions[data["token"]] = Interaction(data, time.monotonic(), int(data["channel_id"]))
        if event == "MESSAGE_CREATE":
            self.messages[int(data["id"])] = data
        if not self._sockets:
            raise RuntimeError("no bot is connected to the fake gateway")
        for ws in self._sockets:
            await ws.send_json({"op": 0, "t": event, "s": next(self._seq), "d": data})

    async def wait_connected(self, timeout: float = 10.0) -> None:
        await self.wait_for(lambda: bool(self._sockets) and bool(self.identify), timeout, "a gateway IDENTIFY")

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json({"op": 10, "d": {"heartbeat_interval": 41250}, "s": None, "t": None})
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                frame = json.loads(msg.data)
                if frame["op"] == 1:
                    await ws.send_json({"op": 11, "d": None})
                elif frame["op"] == 2:
                    if frame["d"]["token"] != self.token:
                        await ws.close(code=4004, message=b"Authentication failed.")
                        break
                    if frame["d"].get("intents", 0) & MESSAGE_CONTENT_INTENT and not self.message_content_enabled:
                        self.identify.append(frame["d"])
                        await ws.close(code=4014, message=b"Disallowed intent(s).")
                        break
                    self.identify.append(frame["d"])
                    self._sockets.append(ws)
                    await self._send_ready(ws)
                    self._notify()
        finally:
            if ws in self._sockets:
                self._sockets.remove(ws)
        return ws

    async def _send_ready(self, ws: web.WebSocketResponse) -> None:
        ready = {"v": 10, "user": self.bot, "session_id": "fake-session", "resume_gateway_url": self.gateway_url,
                 "guilds": [{"id": g["id"], "unavailable": True} for g in self.guilds.values()],
                 "application": {"id": str(self.app_id), "flags": 0}, "private_channels": [], "presences": []}
        await ws.send_json({"op": 0, "t": "READY", "s": next(self._seq), "d": ready})
        for guild in self.guilds.values():
            await ws.send_json({"op": 0, "t": "GUILD_CREATE", "s": next(self._seq), "d": guild})

    # ------------------------------------------------------------------ test controls and queries

    def fail_next(self, method: str, route: str, status: int, code: int = 0, message: str = "",
                  retry_after: float | None = None) -> None:
        """The next call of `METHOD /route/{template}` (or of one exact path) is answered with an error."""
        self._failures.setdefault(f"{method} {route}", []).append(Failure(status, code, message, retry_after))

    def expire_interaction_tokens(self) -> None:
        """As if 15 minutes had passed: every interaction webhook call now fails with 401 / 50027."""
        for interaction in self.interactions.values():
            interaction.expired = True

    def sent_by_bot(self, channel_id: int | str) -> list[dict]:
        return [m for m in self.messages.values()
                if m["channel_id"] == str(channel_id) and m["author"]["id"] == self.bot["id"]]

    def calls_to(self, route: str) -> list[Call]:
        return [c for c in self.calls if c.route == route]

    def threads(self) -> list[dict]:
        return [c for c in self.channels.values() if c["type"] == PUBLIC_THREAD]

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 10.0, what: str = "a condition") -> Any:
        deadline = time.monotonic() + timeout
        while True:
            result = predicate()
            if result:
                return result
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.25))
            except asyncio.TimeoutError:
                pass

    def _notify(self) -> None:
        self._changed.set()

    # ------------------------------------------------------------------ REST

    async def _download(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        self.downloads.append(name)
        self._notify()
        path = self.hosted.get(name)
        if path is None:
            return web.Response(status=404, text="not found")
        return web.FileResponse(path)

    async def _api(self, request: web.Request) -> web.StreamResponse:
        arrived = time.monotonic()
        path = "/" + request.match_info["tail"]
        body, files = await self._read_body(request)
        route, args = _match_route(request.method, path)
        if request.headers.get("Authorization") != f"Bot {self.token}" and not route.startswith(
                ("POST /interactions", "GET /webhooks", "PATCH /webhooks", "POST /webhooks", "DELETE /webhooks")):
            status, answer = 401, {"code": 0, "message": "401: Unauthorized"}
        elif route == "":
            status, answer = 404, {"code": 0, "message": f"404: Not Found ({request.method} {path})"}
        elif failure := (self._take_failure(f"{request.method} {path}") or self._take_failure(route)):
            status, answer = failure.status, {"code": failure.code, "message": failure.message}
            if failure.retry_after is not None:
                answer.update(retry_after=failure.retry_after, **{"global": False})
        else:
            handler = getattr(self, "_" + route.split(" ")[0].lower() + "_" + _route_key(route))
            status, answer = await handler(args, body, files, request)
        self.calls.append(Call(request.method, path, route, dict(request.query), body, tuple(files), status, arrived))
        self._notify()
        headers = {}
        if status == 429:
            # As Discord's edge answers: discord.py treats a 429 without "Via" as a Cloudflare ban.
            headers = {"Retry-After": str(answer["retry_after"]), "X-RateLimit-Scope": "user", "Via": "1.1 google"}
        if answer is None:
            return web.Response(status=204, headers=headers)
        # Discord's exact header: discord.py decodes JSON only for "application/json", no charset.
        return web.Response(body=json.dumps(answer).encode(), status=status,
                            headers={**headers, "Content-Type": "application/json"})

    def _take_failure(self, route: str) -> Failure | None:
        queue = self._failures.get(route)
        return queue.pop(0) if queue else None

    async def _read_body(self, request: web.Request) -> tuple[dict, list[UploadedFile]]:
        if not request.body_exists:
            return {}, []
        if request.content_type.startswith("multipart/"):
            body: dict = {}
            files: list[UploadedFile] = []
            reader = await request.multipart()
            async for part in reader:
                if part.name == "payload_json":
                    body = json.loads(await part.text())
                    continue
                target = self.workdir / f"upload-{self.next_id()}-{part.filename}"
                size = 0
                with target.open("wb") as out:
                    while chunk := await part.read_chunk(256 * 1024):
                        out.write(chunk)
                        size += len(chunk)
                files.append(UploadedFile(part.name or "", part.filename or "", size, target))
            return body, files
        text = await request.text()
        return (json.loads(text) if text else {}), []

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


# ---------------------------------------------------------------------- routes

_ROUTES: list[tuple[str, str, str]] = [
    # (method, template, handler key)
    ("GET", "/users/@me", "users_me"),
    ("GET", "/oauth2/applications/@me", "application_me"),
    ("GET", "/applications/{application_id}/commands", "commands"),
    ("PUT", "/applications/{application_id}/commands", "commands"),
    ("GET", "/channels/{channel_id}", "channel"),
    ("POST", "/channels/{channel_id}/messages", "channel_messages"),
    ("GET", "/channels/{channel_id}/messages/{message_id}", "channel_message"),
    ("PATCH", "/channels/{channel_id}/messages/{message_id}", "channel_message"),
    ("POST", "/channels/{channel_id}/messages/{message_id}/threads", "message_threads"),
    ("POST", "/interactions/{interaction_id}/{token}/callback", "interaction_callback"),
    ("GET", "/webhooks/{application_id}/{token}/messages/@original", "webhook_original"),
    ("PATCH", "/webhooks/{application_id}/{token}/messages/@original", "webhook_original"),
    ("PATCH", "/webhooks/{application_id}/{token}/messages/{message_id}", "webhook_message"),
    ("POST", "/webhooks/{application_id}/{token}", "webhook"),
]


def _match_route(method: str, path: str) -> tuple[str, list[str]]:
    parts = path.strip("/").split("/")
    for route_method, template, _ in _ROUTES:
        pattern = template.strip("/").split("/")
        if route_method != method or len(pattern) != len(parts):
            continue
        args = []
        for want, got in zip(pattern, parts):
            if want.startswith("{"):
                args.append(got)
            elif want != got:
                break
        else:
            return f"{method} {template}", args
    return "", []


def _route_key(route: str) -> str:
    method, template = route.split(" ", 1)
    for route_method, route_template, key in _ROUTES:
        if route_method == method and route_template == template:
            return key
    raise KeyError(route)


def _partial_channel(channel: dict) -> dict:
    keep = ("id", "type", "guild_id", "name", "parent_id", "position", "permission_overwrites", "nsfw",
            "topic", "last_message_id", "rate_limit_per_user", "flags", "recipients", "thread_metadata",
            "owner_id", "member_count", "message_count", "total_message_sent")
    return {k: v for k, v in channel.items() if k in keep}


# View, send, threads, files, links, history, application commands; the everyone role may read and write.
_EVERYONE_PERMISSIONS = (1 << 10) | (1 << 11) | (1 << 14) | (1 << 15) | (1 << 16) | (1 << 31) | (1 << 35) | (1 << 38)
_BOT_PERMISSIONS = _EVERYONE_PERMISSIONS

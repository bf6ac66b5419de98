"""What the fake Discord's parts share: Discord's constants and snowflakes, the records of calls,
files and interactions, and the table of REST routes."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any


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


ROUTES: list[tuple[str, str, str]] = [
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


def match_route(method: str, path: str) -> tuple[str, list[str]]:
    parts = path.strip("/").split("/")
    for route_method, template, _ in ROUTES:
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


def route_key(route: str) -> str:
    method, template = route.split(" ", 1)
    for route_method, route_template, key in ROUTES:
        if route_method == method and route_template == template:
            return key
    raise KeyError(route)


def partial_channel(channel: dict) -> dict:
    keep = ("id", "type", "guild_id", "name", "parent_id", "position", "permission_overwrites", "nsfw",
            "topic", "last_message_id", "rate_limit_per_user", "flags", "recipients", "thread_metadata",
            "owner_id", "member_count", "message_count", "total_message_sent")
    return {k: v for k, v in channel.items() if k in keep}


# View, send, threads, files, links, history, application commands; the everyone role may read and write.
EVERYONE_PERMISSIONS = (1 << 10) | (1 << 11) | (1 << 14) | (1 << 15) | (1 << 16) | (1 << 31) | (1 << 35) | (1 << 38)


BOT_PERMISSIONS = EVERYONE_PERMISSIONS

"""The fake cloud's state and records: the contract's constants, injected faults, recorded
requests, tokens, sessions with their drafts, uploads and renders."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from aiohttp import web


ATTRIBUTION = ("X-Skill-Source", "X-Skill-Version", "X-Skill-Platform")
FAULT = web.RequestKey("fault", object)
ENDPOINTS = ("token", "session", "chat", "upload", "credits", "state", "export", "render_status", "cancel")
# How each cloud code travels: the HTTP status it comes with.
HTTP_STATUS_FOR_CODE = {1001: 401, 1002: 200, 2001: 200, 4001: 200, 4002: 200, 400: 400, 402: 402, 429: 429}


# ---------------------------------------------------------------- state

@dataclass
class Fault:
    code: int                      # a cloud code (1001, 2001...) or an HTTP status (402, 429, 503)
    http_status: int
    message: str
    kind: str = "code"             # "code" | "drop" (close the connection) | "duplicate"


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    endpoint: str

    @property
    def token(self) -> str | None:
        value = self.headers.get("authorization", "")
        return value[len("Bearer "):] if value.startswith("Bearer ") else None

    def missing_attribution(self) -> list[str]:
        return [h for h in ATTRIBUTION if not self.headers.get(h.lower())]


@dataclass
class TokenInfo:
    token: str
    user_id: str
    client_id: str
    expires_at: datetime


@dataclass
class FakeSession:
    session_id: str
    task_id: str
    user_id: str
    language: str
    video_infos: list[dict] = field(default_factory=list)
    draft: dict = field(default_factory=dict)
    generated_media: list[dict] = field(default_factory=list)


@dataclass
class Upload:
    session_id: str
    filename: str
    size: int
    sha256: str
    content_type: str
    chunks: int


@dataclass
class Render:
    render_id: str
    session_id: str
    user_id: str
    draft: dict
    polls: int = 0
    cancelled: bool = False

"""A person's state with a clip service: their account there (tokens) and their editing sessions
(one active per person, chat and service); and, whatever the service, the words they asked with a
link that could not be opened, kept for the file they send next in that chat."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from storage.db import Database
from storage.times import format_time, parse_time, utcnow


@dataclass(frozen=True)
class AccountRecord:
    user_id: int
    backend: str
    client_id: str
    token: str | None
    remote_user_id: str | None
    expires_at: datetime | None
    anonymous: bool

    def expired(self, now: datetime | None = None) -> bool:
        if self.token is None:
            return True
        if self.expires_at is None:
            return False
        return (now or datetime.now(timezone.utc)) >= self.expires_at

    def __repr__(self) -> str:  # never show the token
        return f"AccountRecord(user_id={self.user_id}, backend={self.backend!r}, token=***, expires_at={self.expires_at})"


class AccountRepo:
    def __init__(self, db: Database):
        self.db = db

    async def get(self, user_id: int, backend: str) -> AccountRecord | None:
        row = await self.db.fetchone("SELECT * FROM accounts WHERE user_id = ? AND backend = ?", (user_id, backend))
        return _account(row) if row else None

    async def save(self, user_id: int, backend: str, client_id: str, token: str | None = None,
                   remote_user_id: str | None = None, expires_at: datetime | None = None,
                   anonymous: bool = True) -> AccountRecord:
        await self.db.execute(
            "INSERT INTO accounts (user_id, backend, client_id, token, remote_user_id, expires_at, anonymous, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (user_id, backend) DO UPDATE SET client_id = excluded.client_id, token = excluded.token,"
            " remote_user_id = excluded.remote_user_id, expires_at = excluded.expires_at,"
            " anonymous = excluded.anonymous, updated_at = excluded.updated_at",
            (user_id, backend, client_id, token, remote_user_id, format_time(expires_at), int(anonymous), utcnow()),
        )
        record = await self.get(user_id, backend)
        assert record is not None
        return record

    async def invalidate_token(self, user_id: int, backend: str) -> None:
        await self.db.execute(
            "UPDATE accounts SET token = NULL, updated_at = ? WHERE user_id = ? AND backend = ?",
            (utcnow(), user_id, backend))


def _account(row) -> AccountRecord:
    return AccountRecord(row["user_id"], row["backend"], row["client_id"], row["token"], row["remote_user_id"],
                         parse_time(row["expires_at"]), bool(row["anonymous"]))


@dataclass(frozen=True)
class SessionRecord:
    id: int
    user_id: int
    chat_key: str
    backend: str
    remote_session_id: str
    task_id: str | None
    language: str
    state: dict[str, Any]
    active: bool


class SessionRepo:
    def __init__(self, db: Database):
        self.db = db

    async def active(self, user_id: int, chat_key: str, backend: str) -> SessionRecord | None:
        row = await self.db.fetchone(
            "SELECT * FROM sessions WHERE user_id = ? AND chat_key = ? AND backend = ? AND active = 1",
            (user_id, chat_key, backend))
        return _session(row) if row else None

    async def get(self, session_id: int) -> SessionRecord | None:
        row = await self.db.fetchone("SELECT * FROM sessions WHERE id = ?", (session_id,))
        return _session(row) if row else None

    async def by_remote_id(self, backend: str, remote_session_id: str) -> SessionRecord | None:
        row = await self.db.fetchone(
            "SELECT * FROM sessions WHERE backend = ? AND remote_session_id = ? ORDER BY id DESC LIMIT 1",
            (backend, remote_session_id))
        return _session(row) if row else None

    async def start(self, user_id: int, chat_key: str, backend: str, remote_session_id: str,
                    task_id: str | None = None, language: str = "en", state: dict | None = None) -> SessionRecord:
        """Makes a new active session, retiring the previous one for this user, chat and backend."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE sessions SET active = 0, updated_at = ? WHERE user_id = ? AND chat_key = ? AND backend = ? AND active = 1",
                (utcnow(), user_id, chat_key, backend))
            cursor = await conn.execute(
                "INSERT INTO sessions (user_id, chat_key, backend, remote_session_id, task_id, language, state_json)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (user_id, chat_key, backend, remote_session_id, task_id, language, json.dumps(state or {})))
            session_id = cursor.lastrowid
        record = await self.get(session_id)
        assert record is not None
        return record

    async def save_state(self, session_id: int, state: dict[str, Any]) -> None:
        await self.db.execute("UPDATE sessions SET state_json = ?, updated_at = ? WHERE id = ?",
                              (json.dumps(state), utcnow(), session_id))

    async def end(self, session_id: int) -> None:
        await self.db.execute("UPDATE sessions SET active = 0, updated_at = ? WHERE id = ?", (utcnow(), session_id))


class KeptInstructionRepo:
    """One kept instruction per person and chat."""

    def __init__(self, db: Database):
        self.db = db

    async def keep(self, user_id: int, chat_key: str, instruction: str) -> None:
        await self.db.execute(
            "INSERT INTO kept_instructions (user_id, chat_key, instruction, kept_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (user_id, chat_key) DO UPDATE SET instruction = excluded.instruction, kept_at = excluded.kept_at",
            (user_id, chat_key, instruction, utcnow()))

    async def take(self, user_id: int, chat_key: str) -> str:
        """The kept instruction ("" when none), which is kept no longer."""
        async with self.db.transaction() as conn:
            async with conn.execute("SELECT instruction FROM kept_instructions WHERE user_id = ? AND chat_key = ?",
                                    (user_id, chat_key)) as cursor:
                row = await cursor.fetchone()
            await conn.execute("DELETE FROM kept_instructions WHERE user_id = ? AND chat_key = ?", (user_id, chat_key))
        return row["instruction"] if row else ""

    async def forget(self, user_id: int, chat_key: str) -> None:
        await self.db.execute("DELETE FROM kept_instructions WHERE user_id = ? AND chat_key = ?", (user_id, chat_key))


def _session(row) -> SessionRecord:
    return SessionRecord(row["id"], row["user_id"], row["chat_key"], row["backend"], row["remote_session_id"],
                         row["task_id"], row["language"], json.loads(row["state_json"]), bool(row["active"]))

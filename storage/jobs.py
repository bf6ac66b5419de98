"""Jobs as a durable state machine, and the chat references that say where a job's replies go."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from storage.db import Database
from storage.times import utcnow


JOB_STATES = ("queued", "running", "done", "failed", "cancelled")
LEGAL_MOVES: dict[str, set[str]] = {
    "queued": {"running", "cancelled", "failed"},
    "running": {"done", "failed", "cancelled", "queued"},   # queued again: requeued after a restart or a retry
    "done": set(),
    "failed": set(),
    "cancelled": set(),
}


class IllegalTransition(Exception):
    pass


@dataclass(frozen=True)
class JobRecord:
    id: int
    user_id: int
    session_id: int | None
    kind: str
    state: str
    payload: dict[str, Any]
    result: dict[str, Any] | None
    progress: float
    attempts: int
    max_attempts: int
    error: str | None
    chat_ref_id: int | None

    @property
    def hold_ref(self) -> str:
        return f"job:{self.id}"

    @property
    def finished(self) -> bool:
        return self.state in ("done", "failed", "cancelled")


class JobRepo:
    def __init__(self, db: Database):
        self.db = db

    async def enqueue(self, user_id: int, kind: str, payload: dict, session_id: int | None = None,
                      chat_ref_id: int | None = None, max_attempts: int = 3) -> JobRecord:
        job_id = await self.db.execute(
            "INSERT INTO jobs (user_id, session_id, kind, payload_json, chat_ref_id, max_attempts)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (user_id, session_id, kind, json.dumps(payload), chat_ref_id, max_attempts))
        job = await self.get(job_id)
        assert job is not None
        return job

    async def get(self, job_id: int) -> JobRecord | None:
        row = await self.db.fetchone("SELECT * FROM jobs WHERE id = ?", (job_id,))
        return _job(row) if row else None

    async def move(self, job_id: int, to_state: str, *, error: str | None = None,
                   result: dict | None = None) -> JobRecord:
        """Moves a job along the state machine; an illegal move raises IllegalTransition."""
        if to_state not in JOB_STATES:
            raise IllegalTransition(f"unknown job state {to_state!r}")
        async with self.db.transaction() as conn:
            async with conn.execute("SELECT state FROM jobs WHERE id = ?", (job_id,)) as cur:
                row = await cur.fetchone()
            if row is None:
                raise IllegalTransition(f"no job {job_id}")
            if to_state not in LEGAL_MOVES[row["state"]]:
                raise IllegalTransition(f"job {job_id} cannot go from {row['state']} to {to_state}")
            now = utcnow()
            await conn.execute(
                "UPDATE jobs SET state = ?, updated_at = ?,"
                " attempts = attempts + (CASE WHEN ? = 'running' THEN 1 ELSE 0 END),"
                " started_at = CASE WHEN ? = 'running' THEN ? ELSE started_at END,"
                " finished_at = CASE WHEN ? IN ('done', 'failed', 'cancelled') THEN ? ELSE finished_at END,"
                " error = COALESCE(?, error), result_json = COALESCE(?, result_json),"
                " progress = CASE WHEN ? = 'done' THEN 1.0 WHEN ? = 'queued' THEN 0 ELSE progress END"
                " WHERE id = ?",
                (to_state, now, to_state, to_state, now, to_state, now, error,
                 json.dumps(result) if result is not None else None, to_state, to_state, job_id))
        job = await self.get(job_id)
        assert job is not None
        return job

    async def claim_next(self, kinds: tuple[str, ...] | None = None, *,
                         one_per_user: bool = True) -> JobRecord | None:
        """Atomically takes the oldest queued job and marks it running. With one_per_user it passes
        over people who already have a running job, so one person's requests run in the order made."""
        sql = "SELECT id FROM jobs q WHERE q.state = 'queued'"
        params: tuple = ()
        if one_per_user:
            sql += " AND NOT EXISTS (SELECT 1 FROM jobs r WHERE r.user_id = q.user_id AND r.state = 'running')"
        if kinds:
            sql += f" AND q.kind IN ({','.join('?' * len(kinds))})"
            params = tuple(kinds)
        async with self.db.transaction() as conn:
            async with conn.execute(sql + " ORDER BY q.id LIMIT 1", params) as cur:
                row = await cur.fetchone()
            if row is None:
                return None
            now = utcnow()
            await conn.execute(
                "UPDATE jobs SET state = 'running', attempts = attempts + 1, started_at = ?, updated_at = ?"
                " WHERE id = ?", (now, now, row["id"]))
        return await self.get(row["id"])

    async def set_progress(self, job_id: int, progress: float) -> None:
        await self.db.execute("UPDATE jobs SET progress = ?, updated_at = ? WHERE id = ? AND state = 'running'",
                              (max(0.0, min(1.0, progress)), utcnow(), job_id))

    async def set_payload(self, job_id: int, payload: dict) -> None:
        await self.db.execute("UPDATE jobs SET payload_json = ?, updated_at = ? WHERE id = ?",
                              (json.dumps(payload), utcnow(), job_id))

    async def in_state(self, *states: str) -> list[JobRecord]:
        rows = await self.db.fetchall(
            f"SELECT * FROM jobs WHERE state IN ({','.join('?' * len(states))}) ORDER BY id", states)
        return [_job(r) for r in rows]

    async def for_user(self, user_id: int, *states: str) -> list[JobRecord]:
        sql = "SELECT * FROM jobs WHERE user_id = ?"
        params: tuple = (user_id,)
        if states:
            sql += f" AND state IN ({','.join('?' * len(states))})"
            params += states
        rows = await self.db.fetchall(sql + " ORDER BY id", params)
        return [_job(r) for r in rows]

    async def position(self, job_id: int) -> int:
        """How many jobs are ahead of this one (queued earlier, or running)."""
        row = await self.db.fetchone(
            "SELECT COUNT(*) FROM jobs WHERE id != ? AND (state = 'running' OR (state = 'queued' AND id < ?))",
            (job_id, job_id))
        return int(row[0])


def _job(row) -> JobRecord:
    return JobRecord(row["id"], row["user_id"], row["session_id"], row["kind"], row["state"],
                     json.loads(row["payload_json"]), json.loads(row["result_json"]) if row["result_json"] else None,
                     row["progress"], row["attempts"], row["max_attempts"], row["error"], row["chat_ref_id"])


@dataclass(frozen=True)
class ChatRefRecord:
    id: int
    platform: str
    chat_id: str
    thread_id: str | None
    reply_to: str | None
    user_id: str | None


class ChatRefRepo:
    def __init__(self, db: Database):
        self.db = db

    async def add(self, platform: str, chat_id: str, thread_id: str | None = None, reply_to: str | None = None,
                  user_id: str | None = None) -> ChatRefRecord:
        ref_id = await self.db.execute(
            "INSERT INTO chat_refs (platform, chat_id, thread_id, reply_to, user_id) VALUES (?, ?, ?, ?, ?)",
            (platform, str(chat_id), thread_id, reply_to, user_id))
        return ChatRefRecord(ref_id, platform, str(chat_id), thread_id, reply_to, user_id)

    async def get(self, ref_id: int) -> ChatRefRecord | None:
        row = await self.db.fetchone("SELECT * FROM chat_refs WHERE id = ?", (ref_id,))
        if not row:
            return None
        return ChatRefRecord(row["id"], row["platform"], row["chat_id"], row["thread_id"], row["reply_to"], row["user_id"])

    async def set_thread(self, ref_id: int, thread_id: str) -> None:
        """A Discord job opens a thread after the reference was stored; later posts go there."""
        await self.db.execute("UPDATE chat_refs SET thread_id = ? WHERE id = ?", (thread_id, ref_id))

    async def set_thread_for_message(self, platform: str, chat_id: str, reply_to: str, thread_id: str) -> int:
        """A thread opened on a message: every stored reference answering that message now posts
        into the thread (the adapter knows the message, not the reference ids). Returns how many."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE chat_refs SET thread_id = ? WHERE platform = ? AND chat_id = ? AND reply_to = ?"
                " AND thread_id IS NULL", (thread_id, platform, str(chat_id), str(reply_to)))
            return cursor.rowcount

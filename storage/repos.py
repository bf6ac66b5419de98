"""Repositories: the only code that writes SQL. Each returns plain dataclasses."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from storage.db import Database


def utcnow() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def format_time(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# ---------------------------------------------------------------- users

@dataclass(frozen=True)
class User:
    id: int
    platform: str
    platform_user_id: str
    name: str
    language: str | None


class UserRepo:
    def __init__(self, db: Database):
        self.db = db

    async def get_or_create(self, platform: str, platform_user_id: str, name: str = "",
                            language: str | None = None) -> tuple[User, bool]:
        """Returns the user and whether it was created just now."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO users (platform, platform_user_id, name, language) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (platform, platform_user_id) DO NOTHING",
                (platform, str(platform_user_id), name, language),
            )
            created = cursor.rowcount == 1
            if not created and (name or language):
                await conn.execute(
                    "UPDATE users SET name = COALESCE(NULLIF(?, ''), name), language = COALESCE(?, language)"
                    " WHERE platform = ? AND platform_user_id = ?",
                    (name, language, platform, str(platform_user_id)),
                )
        user = await self.find(platform, platform_user_id)
        assert user is not None
        return user, created

    async def find(self, platform: str, platform_user_id: str) -> User | None:
        row = await self.db.fetchone(
            "SELECT * FROM users WHERE platform = ? AND platform_user_id = ?", (platform, str(platform_user_id)))
        return _user(row) if row else None

    async def get(self, user_id: int) -> User | None:
        row = await self.db.fetchone("SELECT * FROM users WHERE id = ?", (user_id,))
        return _user(row) if row else None

    async def matching(self, platform: str, who: str) -> list[User]:
        """The people an admin means on their own platform: "123" is exactly that platform user id,
        "@name" everyone known there by exactly that name (any case), oldest first. More than one
        is ambiguous; the caller asks for the id."""
        if who.startswith("@"):
            name = who[1:].strip()
            if not name:
                return []
            rows = await self.db.fetchall(
                "SELECT * FROM users WHERE platform = ? AND name = ? COLLATE NOCASE ORDER BY id", (platform, name))
            return [_user(r) for r in rows]
        found = await self.find(platform, who)
        return [found] if found is not None else []


def _user(row) -> User:
    return User(row["id"], row["platform"], row["platform_user_id"], row["name"], row["language"])


# ---------------------------------------------------------------- accounts (per-user backend tokens)

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


# ---------------------------------------------------------------- sessions (one active per user per chat per backend)

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


def _session(row) -> SessionRecord:
    return SessionRecord(row["id"], row["user_id"], row["chat_key"], row["backend"], row["remote_session_id"],
                         row["task_id"], row["language"], json.loads(row["state_json"]), bool(row["active"]))


# ---------------------------------------------------------------- media (by content hash)

@dataclass(frozen=True)
class MediaRecord:
    id: int
    sha256: str
    path: str
    kind: str
    size_bytes: int
    duration: float
    info: dict[str, Any]
    display_name: str = ""


class MediaRepo:
    def __init__(self, db: Database):
        self.db = db

    async def add(self, sha256: str, path: str, kind: str, size_bytes: int, duration: float = 0.0,
                  info: dict | None = None) -> MediaRecord:
        """Idempotent by content hash: the same bytes are stored once."""
        await self.db.execute(
            "INSERT INTO media (sha256, path, kind, size_bytes, duration, info_json) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (sha256) DO NOTHING",
            (sha256, path, kind, size_bytes, duration, json.dumps(info or {})))
        record = await self.by_hash(sha256)
        assert record is not None
        return record

    async def by_hash(self, sha256: str) -> MediaRecord | None:
        row = await self.db.fetchone("SELECT * FROM media WHERE sha256 = ?", (sha256,))
        return _media(row) if row else None

    async def get(self, media_id: int) -> MediaRecord | None:
        row = await self.db.fetchone("SELECT * FROM media WHERE id = ?", (media_id,))
        return _media(row) if row else None

    async def attach(self, session_id: int, media_id: int, display_name: str = "") -> None:
        async with self.db.transaction() as conn:
            async with conn.execute("SELECT COALESCE(MAX(position), 0) + 1 FROM session_media WHERE session_id = ?",
                                    (session_id,)) as cur:
                (position,) = await cur.fetchone()
            await conn.execute(
                "INSERT INTO session_media (session_id, media_id, display_name, position) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (session_id, media_id) DO UPDATE SET position = excluded.position,"
                " display_name = excluded.display_name",
                (session_id, media_id, display_name, position))

    async def for_session(self, session_id: int) -> list[MediaRecord]:
        rows = await self.db.fetchall(
            "SELECT m.*, sm.display_name FROM media m JOIN session_media sm ON sm.media_id = m.id"
            " WHERE sm.session_id = ? ORDER BY sm.position", (session_id,))
        return [_media(r) for r in rows]


def _media(row) -> MediaRecord:
    keys = row.keys()
    return MediaRecord(row["id"], row["sha256"], row["path"], row["kind"], row["size_bytes"], row["duration"],
                       json.loads(row["info_json"]), row["display_name"] if "display_name" in keys else "")


# ---------------------------------------------------------------- chat references (where to post later)

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


# ---------------------------------------------------------------- jobs (a durable state machine)

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


# ---------------------------------------------------------------- clips

@dataclass(frozen=True)
class ClipRecord:
    id: int
    session_id: int
    job_id: int | None
    media_id: int | None
    rank: int
    start: float
    end: float
    score: float
    scores: dict[str, float]
    reasons: list[str]
    title: str
    hashtags: list[str]
    text: str
    draft: dict[str, Any]
    output_path: str | None
    thumbnail_path: str | None
    width: int | None
    height: int | None
    duration: float | None


class ClipRepo:
    def __init__(self, db: Database):
        self.db = db

    async def add(self, session_id: int, rank: int, start: float, end: float, *, job_id: int | None = None,
                  media_id: int | None = None, score: float = 0.0, scores: dict | None = None,
                  reasons: list | None = None, title: str = "", hashtags: list | None = None, text: str = "",
                  draft: dict | None = None) -> ClipRecord:
        clip_id = await self.db.execute(
            'INSERT INTO clips (session_id, job_id, media_id, rank, start, "end", score, scores_json, reasons_json,'
            " title, hashtags_json, text, draft_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (session_id, job_id, media_id, rank, start, end, score, json.dumps(scores or {}),
             json.dumps(reasons or []), title, json.dumps(hashtags or []), text, json.dumps(draft or {})))
        clip = await self.get(clip_id)
        assert clip is not None
        return clip

    async def get(self, clip_id: int) -> ClipRecord | None:
        row = await self.db.fetchone("SELECT * FROM clips WHERE id = ?", (clip_id,))
        return _clip(row) if row else None

    async def for_session(self, session_id: int) -> list[ClipRecord]:
        rows = await self.db.fetchall("SELECT * FROM clips WHERE session_id = ? ORDER BY rank, id", (session_id,))
        return [_clip(r) for r in rows]

    async def update(self, clip_id: int, **fields: Any) -> ClipRecord:
        columns = {"start": "start", "end": '"end"', "title": "title", "text": "text", "rank": "rank",
                   "score": "score", "output_path": "output_path", "thumbnail_path": "thumbnail_path",
                   "width": "width", "height": "height", "duration": "duration"}
        json_columns = {"draft": "draft_json", "scores": "scores_json", "reasons": "reasons_json",
                        "hashtags": "hashtags_json"}
        sets, params = [], []
        for name, value in fields.items():
            if name in columns:
                sets.append(f"{columns[name]} = ?")
                params.append(value)
            elif name in json_columns:
                sets.append(f"{json_columns[name]} = ?")
                params.append(json.dumps(value))
            else:
                raise ValueError(f"clips has no field {name!r}")
        if sets:
            await self.db.execute(f"UPDATE clips SET {', '.join(sets)}, updated_at = ? WHERE id = ?",
                                  (*params, utcnow(), clip_id))
        clip = await self.get(clip_id)
        assert clip is not None
        return clip

    async def delete_for_session(self, session_id: int) -> None:
        await self.db.execute("DELETE FROM clips WHERE session_id = ?", (session_id,))

    async def by_output_name(self, file_id: str) -> ClipRecord | None:
        """Signed links name a clip by its id; the path comes from here, never from the request."""
        if not file_id.isdigit():
            return None
        return await self.get(int(file_id))


def _clip(row) -> ClipRecord:
    return ClipRecord(row["id"], row["session_id"], row["job_id"], row["media_id"], row["rank"], row["start"],
                      row["end"], row["score"], json.loads(row["scores_json"]), json.loads(row["reasons_json"]),
                      row["title"], json.loads(row["hashtags_json"]), row["text"], json.loads(row["draft_json"]),
                      row["output_path"], row["thumbnail_path"], row["width"], row["height"], row["duration"])


# ---------------------------------------------------------------- credit ledger

@dataclass(frozen=True)
class Balance:
    available: int
    frozen: int

    @property
    def total(self) -> int:
        return self.available + self.frozen


class InsufficientCredits(Exception):
    def __init__(self, available: int, needed: int):
        super().__init__(f"{needed} credits needed, {available} available")
        self.available = available
        self.needed = needed


class LedgerError(Exception):
    pass


_BALANCE_SQL = (
    "SELECT"
    " COALESCE(SUM(CASE kind WHEN 'grant' THEN amount WHEN 'hold' THEN -amount WHEN 'release' THEN amount ELSE 0 END), 0),"
    " COALESCE(SUM(CASE kind WHEN 'hold' THEN amount WHEN 'release' THEN -amount WHEN 'charge' THEN -amount ELSE 0 END), 0)"
    " FROM credit_ledger WHERE user_id = ?"
)


class CreditLedger:
    """grant: +available. hold: available -> frozen. release: frozen -> available. charge: frozen -> spent."""

    def __init__(self, db: Database):
        self.db = db

    async def balance(self, user_id: int) -> Balance:
        row = await self.db.fetchone(_BALANCE_SQL, (user_id,))
        return Balance(int(row[0]), int(row[1]))

    async def has_entries(self, user_id: int) -> bool:
        return await self.db.fetchone("SELECT 1 FROM credit_ledger WHERE user_id = ? LIMIT 1", (user_id,)) is not None

    async def grant(self, user_id: int, amount: int, note: str = "") -> Balance:
        if amount < 0:
            raise LedgerError("a grant cannot be negative")
        await self.db.execute("INSERT INTO credit_ledger (user_id, kind, amount, note) VALUES (?, 'grant', ?, ?)",
                              (user_id, amount, note))
        return await self.balance(user_id)

    async def grant_once(self, user_id: int, amount: int, note: str = "starting credits") -> bool:
        """The starting grant: given only to a user with no ledger entries yet. True when granted now."""
        async with self.db.transaction() as conn:
            async with conn.execute("SELECT 1 FROM credit_ledger WHERE user_id = ? LIMIT 1", (user_id,)) as cur:
                if await cur.fetchone():
                    return False
            await conn.execute("INSERT INTO credit_ledger (user_id, kind, amount, note) VALUES (?, 'grant', ?, ?)",
                               (user_id, amount, note))
        return True

    async def hold(self, user_id: int, amount: int, hold_ref: str, note: str = "") -> Balance:
        """Freezes credits for a job; raises InsufficientCredits when fewer are available."""
        async with self.db.transaction() as conn:
            async with conn.execute(_BALANCE_SQL, (user_id,)) as cur:
                available, _ = await cur.fetchone()
            if available < amount:
                raise InsufficientCredits(int(available), amount)
            async with conn.execute("SELECT 1 FROM credit_ledger WHERE hold_ref = ? AND kind = 'hold'", (hold_ref,)) as cur:
                if await cur.fetchone():
                    raise LedgerError(f"hold {hold_ref} exists already")
            await conn.execute(
                "INSERT INTO credit_ledger (user_id, kind, amount, hold_ref, note) VALUES (?, 'hold', ?, ?, ?)",
                (user_id, amount, hold_ref, note))
        return await self.balance(user_id)

    async def charge(self, hold_ref: str) -> bool:
        """Turns an open hold into a charge. False when there is no open hold (already settled)."""
        return await self._settle(hold_ref, "charge")

    async def release(self, hold_ref: str) -> bool:
        """Gives a held amount back. False when there is no open hold (already settled)."""
        return await self._settle(hold_ref, "release")

    async def _settle(self, hold_ref: str, kind: str) -> bool:
        async with self.db.transaction() as conn:
            async with conn.execute(
                "SELECT h.user_id, h.amount FROM credit_ledger h WHERE h.hold_ref = ? AND h.kind = 'hold'"
                " AND NOT EXISTS (SELECT 1 FROM credit_ledger s WHERE s.hold_ref = h.hold_ref"
                " AND s.kind IN ('release', 'charge'))", (hold_ref,)) as cur:
                row = await cur.fetchone()
            if row is None:
                return False
            await conn.execute(
                "INSERT INTO credit_ledger (user_id, kind, amount, hold_ref) VALUES (?, ?, ?, ?)",
                (row["user_id"], kind, row["amount"], hold_ref))
        return True

    async def open_hold(self, hold_ref: str) -> int | None:
        row = await self.db.fetchone(
            "SELECT amount FROM credit_ledger h WHERE hold_ref = ? AND kind = 'hold' AND NOT EXISTS"
            " (SELECT 1 FROM credit_ledger s WHERE s.hold_ref = h.hold_ref AND s.kind IN ('release', 'charge'))",
            (hold_ref,))
        return int(row[0]) if row else None

    async def open_holds(self) -> list[tuple[str, int, int]]:
        """Every hold not yet settled, as (hold_ref, user_id, amount): what a crash may have left open."""
        rows = await self.db.fetchall(
            "SELECT hold_ref, user_id, amount FROM credit_ledger h WHERE kind = 'hold' AND NOT EXISTS"
            " (SELECT 1 FROM credit_ledger s WHERE s.hold_ref = h.hold_ref AND s.kind IN ('release', 'charge'))"
            " ORDER BY id")
        return [(r["hold_ref"], r["user_id"], r["amount"]) for r in rows]

    async def entries(self, user_id: int) -> list[tuple[str, int, str | None]]:
        rows = await self.db.fetchall(
            "SELECT kind, amount, hold_ref FROM credit_ledger WHERE user_id = ? ORDER BY id", (user_id,))
        return [(r["kind"], r["amount"], r["hold_ref"]) for r in rows]


# ---------------------------------------------------------------- all of them

class Repos:
    """Every repository over one database, as the bot uses them."""

    def __init__(self, db: Database):
        self.db = db
        self.users = UserRepo(db)
        self.accounts = AccountRepo(db)
        self.sessions = SessionRepo(db)
        self.media = MediaRepo(db)
        self.chat_refs = ChatRefRepo(db)
        self.jobs = JobRepo(db)
        self.clips = ClipRepo(db)
        self.ledger = CreditLedger(db)

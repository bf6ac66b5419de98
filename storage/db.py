"""The SQLite database: one file under DATA_DIR, WAL, busy timeout, foreign keys,
numbered migrations from storage/migrations applied at open and recorded."""
from __future__ import annotations

import asyncio
import re
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import AsyncIterator

import aiosqlite

BUSY_TIMEOUT_MS = 10_000
_MIGRATION_NAME = re.compile(r"^(\d+)_([a-z0-9_]+)\.sql$")


class Database:
    """One aiosqlite connection. Writes that must be atomic go through `transaction()`."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.conn: aiosqlite.Connection | None = None
        # One connection is shared by every coroutine: a second BEGIN on it while a transaction is
        # open fails (and its ROLLBACK would undo the other's work), so transactions take turns.
        # Reads take it too: on the shared connection a read between another coroutine's BEGIN and
        # COMMIT would see that coroutine's uncommitted work (a credit hold half made, say).
        self._transaction_lock = asyncio.Lock()
        self._holder: asyncio.Task | None = None

    @classmethod
    async def open(cls, path: Path) -> "Database":
        db = cls(path)
        db.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN ourselves, so a write lock is taken up front (IMMEDIATE)
        # and two writers queue on the busy timeout instead of failing with "database is locked".
        db.conn = await aiosqlite.connect(db.path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
        db.conn.row_factory = aiosqlite.Row
        await db.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await db.conn.execute("PRAGMA journal_mode = WAL")
        await db.conn.execute("PRAGMA foreign_keys = ON")
        await db.conn.execute("PRAGMA synchronous = NORMAL")
        await db.migrate()
        return db

    async def close(self) -> None:
        if self.conn is not None:
            await self.conn.close()
            self.conn = None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        assert self.conn is not None, "database is closed"
        async with self._transaction_lock:
            self._holder = asyncio.current_task()
            try:
                await self.conn.execute("BEGIN IMMEDIATE")
                try:
                    yield self.conn
                except BaseException:
                    await self.conn.execute("ROLLBACK")
                    raise
                else:
                    await self.conn.execute("COMMIT")
            finally:
                self._holder = None

    @asynccontextmanager
    async def _reading(self) -> AsyncIterator[aiosqlite.Connection]:
        """The connection between transactions (or inside the caller's own transaction)."""
        assert self.conn is not None, "database is closed"
        if self._holder is not None and self._holder is asyncio.current_task():
            yield self.conn
            return
        async with self._transaction_lock:
            yield self.conn

    async def fetchone(self, sql: str, params: tuple = ()) -> aiosqlite.Row | None:
        async with self._reading() as conn, conn.execute(sql, params) as cursor:
            return await cursor.fetchone()

    async def fetchall(self, sql: str, params: tuple = ()) -> list[aiosqlite.Row]:
        async with self._reading() as conn, conn.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    async def execute(self, sql: str, params: tuple = ()) -> int:
        """One statement in its own transaction; returns lastrowid."""
        async with self.transaction() as conn:
            cursor = await conn.execute(sql, params)
            return cursor.lastrowid

    async def migrate(self) -> list[int]:
        """Applies the migrations not yet recorded, each in its own transaction; returns their numbers."""
        await self.conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
            " applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))"
        )
        applied = []
        for version, name, sql in available_migrations():
            async with self.transaction() as conn:
                # Checked inside the write lock, so two processes starting together apply it once.
                async with conn.execute("SELECT 1 FROM schema_migrations WHERE version = ?", (version,)) as cur:
                    if await cur.fetchone():
                        continue
                for statement in _statements(sql):
                    await conn.execute(statement)
                await conn.execute("INSERT INTO schema_migrations (version, name) VALUES (?, ?)", (version, name))
            applied.append(version)
        return applied

    async def applied_migrations(self) -> list[tuple[int, str]]:
        rows = await self.fetchall("SELECT version, name FROM schema_migrations ORDER BY version")
        return [(r["version"], r["name"]) for r in rows]


def available_migrations() -> list[tuple[int, str, str]]:
    found = []
    for entry in resources.files("storage").joinpath("migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), match.group(2), entry.read_text(encoding="utf-8")))
    return sorted(found)


def _statements(sql: str) -> list[str]:
    """Splits a migration into statements (executescript would commit our transaction)."""
    without_comments = "\n".join(line for line in sql.splitlines() if not line.strip().startswith("--"))
    return [s.strip() for s in without_comments.split(";") if s.strip()]

"""Uploaded media, stored once by content hash, and which sessions use it in what order.
(The bytes themselves live in storage.media_store.)"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from storage.db import Database


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

"""Clips: the moments cut from a session's media, and what their renders produced."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from storage.db import Database
from storage.times import utcnow


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

    async def delete(self, clip_id: int) -> None:
        await self.db.execute("DELETE FROM clips WHERE id = ?", (clip_id,))

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

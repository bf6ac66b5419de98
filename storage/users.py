"""People, one row per platform account (a Telegram user and a Discord user are two people)."""
from __future__ import annotations

from dataclasses import dataclass

from storage.db import Database


@dataclass(frozen=True)
class User:
    id: int
    platform: str
    platform_user_id: str
    name: str
    language: str | None                     # what the platform says of them (a hint)
    written_language: str | None = None      # the language of their last words, when they wrote any


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

    async def note_written_language(self, user_id: int, language: str) -> None:
        await self.db.execute("UPDATE users SET written_language = ? WHERE id = ?", (language, user_id))

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
    return User(row["id"], row["platform"], row["platform_user_id"], row["name"], row["language"],
                row["written_language"])

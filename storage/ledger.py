"""The credit ledger: every grant, hold, release and charge is a row; balances are sums over them."""
from __future__ import annotations

from dataclasses import dataclass

from storage.db import Database


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
# A hold is open until a release or a charge names its hold_ref.
_OPEN_HOLDS_SQL = (
    "SELECT h.hold_ref, h.user_id, h.amount FROM credit_ledger h WHERE h.kind = 'hold' AND NOT EXISTS"
    " (SELECT 1 FROM credit_ledger s WHERE s.hold_ref = h.hold_ref AND s.kind IN ('release', 'charge'))"
)
_ANY_ENTRY_SQL = "SELECT 1 FROM credit_ledger WHERE user_id = ? LIMIT 1"
_GRANT_SQL = "INSERT INTO credit_ledger (user_id, kind, amount, note) VALUES (?, 'grant', ?, ?)"


class CreditLedger:
    """grant: +available. hold: available -> frozen. release: frozen -> available. charge: frozen -> spent."""

    def __init__(self, db: Database):
        self.db = db

    async def balance(self, user_id: int) -> Balance:
        row = await self.db.fetchone(_BALANCE_SQL, (user_id,))
        return Balance(int(row[0]), int(row[1]))

    async def has_entries(self, user_id: int) -> bool:
        return await self.db.fetchone(_ANY_ENTRY_SQL, (user_id,)) is not None

    async def grant(self, user_id: int, amount: int, note: str = "") -> Balance:
        if amount < 0:
            raise LedgerError("a grant cannot be negative")
        await self.db.execute(_GRANT_SQL, (user_id, amount, note))
        return await self.balance(user_id)

    async def grant_once(self, user_id: int, amount: int, note: str = "starting credits") -> bool:
        """The starting grant: given only to a user with no ledger entries yet. True when granted now."""
        async with self.db.transaction() as conn:
            async with conn.execute(_ANY_ENTRY_SQL, (user_id,)) as cur:
                if await cur.fetchone():
                    return False
            await conn.execute(_GRANT_SQL, (user_id, amount, note))
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
            async with conn.execute(_OPEN_HOLDS_SQL + " AND h.hold_ref = ?", (hold_ref,)) as cur:
                row = await cur.fetchone()
            if row is None:
                return False
            await conn.execute(
                "INSERT INTO credit_ledger (user_id, kind, amount, hold_ref) VALUES (?, ?, ?, ?)",
                (row["user_id"], kind, row["amount"], hold_ref))
        return True

    async def open_hold(self, hold_ref: str) -> int | None:
        row = await self.db.fetchone(_OPEN_HOLDS_SQL + " AND h.hold_ref = ?", (hold_ref,))
        return int(row["amount"]) if row else None

    async def open_holds(self) -> list[tuple[str, int, int]]:
        """Every hold not yet settled, as (hold_ref, user_id, amount): what a crash may have left open."""
        rows = await self.db.fetchall(_OPEN_HOLDS_SQL + " ORDER BY h.id")
        return [(r["hold_ref"], r["user_id"], r["amount"]) for r in rows]

    async def entries(self, user_id: int) -> list[tuple[str, int, str | None]]:
        rows = await self.db.fetchall(
            "SELECT kind, amount, hold_ref FROM credit_ledger WHERE user_id = ? ORDER BY id", (user_id,))
        return [(r["kind"], r["amount"], r["hold_ref"]) for r in rows]

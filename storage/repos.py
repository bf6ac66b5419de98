"""Every repository over one database, as the bot uses them. Only storage/ writes SQL; each
repository returns plain dataclasses. The repositories live by concern in storage.users,
storage.sessions (accounts and sessions), storage.media, storage.jobs (jobs and chat references),
storage.clips and storage.ledger; their names are re-exported here."""
from __future__ import annotations

from storage.clips import ClipRecord, ClipRepo
from storage.db import Database
from storage.jobs import JOB_STATES, LEGAL_MOVES, ChatRefRecord, ChatRefRepo, IllegalTransition, JobRecord, JobRepo
from storage.ledger import Balance, CreditLedger, InsufficientCredits, LedgerError
from storage.media import MediaRecord, MediaRepo
from storage.sessions import AccountRecord, AccountRepo, KeptInstructionRepo, SessionRecord, SessionRepo
from storage.times import format_time, parse_time, utcnow
from storage.users import User, UserRepo

__all__ = [
    "JOB_STATES", "LEGAL_MOVES", "AccountRecord", "AccountRepo", "Balance", "ChatRefRecord", "ChatRefRepo",
    "ClipRecord", "ClipRepo", "CreditLedger", "IllegalTransition", "InsufficientCredits", "JobRecord", "JobRepo",
    "KeptInstructionRepo",
    "LedgerError", "MediaRecord", "MediaRepo", "Repos", "SessionRecord", "SessionRepo", "User", "UserRepo",
    "format_time", "parse_time", "utcnow",
]


class Repos:
    """Every repository over one database, as the bot uses them."""

    def __init__(self, db: Database):
        self.db = db
        self.users = UserRepo(db)
        self.accounts = AccountRepo(db)
        self.sessions = SessionRepo(db)
        self.kept_instructions = KeptInstructionRepo(db)
        self.media = MediaRepo(db)
        self.chat_refs = ChatRefRepo(db)
        self.jobs = JobRepo(db)
        self.clips = ClipRepo(db)
        self.ledger = CreditLedger(db)

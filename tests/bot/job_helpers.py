"""What the job-queue tests share: a real SQLite database, a person with credits, a queue with short intervals."""
from __future__ import annotations

import pytest

from bot.jobs import JobQueue
from bot.messages import ChatRef
from storage.db import Database
from storage.repos import Repos
from tests.bot.chat_helpers import Recorder


REF = ChatRef("test", "chat-1", user_id="u1")


@pytest.fixture
async def repos(tmp_path):
    db = await Database.open(tmp_path / "jobs.sqlite3")
    yield Repos(db)
    await db.close()


async def user(repos: Repos, name: str) -> int:
    record, _ = await repos.users.get_or_create("test", name, name)
    await repos.ledger.grant_once(record.id, 10)
    return record.id


def queue(repos: Repos, recorder: Recorder, **kwargs) -> JobQueue:
    return JobQueue(repos, recorder, **{"progress_interval": 0.05, "idle_poll": 0.05, **kwargs})

"""Fixtures for the NemoVideo tests: the fake cloud, a real SQLite database, the cloud API (NemoCloud)."""
from __future__ import annotations

import pytest

from bot.backends.nemo import NemoCloud
from bot.settings import Settings
from storage.db import Database
from storage.repos import Repos
from tests.nemo.fake_nemo import FakeNemo


def nemo_settings(base_url: str, data_dir, **overrides) -> Settings:
    """Settings pointed at the fake, with intervals short enough for tests."""
    values = dict(backend="nemo", nemo_api_url=base_url, data_dir=data_dir, nemo_poll_interval_s=0.02,
                  nemo_retry_after_s=0.02, nemo_still_working_s=120.0, nemo_backoff_s=0.01,
                  nemo_skill_source="best-shorts", nemo_skill_version="1.2.3", nemo_skill_platform="unknown")
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture
async def fake():
    async with FakeNemo() as server:
        yield server


@pytest.fixture
async def db(tmp_path):
    database = await Database.open(tmp_path / "data" / "shortsbot.sqlite3")
    yield database
    await database.close()


@pytest.fixture
def repos(db):
    return Repos(db)


@pytest.fixture
async def make_backend(fake, repos, tmp_path):
    """make_backend(**settings) -> a NemoCloud on the fake (what NemoBackend calls); closed after the test."""
    made = []

    def make(**overrides) -> NemoCloud:
        backend = NemoCloud(nemo_settings(fake.base_url, tmp_path / "data", **overrides), repos)
        made.append(backend)
        return backend

    yield make
    for backend in made:
        await backend.close()


@pytest.fixture
async def backend(make_backend):
    return make_backend()


@pytest.fixture
async def user_id(repos):
    user, _ = await repos.users.get_or_create("console", "alice", "alice", "en")
    return user.id

"""Fixtures shared by every test package. Area-specific fixtures live beside their tests.

A test that uses a fixture which loads the Whisper model or renders video is marked `slow`
by itself (SLOW_FIXTURES): `make test-fast` leaves those out, `make test` runs everything.

`make test` spreads the suite over the machine's cores with pytest-xdist; media and the transcript
cache are still made once per run, not once per worker (tests/run_once.py)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.models import EngineConfig
from tests.media import SHARED_MEDIA, default_talk_pieces, make_talk_video
from tests.run_once import made_once, run_folder

# Fixtures that transcribe with Whisper or render video (directly or through the fixtures they use).
SLOW_FIXTURES = frozenset({
    "engine_config", "talk_video", "talk_analysis", "highlight_analysis", "quiet_applause_talk", "crowd_game",
    "warm_talk", "other_talk", "world", "private_cut", "bot", "two_minute_talk",
})


# The heaviest test files (a profile of the whole suite), started first: with `make test`'s workers
# taking a file at a time, a long file started last would leave the other workers idle at the end.
# Only the balance depends on this list; the tests pass in any order.
HEAVY_FIRST = (
    "bot/test_local_backend.py", "workers/test_workers.py", "engine/test_render.py", "engine/test_multilingual.py",
    "telegram/test_telegram_e2e.py", "engine/test_speakers.py", "telegram/test_crash_under_load.py",
    "workers/test_users_on_workers.py", "workers/test_conversation_on_workers.py", "bot/test_console.py",
    "engine/test_pipeline_analysis.py", "bot/test_conversation_local.py", "bot/test_undo.py", "engine/test_large_pictures.py",
    "discord/test_discord_e2e.py", "engine/test_lengths.py",
)


@pytest.hookimpl(optionalhook=True)     # known only when pytest-xdist is loaded
def pytest_xdist_auto_num_workers(config) -> int:
    """`-n auto`: one test process more than the machine has cores. Many tests spend part of their
    time waiting on processes they started (a bot, Celery workers, fake servers); the extra process
    keeps both cores busy meanwhile (measured on 2 cores: 5 min 40 s with 3 processes, 6 min 52 s with 2)."""
    return len(os.sched_getaffinity(0)) + 1


def pytest_collection_modifyitems(config, items):
    for item in items:
        if SLOW_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
    rank = {name: i for i, name in enumerate(HEAVY_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.as_posix().rsplit("/tests/", 1)[-1], len(rank)))


@pytest.fixture(autouse=True)
def _no_settings_from_the_developer(monkeypatch):
    """Tests never read a developer's .env or exported tokens."""
    for name in list(os.environ):
        if name.startswith(("TELEGRAM_", "DISCORD_", "NEMO_")) or name in {"BACKEND", "DATA_DIR", "LINK_SECRET", "PUBLIC_BASE_URL"}:
            monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def shared_media() -> Path:
    """The real recordings in ../shared/media/; tests that need them skip when the folder is missing."""
    if not SHARED_MEDIA.is_dir():
        pytest.skip(f"real recordings not found at {SHARED_MEDIA} (they live in ../shared/media beside the project)")
    return SHARED_MEDIA


@pytest.fixture(scope="session")
def talk_video(tmp_path_factory) -> tuple[Path, list]:
    """A ~45 s made-up talk (espeak-ng over testsrc2, 640x360), made once per test run."""
    return made_once(tmp_path_factory, "talk", lambda folder: make_talk_video(folder / "talk.mp4", default_talk_pieces()))


@pytest.fixture(scope="session")
def engine_config(tmp_path_factory) -> EngineConfig:
    """An EngineConfig with the bundled tiny.en model and one transcript cache for the whole run
    (all xdist workers), shared by the engine's and the bot's tests (tests/bot/chat_helpers.py
    links it into a test's DATA_DIR). The cache sits at <data dir>/cache, where bot.settings puts it,
    so a `shortsbot clip` child run with DATA_DIR=engine_config.cache_dir.parent shares it. Cache
    files are written whole and renamed into place, so workers can share it."""
    cache = run_folder(tmp_path_factory) / "engine-data" / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    return EngineConfig(cache_dir=cache)

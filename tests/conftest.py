"""Fixtures shared by every test package. Area-specific fixtures live beside their tests.

A test that uses a fixture which loads the Whisper model or renders video is marked `slow`
by itself (SLOW_FIXTURES): `make test-fast` leaves those out, `make test` runs everything."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.models import EngineConfig
from tests.media import SHARED_MEDIA, default_talk_pieces, make_talk_video

# Fixtures that transcribe with Whisper or render video (directly or through the fixtures they use).
SLOW_FIXTURES = frozenset({
    "engine_config", "talk_video", "talk_analysis", "highlight_analysis", "quiet_applause_talk", "crowd_game",
    "warm_talk", "other_talk", "world", "private_cut", "bot", "two_minute_talk",
})


def pytest_collection_modifyitems(config, items):
    for item in items:
        if SLOW_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


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
    folder = tmp_path_factory.mktemp("talk")
    return make_talk_video(folder / "talk.mp4", default_talk_pieces())


@pytest.fixture(scope="session")
def engine_config(tmp_path_factory) -> EngineConfig:
    """An EngineConfig with the bundled tiny.en model and one transcript cache for the whole run,
    shared by the engine's and the bot's tests (tests/bot/chat_helpers.py copies it into a test's
    DATA_DIR). The cache sits at <data dir>/cache, where bot.settings puts it, so a `shortsbot clip`
    child run with DATA_DIR=engine_config.cache_dir.parent shares it."""
    return EngineConfig(cache_dir=tmp_path_factory.mktemp("engine-data") / "cache")

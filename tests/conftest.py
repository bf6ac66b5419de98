"""Fixtures shared by every test package. Area-specific fixtures live beside their tests."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.media import SHARED_MEDIA, default_talk_pieces, make_talk_video


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

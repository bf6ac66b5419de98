"""Fixtures shared by the engine's tests (probe, transcribe, signals, highlights, pipeline, render).

Each fixture makes its media once per test run; anything that needs the Whisper model shares
one transcript cache (`engine_config`, tests/conftest.py), so the same file is transcribed only once.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.media import Piece, make_talk_video, noise_burst
from tests.run_once import analysed_once, made_once


QUIET = 0.35        # most of the talk is spoken at this gain; the "merely loud" passage at 1.0 (+9 dB)
HOOK_SENTENCES = (
    "Do you want to know the secret that doubled our sales?",
    "We gave free bread to every child, and the parents loved it!",
    "That is the lesson.",
    "Generosity brings customers back.",
)
LOUD_SENTENCES = (
    "The shop has four tables and a counter near the window.",
    "The ovens are cleaned every evening after we close.",
    "Deliveries of flour arrive on Tuesdays and on Fridays.",
)


def highlight_talk_pieces() -> list[Piece]:
    """A made-up talk about a bakery: a dull passage spoken loudly, and later a quieter passage
    with a hook (a question to the viewer with a number), an exclamation, a conclusion, and
    applause right after it."""
    return [
        Piece("Good evening, and thank you all for being here tonight.", gain=QUIET),
        Piece("This talk is about running a small bakery in our town.", gain=QUIET),
        Piece("We opened the shop six years ago on the main street.", gain=QUIET),
        *[Piece(text, gain=1.0) for text in LOUD_SENTENCES],
        Piece("Most weeks follow the same routine.", gain=QUIET),
        Piece("We bake bread in the morning and cakes in the afternoon.", gain=QUIET),
        *[Piece(text, gain=QUIET) for text in HOOK_SENTENCES[:-1]],
        Piece(HOOK_SENTENCES[-1], gain=QUIET, pause_after=0.3),
        Piece(sound=noise_burst(3.0, level=0.9, seed=1), gain=4.0),          # applause
        Piece("Next month we will open a second shop across the river.", gain=QUIET),
        Piece("The new shop will also sell coffee and tea.", gain=QUIET),
        Piece("Thank you for listening, and good night.", gain=QUIET),
    ]


@pytest.fixture(scope="session")
def highlight_talk(tmp_path_factory) -> tuple[Path, list]:
    """(video, placed pieces) of the ~52 s bakery talk, 320x180."""
    return made_once(tmp_path_factory, "highlight-talk",
                     lambda folder: make_talk_video(folder / "bakery.mp4", highlight_talk_pieces(), size="320x180"))


@pytest.fixture(scope="session")
def highlight_analysis(highlight_talk, engine_config, tmp_path_factory):
    return analysed_once(tmp_path_factory, highlight_talk[0], engine_config)


@pytest.fixture(scope="session")
def talk_analysis(talk_video, engine_config, tmp_path_factory):
    """engine.pipeline.analyse of the shared ~45 s talk (tests/conftest.py `talk_video`)."""
    return analysed_once(tmp_path_factory, talk_video[0], engine_config)

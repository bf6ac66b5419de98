"""Fixtures shared by the engine's tests (probe, transcribe, signals, highlights, pipeline, render).

Each fixture makes its media once per test run; anything that needs the Whisper model shares
one transcript cache (`engine_config`, tests/conftest.py), so the same file is transcribed only once.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.media import (QUIET_APPLAUSE_GAIN, Piece, build_talk_audio, default_talk_pieces, make_talk_video,
                         noise_burst, write_wav)
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
def short_talk(tmp_path_factory) -> tuple[Path, list]:
    """(video, placed pieces) of the shared talk's first four sentences (~16 s, 160x90), made once per
    run: for the tests that transcribe with a cache of their own, where 45 s of talk would only cost more."""
    return made_once(tmp_path_factory, "short-talk",
                     lambda folder: make_talk_video(folder / "short-talk.mp4", default_talk_pieces()[:4], size="160x90"))


@pytest.fixture(scope="session")
def talk_analysis(talk_video, engine_config, tmp_path_factory):
    """engine.pipeline.analyse of the shared ~45 s talk (tests/conftest.py `talk_video`)."""
    return analysed_once(tmp_path_factory, talk_video[0], engine_config)


PLAIN_PASSAGE = ("Our bakery sits on a quiet corner near the market.",
                 "The walls are painted yellow and the floor is made of wood.",
                 "Customers often sit by the window and read the paper.")
APPLAUDED_PASSAGE = ("My grandmother taught me how to bake bread at home.",
                     "She kept her recipes in a small notebook in the kitchen.",
                     "Today those recipes are used in our shop every morning.")


def quiet_applause_pieces() -> list[Piece]:
    """A ~35 s talk spoken at one level, where the second of two equally plain passages is followed
    by applause about 8 dB quieter than the voice."""
    return [Piece("Good evening and welcome to this small talk about our town."),
            *[Piece(text) for text in PLAIN_PASSAGE],
            *[Piece(text) for text in APPLAUDED_PASSAGE[:-1]],
            Piece(APPLAUDED_PASSAGE[-1], pause_after=0.3),
            Piece(sound=noise_burst(3.0, level=0.9, seed=5), gain=QUIET_APPLAUSE_GAIN),
            Piece("Next month the market will move to the main square."),
            Piece("The shop will stay where it is.")]


def _make_quiet_applause(folder: Path) -> tuple[Path, list]:
    audio, placed = build_talk_audio(quiet_applause_pieces(), folder / "pieces")
    return write_wav(audio, folder / "quiet-applause.wav"), placed


@pytest.fixture(scope="session")
def quiet_applause_talk(tmp_path_factory, engine_config):
    """(analysis, placed pieces) of the quiet-applause talk as a sound file (a WAV, no picture),
    made and transcribed once per test run."""
    wav, placed = made_once(tmp_path_factory, "quiet-applause", _make_quiet_applause)
    return analysed_once(tmp_path_factory, wav, engine_config), placed

"""Expensive test inputs made once per test run, also when pytest-xdist spreads the run over
several worker processes: one worker makes a thing in the run's shared folder under a file lock,
the others wait for the lock and then read what it made.

Things made here must not depend on which worker made them (media from fixed inputs, a transcript
cache keyed by content)."""
from __future__ import annotations

import os
import pickle
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, TypeVar

from filelock import FileLock

from engine.models import EngineConfig

T = TypeVar("T")


def run_folder(tmp_path_factory) -> Path:
    """A folder every process of this test run sees: the run's temporary root, which pytest-xdist's
    workers share (each worker's own base folder is inside it); the base folder without xdist."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@contextmanager
def one_at_a_time(tmp_path_factory, name: str) -> Iterator[None]:
    """Holds the run-wide lock `name`: of the run's processes, one at a time goes in."""
    with FileLock(str(run_folder(tmp_path_factory) / f"{name}.lock")):
        yield


def made_once(tmp_path_factory, name: str, make: Callable[[Path], T]) -> T:
    """make(folder) run by one process of the test run; the others wait for it and get its value
    (pickled beside the folder). Without xdist this is just make(folder)."""
    root = run_folder(tmp_path_factory)
    folder, value = root / f"once-{name}", root / f"once-{name}.pickle"
    with one_at_a_time(tmp_path_factory, f"once-{name}"):
        if value.exists():
            return pickle.loads(value.read_bytes())
        folder.mkdir(parents=True, exist_ok=True)
        made = make(folder)
        value.write_bytes(pickle.dumps(made))
        return made


def analysed_once(tmp_path_factory, video: Path, config: EngineConfig):
    """engine.pipeline.analyse of `video`, with its transcription done by one worker of the run: the
    others wait, then read the transcript from the shared cache."""
    from engine.pipeline import analyse

    with one_at_a_time(tmp_path_factory, f"analyse-{video.stem}"):
        return analyse(video, config)

"""The test media themselves: a composite made twice is the same file, so a failure can be
looked at again; a new realisation only when asked for."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.media import LEFT, RIGHT, Person, make_two_people

pytestmark = pytest.mark.slow
SMALL_PAIR = (Person(LEFT.clip, 40, 60, 120), Person(RIGHT.clip, 300, 60, 120, skip=RIGHT.skip))


def pictures(path: Path) -> list[str]:
    """The md5 of each decoded frame."""
    lines = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:v", "-f", "framemd5", "-"],
                           capture_output=True, text=True, check=True).stdout.splitlines()
    return [line.rsplit(",", 1)[1].strip() for line in lines if not line.startswith("#")]


def test_a_studio_composite_is_the_same_every_time_unless_a_new_one_is_asked_for(tmp_path, shared_media):
    def studio(name: str, **seed) -> list[str]:
        return pictures(make_two_people(tmp_path / name, [(0.0, 0.5, 0), (0.5, 1.0, 1)], 1.0, people=SMALL_PAIR,
                                        media=shared_media, size="480x270", studio=True, **seed))

    first = studio("first.mp4")
    assert len(first) == 25
    assert studio("again.mp4") == first                               # the default seed: the same file
    assert studio("other-seed.mp4", seed=2) != first                   # the seed decides the backdrop
    assert studio("fresh-1.mp4", seed=None) != studio("fresh-2.mp4", seed=None)   # None: a new one each call

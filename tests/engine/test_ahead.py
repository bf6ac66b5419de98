"""engine.ahead: a clip's faces and loudness found on a pool thread while another clip encodes,
taken by that clip's encode; a changed spec, a cancel and a close handled."""
from __future__ import annotations

import dataclasses
import logging
import subprocess
import threading
from pathlib import Path

import pytest

from engine.ahead import Ahead
from engine.models import Cancelled, EngineConfig, RenderSpec, Word
from engine.probe import probe
from engine.render import render_specs


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("ahead") / "source.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=6",
                    "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=6",
                    "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-c:a", "aac", "-shortest", str(path)],
                   check=True)
    return path


@pytest.fixture(scope="module")
def config(tmp_path_factory) -> EngineConfig:
    return EngineConfig(cache_dir=tmp_path_factory.mktemp("ahead-cache"), x264_preset="ultrafast")


def spec_for(source: Path, start: float, end: float, **kwargs) -> RenderSpec:
    words = [Word(start + 0.2, start + 0.6, " ahead"), Word(start + 0.7, start + 1.1, " of time")]
    return RenderSpec(media=probe(source), segments=[(start, end)], resolution=240, words=words, **kwargs)


def test_a_started_prepare_is_the_one_its_encode_takes(source, config):
    ahead = Ahead()
    spec = spec_for(source, 1.0, 3.0)
    try:
        ahead.start("clip-01.mp4", spec, config)
        made_ahead = ahead._started["clip-01.mp4"].future.result()
        taken = ahead.take("clip-01.mp4", spec, config)
    finally:
        ahead.close()
    assert taken is made_ahead
    assert taken.spec == spec and taken.ass_script and "ahead" in taken.ass_script


def test_a_spec_changed_since_its_start_is_prepared_again(source, config):
    ahead = Ahead()
    first, edited = spec_for(source, 1.0, 3.0), spec_for(source, 2.0, 4.5, title="Edited")
    try:
        ahead.start("clip-01.mp4", first, config)
        taken = ahead.take("clip-01.mp4", edited, config)
    finally:
        ahead.close()
    assert taken.spec == edited and taken.duration == pytest.approx(2.5)


def test_a_cancelled_cut_stops_its_prepare(source, config):
    ahead, cancel = Ahead(), threading.Event()
    cancel.set()
    try:
        ahead.start("clip-01.mp4", spec_for(source, 1.0, 3.0), config, cancel)
        with pytest.raises(Cancelled):
            ahead.take("clip-01.mp4", spec_for(source, 1.0, 3.0), config, cancel)
    finally:
        ahead.close()


def test_an_audiogram_has_nothing_to_find_ahead(source, config):
    spec = spec_for(source, 1.0, 3.0)
    sound_only = dataclasses.replace(spec, media=dataclasses.replace(spec.media, has_video=False))
    ahead = Ahead()
    try:
        ahead.start("clip-01.mp4", sound_only, config)
        assert ahead._started == {}
    finally:
        ahead.close()


def test_the_clip_command_starts_the_second_clips_faces_before_the_first_encode(source, config, tmp_path):
    """The first two prepares start together, so the second clip's faces are being found while
    the first one's encode runs, not after it."""
    events: list[str] = []

    class Heard(logging.Handler):
        def emit(self, record):
            events.append("ahead " + Path(str(record.args[0])).name)

    def progress(fraction, label):
        if label.startswith("clip 1 of 2: rendering") and "clip 1 encodes" not in events:
            events.append("clip 1 encodes")

    log = logging.getLogger("engine.ahead")
    handler, level = Heard(level=logging.DEBUG), log.level
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    try:
        rendered = render_specs([spec_for(source, 0.5, 2.5), spec_for(source, 3.0, 5.0)], tmp_path, config,
                                progress=progress)
    finally:
        log.removeHandler(handler)
        log.setLevel(level)
    assert events == ["ahead clip-01.mp4", "ahead clip-02.mp4", "clip 1 encodes"]
    assert [r.path.name for r in rendered] == ["clip-01.mp4", "clip-02.mp4"]
    assert all(r.path.exists() and r.thumbnail.exists() for r in rendered)

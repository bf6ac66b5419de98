"""ffmpeg and ffprobe runs end within their limits and leave nothing open or running."""
from __future__ import annotations

import gc
import os
import threading
import time
import warnings

import pytest

from engine import render
from engine.models import RenderFailed


def open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_run_ffmpeg_closes_its_progress_pipe(tmp_path):
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-nostats", "-progress", "pipe:1", "-f", "lavfi",
           "-i", "testsrc2=size=64x64:rate=10:duration=1", "-f", "null", "-"]
    render.run_ffmpeg(cmd, 1.0, None, None, 60)          # warm up whatever opens once per process
    before = open_descriptors()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(3):
            render.run_ffmpeg(cmd, 1.0, None, None, 60)
        gc.collect()
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]
    assert open_descriptors() <= before


def test_probe_output_gives_up_on_a_file_that_never_answers(tmp_path):
    never = tmp_path / "never.mp4"
    os.mkfifo(never)                                      # nobody ever writes: ffprobe waits forever
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            render.probe_output(never, timeout_s=0.5)
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            outcome.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout=120)
    if worker.is_alive():                                 # unblock the hung ffprobe so the test run can end
        with open(never, "wb"):
            pass
        pytest.fail("probe_output never returned")
    assert len(outcome) == 1 and isinstance(outcome[0], RenderFailed)
    assert "limit" in str(outcome[0])

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
    gc.collect()                                          # what earlier tests in this worker left is theirs
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


RACE = """
import threading
from engine.reframe.detection import FaceDetector
errors, start = [], threading.Barrier(4)
def make():
    start.wait()
    try:
        FaceDetector()
    except Exception as exc:
        errors.append(repr(exc))
threads = [threading.Thread(target=make) for _ in range(4)]
[t.start() for t in threads]
[t.join() for t in threads]
print(errors)
"""


def test_face_detectors_made_in_several_threads_at_once_all_work():
    """Renders run side by side (RENDER_CONCURRENCY > 1) and each thread makes its own detector,
    the first ones while OpenCV is still being imported. Each run is a fresh process, so OpenCV's
    import is what the threads race on."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", RACE], cwd=root, capture_output=True, text=True, check=True)
        assert out.stdout.strip() == "[]", out.stdout

"""The speech model's OpenMP threads sleep between decode steps instead of spinning on a core
(engine/__init__.py): asked of libgomp itself, as CTranslate2 loads it, in a fresh process
(OMP_DISPLAY_ENV makes libgomp print the settings it took when it loads)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def spin_count(imports: str, env_policy: str | None = None) -> int:
    """How many times libgomp's idle threads spin before they sleep, in a process that runs `imports`."""
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    env.update(PYTHONPATH=str(ROOT), OMP_DISPLAY_ENV="VERBOSE")
    if env_policy:
        env["OMP_WAIT_POLICY"] = env_policy
    shown = subprocess.run([sys.executable, "-c", imports], cwd=ROOT, env=env, capture_output=True, text=True,
                           timeout=120, check=True).stderr
    line = next(line for line in shown.splitlines() if "GOMP_SPINCOUNT" in line)
    return int(line.split("=")[1].strip().strip("'"))


def test_the_speech_models_threads_sleep_when_idle():
    assert spin_count("import engine.transcribe, faster_whisper") == 0
    # without the engine, libgomp's own default: spin first (the property is not libgomp's default)
    assert spin_count("import faster_whisper") > 0


def test_a_worker_loads_ctranslate2_with_the_same_policy():
    assert spin_count("from workers.preload import import_engine; import_engine()") == 0


def test_an_operators_own_setting_wins():
    assert spin_count("import engine.transcribe, faster_whisper", env_policy="ACTIVE") > 0

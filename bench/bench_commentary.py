"""What measuring the commentator costs, against the sound measures every upload already gets.

    .venv/bin/python bench/bench_commentary.py [--minutes 5]

Builds a broadcast at the engine's 16 kHz (a crowd roaring all along, an espeak-ng commentator
over it), then times, in one run, engine.signals.sound_features (loudness, noisiness, the 10 ms
envelope) and engine.signals_commentary.commentary_features (pitch, voiced runs and the crowd's own
band, measured only where a crowd is heard all along), each over the whole soundtrack. Prints both, their
ratio, and seconds of sound measured per second of work. The machine is shared: the ratio is
what means much.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from engine.signals import sound_features  # noqa: E402
from engine.signals_commentary import commentary_features  # noqa: E402

RATE = 16000


def commentary(folder: Path) -> np.ndarray:
    path = folder / "voice.wav"
    subprocess.run(["espeak-ng", "-s", "160", "-w", str(path), "He plays it short to the wing and they keep the "
                    "ball, patient build up from the visitors, and now a long ball forward!"], check=True)
    with wave.open(str(path)) as w:
        voice = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float32) / 32768
        rate = w.getframerate()
    return np.interp(np.arange(0, len(voice), rate / RATE), np.arange(len(voice)), voice).astype(np.float32)


def timed(work) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=5.0)
    seconds = parser.parse_args().minutes * 60
    with tempfile.TemporaryDirectory() as folder:
        voice = commentary(Path(folder))
    n = int(seconds * RATE)
    audio = np.random.default_rng(0).normal(0, 0.1, n).astype(np.float32)
    audio += np.resize(np.concatenate([voice, np.zeros(RATE // 2, dtype=np.float32)]), n) * 2
    loudness, noisy, _ = sound_features(audio)
    sound = timed(lambda: sound_features(audio))
    voice_time = timed(lambda: commentary_features(audio, loudness, noisy))
    print(f"{seconds:.0f} s of broadcast at {RATE} Hz")
    print(f"sound_features:      {sound:.2f} s ({seconds / sound:.0f}x real time)")
    print(f"commentary_features: {voice_time:.2f} s ({seconds / voice_time:.0f}x real time)")
    print(f"commentary / sound:  {voice_time / sound:.2f}")


if __name__ == "__main__":
    main()

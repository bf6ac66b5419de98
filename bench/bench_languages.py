"""Benchmark of languages: what detection adds to an English video, and Mandarin analysis speed.

    .venv/bin/python bench/bench_languages.py [--minutes 10]

Tracks are made from ../shared/media by looping real recordings to the asked length:
English from jfk_11s.flac and talking_tedlieu_60s.mp4, Mandarin from zh_read_passage_53s.wav.
Each transcription runs with an empty cache. Numbers are wall seconds from one run on this
machine; compare them with each other (ratios), not with another day's.

Targets: detection adds under 2 s to an English video; Mandarin on the base model about 7x
real time on a quiet 2-core machine.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from engine.language import detect_language  # noqa: E402
from engine.models import EngineConfig  # noqa: E402
from engine.probe import probe  # noqa: E402
from engine.transcribe import decode_audio, load_model, transcribe  # noqa: E402

MEDIA = ROOT.parent / "shared" / "media"


def looped_track(sources: list[Path], seconds: float, out: Path) -> Path:
    """The sources one after another, again and again, cut at `seconds`, as 16 kHz mono WAV."""
    inputs, labels = [], []
    for i, source in enumerate(sources):
        inputs += ["-stream_loop", "-1", "-i", str(source)]
        labels.append(f"[{i}:a]aresample=16000,aformat=channel_layouts=mono,atrim=0:{seconds / len(sources)}[a{i}]")
    chain = ";".join(labels) + ";" + "".join(f"[a{i}]" for i in range(len(sources))) + \
        f"concat=n={len(sources)}:v=0:a=1[out]"
    subprocess.run(["ffmpeg", "-v", "error", "-y", *inputs, "-filter_complex", chain, "-map", "[out]",
                    "-t", str(seconds), str(out)], check=True)
    return out


def timed(fn):
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    args = parser.parse_args(argv)
    seconds = args.minutes * 60
    results: dict[str, float | str] = {"seconds": seconds}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        english = looped_track([MEDIA / "jfk_11s.flac", MEDIA / "talking_tedlieu_60s.mp4"], seconds, tmp / "en.wav")
        mandarin = looped_track([MEDIA / "zh_read_passage_53s.wav"], seconds, tmp / "zh.wav")

        config = EngineConfig(cache_dir=tmp / "cache")
        _, results["load_multilingual_s"] = timed(lambda: load_model(config, "multilingual_model"))
        _, results["load_english_s"] = timed(lambda: load_model(config))

        audio = decode_audio(english)
        guess, results["detect_english_s"] = timed(lambda: detect_language(audio, load_model(config, "multilingual_model")))
        results["detected_english_as"] = guess.language

        only_english = EngineConfig(cache_dir=tmp / "cache-en-only", detect_language=False)
        _, results["english_without_detection_s"] = timed(lambda: transcribe(probe(english), only_english, audio=audio))
        transcript, results["english_with_detection_s"] = timed(lambda: transcribe(probe(english), config, audio=audio))
        results["english_model"] = transcript.model

        zh_audio = decode_audio(mandarin)
        transcript, results["mandarin_transcribe_s"] = timed(lambda: transcribe(probe(mandarin), config, audio=zh_audio))
        results["mandarin_language"] = transcript.language
        results["mandarin_model"] = transcript.model
        results["mandarin_times_real_time"] = round(seconds / results["mandarin_transcribe_s"], 2)
    print(json.dumps({k: round(v, 2) if isinstance(v, float) else v for k, v in results.items()}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

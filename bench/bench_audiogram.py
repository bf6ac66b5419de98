"""Audiogram render speed against a video short of the same length, measured in one run.

    .venv/bin/python bench/bench_audiogram.py [--seconds 20] [--photo PHOTO]

Renders, one after the other with the same x264 settings and output size (1080x1920):
an audiogram of ../shared/media/apollo11_89s.mp3 (gradient background, or with --photo that
photo laid out around its faces; waveform, captions, title), and a video short of a 1080p lavfi
picture carrying the same sound (crop to 9:16, captions, title). Prints both wall times and
their ratio; the machine is shared, so only the ratio means much.
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

from engine.models import EngineConfig, RenderSpec, Word  # noqa: E402
from engine.probe import probe  # noqa: E402
from engine.render import render_clip  # noqa: E402

APOLLO = ROOT.parent / "shared" / "media" / "apollo11_89s.mp3"


def words_every(seconds: float, start: float) -> list[Word]:
    """A caption word every 0.4 s, so both renders draw the same amount of text."""
    return [Word(start + k * 0.4, start + k * 0.4 + 0.35, f" word{k}") for k in range(int(seconds / 0.4))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--photo", type=Path, help="the audiogram's background photo (default: the gradient)")
    args = parser.parse_args()
    if not APOLLO.exists():
        sys.exit(f"{APOLLO} is missing")
    config = EngineConfig(cache_dir=Path(tempfile.gettempdir()) / "shortsbot-bench-cache")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        video = work / "picture.mp4"
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                        f"testsrc2=size=1920x1080:rate=25:duration={args.seconds + 31}", "-i", str(APOLLO),
                        "-map", "0:v", "-map", "1:a", "-shortest", "-c:v", "libx264", "-preset", "ultrafast",
                        "-c:a", "aac", str(video)], check=True)
        segment = [(30.0, 30.0 + args.seconds)]
        results = {}
        for name, source in (("audiogram", APOLLO), ("video_short", video)):
            spec = RenderSpec(media=probe(source), segments=segment, words=words_every(args.seconds, 30.0),
                              title="Apollo 11", background=args.photo if name == "audiogram" else None)
            started = time.perf_counter()
            clip = render_clip(spec, work / f"{name}.mp4", config)
            results[name] = {"seconds": round(time.perf_counter() - started, 2), "size": [clip.width, clip.height],
                             "duration": round(clip.duration, 2), "mb": round(clip.size_bytes / 1e6, 2)}
        results["audiogram_vs_video_short"] = round(results["audiogram"]["seconds"] / results["video_short"]["seconds"], 2)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

"""Where the speaker crop cuts, against where the speaker really changes (issue 12): on
composites of real talking faces whose turns are known to the frame, each true speaker
change's nearest stretch edge within 1.5 s (signed: negative = the cut came early), and the
share of the frames in which the speaker is in view.

    .venv/bin/python bench/bench_cut_timing.py [--folder DIR] [--varied] [--words]

The composites are those of the robustness check (three people in 720p, two people taking
6 s turns in 1080p; each flat and studio, each as made and re-encoded at CRF 23), made once
into --folder and reused (the names match /work/coord/s5/robust.py's, so its folder can be
passed). --varied adds the same faces at other turn times and other points of their
recordings (960x540 and 720p, flat and studio): a change of turn times alone moves the
numbers more than most engine changes do. --words frames each composite with the
transcript the clip command would pass (faster-whisper through engine.transcribe, cached in
a folder beside --folder); without it, as the robustness check does, with none.

The summary line gives mean and max |cut - change| over the crop-to-crop cuts (where the
timing is what a viewer sees: the wrong face for that long), and over every edge found; a
change with no edge within 1.5 s (shown stacked, or missed) is counted apart. Stacking both
raises the share in view by itself, so the share of time shown on one person is given beside it.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "engine"))

from engine import reframe  # noqa: E402
from tests.media import LEFT, RIGHT, SHARED_MEDIA, Person, make_two_people  # noqa: E402
from test_speakers import THREE, THREE_TURNS, TURNS, half, speaker_in_view  # noqa: E402

REACH_S = 1.5               # an edge further than this from a change is not that change's cut


def turns_at(edges: list[float], order: list[int], duration: float) -> list[tuple[float, float, int]]:
    points = [0.0] + edges + [duration]
    return [(points[i], points[i + 1], order[i % len(order)]) for i in range(len(points) - 1)]


def pair(skip_left: float, skip_right: float) -> tuple[Person, Person]:
    return replace(half(LEFT), skip=skip_left), replace(half(RIGHT), skip=skip_right)


def three(skip_left: float, skip_middle: float) -> tuple[Person, ...]:
    return replace(THREE[0], skip=skip_left), replace(THREE[1], skip=skip_middle), THREE[2]


# name: (people, turns, duration, size)
ROBUST = {
    "three720": (THREE, THREE_TURNS, 20.0, "1280x720"),
    "turns1080": ((LEFT, RIGHT), TURNS, 18.0, "1920x1080"),
}
VARIED = {
    "pair-a": (pair(0, 2), turns_at([4.3, 9.7, 14.1], [0, 1], 18.0), 18.0, "960x540"),
    "pair-b": (pair(5, 20), turns_at([5.5, 10.2, 15.6], [1, 0], 18.0), 18.0, "960x540"),
    "pair-c": (pair(9, 33), turns_at([3.7, 8.9, 13.3], [0, 1], 18.0), 18.0, "960x540"),
    "pair-d": (pair(12, 45), turns_at([6.2, 11.5], [1, 0], 17.0), 17.0, "960x540"),
    "three-a": (three(0, 2), turns_at([4.4, 9.1, 13.7], [1, 0], 20.0), 20.0, "1280x720"),
    "three-b": (three(7, 25), turns_at([5.6, 10.9, 15.3], [0, 1], 20.0), 20.0, "1280x720"),
}


def composites(folder: Path, varied: bool):
    """(path, people, turns, duration, width, height) of each composite, made when missing."""
    for name, (people, turns, duration, size) in {**ROBUST, **(VARIED if varied else {})}.items():
        width, height = map(int, size.split("x"))
        for look in ("flat", "studio"):
            made = folder / f"{name}-{look}.mp4"
            if not made.exists():
                make_two_people(made, turns, duration, people=people, media=SHARED_MEDIA, size=size,
                                studio=look == "studio")
            yield made, people, turns, duration, width, height
            if name in ROBUST:
                again = folder / f"{name}-{look}-reenc.mp4"
                if not again.exists():
                    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(made), "-c:v", "libx264", "-preset",
                                    "veryfast", "-crf", "23", "-c:a", "copy", str(again)], check=True)
                yield again, people, turns, duration, width, height


def transcript_words(path: Path, cache: Path) -> list[tuple[float, float]] | None:
    from engine.models import EngineConfig
    from engine.probe import probe
    from engine.transcribe import transcribe
    transcript = transcribe(probe(path), EngineConfig(cache_dir=cache))
    return [(w.start, w.end) for s in transcript.segments for w in s.words] or None


def changes(turns: list[tuple[float, float, int]]) -> list[float]:
    return [start for (start, _, who), (_, _, before) in zip(turns[1:], turns) if who != before]


def cut_errors(framing, turns) -> list[tuple[float, str, str] | None]:
    """Per true change: (nearest edge - change, layout before, layout after), or None."""
    edges = list(zip(framing.stretches, framing.stretches[1:]))
    out = []
    for change in changes(turns):
        near = [(after.start - change, before.layout, after.layout) for before, after in edges
                if abs(after.start - change) <= REACH_S]
        out.append(min(near, key=lambda e: abs(e[0])) if near else None)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folder", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "shortsbot-cut-timing")
    parser.add_argument("--varied", action="store_true", help="also the composites at other turn times")
    parser.add_argument("--words", action="store_true", help="frame with the transcript the clip command passes")
    args = parser.parse_args()
    args.folder.mkdir(parents=True, exist_ok=True)
    print(f"engine: {ROOT}; composites in {args.folder}; words: {'the transcript' if args.words else 'none'}")
    crop_errors, all_errors, missing, in_view, crop_share = [], [], 0, [], []
    started = time.process_time()
    for path, people, turns, duration, width, height in composites(args.folder, args.varied):
        words = transcript_words(path, args.folder.with_name(args.folder.name + "-transcripts")) if args.words else None
        framing = reframe.frame_range(path, 0.0, duration, width, height, "9:16", words=words)
        seen = speaker_in_view(framing, turns, people, width=width) if framing.trace is not None else float("nan")
        errors = cut_errors(framing, turns)
        in_view.append(seen)
        crop_share.append(sum(s.end - s.start for s in framing.stretches if s.layout == "crop") / duration)
        missing += sum(e is None for e in errors)
        all_errors += [abs(e[0]) for e in errors if e]
        crop_errors += [e[0] for e in errors if e and e[1] == e[2] == "crop"]
        said = ", ".join("none" if e is None else f"{e[0]:+.2f} ({e[1]} > {e[2]})" for e in errors)
        print(f"{path.stem:24s} in view {seen:.3f}  one person {crop_share[-1]:.2f}  cuts vs changes at {changes(turns)}: {said}", flush=True)
    print(f"\nspeaker in view: worst {min(in_view):.3f}, mean {np.mean(in_view):.4f} over {len(in_view)} composites; "
          f"one person cropped {np.mean(crop_share):.2f} of the time (the rest stacked or fit)")
    if crop_errors:
        print(f"crop-to-crop cuts: |cut - change| mean {np.mean(np.abs(crop_errors)):.3f} s, "
              f"max {np.max(np.abs(crop_errors)):.3f} s, signed mean {np.mean(crop_errors):+.3f} s, n={len(crop_errors)}")
    if all_errors:
        print(f"every edge near a change: |edge - change| mean {np.mean(all_errors):.3f} s, max {max(all_errors):.3f} s, "
              f"n={len(all_errors)}; changes with no edge within {REACH_S:g} s: {missing}")
    print(f"({time.process_time() - started:.1f} s CPU in this process)")


if __name__ == "__main__":
    main()

"""Speaker in view on real footage (issue 12): of the frames where someone speaks (10 a second,
from an RTTM), the share in which the speaker's labelled face centre is in the short's picture
(the crop window, either stacked panel; the fit layout counts as not in view), beside a fixed
centre crop; per speaker; the share where the speaker is shown alone (a one-person crop, not two
stacked); the layout of each stretch and whom its tracks follow; the face-detection rate per
labelled person. docs/REAL_FOOTAGE.md has the label formats and the numbers.

    .venv/bin/python bench/bench_real_interview.py --video V.mp4 --rttm V.rttm \
        --faces V.csv|V.json [--start S] [--end E] [--clip] [--shifts 0.04,0.08,0.5]

--clip also scores the range `shortsbot clip VIDEO "one 20-second vertical short"` picks. --shifts
frames the range again from a little later, each: a decision that changes when the range starts a
frame later was luck (the layouts may change; the speaker should stay in view). The code
measured is the current directory's: `cd OTHER_TREE && .venv/bin/python THIS_FILE ...`.
MSDWild sample 00001: `git clone https://github.com/X-LANCE/MSDWILD` (visualization/); its licence
is research-only with no redistribution, so the media and labels never go into this repository.
Our own labels of two public split-screen recordings (the videos fetched, never copied here) are in
bench/labels/ (its README says where each video comes from).
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, os.getcwd())            # the engine of the directory the bench is run from

from engine import reframe  # noqa: E402
from engine.models import EngineError  # noqa: E402
from engine.probe import probe  # noqa: E402

SAMPLE_FPS = 10.0
CLIP_INSTRUCTION = "one 20-second vertical short"
CENTRE_ONLY_HALF = 0.04                    # a label with a centre only: a face box this far either side


@dataclass(frozen=True)
class Turn:
    start: float
    end: float
    who: str


@dataclass(frozen=True)
class FaceLabels:
    """One person's labelled face: (x1, y1, x2, y2) fractions of the picture at `times`; the
    nearest label within `reach` seconds counts."""

    times: np.ndarray
    boxes: np.ndarray
    reach: float = 0.5

    def box_at(self, t: float) -> np.ndarray | None:
        i = int(np.argmin(np.abs(self.times - t))) if len(self.times) else -1
        return self.boxes[i] if i >= 0 and abs(self.times[i] - t) <= self.reach else None

    def centre_at(self, t: float) -> float | None:
        box = self.box_at(t)
        return None if box is None else float(box[0] + box[2]) / 2


@dataclass
class Score:
    speaking: int = 0                         # samples where someone speaks ...
    any_in: int = 0                           # ... and a speaker is in view
    alone: int = 0                            # ... shown alone (a one-person crop on a speaker)
    per_person: Counter = field(default_factory=Counter)
    per_person_in: Counter = field(default_factory=Counter)

    @property
    def share(self) -> float:
        return self.any_in / self.speaking if self.speaking else 0.0

    def line(self) -> str:
        people = ", ".join(f"{p} {self.per_person_in[p]}/{self.per_person[p]}" for p in sorted(self.per_person))
        alone = self.alone / self.speaking if self.speaking else 0.0
        return (f"{self.share:6.1%} of {self.speaking} speaking samples (per speaker: {people}); "
                f"the speaker alone in the picture {alone:.0%}")


def parse_rttm(text: str) -> list[Turn]:
    return [Turn(float(p[3]), float(p[3]) + float(p[4]), p[7])
            for p in (line.split() for line in text.splitlines()) if p and p[0] == "SPEAKER"]


def parse_darklabel(text: str, width: int, height: int, fps: float) -> dict[str, FaceLabels]:
    rows: dict[str, list[tuple[float, ...]]] = {}
    for row in csv.reader(text.splitlines()):
        if len(row) >= 7 and row[0].strip().isdigit():
            x1, y1, x2, y2 = map(float, row[3:7])
            box = (x1 / width, y1 / height, x2 / width, y2 / height)
            rows.setdefault(row[2].strip(), []).append((int(row[0]) / fps, *box))
    return {who: labels(r, reach=1 / fps) for who, r in rows.items()}


def parse_faces_json(text: str, width: int, height: int) -> dict[str, FaceLabels]:
    data = json.loads(text)
    sx, sy = (1.0, 1.0) if data.get("units") == "fraction" else (1 / width, 1 / height)
    half = CENTRE_ONLY_HALF
    return {str(who): labels([(s[0], s[1] * sx - half, s[2] * sy - half, s[1] * sx + half, s[2] * sy + half)
                              if len(s) == 3 else (s[0], s[1] * sx, s[2] * sy, s[3] * sx, s[4] * sy) for s in samples],
                             reach=float(data.get("reach", 0.5)))
            for who, samples in data["people"].items()}


def labels(rows: list[tuple[float, ...]], reach: float) -> FaceLabels:
    table = np.array(sorted(rows), dtype=float).reshape(-1, 5)
    return FaceLabels(table[:, 0], table[:, 1:], reach)


def in_view(framing: reframe.Framing, t: float, face_x: float) -> bool:
    """Is a face centre (a fraction of the width) in the short's picture at t (range time)?"""
    stretch = next((s for s in framing.stretches if s.start <= t < s.end), framing.stretches[-1]) \
        if framing.stretches else None
    layout = stretch.layout if framing.mode == "speakers" else framing.mode
    if layout == "crop":
        return abs(reframe.centre_at(framing.pieces, t) - face_x) < framing.window.length / 2
    if layout == "stacked":
        return any(x <= face_x <= x + w for x, _, w, _ in stretch.panels_at(t))
    return layout == "scale"                  # the whole picture at its size; fit: small over a blur


def cropped_alone(framing: reframe.Framing, t: float) -> bool:
    """Does the short show one person's crop at t (range time), not two stacked or the whole picture?"""
    if framing.mode != "speakers":
        return framing.mode == "crop"
    stretch = next((s for s in framing.stretches if s.start <= t < s.end), None)
    return stretch is not None and stretch.layout == "crop"


def centre_crop(window: reframe.Window) -> reframe.Framing:
    return reframe.Framing(mode="crop", window=window, pieces=((0.0, 1.0, 0.5, 0.5),))


def speakers_at(turns: list[Turn], t: float) -> list[str]:
    return sorted({turn.who for turn in turns if turn.start <= t < turn.end})


def speaker_in_view(framing: reframe.Framing, people: dict[str, FaceLabels], who: str, t: float,
                    start: float = 0.0) -> bool | None:
    """Whether `who`'s labelled face is in the framing's picture at source time t (the framing's
    times start at `start`); None where the labels have no face for them."""
    x = people[who].centre_at(t) if who in people else None
    return None if x is None else in_view(framing, t - start, x)


def score(framing: reframe.Framing, turns: list[Turn], people: dict[str, FaceLabels],
          start: float, end: float, adding_to: Score | None = None) -> Score:
    """Speaker in view over [start, end) of the source (the framing's times start at `start`)."""
    result = adding_to or Score()
    for t in np.arange(start, end, 1 / SAMPLE_FPS):
        speakers = speakers_at(turns, t)
        hits = []
        for who in speakers:
            hit = speaker_in_view(framing, people, who, t, start)
            hits.append(bool(hit))
            if hit is not None:
                result.per_person[who] += 1
                result.per_person_in[who] += hit
        result.speaking += bool(speakers)
        result.any_in += any(hits)
        result.alone += any(hits) and cropped_alone(framing, t - start)
    return result


def person_at(people: dict[str, FaceLabels], t: float, x: float, y: float) -> str | None:
    """The labelled person whose face box holds the point (x, y) at t."""
    return next((who for who, face in people.items()
                 if (box := face.box_at(t)) is not None and box[0] <= x <= box[2] and box[1] <= y <= box[3]), None)


def detection_rates(video: Path, start: float, end: float, width: int, height: int,
                    people: dict[str, FaceLabels]) -> str:
    samples = reframe.find_faces(video, start, end, width, height)
    found, labelled = Counter(), Counter()
    for t, faces in zip(samples.times, samples.faces):
        for who, face in people.items():
            if face.box_at(start + t) is not None:
                labelled[who] += 1
                found[who] += any(person_at(people, start + t, f.cx, f.cy) == who for f in faces)
    return ", ".join(f"{who} {found[who] / labelled[who]:.0%} of {labelled[who]}" for who in sorted(labelled))


def track_people(framing: reframe.Framing, people: dict[str, FaceLabels], start: float) -> dict[int, str]:
    """Each track's labelled person: the one its boxes' centres fall on most often."""
    names = {}
    for k, tid in enumerate(framing.trace.track_ids if framing.trace is not None else ()):
        votes = Counter(person_at(people, start + t, x + w / 2, y + h / 2)
                        for t, (x, y, w, h) in zip(framing.trace.times, framing.trace.boxes[k]) if not np.isnan(x))
        votes.pop(None, None)
        names[tid] = votes.most_common(1)[0][0] if votes else "nobody labelled"
    return names


def describe(framing: reframe.Framing, people: dict[str, FaceLabels], start: float, end: float) -> list[str]:
    times = np.arange(start, end, 1 / SAMPLE_FPS)
    shown = [(who, [in_view(framing, t - start, x) for t in times if (x := face.centre_at(t)) is not None])
             for who, face in sorted(people.items())]
    lines = [f"mode {framing.mode} ({framing.sampling or '-'}): {framing.reason}; in view all along: "
             + ", ".join(f"{who} {np.mean(seen):.0%}" for who, seen in shown if seen)]
    names = track_people(framing, people, start)
    if framing.trace is not None:             # what the reframer found, after its own passes and tracking
        trace, tracked = framing.trace, Counter()
        for i, t in enumerate(trace.times):
            tracked.update({person_at(people, start + t, x + w / 2, y + h / 2)
                            for x, y, w, h in trace.boxes[:, i] if not np.isnan(x)})
        shares = ", ".join(f"{who} {tracked[who] / len(trace.times):.0%}" for who in sorted(people))
        lines.append(f"tracked by the reframer: {shares} of {len(trace.times)} frames")
    for s in framing.stretches:
        followed = ", ".join(f"track {tid} = person {names.get(tid, '?')}" for tid in s.tracks)
        lines.append(f"  {start + s.start:6.2f}-{start + s.end:6.2f} s  {s.layout:8s} {followed}  ({s.reason})")
    return lines


def run_cli(video: Path, work: Path) -> dict:
    """`shortsbot clip VIDEO "one 20-second vertical short"` in a fresh DATA_DIR; its first clip."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DISCORD_", "NEMO_"))}
    env.update(DATA_DIR=str(work / "data"), BACKEND="local",      # and this directory's code, as in-process
               PYTHONPATH=os.pathsep.join(filter(None, [os.getcwd(), env.get("PYTHONPATH")])))
    run = subprocess.run([str(Path(sys.executable).with_name("shortsbot")), "clip", str(video), CLIP_INSTRUCTION,
                          "--out", str(work / "out")], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         text=True)
    if run.returncode:
        raise SystemExit(f"shortsbot clip failed ({run.returncode}):\n{run.stderr[-2000:]}")
    return json.loads((work / "out" / "clips.json").read_text())["clips"][0]


def frame_as_rendered(video: Path, work: Path, ranges: list[tuple[float, float]]) -> list[reframe.Framing]:
    """The CLI's clip framed as engine.spec and engine.render frame it: the words of its transcript
    (from the run's cache) and the scene cuts."""
    from bot.settings import load_settings
    from engine.pipeline import analyse

    analysis = analyse(video, load_settings(data_dir=work / "data").engine_config())
    media, framings = analysis.media, []
    for start, end in ranges:
        words = [(w.start - start, w.end - start) for w in analysis.transcript.words
                 if start <= (w.start + w.end) / 2 <= end]
        cuts = [c - start for c in analysis.signals.scene_cuts if start < c < end]
        framings.append(reframe.frame_range(video, start, end, media.display_width, media.display_height, "9:16",
                                            cuts, words=words or None, has_audio=media.has_audio))
    return framings


def report(title: str, video: Path, ranges: list[tuple[float, float]], framings: list[reframe.Framing],
           turns: list[Turn], people: dict[str, FaceLabels], width: int, height: int) -> None:
    product, centre = Score(), Score()
    for (start, end), framing in zip(ranges, framings):
        score(framing, turns, people, start, end, product)
        score(centre_crop(reframe.crop_window(width, height, "9:16")), turns, people, start, end, centre)
    print(f"\n== {title}: {' + '.join(f'{s:.2f}-{e:.2f} s' for s, e in ranges)}")
    print(f"speaker in view, shortsbot:   {product.line()}")
    print(f"speaker in view, centre crop: {centre.line()}")
    for (start, end), framing in zip(ranges, framings):
        print("\n".join(describe(framing, people, start, end)))
        rates = detection_rates(video, start, end, width, height, people)
        print(f"face detection rate (find_faces, {reframe.DETECT_FPS:g} a second): {rates}")


def report_shifts(video: Path, whole: tuple[float, float], shifts: list[float], turns: list[Turn],
                  people: dict[str, FaceLabels], width: int, height: int, has_audio: bool) -> None:
    """The range framed from `shifts` seconds later, each: a line per start and the least and
    mean share in view over them."""
    print(f"\n== the range started later: {', '.join(f'+{s:g} s' for s in shifts)}")
    shares = []
    for shift in shifts:
        start, end = whole[0] + shift, whole[1]
        framing = reframe.frame_range(video, start, end, width, height, "9:16", has_audio=has_audio)
        result = score(framing, turns, people, start, end)
        shares.append(result.share)
        layouts = " ".join(f"{start + s.start:.2f}-{start + s.end:.2f} {s.layout}" for s in framing.stretches) or framing.mode
        print(f"+{shift:<5g} s: {result.share:6.1%} in view, alone {result.alone / max(result.speaking, 1):4.0%}; {layouts}")
    print(f"in view over {len(shares)} starts: least {min(shares):.1%}, mean {np.mean(shares):.1%}")


def cpu_seconds() -> float:
    return sum(r.ru_utime + r.ru_stime for r in map(resource.getrusage, (resource.RUSAGE_SELF,
                                                                          resource.RUSAGE_CHILDREN)))


def read_inputs(video: Path, rttm: Path, faces: Path) -> tuple:
    """The video's facts, its turns and its people; a ValueError saying what is wrong with them."""
    media = probe(video)
    try:
        turns = parse_rttm(rttm.read_text())
    except (ValueError, IndexError) as exc:
        raise ValueError(f"{rttm} is not RTTM ({exc})") from exc
    text = faces.read_text()
    try:
        people = (parse_faces_json(text, media.display_width, media.display_height) if faces.suffix == ".json"
                  else parse_darklabel(text, media.display_width, media.display_height, media.fps))
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise ValueError(f"{faces} is not a face-label file this reads ({exc!r})") from exc
    if not turns:
        raise ValueError(f"{rttm} has no SPEAKER lines: nobody speaks in it")
    if not people:
        raise ValueError(f"{faces} has no face labels (a DarkLabel CSV, or a JSON with \"people\")")
    speakers = {t.who for t in turns}
    if not speakers & set(people):       # one off-screen speaker is fine; none on screen is a naming mismatch
        raise ValueError(f"no speaker of {rttm} ({sorted(speakers)}) has a face in {faces} ({sorted(people)})")
    return media, turns, people


def seconds_list(text: str) -> list[float]:
    """"0.04,0.5" -> [0.04, 0.5], for --shifts (argparse words a ValueError as a bad value)."""
    return [float(v) for v in text.split(",")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--video", type=Path, required=True)
    parser.add_argument("--rttm", type=Path, required=True, help="who speaks when; speaker names are face ids")
    parser.add_argument("--faces", type=Path, required=True, help="DarkLabel CSV (.csv) or face JSON (.json)")
    parser.add_argument("--start", type=float, default=0.0)
    parser.add_argument("--end", type=float, default=None, help="default: the end of the video")
    parser.add_argument("--clip", action="store_true", help=f'also score `shortsbot clip VIDEO "{CLIP_INSTRUCTION}"`')
    parser.add_argument("--shifts", type=seconds_list, default=None,
                        metavar="S,S,...", help="also frame the range started this many seconds later, each (how "
                                                "firm the decisions are: a frame later changes no speaker)")
    args = parser.parse_args(argv)

    try:
        media, turns, people = read_inputs(args.video, args.rttm, args.faces)
    except (OSError, ValueError, EngineError) as exc:
        parser.error(str(exc))
    width, height = media.display_width, media.display_height
    print(f"engine: {Path(reframe.__file__).parents[2]}; {args.video.name} {width}x{height} {media.duration:.1f} s, "
          f"{len(turns)} turns, people {sorted(people)}")

    wall, cpu = time.perf_counter(), cpu_seconds()
    ranges = [(args.start, args.end if args.end is not None else media.duration)]
    framings = [reframe.frame_range(args.video, s, e, width, height, "9:16", has_audio=media.has_audio)
                for s, e in ranges]
    report("the range, framed without words", args.video, ranges, framings, turns, people, width, height)
    print(f"({time.perf_counter() - wall:.1f} s wall, {cpu_seconds() - cpu:.1f} s CPU)")

    if args.shifts:
        report_shifts(args.video, ranges[0], args.shifts, turns, people, width, height, media.has_audio)

    if args.clip:
        wall, cpu = time.perf_counter(), cpu_seconds()
        with tempfile.TemporaryDirectory(prefix="bench-real-") as folder:
            clip = run_cli(args.video, Path(folder))
            ranges = [tuple(r) for r in clip.get("segments") or [(clip["start"], clip["end"])]]
            framings = frame_as_rendered(args.video, Path(folder), ranges)
        report(f'shortsbot clip "{CLIP_INSTRUCTION}" picked', args.video, ranges, framings, turns, people,
               width, height)
        rendered = [(round(s["start"], 1), round(s["end"], 1), s["layout"]) for s in clip.get("layout", [])]
        ours = [(round(s.start, 1), round(s.end, 1), s.layout) for f in framings for s in f.stretches] or \
               [(0.0, round(e - s, 1), f.mode) for (s, e), f in zip(ranges, framings)]
        print(f"clips.json layout {rendered}: {'the same' if rendered == ours else 'NOT the same as ' + str(ours)}")
        print(f"captions withheld: {clip.get('captions_withheld') or 'no'}")
        print(f"(the clip run, its framing and scoring: {time.perf_counter() - wall:.1f} s wall, "
              f"{cpu_seconds() - cpu:.1f} s CPU)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

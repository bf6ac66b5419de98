"""Workers against the in-process default: the overhead of a task, and the time to the first short.

    .venv/bin/python bench/bench_workers.py [--skip-long]

Starts a real redis-server and two `shortsbot worker` processes on this machine (loopback,
a shared media directory), then measures:
- overhead per task: the bot's wall time from sending a render to having its result, minus the
  render's own time inside the task (queue, JSON, store put and read, polling), over small renders;
  and the worker's own share of it, with the first task of each fresh worker apart (the engine is
  imported before the pool starts, so that first task should cost no more than the others);
- time to the first short of the 10-minute 1080p talk (bench/bench_engine.py makes it once): the
  analysis, the choice and the first clip rendered, in this process and with two workers (who
  render the three clips two at a time), plus the time to all three shorts;
- how long after a cancel the worker's ffmpeg is gone.
Both workers share this machine's two cores with the bot, so the speed-up of the second worker
is what a second core gives, not a second machine.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.bench_engine import make_bench_video  # noqa: E402
from engine.models import ClipRequest, EngineConfig, RenderSpec  # noqa: E402
from engine.pipeline import analyse, choose, render_spec  # noqa: E402
from engine.probe import probe  # noqa: E402
from engine.render import render_clip  # noqa: E402
from storage.media_store import open_store  # noqa: E402
from tests.workers.cluster import Cluster, wait_for  # noqa: E402
from tests.workers.servers import redis_server  # noqa: E402
from workers.app import make_app  # noqa: E402
from workers.dispatch import RemoteEngine, warm_up  # noqa: E402
from workers.tasks import render_keys  # noqa: E402

REQUEST = ClipRequest(length=30.0, count=3)


def tiny_source(folder: Path) -> Path:
    path = folder / "tiny.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25",
                    "-f", "lavfi", "-i", "sine=frequency=330:sample_rate=48000", "-t", "30", "-c:v", "libx264",
                    "-preset", "ultrafast", "-c:a", "aac", "-shortest", str(path)], check=True)
    return path


def bench_overhead(engine: RemoteEngine, source_key: str, runs: int = 8) -> dict:
    media = probe(engine.store.local_path(source_key))
    overheads, in_worker, firsts = [], [], {}
    for n in range(runs):
        spec = RenderSpec(media=media, segments=[(1.0, 2.0)], resolution=180)
        engine.render(900 + n, 1, "clip-01.mp4", spec, source_key)
        run = engine.runs[-1]
        overheads.append((run.seconds - run.work_s) * 1000)
        # The worker's own share: its whole task (store reads and puts, progress) minus the render.
        result = json.loads(engine.store.get_bytes(render_keys(900 + n, 1, "clip-01.mp4").result))
        in_worker.append((result["seconds"] - result["work_s"]) * 1000)
        firsts.setdefault(run.worker, round(in_worker[-1]))
    return {"overhead_ms_median": round(statistics.median(overheads), 1),
            "overhead_ms_max": round(max(overheads), 1), "runs": runs, "all_ms": [round(o) for o in overheads],
            "in_worker_ms": [round(o) for o in in_worker], "first_task_in_worker_ms": sorted(firsts.values())}


def first_short_in_process(video: Path, cache_dir: Path, out: Path) -> dict:
    config = EngineConfig(cache_dir=cache_dir)
    started = time.monotonic()
    analysis = analyse(video, config)
    moments = sorted(choose(analysis, REQUEST, config), key=lambda m: m.rank)
    first = None
    for moment in moments:
        render_clip(render_spec(analysis, moment, REQUEST), out / f"clip-{moment.rank:02d}.mp4", config)
        first = first or time.monotonic() - started
    return {"first_short_s": round(first, 1), "all_shorts_s": round(time.monotonic() - started, 1),
            "clips": len(moments)}


def first_short_on_workers(engine: RemoteEngine, source_key: str) -> dict:
    started = time.monotonic()
    analysis = engine.analyse_key(1, 1, source_key)
    moments = sorted(choose(analysis, REQUEST, EngineConfig(cache_dir=Path(tempfile.gettempdir()))),
                     key=lambda m: m.rank)
    done = []
    with ThreadPoolExecutor(len(moments)) as pool:
        futures = [pool.submit(engine.render, 1, 1, f"clip-{m.rank:02d}.mp4", render_spec(analysis, m, REQUEST),
                               source_key) for m in moments]
        for future in futures:
            future.result()
            done.append(time.monotonic() - started)
    return {"first_short_s": round(min(done), 1), "all_shorts_s": round(max(done), 1), "clips": len(moments),
            "workers_used": len({r.worker for r in engine.runs if "render" in r.id and "-1-1-" in r.id})}


def cancel_latency(cluster: Cluster, engine: RemoteEngine, source_key: str) -> float | None:
    media = probe(engine.store.local_path(source_key))
    cancel = threading.Event()
    with ThreadPoolExecutor(1) as pool:
        job = pool.submit(engine.render, 990, 1, "clip-01.mp4", RenderSpec(media=media, segments=[(0.0, 28.0)],
                                                                            resolution=720), source_key,
                          None, None, cancel)
        if not wait_for(lambda: any(w.ffmpeg_pids() for w in cluster.workers), 300):
            return None
        cancelled_at = time.monotonic()
        cancel.set()
        try:
            job.result()
        except Exception:
            pass
        wait_for(lambda: not any(w.ffmpeg_pids() for w in cluster.workers), 60, every_s=0.01)
        return round(time.monotonic() - cancelled_at, 3)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-long", action="store_true", help="only the overhead and cancel (no 10-minute talk)")
    parser.add_argument("--video", type=Path, default=None,
                        help="the long video (default: bench_engine's 10-minute 1080p talk, made once)")
    args = parser.parse_args(argv)
    results: dict = {}
    with tempfile.TemporaryDirectory(prefix="bench-workers-") as tmp:
        folder = Path(tmp)
        with redis_server(folder / "redis") as url:
            cluster = Cluster(url, folder)
            store = open_store(None, cluster.data_dir, cluster.data_dir / "cache")
            store.put_file("sources/tiny.mp4", tiny_source(folder))
            try:
                cluster.start_worker("w1")
                cluster.start_worker("w2")
                engine = RemoteEngine(make_app(url), store)      # the bot's own polling interval
                warm_up(engine.app)                              # as the bot does when it starts
                results["overhead"] = bench_overhead(engine, "sources/tiny.mp4")
                print(json.dumps({"overhead": results["overhead"]}), flush=True)
                results["cancel_to_ffmpeg_gone_s"] = cancel_latency(cluster, engine, "sources/tiny.mp4")
                print(json.dumps({"cancel_to_ffmpeg_gone_s": results["cancel_to_ffmpeg_gone_s"]}), flush=True)
                if not args.skip_long:
                    video = args.video or make_bench_video()
                    store.put_file("sources/talk-10min.mp4", video)
                    results["two_workers"] = first_short_on_workers(engine, "sources/talk-10min.mp4")
                    print(json.dumps({"two_workers": results["two_workers"]}), flush=True)
            finally:
                cluster.stop()
        if not args.skip_long:
            results["in_process"] = first_short_in_process(args.video or make_bench_video(), folder / "cache-local",
                                                           folder / "out")
            print(json.dumps({"in_process": results["in_process"]}), flush=True)
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

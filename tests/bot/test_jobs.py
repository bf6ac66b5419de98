"""The durable job queue on real SQLite: order, positions, one job per person, workers side by side.

The handlers here are the work a job does in these tests (sleeps, a real ffmpeg run); the
queue, storage and ledger under them are the project's own, unmocked. Credits and restarts are in
test_job_credits.py, progress and cancel in test_job_progress.py.
"""
from __future__ import annotations

import asyncio

from bot.messages import ChatRef
from tests.bot.chat_helpers import Recorder
from tests.bot.job_helpers import REF, queue, user
from tests.bot.job_helpers import repos  # noqa: F401  (fixture)


async def test_jobs_run_in_order_and_people_hear_how_many_are_ahead(repos):
    recorder = Recorder()
    jobs = queue(repos, recorder)
    order: list[tuple[str, int]] = []
    gate, running = asyncio.Event(), asyncio.Event()

    async def work(ctx):
        running.set()
        await gate.wait()
        order.append((ctx.job.payload["who"], ctx.job.id))
        return {"ok": True}

    jobs.register("work", work)
    a, b = await user(repos, "a"), await user(repos, "b")
    await jobs.start()
    try:
        first = await jobs.submit(a, "work", {"who": "a"}, ref=REF)
        await asyncio.wait_for(running.wait(), 10)       # a's job is running now
        second = await jobs.submit(b, "work", {"who": "b"}, ref=ChatRef("test", "chat-2"))
        third = await jobs.submit(b, "work", {"who": "b"}, ref=ChatRef("test", "chat-2"), lang="zh")
        assert recorder.texts("chat-2") == ["1 job ahead of yours; I will start as soon as it is done.",
                                            "前面还有 2 个任务，轮到你时我会马上开始。"]
        assert recorder.texts("chat-1") == []             # nobody was ahead of the first
        gate.set()
        assert await jobs.wait_idle(timeout=180)
    finally:
        await jobs.stop()
    assert order == [("a", first.id), ("b", second.id), ("b", third.id)]
    assert [(await repos.jobs.get(j.id)).state for j in (first, second, third)] == ["done"] * 3
    assert (await repos.jobs.get(first.id)).result == {"ok": True}


async def test_one_person_runs_one_job_at_a_time_while_others_go_ahead(repos):
    recorder = Recorder()
    jobs = queue(repos, recorder, concurrency=2)
    running: dict[str, int] = {"a": 0, "b": 0}
    most: dict[str, int] = {"a": 0, "b": 0}
    finished: list[str] = []

    async def work(ctx):
        who = ctx.job.payload["who"]
        running[who] += 1
        most[who] = max(most[who], running[who])
        await asyncio.sleep(0.15)
        running[who] -= 1
        finished.append(f"{who}{ctx.job.payload['n']}")

    jobs.register("work", work)
    a, b = await user(repos, "a"), await user(repos, "b")
    for n in range(3):
        await jobs.submit(a, "work", {"who": "a", "n": n})
    await jobs.submit(b, "work", {"who": "b", "n": 0})
    await jobs.start()
    try:
        assert await jobs.wait_idle(timeout=180)
    finally:
        await jobs.stop()
    assert most == {"a": 1, "b": 1}
    assert [f for f in finished if f.startswith("a")] == ["a0", "a1", "a2"]
    assert finished.index("b0") < finished.index("a2")    # b did not wait behind all of a's jobs


async def test_cancel_of_queued_jobs(repos):
    recorder = Recorder()
    jobs = queue(repos, recorder)
    a = await user(repos, "a")
    first = await jobs.submit(a, "work", {})
    second = await jobs.submit(a, "work", {})
    assert await jobs.cancel_user(a) == 2                        # no worker running: both were queued
    assert [(await repos.jobs.get(j.id)).state for j in (first, second)] == ["cancelled", "cancelled"]


async def test_local_jobs_run_one_at_a_time(tmp_path):
    """RENDER_CONCURRENCY=1 keeps the local engine's jobs (each uses the machine's cores) one at a time."""
    from shortsbot.app import App
    from bot.settings import Settings

    app = App(Settings(_env_file=None, data_dir=tmp_path / "data", render_concurrency=1, nemo_concurrency=3))
    await app.start()
    release = asyncio.Event()
    app.jobs.register("waits", lambda ctx: release.wait())
    try:
        people = [await user(app.repos, name) for name in "abcd"]
        for person in people:
            await app.jobs.submit(person, "waits", {})

        async def states() -> list[str]:
            return sorted([j.state for p in people for j in await app.repos.jobs.for_user(p)])

        while "running" not in await states():
            await asyncio.sleep(0.02)
        assert await states() == ["queued", "queued", "queued", "running"]      # the one worker is busy
        release.set()
        assert await app.jobs.wait_idle(timeout=180)
    finally:
        release.set()
        await app.stop()


async def test_cloud_exports_wait_on_the_network_side_by_side(tmp_path):
    """With the cloud, jobs mostly wait on the network: NEMO_CONCURRENCY exports run at once on the
    (fake) NemoVideo server, and one that has not finished holds up nobody beyond them."""
    from tests.bot.chat_helpers import message, started_app
    from tests.nemo.conftest import nemo_settings
    from tests.nemo.fake_nemo import FakeNemo

    async with FakeNemo(render_steps=("pending", "processing")) as fake:     # renders that wait to be let go
        settings = nemo_settings(fake.base_url, tmp_path / "data", nemo_concurrency=3, nemo_export_timeout_s=120.0)
        app, recorder = await started_app(settings)
        try:
            people = "abcd"
            for name in people:
                await app.conversation.handle(message("cut it", user=name, chat=name))
            assert await app.jobs.wait_idle(timeout=180)
            for name in people:
                await app.conversation.handle(message("/export", user=name, chat=name))
            await recorder.wait_for(lambda: len(fake.renders) == 3 and all(r.polls for r in fake.renders.values()))
            users = [await app.repos.users.find("test", name) for name in people]
            exports = [j for u in users for j in await app.repos.jobs.for_user(u.id) if j.kind == "export"]
            assert sorted(j.state for j in exports) == ["queued", "running", "running", "running"]

            fake.render_steps = ("completed",)                                   # the cloud finishes them
            assert await app.jobs.wait_idle(timeout=180)
            assert len(fake.renders) == 4 and sorted(ref.chat_id for ref, r in recorder.posted
                                                     if r.kind == "video") == list(people)
        finally:
            await app.stop()


async def test_with_two_workers_the_second_person_starts_at_once_and_the_third_hears_one_ahead(repos):
    recorder = Recorder()
    jobs = queue(repos, recorder, concurrency=2)
    gate = asyncio.Event()

    async def work(ctx):
        await gate.wait()

    jobs.register("work", work)
    a, b, c = await user(repos, "a"), await user(repos, "b"), await user(repos, "c")
    await jobs.start()
    try:
        await jobs.submit(a, "work", {}, ref=ChatRef("test", "chat-a"))
        await jobs.submit(b, "work", {}, ref=ChatRef("test", "chat-b"))
        await jobs.submit(c, "work", {}, ref=ChatRef("test", "chat-c"))
        await jobs.submit(a, "work", {}, ref=ChatRef("test", "chat-a"))      # a's second waits for a's first
        assert recorder.texts("chat-b") == []                                # a worker was free
        assert recorder.texts("chat-c") == ["1 job ahead of yours; I will start as soon as it is done."]
        assert recorder.texts("chat-a") == ["2 jobs ahead of yours; I will start as soon as they are done."]
        gate.set()
        assert await jobs.wait_idle(timeout=180)
    finally:
        gate.set()
        await jobs.stop()

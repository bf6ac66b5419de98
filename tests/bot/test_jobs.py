"""The durable job queue on real SQLite: order, positions, credits, restarts, progress, cancel.

The handlers here are the work a job does in these tests (sleeps, a real ffmpeg run); the
queue, storage and ledger under them are the project's own, unmocked.
"""
from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest

from bot.jobs import JobQueue, ProgressThrottle, current_job
from bot.messages import ChatRef, ErrorReply, ProgressReply
from engine.render import run_ffmpeg
from storage.db import Database
from storage.repos import Repos
from tests.bot.chat_helpers import Recorder

REF = ChatRef("test", "chat-1", user_id="u1")


@pytest.fixture
async def repos(tmp_path):
    db = await Database.open(tmp_path / "jobs.sqlite3")
    yield Repos(db)
    await db.close()


async def user(repos: Repos, name: str) -> int:
    record, _ = await repos.users.get_or_create("test", name, name)
    await repos.ledger.grant_once(record.id, 10)
    return record.id


def queue(repos: Repos, recorder: Recorder, **kwargs) -> JobQueue:
    return JobQueue(repos, recorder, **{"progress_interval": 0.05, "idle_poll": 0.05, **kwargs})


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
        assert await jobs.wait_idle(timeout=10)
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
        assert await jobs.wait_idle(timeout=10)
    finally:
        await jobs.stop()
    assert most == {"a": 1, "b": 1}
    assert [f for f in finished if f.startswith("a")] == ["a0", "a1", "a2"]
    assert finished.index("b0") < finished.index("a2")    # b did not wait behind all of a's jobs


async def test_success_charges_the_hold_and_failure_releases_it_with_a_sentence(repos):
    recorder = Recorder()
    jobs = queue(repos, recorder, error_reply=lambda exc, lang: ErrorReply(f"sorry: {exc}"))

    async def work(ctx):
        await repos.ledger.hold(ctx.job.user_id, 3, ctx.hold_ref)
        assert current_job.get() is ctx
        if ctx.job.payload.get("fail"):
            raise ValueError("the source is gone")
        return None

    jobs.register("work", work)
    a = await user(repos, "a")
    await jobs.start()
    try:
        good = await jobs.submit(a, "work", {}, ref=REF)
        assert await jobs.wait_idle(timeout=10)
        assert (await repos.ledger.balance(a)).available == 7
        bad = await jobs.submit(a, "work", {"fail": True}, ref=REF)
        assert await jobs.wait_idle(timeout=10)
    finally:
        await jobs.stop()
    assert (await repos.ledger.balance(a)).available == 7 and (await repos.ledger.balance(a)).frozen == 0
    assert await repos.ledger.entries(a) == [("grant", 10, None), ("hold", 3, good.hold_ref), ("charge", 3, good.hold_ref),
                                             ("hold", 3, bad.hold_ref), ("release", 3, bad.hold_ref)]
    failed = await repos.jobs.get(bad.id)
    assert failed.state == "failed" and "the source is gone" in failed.error
    assert "sorry: the source is gone" in recorder.texts("chat-1")


async def test_a_crash_mid_job_loses_nothing_and_charges_once(tmp_path):
    """A job left 'running' by a crash (the database closed under it) runs again after the restart."""
    path = tmp_path / "crash.sqlite3"
    db = await Database.open(path)
    repos = Repos(db)
    a = await user(repos, "a")
    ref = await repos.chat_refs.add("test", "chat-1", user_id="a")
    job = await repos.jobs.enqueue(a, "work", {"lang": "en"}, chat_ref_id=ref.id)
    claimed = await repos.jobs.claim_next()                      # a worker took it...
    await repos.ledger.hold(a, 2, claimed.hold_ref)              # ...held the credits...
    await db.close()                                             # ...and the process died.

    db = await Database.open(path)
    repos = Repos(db)
    recorder = Recorder()
    jobs = queue(repos, recorder)
    runs = []

    async def work(ctx):
        runs.append(ctx.job.attempts)
        if await repos.ledger.open_hold(ctx.hold_ref) is None:   # as LocalBackend does: reuse the hold
            await repos.ledger.hold(ctx.job.user_id, 2, ctx.hold_ref)

    jobs.register("work", work)
    await jobs.start()
    try:
        assert await jobs.wait_idle(timeout=10)
    finally:
        await jobs.stop()
    assert runs == [2]
    assert (await repos.jobs.get(job.id)).state == "done"
    assert await repos.ledger.entries(a) == [("grant", 10, None), ("hold", 2, job.hold_ref), ("charge", 2, job.hold_ref)]
    assert "I was restarted while working on your request; picking it up again." in recorder.texts("chat-1")
    await db.close()


async def test_a_job_interrupted_too_often_fails_and_gives_the_credits_back(repos):
    a = await user(repos, "a")
    ref = await repos.chat_refs.add("test", "chat-1")
    job = await repos.jobs.enqueue(a, "work", {"lang": "en"}, chat_ref_id=ref.id, max_attempts=2)
    await repos.jobs.claim_next()                                # the first run crashed,
    await repos.jobs.move(job.id, "queued")                      # was queued again at the restart,
    await repos.jobs.claim_next()                                # and the second run crashed too
    await repos.ledger.hold(a, 4, job.hold_ref)
    done_but_unsettled = await repos.jobs.enqueue(a, "work", {})
    await repos.jobs.claim_next(one_per_user=False)
    await repos.ledger.hold(a, 1, done_but_unsettled.hold_ref)
    await repos.jobs.move(done_but_unsettled.id, "done")         # crashed between "done" and the charge

    recorder = Recorder()
    jobs = queue(repos, recorder)
    jobs.register("work", lambda ctx: asyncio.sleep(0))
    await jobs.recover()
    failed = await repos.jobs.get(job.id)
    assert failed.state == "failed" and failed.attempts == 2
    assert await repos.ledger.open_hold(job.hold_ref) is None
    assert ("charge", 1, done_but_unsettled.hold_ref) in await repos.ledger.entries(a)
    assert (await repos.ledger.balance(a)).available == 9
    [reply] = recorder.replies("chat-1")
    assert isinstance(reply, ErrorReply) and "restarted 2 times" in reply.text


async def test_stop_puts_a_running_job_back_and_the_next_start_finishes_it(repos):
    recorder = Recorder()
    jobs = queue(repos, recorder)
    started = asyncio.Event()
    attempts = []

    async def work(ctx):
        attempts.append(ctx.job.attempts)
        if await repos.ledger.open_hold(ctx.hold_ref) is None:
            await repos.ledger.hold(ctx.job.user_id, 5, ctx.hold_ref)
        started.set()
        while len(attempts) == 1:                                # the first run waits to be stopped
            ctx.check()
            await asyncio.sleep(0.02)

    jobs.register("work", work)
    a = await user(repos, "a")
    await jobs.start()
    job = await jobs.submit(a, "work", {}, ref=REF)
    await asyncio.wait_for(started.wait(), 5)
    await jobs.stop()
    assert (await repos.jobs.get(job.id)).state == "queued"
    assert (await repos.ledger.balance(a)).frozen == 5           # still held for the retry

    jobs = queue(repos, recorder)
    jobs.register("work", work)
    await jobs.start()
    try:
        assert await jobs.wait_idle(timeout=10)
    finally:
        await jobs.stop()
    assert attempts == [1, 2]
    assert (await repos.ledger.balance(a)).available == 5 and (await repos.ledger.balance(a)).frozen == 0


async def test_cancel_ends_ffmpeg_and_releases_the_hold(repos, tmp_path):
    recorder = Recorder()
    jobs = queue(repos, recorder)
    output = tmp_path / "long.mp4"

    async def render(ctx):
        await repos.ledger.hold(ctx.job.user_id, 2, ctx.hold_ref)
        cmd = ["ffmpeg", "-y", "-loglevel", "error", "-progress", "pipe:1", "-re", "-f", "lavfi",
               "-i", "testsrc2=size=320x240:rate=25:duration=600", "-c:v", "libx264", "-preset", "ultrafast", str(output)]
        await asyncio.to_thread(run_ffmpeg, cmd, 600.0, lambda f, label: ctx.progress(f, "rendering"), ctx.cancel, 60)

    jobs.register("render", render)
    a = await user(repos, "a")
    await jobs.start()
    try:
        job = await jobs.submit(a, "render", {}, ref=REF)
        await recorder.wait_for(lambda: any(isinstance(r, ProgressReply) and (r.fraction or 0) > 0
                                            for r in recorder.replies()), timeout=20)
        ffmpegs_before = _ffmpeg_writing(output)
        assert ffmpegs_before, "ffmpeg should be running"
        assert await jobs.cancel_user(a) == 1
        assert await jobs.wait_idle(timeout=10)
    finally:
        await jobs.stop()
    assert (await repos.jobs.get(job.id)).state == "cancelled"
    assert await repos.ledger.entries(a) == [("grant", 10, None), ("hold", 2, job.hold_ref), ("release", 2, job.hold_ref)]
    assert not any(_alive(pid) for pid in ffmpegs_before)
    await recorder.wait_for(lambda: any(isinstance(r, ProgressReply) and r.done for r in recorder.replies()), 5)
    assert recorder.replies(kind="progress")[-1].text == "Cancelled."


async def test_cancel_of_queued_jobs(repos):
    recorder = Recorder()
    jobs = queue(repos, recorder)
    a = await user(repos, "a")
    first = await jobs.submit(a, "work", {})
    second = await jobs.submit(a, "work", {})
    assert await jobs.cancel_user(a) == 2                        # no worker running: both were queued
    assert [(await repos.jobs.get(j.id)).state for j in (first, second)] == ["cancelled", "cancelled"]


async def test_a_quiet_job_says_it_is_still_working(repos):
    recorder = Recorder()
    jobs = queue(repos, recorder, still_working_after=0.2)
    notices = {"chat-1": "⏳ 仍在处理中...", "chat-en": "⏳ Still working..."}

    started: dict[str, float] = {}

    async def quiet_until_told(ctx):
        started[ctx.ref.chat_id] = time.monotonic()
        ctx.progress(0.1, "thinking")
        notice = notices[ctx.ref.chat_id]
        while recorder.texts(ctx.ref.chat_id).count(notice) < 2:     # the job says nothing more itself
            await asyncio.sleep(0.02)

    jobs.register("slow", quiet_until_told)
    a = await user(repos, "a")
    await jobs.start()
    try:
        await jobs.submit(a, "slow", {}, ref=REF, lang="zh")
        await jobs.submit(a, "slow", {}, ref=ChatRef("test", "chat-en"))
        assert await jobs.wait_idle(timeout=20)
    finally:
        await jobs.stop()
    for chat, notice in notices.items():
        said = [(at, r) for (ref, r), at in zip(recorder.posted, recorder.posted_at) if ref.chat_id == chat]
        times = [at for at, r in said if getattr(r, "text", "") == notice]
        assert any(r.kind == "progress" for _, r in said) and len(times) == 2
        # each notice waits a whole quiet spell after the last thing shown: the second comes two spells
        # after the job began at the earliest, however busy the machine (it can only come later)
        assert times[1] - started[chat] >= 2 * 0.2, (started[chat], times)


async def test_progress_is_throttled_first_and_last_always_sent():
    """On an injected clock: what is sent depends on the clock the throttle reads, not on how fast
    this machine runs the loop."""
    now = [100.0]
    sent: list[tuple[float, ProgressReply]] = []

    async def send(reply):
        sent.append((now[0], reply))

    async def settle() -> None:                  # a moment of the loop's own time: a chance to send
        for _ in range(20):
            await asyncio.sleep(0.01)

    async def until(count: int) -> None:         # the throttle's own waits are real sleeps: wait for the send
        for _ in range(1000):
            if len(sent) >= count:
                return
            await asyncio.sleep(0.01)

    throttle = ProgressThrottle(send, interval=0.2, clock=lambda: now[0])
    throttle.offer(ProgressReply("job-1", "rendering", 0.0))
    await until(1)
    assert [r.fraction for _, r in sent] == [0.0]                  # the first goes out at once
    for i in range(1, 10):                                         # many updates within one interval
        now[0] += 0.01
        throttle.offer(ProgressReply("job-1", "rendering", i / 40))
    await settle()
    assert len(sent) == 1                                          # held back: the interval has not passed
    now[0] = 100.2
    await until(2)
    assert [r.fraction for _, r in sent] == [0.0, 9 / 40]          # only the newest waiting one, once it has
    now[0] += 0.05
    throttle.offer(ProgressReply("job-1", "rendering", 0.5))
    throttle.offer(ProgressReply("job-1", "done", 1.0, done=True))
    await throttle.flush("job-1")
    assert [r.fraction for _, r in sent] == [0.0, 9 / 40, 1.0]     # the last replaces the waiting one, at once
    assert sent[-1][1].done and sent[-1][0] == 100.25

    # identical updates are not sent twice; keys are independent
    sent.clear()
    throttle.offer(ProgressReply("job-2", "same", 0.5))
    throttle.offer(ProgressReply("job-3", "other", 0.5))
    await until(2)
    now[0] += 1.0
    throttle.offer(ProgressReply("job-2", "same", 0.5))
    await settle()
    assert [r.key for _, r in sent] == ["job-2", "job-3"]


async def test_progress_from_engine_threads_reaches_the_chat(repos):
    recorder = Recorder()
    jobs = queue(repos, recorder)

    async def threaded(ctx):
        def engine_work():
            assert threading.current_thread() is not threading.main_thread()
            for i in range(5):
                ctx.progress(i / 4, "working")
                time.sleep(0.03)
        await asyncio.to_thread(engine_work)
        ctx.progress(1.0, "finished", done=True)

    jobs.register("threaded", threaded)
    a = await user(repos, "a")
    await jobs.start()
    try:
        job = await jobs.submit(a, "threaded", {}, ref=REF)
        assert await jobs.wait_idle(timeout=10)
        await recorder.wait_for(lambda: any(getattr(r, "done", False) for r in recorder.replies()), 5)
    finally:
        await jobs.stop()
    progress = recorder.replies(kind="progress")
    # the engine's own updates reached the chat before the last one (which of them, a busy loop decides:
    # the throttle sends the newest waiting one)
    fractions = [r.fraction for r in progress]
    assert fractions[0] in (0.0, 0.25, 0.5, 0.75) and fractions == sorted(fractions)
    assert progress[-1].text == "finished"
    assert {r.key for r in progress} == {f"job-{job.id}"}
    assert (await repos.jobs.get(job.id)).progress == 1.0


def _ffmpeg_writing(output: Path) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if cmdline and cmdline[0].endswith(b"ffmpeg") and str(output).encode() in cmdline:
                pids.append(int(entry.name))
    return pids


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return False
    return state != "Z"


async def test_a_failed_job_ends_its_progress_message(repos):
    recorder = Recorder()
    jobs = queue(repos, recorder, error_reply=lambda exc, lang: ErrorReply(f"sorry: {exc}"))

    async def breaks_at_40(ctx):
        ctx.progress(0.4, "Rendering")
        await asyncio.sleep(0.1)                                 # the 40% is on screen
        raise ValueError("ffmpeg died")

    jobs.register("breaks", breaks_at_40)
    a = await user(repos, "a")
    await jobs.start()
    try:
        job = await jobs.submit(a, "breaks", {}, ref=REF, lang="zh")
        assert await jobs.wait_idle(timeout=10)
        await recorder.wait_for(lambda: any(getattr(r, "done", False) for r in recorder.replies()), 5)
    finally:
        await jobs.stop()
    progress = recorder.replies(kind="progress")
    assert [(r.text, r.fraction, r.done) for r in progress] == [("Rendering", 0.4, False), ("失败", None, True)]
    assert {r.key for r in progress} == {f"job-{job.id}"}
    assert "sorry: ffmpeg died" in recorder.texts("chat-1")


async def test_local_jobs_run_one_at_a_time(tmp_path):
    """RENDER_CONCURRENCY=1 keeps the local engine's jobs (each uses the machine's cores) one at a time."""
    from bot.app import App
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
        assert await app.jobs.wait_idle(timeout=10)
    finally:
        release.set()
        await app.stop()


@pytest.mark.parametrize("stop", [KeyboardInterrupt, SystemExit])
async def test_ctrl_c_or_exit_in_a_job_is_not_a_failure_and_the_next_start_finishes_it(repos, stop):
    recorder = Recorder()
    jobs = queue(repos, recorder)
    attempts = []

    async def work(ctx):
        attempts.append(ctx.job.attempts)
        if await repos.ledger.open_hold(ctx.hold_ref) is None:
            await repos.ledger.hold(ctx.job.user_id, 4, ctx.hold_ref)
        if len(attempts) == 1:
            raise stop()

    jobs.register("work", work)
    a = await user(repos, "a")
    job = await jobs.submit(a, "work", {}, ref=REF)
    claimed = await repos.jobs.claim_next()
    with pytest.raises(stop):
        await jobs._run(claimed)             # what a worker does; the process is going down with it
    assert (await repos.jobs.get(job.id)).state == "running"
    assert (await repos.ledger.balance(a)).frozen == 4           # not released as if the job had failed

    jobs = queue(repos, recorder)
    jobs.register("work", work)
    await jobs.start()
    try:
        assert await jobs.wait_idle(timeout=10)
    finally:
        await jobs.stop()
    assert attempts == [1, 2]
    assert (await repos.jobs.get(job.id)).state == "done"
    assert await repos.ledger.entries(a) == [("grant", 10, None), ("hold", 4, job.hold_ref), ("charge", 4, job.hold_ref)]


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
            assert await app.jobs.wait_idle(timeout=30)
            for name in people:
                await app.conversation.handle(message("/export", user=name, chat=name))
            await recorder.wait_for(lambda: len(fake.renders) == 3 and all(r.polls for r in fake.renders.values()), 30)
            users = [await app.repos.users.find("test", name) for name in people]
            exports = [j for u in users for j in await app.repos.jobs.for_user(u.id) if j.kind == "export"]
            assert sorted(j.state for j in exports) == ["queued", "running", "running", "running"]

            fake.render_steps = ("completed",)                                   # the cloud finishes them
            assert await app.jobs.wait_idle(timeout=30)
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
        assert await jobs.wait_idle(timeout=10)
    finally:
        gate.set()
        await jobs.stop()

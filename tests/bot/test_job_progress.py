"""A job's progress and its end: throttled progress messages (on an injected clock), progress from
engine threads, the still-working notice, a failed job's last message, and cancel ending ffmpeg."""
from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

from bot.jobs import ProgressThrottle
from bot.messages import ChatRef, ErrorReply, ProgressReply
from engine.render import run_ffmpeg
from tests.bot.chat_helpers import Recorder
from tests.bot.job_helpers import REF, queue, user
from tests.bot.job_helpers import repos  # noqa: F401  (fixture)


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
                                            for r in recorder.replies()))
        ffmpegs_before = _ffmpeg_writing(output)
        assert ffmpegs_before, "ffmpeg should be running"
        assert await jobs.cancel_user(a) == 1
        assert await jobs.wait_idle(timeout=180)
    finally:
        await jobs.stop()
    assert (await repos.jobs.get(job.id)).state == "cancelled"
    assert await repos.ledger.entries(a) == [("grant", 10, None), ("hold", 2, job.hold_ref), ("release", 2, job.hold_ref)]
    assert not any(_alive(pid) for pid in ffmpegs_before)
    await recorder.wait_for(lambda: any(isinstance(r, ProgressReply) and r.done for r in recorder.replies()))
    assert recorder.replies(kind="progress")[-1].text == "Cancelled."


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
        assert await jobs.wait_idle(timeout=180)
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
        assert await jobs.wait_idle(timeout=180)
        await recorder.wait_for(lambda: any(getattr(r, "done", False) for r in recorder.replies()))
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
        assert await jobs.wait_idle(timeout=180)
        await recorder.wait_for(lambda: any(getattr(r, "done", False) for r in recorder.replies()))
    finally:
        await jobs.stop()
    progress = recorder.replies(kind="progress")
    assert [(r.text, r.fraction, r.done) for r in progress] == [("Rendering", 0.4, False), ("失败", None, True)]
    assert {r.key for r in progress} == {f"job-{job.id}"}
    assert "sorry: ffmpeg died" in recorder.texts("chat-1")


async def test_the_last_progress_state_does_not_wait_for_the_interval_an_earlier_one_waits_for():
    """A job that ends while a progress state waits its turn: "done" goes out at once, not when the
    interval (an hour here) is over."""
    sent: list[ProgressReply] = []

    async def send(reply):
        sent.append(reply)

    throttle = ProgressThrottle(send, interval=3600.0)
    throttle.offer(ProgressReply("job-1", "rendering", 0.0))
    await throttle.flush("job-1")
    throttle.offer(ProgressReply("job-1", "rendering", 0.5))          # waits for the hour to pass
    for _ in range(5):
        await asyncio.sleep(0)
    throttle.offer(ProgressReply("job-1", "done", 1.0, done=True))
    for _ in range(100):                                               # a few turns of the loop, no clock
        if len(sent) == 2:
            break
        await asyncio.sleep(0)
    assert [(r.fraction, r.done) for r in sent] == [(0.0, False), (1.0, True)]
    await throttle.flush("job-1")

"""The job queue's credits across failures and restarts: a hold charged once on success, given back
on failure, kept through a crash, a stop or Ctrl-C, and charged only for a clip that arrived."""
from __future__ import annotations

import asyncio

import pytest

from bot.jobs import current_job
from bot.messages import ChatRef, ErrorReply
from storage.db import Database
from storage.repos import Repos
from tests.bot.chat_helpers import Recorder
from tests.bot.job_helpers import REF, queue, user
from tests.bot.job_helpers import repos  # noqa: F401  (fixture)


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
        assert await jobs.wait_idle(timeout=180)
        assert (await repos.ledger.balance(a)).available == 7
        bad = await jobs.submit(a, "work", {"fail": True}, ref=REF)
        assert await jobs.wait_idle(timeout=180)
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
        assert await jobs.wait_idle(timeout=180)
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
        assert await jobs.wait_idle(timeout=180)
    finally:
        await jobs.stop()
    assert attempts == [1, 2]
    assert (await repos.ledger.balance(a)).available == 5 and (await repos.ledger.balance(a)).frozen == 0


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
        assert await jobs.wait_idle(timeout=180)
    finally:
        await jobs.stop()
    assert attempts == [1, 2]
    assert (await repos.jobs.get(job.id)).state == "done"
    assert await repos.ledger.entries(a) == [("grant", 10, None), ("hold", 4, job.hold_ref), ("charge", 4, job.hold_ref)]


async def _app_with_a_paid_delivery(tmp_path, wait_s: float):
    """An App (real storage, jobs) whose 'cut' job holds 2 credits and delivers one clip to Telegram."""
    from bot.messages import VideoReply
    from bot.settings import Settings
    from shortsbot.app import App

    app = App(Settings(_env_file=None, data_dir=tmp_path / "data"), platform_wait_s=wait_s)
    await app.start()

    async def cut(ctx):
        await app.repos.ledger.hold(ctx.job.user_id, 2, ctx.hold_ref)
        await ctx.deliver(VideoReply(tmp_path / "clip.mp4", 360, 640, 10.0, clip_id=1), number=1)

    app.jobs.register("cut", cut)
    return app


async def test_a_clip_nobody_received_is_not_charged(tmp_path):
    """No adapter took the reply (its platform never registered): the job fails and the hold goes back."""
    app = await _app_with_a_paid_delivery(tmp_path, wait_s=0.3)
    try:
        a = await user(app.repos, "a")
        job = await app.jobs.submit(a, "cut", {}, ref=ChatRef("telegram", "chat-1"))
        assert await app.jobs.wait_idle(timeout=180)
        assert (await app.repos.jobs.get(job.id)).state == "failed"
        assert await app.repos.ledger.entries(a) == [("grant", 10, None), ("hold", 2, job.hold_ref),
                                                     ("release", 2, job.hold_ref)]
    finally:
        await app.stop()


async def test_a_reply_waits_for_its_platform_and_is_charged_once_it_arrives(tmp_path):
    app = await _app_with_a_paid_delivery(tmp_path, wait_s=30)
    received = []
    try:
        a = await user(app.repos, "a")
        job = await app.jobs.submit(a, "cut", {}, ref=ChatRef("telegram", "chat-1"))
        while (await app.repos.ledger.open_hold(job.hold_ref)) is None:     # the job runs, its clip waits
            await asyncio.sleep(0.02)
        assert (await app.repos.jobs.get(job.id)).state == "running"

        async def sink(ref, reply):
            received.append(reply.kind)

        app.register_platform("telegram", sink)
        assert await app.jobs.wait_idle(timeout=180)
        assert received == ["video"]
        assert (await app.repos.jobs.get(job.id)).state == "done"
        assert (await app.repos.ledger.entries(a))[-1] == ("charge", 2, job.hold_ref)
    finally:
        await app.stop()

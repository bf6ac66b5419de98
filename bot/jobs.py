"""Durable jobs: long work (cuts, re-renders, exports) kept as rows in SQLite and run by asyncio workers.

- `submit` stores the job and where its results go (a ChatRef in chat_refs), and tells the
  person how many jobs are ahead of theirs (in the same message as a `preface`, e.g. "got it").
- `concurrency` workers (RENDER_CONCURRENCY; NEMO_CONCURRENCY with the cloud, whose jobs mostly
  wait on the network) claim jobs oldest first, one job per user at a time (so one person's
  requests run in the order they were made), and await the handler registered for the job's kind. Handlers run engine work in threads (asyncio.to_thread): the loop stays free.
- Credits a job holds (hold ref "job:N") are charged when it succeeds and released when it
  fails or is cancelled.
- At start, jobs a crash left 'running' go back to 'queued'; one already tried
  job_max_attempts times fails instead and its held credits are released. Holds a crash left
  open on finished jobs are settled. On stop, running jobs are asked to end (their ffmpeg is
  killed through the cancel event) and go back to 'queued' for the next start.
- Progress is one message per job, edited at most once every `progress_interval` seconds
  (PROGRESS_EDIT_INTERVAL_S); the first and the last update always go out (the last at once).
  This is the one throttle: the adapters only keep the newest state while an edit waits for
  its turn (Telegram's pacing, Discord's rate limits). A job that shows nothing new for
  `still_working_after` seconds posts "⏳ Still working...".
- `cancel_user` cancels a person's queued jobs and sets the cancel event of the running one,
  which the engine watches (it ends ffmpeg and removes partial files).
- A job that fails or is cancelled ends its progress message too ("Failed" / "Cancelled"), so
  no "Rendering 40%" stays on screen.
- Delivery: `ctx.post` says whether the platform took a reply (the adapters retry first);
  `ctx.deliver` raises Undelivered when it did not. A handler delivers the work it is paid for
  (a clip) with `deliver`, so a clip the platform refused fails the job and its held credits go
  back: nothing is charged for work that never arrived.
"""
from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from bot import texts
from bot.messages import ChatRef, ErrorReply, ProgressReply, Reply, TextReply
from engine.models import Cancelled
from storage.repos import IllegalTransition, JobRecord, Repos

log = logging.getLogger(__name__)

Poster = Callable[[ChatRef, Reply], Awaitable[None]]
Handler = Callable[["JobContext"], Awaitable[dict | None]]
ErrorReplyMaker = Callable[[BaseException, str], Reply]

# The job a coroutine is working for, so that code deep in a handler (a backend) can find
# the job's cancel event, hold reference and progress reporter without extra arguments.
current_job: contextvars.ContextVar["JobContext | None"] = contextvars.ContextVar("current_job", default=None)


class Undelivered(Exception):
    """The platform did not take a reply a job was delivering (after the adapter's own retries)."""

    def __init__(self, reason: str, number: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.number = number                 # which of the job's results (e.g. clip 2), when it has several


class ProgressThrottle:
    """Sends progress replies at most once every `interval` seconds per key. The first goes out at
    once; later ones wait their turn, and only the newest waiting one is sent. The last one (done)
    goes out at once, replacing whatever was waiting, so the final state is never late or lost.
    Identical updates are not sent again."""

    @dataclass
    class _Key:
        latest: ProgressReply | None = None
        last_sent_at: float | None = None
        last_shown: tuple | None = None
        task: asyncio.Task | None = None
        finishing: asyncio.Event = field(default_factory=asyncio.Event)    # a done state came: no more waiting

    def __init__(self, send: Callable[[ProgressReply], Awaitable[None]], interval: float = 3.0,
                 clock: Callable[[], float] = time.monotonic):
        self.send = send
        self.interval = interval
        self.clock = clock
        self._keys: dict[str, ProgressThrottle._Key] = {}

    def offer(self, reply: ProgressReply) -> None:
        """Call on the event loop's thread."""
        state = self._keys.setdefault(reply.key, self._Key())
        state.latest = reply
        if reply.done:
            state.finishing.set()
        if state.task is None or state.task.done():
            state.task = asyncio.get_running_loop().create_task(self._drain(reply.key, state))

    async def flush(self, key: str) -> None:
        """Waits until the key's waiting update (if any) has been sent."""
        state = self._keys.get(key)
        if state is not None and state.task is not None:
            await asyncio.shield(state.task)

    async def _drain(self, key: str, state: "_Key") -> None:
        while state.latest is not None:
            if state.last_sent_at is not None and not state.latest.done:
                wait = state.last_sent_at + self.interval - self.clock()
                if wait > 0:
                    try:
                        await asyncio.wait_for(state.finishing.wait(), wait)
                    except asyncio.TimeoutError:
                        pass
                    continue
            reply, state.latest = state.latest, None
            shown = (reply.text, None if reply.fraction is None else round(reply.fraction * 100), reply.done)
            if shown == state.last_shown:
                continue
            state.last_sent_at, state.last_shown = self.clock(), shown
            try:
                await self.send(reply)
            except Exception:
                log.exception("could not send progress %s", key)
            if reply.done:
                self._keys.pop(key, None)
                return


@dataclass
class JobContext:
    """What a handler gets: the job, where to post, the cancel event, and progress."""

    job: JobRecord
    ref: ChatRef | None
    cancel: threading.Event
    queue: "JobQueue"
    loop: asyncio.AbstractEventLoop
    last_visible: float = field(default_factory=time.monotonic)
    user_cancelled: bool = False
    shutting_down: bool = False
    showed_progress: bool = False

    @property
    def lang(self) -> str:
        return self.job.payload.get("lang", "en")

    @property
    def hold_ref(self) -> str:
        return self.job.hold_ref

    @property
    def progress_key(self) -> str:
        return f"job-{self.job.id}"

    async def post(self, reply: Reply) -> bool:
        """Posts to the job's chat; False when the platform did not take it (already logged)."""
        return await self._post(reply) is None

    async def deliver(self, reply: Reply, number: int | None = None) -> None:
        """Posts a result the person is paying for; raises Undelivered when the platform refused it."""
        failure = await self._post(reply)
        if failure is not None:
            raise Undelivered(str(failure) or type(failure).__name__, number)

    async def _post(self, reply: Reply) -> Exception | None:
        self.last_visible = time.monotonic()
        if self.ref is None:
            return None
        return await self.queue.try_post(self.ref, reply)

    def progress(self, fraction: float | None, text: str, done: bool = False) -> None:
        """Safe to call from any thread (engine callbacks run in worker threads)."""
        self.showed_progress = True
        reply = ProgressReply(self.progress_key, text, None if fraction is None else max(0.0, min(1.0, fraction)), done)
        try:
            on_loop = asyncio.get_running_loop() is self.loop
        except RuntimeError:
            on_loop = False
        if on_loop:
            self.queue.throttle.offer(reply)
        else:
            self.loop.call_soon_threadsafe(self.queue.throttle.offer, reply)

    async def save(self, **changes: Any) -> None:
        """Merges `changes` into the job's payload, so a retry after a restart knows them."""
        payload = {**self.job.payload, **changes}
        await self.queue.repos.jobs.set_payload(self.job.id, payload)
        self.job = dataclasses.replace(self.job, payload=payload)

    def check(self) -> None:
        if self.cancel.is_set():
            raise Cancelled("cancelled")


class JobQueue:
    def __init__(self, repos: Repos, post: Poster, *, concurrency: int = 1, max_attempts: int = 3,
                 progress_interval: float = 3.0, still_working_after: float = 120.0,
                 error_reply: ErrorReplyMaker | None = None, idle_poll: float = 1.0, stop_timeout: float = 20.0):
        self.repos = repos
        self._post = post
        self.concurrency = concurrency
        self.max_attempts = max_attempts
        self.still_working_after = still_working_after
        self.error_reply = error_reply or (lambda exc, lang: ErrorReply(texts.say(lang, "err_internal")))
        self.idle_poll = idle_poll
        self.stop_timeout = stop_timeout
        self.handlers: dict[str, Handler] = {}
        self.throttle = ProgressThrottle(self._send_progress, progress_interval)
        self._running: dict[int, JobContext] = {}
        self._refs: dict[str, ChatRef] = {}
        self._workers: list[asyncio.Task] = []
        self._flushing: set[asyncio.Task] = set()
        self._wake = asyncio.Event()
        self._stopping = False

    def register(self, kind: str, handler: Handler) -> None:
        self.handlers[kind] = handler

    # ------------------------------------------------------------ life cycle

    async def start(self) -> None:
        await self.recover()
        self._stopping = False
        self._workers = [asyncio.create_task(self._work(), name=f"job-worker-{i}") for i in range(self.concurrency)]

    async def stop(self) -> None:
        """Running jobs are asked to end and go back to 'queued'; workers then exit."""
        self._stopping = True
        self._wake.set()
        for ctx in list(self._running.values()):
            ctx.shutting_down = True
            ctx.cancel.set()
        if self._workers:
            done, pending = await asyncio.wait(self._workers, timeout=self.stop_timeout)
            for task in pending:
                task.cancel()
            await asyncio.gather(*self._workers, return_exceptions=True)
        self._workers = []
        if self._flushing:
            await asyncio.wait(list(self._flushing), timeout=self.throttle.interval + 1)

    async def recover(self) -> None:
        """What a crash left behind: running jobs go back to the queue (or fail after too many
        attempts, giving their credits back), and open holds of finished jobs are settled."""
        for job in await self.repos.jobs.in_state("running"):
            if job.attempts >= job.max_attempts:
                log.warning("job %s was interrupted %s times; failing it", job.id, job.attempts)
                await self._finish(job.id, "failed", error=f"interrupted {job.attempts} times")
                await self.repos.ledger.release(job.hold_ref)
                ref = await self._ref_of(job)
                if ref is not None:
                    lang = job.payload.get("lang", "en")
                    await self.post(ref, ErrorReply(texts.say(lang, "gave_up_restarts", attempts=job.attempts)))
            else:
                log.info("job %s was interrupted; queued again", job.id)
                await self.repos.jobs.move(job.id, "queued")
        for hold_ref, _user_id, _amount in await self.repos.ledger.open_holds():
            if not hold_ref.startswith("job:") or not hold_ref[4:].isdigit():
                continue
            job = await self.repos.jobs.get(int(hold_ref[4:]))
            if job is None or job.state in ("failed", "cancelled"):
                await self.repos.ledger.release(hold_ref)
            elif job.state == "done":
                await self.repos.ledger.charge(hold_ref)

    # ------------------------------------------------------------ what the conversation calls

    async def submit(self, user_id: int, kind: str, payload: dict, ref: ChatRef | None = None,
                     session_id: int | None = None, lang: str = "en", preface: str = "") -> JobRecord:
        """`preface`: words said in the same message as the queue position (or alone, when none)."""
        ref_id = None
        if ref is not None:
            ref_id = (await self.repos.chat_refs.add(ref.platform, ref.chat_id, ref.thread_id, ref.reply_to,
                                                     ref.user_id)).id
        job = await self.repos.jobs.enqueue(user_id, kind, {**payload, "lang": lang}, session_id=session_id,
                                            chat_ref_id=ref_id, max_attempts=self.max_attempts)
        self._wake.set()
        ahead = await self._waits_for(job)
        said = "\n".join(words for words in (preface, texts.queued(lang, ahead) if ahead else "") if words)
        if said and ref is not None:
            await self.post(ref, TextReply(said))
        return job

    async def _waits_for(self, job: JobRecord) -> int:
        """How many jobs must finish before this one starts: with `concurrency` workers, the
        jobs ahead of it beyond the free workers, and at least the person's own earlier ones
        (one person's jobs run one at a time)."""
        ahead = await self.repos.jobs.position(job.id)
        own = [j for j in await self.repos.jobs.for_user(job.user_id, "queued", "running") if j.id < job.id]
        return max(ahead - (self.concurrency - 1), len(own), 0)

    async def cancel_user(self, user_id: int) -> int:
        """Cancels the user's queued jobs and stops the running one; how many were affected."""
        count = 0
        for job in await self.repos.jobs.for_user(user_id, "queued"):
            if await self._finish(job.id, "cancelled", error="cancelled by the user"):
                await self.repos.ledger.release(job.hold_ref)
                count += 1
        for ctx in list(self._running.values()):
            if ctx.job.user_id == user_id and not ctx.cancel.is_set():
                ctx.user_cancelled = True
                ctx.cancel.set()
                count += 1
        return count

    def running_for(self, user_id: int) -> list[JobContext]:
        return [ctx for ctx in self._running.values() if ctx.job.user_id == user_id]

    async def wait_idle(self, user_id: int | None = None, timeout: float | None = None, poll: float = 0.1) -> bool:
        """Waits until the user (or everyone) has no queued or running job. False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if user_id is None:
                busy = await self.repos.jobs.in_state("queued", "running")
            else:
                busy = await self.repos.jobs.for_user(user_id, "queued", "running")
            # A job that has left 'running' may still be posting its last words (an error, a clip).
            finishing = [ctx for ctx in self._running.values() if user_id in (None, ctx.job.user_id)]
            if not busy and not finishing:
                return True
            if deadline is not None and time.monotonic() > deadline:
                return False
            await asyncio.sleep(poll)

    async def post(self, ref: ChatRef, reply: Reply) -> bool:
        """Posts through the App; False when the platform refused (logged, never raised)."""
        return await self.try_post(ref, reply) is None

    async def try_post(self, ref: ChatRef, reply: Reply) -> Exception | None:
        """Posts through the App; the platform's error when it refused, else None."""
        try:
            await self._post(ref, reply)
        except Exception as exc:  # noqa: BLE001 - a refused reply must not end the worker
            log.warning("could not post a %s reply to %s: %r", reply.kind, ref.chat_key, exc,
                        exc_info=not isinstance(exc, OSError))
            return exc
        return None

    # ------------------------------------------------------------ workers

    async def _work(self) -> None:
        while not self._stopping:
            self._wake.clear()
            job = await self.repos.jobs.claim_next(tuple(self.handlers) or None)
            if job is None:
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=self.idle_poll)
                except asyncio.TimeoutError:
                    pass
                continue
            await self._run(job)
            self._wake.set()           # the user's next job may be claimable now

    async def _run(self, job: JobRecord) -> None:
        ref = await self._ref_of(job)
        ctx = JobContext(job, ref, threading.Event(), self, asyncio.get_running_loop())
        self._running[job.id] = ctx
        if ref is not None:
            self._refs[ctx.progress_key] = ref
        token = current_job.set(ctx)
        watchdog = asyncio.create_task(self._watch(ctx))
        try:
            if job.attempts > 1:
                await ctx.post(TextReply(texts.say(ctx.lang, "resumed")))
            handler = self.handlers[job.kind]
            result = await handler(ctx)
        except asyncio.CancelledError:
            # Stop gave up waiting: the job stays for the next start, its credits held.
            await self._requeue(job)
            raise
        except Exception as exc:  # noqa: BLE001 - every failure of a job is reported, none kills a worker
            # (Ctrl-C and SystemExit are not failures of the job: they pass, and the job stays
            # 'running' with its credits held, for the next start to pick up.)
            await self._ended_badly(ctx, exc)
        else:
            if await self._finish(job.id, "done", result=result or {}):
                await self.repos.ledger.charge(job.hold_ref)
            else:
                await self.repos.ledger.release(job.hold_ref)
        finally:
            watchdog.cancel()
            current_job.reset(token)
            self._running.pop(job.id, None)
            # The last progress edit may still be waiting its turn; the worker does not wait for it.
            task = asyncio.create_task(self._forget_after_flush(ctx.progress_key))
            self._flushing.add(task)
            task.add_done_callback(self._flushing.discard)

    async def _forget_after_flush(self, key: str) -> None:
        try:
            await asyncio.wait_for(self.throttle.flush(key), timeout=self.throttle.interval + 1)
        except asyncio.TimeoutError:
            pass
        finally:
            self._refs.pop(key, None)

    async def _ended_badly(self, ctx: JobContext, exc: BaseException) -> None:
        job = ctx.job
        if ctx.cancel.is_set() and ctx.shutting_down and not ctx.user_cancelled:
            await self._requeue(job)
            return
        if ctx.cancel.is_set() or isinstance(exc, Cancelled):
            await self._finish(job.id, "cancelled", error="cancelled")
            await self.repos.ledger.release(job.hold_ref)
            ctx.progress(None, texts.say(ctx.lang, "cancelled_job"), done=True)
            return
        log.warning("job %s (%s) failed: %r", job.id, job.kind, exc, exc_info=not _is_expected(exc))
        await self._finish(job.id, "failed", error=f"{type(exc).__name__}: {exc}"[:500])
        await self.repos.ledger.release(job.hold_ref)
        if ctx.showed_progress:                  # the progress message ends; the sentence says why
            ctx.progress(None, texts.say(ctx.lang, "progress_failed"), done=True)
        if ctx.ref is not None:
            await ctx.post(self.error_reply(exc, ctx.lang))

    async def _requeue(self, job: JobRecord) -> None:
        try:
            await self.repos.jobs.move(job.id, "queued")
        except IllegalTransition:
            pass

    async def _finish(self, job_id: int, state: str, *, error: str | None = None, result: dict | None = None) -> bool:
        """Moves a job to a final state; False when it had already ended (e.g. cancelled meanwhile)."""
        try:
            await self.repos.jobs.move(job_id, state, error=error, result=result)
            return True
        except IllegalTransition:
            return False

    async def _watch(self, ctx: JobContext) -> None:
        while True:
            due = ctx.last_visible + self.still_working_after
            await asyncio.sleep(max(0.01, due - time.monotonic()))
            if time.monotonic() >= ctx.last_visible + self.still_working_after:
                await ctx.post(TextReply(texts.say(ctx.lang, "still_working")))

    async def _send_progress(self, reply: ProgressReply) -> None:
        job_id = int(reply.key.split("-", 1)[1]) if reply.key.startswith("job-") else None
        ctx = self._running.get(job_id) if job_id is not None else None
        ref = self._refs.get(reply.key)
        if ctx is not None:
            ctx.last_visible = time.monotonic()
            if reply.fraction is not None:
                await self.repos.jobs.set_progress(ctx.job.id, reply.fraction)
        if ref is not None:
            await self.post(ref, reply)

    async def _ref_of(self, job: JobRecord) -> ChatRef | None:
        if job.chat_ref_id is None:
            return None
        record = await self.repos.chat_refs.get(job.chat_ref_id)
        if record is None:
            return None
        return ChatRef(record.platform, record.chat_id, record.thread_id, record.reply_to, record.user_id,
                       language=job.payload.get("lang", "en"))


def _is_expected(exc: BaseException) -> bool:
    """Failures that are a sentence for the user, not a bug to log with a traceback."""
    from bot.backends.base import BackendError
    from engine.models import EngineError, RenderFailed

    return isinstance(exc, (BackendError, EngineError, RenderFailed, Undelivered))

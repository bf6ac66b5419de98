"""A small cluster for the worker tests: a real redis-server and real `shortsbot worker` processes
sharing one media directory, each worker in its own session with its own TMPDIR (so the test can
tell whose ffmpeg is whose) and its own log file."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.workers.servers import stop, stopper
from workers.app import QUEUE, make_app

WORKER_READY = "ready."


@dataclass
class Worker:
    name: str
    proc: subprocess.Popen
    log: Path
    tmp: Path

    @property
    def hostname(self) -> str:
        return f"{self.name}@test"

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def ffmpeg_pids(self) -> list[int]:
        """ffmpeg processes working in this worker's TMPDIR (its renders' part-files live there)."""
        return [pid for pid, cmd in _processes() if cmd and Path(cmd[0]).name == "ffmpeg"
                and any(str(self.tmp) in arg for arg in cmd)]

    def pids(self) -> set[int]:
        """The worker's main process and its pool processes (which lead their own groups)."""
        ours = {self.proc.pid}
        for pid, _ in _processes():
            try:
                stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == self.proc.pid:
                ours.add(pid)
        return ours

    def kill_9(self) -> None:
        """kill -9 of the worker's main process: nothing of it runs its shutdown."""
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()


def _processes():
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                raw = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            yield int(entry.name), [part.decode(errors="replace") for part in raw.split(b"\0") if part]


@dataclass
class Cluster:
    broker_url: str
    folder: Path
    workers: list[Worker] = field(default_factory=list)

    @property
    def data_dir(self) -> Path:
        return self.folder / "data"

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DISCORD_", "NEMO_"))}
        env.update(BROKER_URL=self.broker_url, DATA_DIR=str(self.data_dir), LOG_LEVEL="INFO",
                   PYTHONUNBUFFERED="1")
        env.update(extra)
        return env

    def start_worker(self, name: str, **settings: str) -> Worker:
        [worker] = self.start_workers({name: settings})
        return worker

    def start_workers(self, workers: dict[str, dict[str, str]]) -> list[Worker]:
        """Starts every worker at once ({name: its settings}), then waits until each is ready."""
        started = [self.launch(name, settings) for name, settings in workers.items()]
        self.wait_ready(started)
        return started

    def wait_ready(self, workers: list[Worker]) -> None:
        for worker in workers:
            deadline = time.monotonic() + 180
            while WORKER_READY not in worker.log_text():
                if worker.proc.poll() is not None:
                    raise RuntimeError(f"worker {worker.name} exited: {worker.log_text()[-2000:]}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"worker {worker.name} did not get ready: {worker.log_text()[-2000:]}")
                time.sleep(0.05)

    def launch(self, name: str, settings: dict[str, str]) -> Worker:
        tmp = self.folder / f"tmp-{name}"
        tmp.mkdir(parents=True, exist_ok=True)
        log = self.folder / f"{name}.log"
        shortsbot = Path(sys.executable).with_name("shortsbot")
        proc = subprocess.Popen([str(shortsbot), "worker", "--concurrency", "1", "--name", f"{name}@test"],
                                env=self.env(TMPDIR=str(tmp), **settings), cwd=self.folder,
                                stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
        worker = Worker(name, proc, log, tmp)
        self.workers.append(worker)
        return worker

    def pause(self, worker: Worker) -> None:
        """The worker stops taking tasks from the queue (Celery's cancel_consumer), until resume."""
        self._tell(worker, "cancel_consumer")

    def resume(self, worker: Worker) -> None:
        self._tell(worker, "add_consumer")

    def _tell(self, worker: Worker, command: str) -> None:
        """A remote-control command the worker must answer. Celery waits 1 s for replies by
        default, which a worker on a busy machine can miss; both commands are idempotent, so it
        is asked again while it runs (pytest-timeout guards against one that never answers)."""
        control = make_app(self.broker_url).control
        while not getattr(control, command)(QUEUE, destination=[worker.hostname], reply=True, timeout=5.0):
            assert worker.proc.poll() is None, f"{worker.hostname} exited without answering {command}"

    def stop(self) -> None:
        """Asks every worker to stop now, all at once; their warm shutdowns (2-3 s each) finish
        in the background (servers.stopper), before the redis-server they use is stopped."""
        workers = list(self.workers)
        for worker in workers:
            if worker.proc.poll() is None:
                try:
                    os.killpg(worker.proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass

        def finish() -> None:
            for worker in workers:
                stop(worker.proc)
                for pid in worker.ffmpeg_pids():
                    os.kill(pid, signal.SIGKILL)
        stopper.later(finish)


def wait_for(condition, timeout_s: float = 180.0, every_s: float = 0.05):
    """Polls until `condition()` is truthy (returns it) or the generous bound passes (returns None)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every_s)
    return None

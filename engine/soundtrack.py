"""The soundtrack as a stream of pieces: one ffmpeg run decodes 16 kHz mono float samples into a
pipe, and the reader hands them on a few minutes at a time, each piece ending in the quietest
half second near its end (so a word is rarely cut in two), so that a 3-hour talk never sits in
memory whole.

The ffmpeg run is watched: a cancel event or a stall (no samples for `stall_s` while we wait for
them) kills it, and so does leaving the loop early for any reason, so it is never left running.
"""
from __future__ import annotations

import logging
import subprocess
from contextlib import closing
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from engine.models import BrokenMedia, Cancelled, StageTimedOut

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
HOP_SAMPLES = SAMPLE_RATE // 2          # pieces start on a signals hop (0.5 s), so hop features line up
PIECE_SECONDS = 600.0                   # about 38 MB of samples per piece
LOOK_BACK_SECONDS = 30.0                # where in a piece's tail the quietest hop is looked for
STALL_SECONDS = 120.0                   # ffmpeg silent this long while we wait: it is stuck
READ_BYTES = 1 << 20
# The sound on the file's timeline, where the pictures are: silence where it starts late or its
# timestamps leap (a file joined from parts), and what comes before the start dropped. Without
# it a soundtrack that starts 2 s after the picture is read 2 s early, and so are its words.
ON_THE_TIMELINE = "aresample=async=1:first_pts=0"
ONE_TRACK = (0,)


def the_sound(tracks: tuple[int, ...] = ONE_TRACK, source: int = 0) -> str:
    """The start of a filter-graph chain: input `source`'s sound on the file's timeline, its audio
    `tracks` (ffmpeg's a:N, MediaInfo.sound_tracks) mixed into one when there are several.
    Callers go on with ',' and their own filters."""
    if len(tracks) == 1:
        return f"[{source}:a:{tracks[0]}]{ON_THE_TIMELINE}"
    each = ";".join(f"[{source}:a:{k}]{ON_THE_TIMELINE}[s{source}a{k}]" for k in tracks)
    heard = "".join(f"[s{source}a{k}]" for k in tracks)
    # summed, not averaged: a silent track must not halve the voice on the other
    return f"{each};{heard}amix=inputs={len(tracks)}:duration=longest:normalize=0"


@dataclass(frozen=True)
class Piece:
    start: float                        # seconds from the start of the file
    samples: np.ndarray                 # float32 mono at SAMPLE_RATE


class _Watch:
    """Kills the process on cancel or when a read has waited `stall_s`; remembers why."""

    def __init__(self, proc: subprocess.Popen, cancel: threading.Event | None, stall_s: float):
        self.proc, self.cancel, self.stall_s = proc, cancel, stall_s
        self.waiting_since: float | None = None
        self.reason: str | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="soundtrack-watch", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._done.wait(0.1):
            if self.cancel is not None and self.cancel.is_set():
                self.reason = "cancelled"
            elif self.waiting_since is not None and time.monotonic() - self.waiting_since > self.stall_s:
                self.reason = "stalled"
            if self.reason:
                self.proc.kill()
                return

    def stop(self) -> None:
        self._done.set()
        self._thread.join()


def read_blocks(path: Path | str, cancel: threading.Event | None = None,
                stall_s: float = STALL_SECONDS, tracks: tuple[int, ...] = ONE_TRACK) -> Iterator[np.ndarray]:
    """Float32 samples as ffmpeg writes them, about a megabyte at a time."""
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-filter_complex", f"{the_sound(tracks)}[heard]",
           "-map", "[heard]", "-ac", "1", "-ar", str(SAMPLE_RATE),
           "-f", "f32le", "-acodec", "pcm_f32le", "pipe:1"]
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errors)
        watch = _Watch(proc, cancel, stall_s)
        leftover = b""
        try:
            while True:
                watch.waiting_since = time.monotonic()
                data = proc.stdout.read1(READ_BYTES)
                watch.waiting_since = None
                if not data:
                    break
                data, cut = leftover + data, (len(leftover) + len(data)) // 4 * 4
                leftover = data[cut:]
                yield np.frombuffer(data[:cut], dtype=np.float32)
        finally:
            watch.stop()
            if proc.poll() is None:
                proc.kill()
            proc.stdout.close()
            returncode = proc.wait()
        if watch.reason == "cancelled":
            raise Cancelled("cancelled")
        if watch.reason == "stalled":
            raise StageTimedOut("decode", stall_s)
        if returncode != 0:
            errors.seek(0)
            detail = errors.read().decode(errors="replace").strip().splitlines()
            log.info("ffmpeg could not decode the audio of %s: %s", path, detail[-1:] or returncode)
            raise BrokenMedia(f"I could not read the sound of {Path(path).name}: the file may be damaged.",
                              "decode_unreadable", name=Path(path).name)


def quietest_cut(samples: np.ndarray, look_back: int) -> int:
    """A cut (in samples, a multiple of HOP_SAMPLES) at the start of the quietest hop of the last
    `look_back` samples; the whole length when there is less than one hop to look at."""
    hops = len(samples) // HOP_SAMPLES
    first = max(1, hops - look_back // HOP_SAMPLES)
    if hops <= first:
        return len(samples)
    tail = samples[first * HOP_SAMPLES: hops * HOP_SAMPLES].reshape(-1, HOP_SAMPLES)
    energy = np.einsum("ij,ij->i", tail, tail, dtype=np.float64)
    return (first + int(np.argmin(energy))) * HOP_SAMPLES


def pieces(path: Path | str, cancel: threading.Event | None = None, piece_seconds: float = PIECE_SECONDS,
           stall_s: float = STALL_SECONDS, tracks: tuple[int, ...] = ONE_TRACK) -> Iterator[Piece]:
    """The soundtrack (its `tracks`, mixed) in pieces of about `piece_seconds`, in order, together
    covering all of it."""
    size = int(piece_seconds * SAMPLE_RATE) // HOP_SAMPLES * HOP_SAMPLES or HOP_SAMPLES
    look_back = min(int(LOOK_BACK_SECONDS * SAMPLE_RATE), size // 2)
    buffer = np.empty(size + READ_BYTES // 4, dtype=np.float32)
    filled, start = 0, 0
    with closing(read_blocks(path, cancel, stall_s, tracks)) as blocks:     # ffmpeg ends when we stop early
        for block in blocks:
            while len(block):
                take = min(len(block), len(buffer) - filled)
                buffer[filled: filled + take] = block[:take]
                filled, block = filled + take, block[take:]
                if filled >= size:
                    cut = quietest_cut(buffer[:size], look_back)
                    yield Piece(start / SAMPLE_RATE, buffer[:cut].copy())
                    buffer[: filled - cut] = buffer[cut:filled]
                    filled, start = filled - cut, start + cut
    if filled or start == 0:
        yield Piece(start / SAMPLE_RATE, buffer[:filled].copy())

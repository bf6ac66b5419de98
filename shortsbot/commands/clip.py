"""`shortsbot clip VIDEO [INSTRUCTION] --out DIR [--no-render]`: the local engine from a terminal.

Writes DIR/clips.json (and the MP4s unless --no-render), prints one line per clip on
stdout, and draws a progress bar on stderr when stderr is a terminal. Bad input gets one
line on stderr and exit code 2; nothing else is printed.
"""
from __future__ import annotations

import dataclasses
import sys
import threading
import time
from pathlib import Path
from typing import TextIO

BAR_WIDTH = 30


class ProgressBar:
    """One self-rewriting line: [#####-----]  42%  transcribing  0:12."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.started = time.monotonic()
        self.last_drawn = 0.0
        self.lock = threading.Lock()

    def __call__(self, fraction: float, label: str) -> None:
        now = time.monotonic()
        with self.lock:
            if now - self.last_drawn < 0.1 and fraction < 1.0:
                return
            self.last_drawn = now
            filled = int(BAR_WIDTH * fraction)
            elapsed = int(now - self.started)
            line = f"\r[{'#' * filled}{'-' * (BAR_WIDTH - filled)}] {fraction * 100:3.0f}%  {label[:32]:<32} {elapsed // 60}:{elapsed % 60:02d}"
            self.stream.write(line)
            self.stream.flush()

    def close(self) -> None:
        self.stream.write("\r" + " " * (BAR_WIDTH + 50) + "\r")
        self.stream.flush()


def run_clip(settings, args) -> int:
    from engine.models import Cancelled, EngineError, RenderFailed
    from engine.pipeline import CLIPS_JSON, clip

    video = Path(args.video)
    if not video.is_file():
        print(f"shortsbot: {video} is not a file I can read.", file=sys.stderr)
        return 2
    out_dir = Path(args.out)
    if out_dir.exists() and not out_dir.is_dir():
        print(f"shortsbot: --out {out_dir} exists and is not a folder.", file=sys.stderr)
        return 2

    bar = ProgressBar(sys.stderr) if sys.stderr.isatty() else None
    cancel = threading.Event()
    try:
        config = settings.engine_config()
        if getattr(args, "debug_reframe", False):
            config = dataclasses.replace(config, debug_reframe=True)
        clip_set = clip(video, args.instruction or "", out_dir, config,
                        render=not args.no_render, progress=bar, cancel=cancel)
    except EngineError as exc:
        _clear(bar)
        print(f"shortsbot: {exc}", file=sys.stderr)
        return 2
    except RenderFailed as exc:
        _clear(bar)
        print(f"shortsbot: rendering failed: {exc}", file=sys.stderr)
        return 1
    except PermissionError as exc:
        _clear(bar)
        print(f"shortsbot: no permission to write {exc.filename or out_dir}.", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, Cancelled):
        cancel.set()
        _clear(bar)
        print("shortsbot: cancelled.", file=sys.stderr)
        return 130
    _clear(bar)

    if not clip_set.moments:
        # not a success: a script that goes on to the shorts must be told there are none
        print(f"shortsbot: no moments found in {video.name}: no speech was heard in the part asked for, "
              f"and no sound stood out. Wrote {out_dir / CLIPS_JSON}", file=sys.stderr)
        return 1
    for m in sorted(clip_set.moments, key=lambda m: m.rank):
        rendered = clip_set.files.get(m.rank)
        where = f"  -> {rendered.path}" if rendered else ""
        print(f"#{m.rank}  {_clock(m.start)}-{_clock(m.end)}  score {m.score:4.1f}  {m.title}{where}")
    total = clip_set.timings.get("total", 0.0)
    print(f"Wrote {out_dir / CLIPS_JSON} in {total:.1f} s")
    return 0


def _clear(bar: ProgressBar | None) -> None:
    if bar is not None:
        bar.close()


def _clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 60}:{whole % 60:02d}"

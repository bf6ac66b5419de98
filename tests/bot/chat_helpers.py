"""Helpers for the conversation-core tests (jobs, LocalBackend, Conversation, console).

The made-up talk is analysed once per test run into the run's one engine cache (`engine_config`);
each test links that cache into its own DATA_DIR, so the transcript is not computed again (the
cache is keyed by content hash, and the talk's bytes are the same).
"""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from shortsbot.app import App
from bot.messages import ChatRef, ErrorReply, Incoming, Reply, TextReply, VideoReply
from bot.settings import Settings
from tests.media import Piece, make_talk_video
from tests.run_once import analysed_once, made_once

# Small renders keep the suite fast; one test renders at the real 1080x1920.
CUT_SMALL = "find the best moments and cut them into 15-second vertical shorts, 2 clips, 360p"
# Where the length of a clip is not the property, 10 s clips: a render costs about its length.
CUT_TEN = "find the best moments and cut them into 10-second vertical shorts, 2 clips, 360p"

OTHER_TALK = [
    "Good morning everyone. This is a short lesson about cooking rice.",
    "First, wash the rice three times in cold water.",
    "Why does this matter? Because the starch makes it sticky!",
    "Then cook it slowly with a lid on, and wait ten minutes.",
    "That is all. Enjoy your dinner tonight.",
]


@dataclass
class WarmTalk:
    path: Path
    cache: Path


def warm_cache(tmp_path_factory, video: Path, config) -> Path:
    """The run's one engine cache (`engine_config`, tests/conftest.py) after analysing `video`:
    analysed once per run, since the cache is keyed by content."""
    analysed_once(tmp_path_factory, video, config)
    return config.cache_dir


@pytest.fixture(scope="session")
def warm_talk(talk_video, engine_config, tmp_path_factory) -> WarmTalk:
    path, _ = talk_video
    return WarmTalk(path, warm_cache(tmp_path_factory, path, engine_config))


@pytest.fixture(scope="session")
def other_talk(tmp_path_factory, engine_config) -> WarmTalk:
    path, _ = made_once(tmp_path_factory, "other-talk", lambda folder: make_talk_video(
        folder / "rice.mp4", [Piece(text=t) for t in OTHER_TALK], size="320x180"))
    return WarmTalk(path, warm_cache(tmp_path_factory, path, engine_config))


def link_cache(cache: Path, data_dir: Path) -> None:
    """The run's engine cache (transcripts, scene cuts, the joined 145 MB multilingual model) into a
    test's DATA_DIR as hard links, not copies. Safe: the engine never writes a cache file in place
    (it writes a new file and renames it over the old), and files half-written by another worker
    (*.part, .joining-*) are left out."""
    shutil.copytree(cache, data_dir / "cache", dirs_exist_ok=True, copy_function=_link,
                    ignore=shutil.ignore_patterns("*.part", ".joining-*"))


def _link(source: str, destination: str) -> None:
    if not os.path.exists(destination):
        os.link(source, destination)


def make_settings(data_dir: Path, *warm: WarmTalk, **overrides) -> Settings:
    """Settings for a test: its own DATA_DIR with the warm caches linked in, fast retries."""
    for cache in dict.fromkeys(talk.cache for talk in warm):
        link_cache(cache, data_dir)
    values = dict(data_dir=data_dir, allow_private_urls=True, nemo_retry_after_s=0.0, x264_preset="ultrafast",
                  render_timeout_s=120.0)
    values.update(overrides)
    return Settings(_env_file=None, **values)


@dataclass
class Recorder:
    """A platform sink that keeps every reply it is given, and when (time.monotonic()). A platform's
    refusals are the fake Telegram and Discord servers' to answer (tests/telegram, tests/discord)."""

    platform: str = "test"
    posted: list[tuple[ChatRef, Reply]] = field(default_factory=list)
    posted_at: list[float] = field(default_factory=list)

    async def __call__(self, ref: ChatRef, reply: Reply) -> None:
        self.posted.append((ref, reply))
        self.posted_at.append(time.monotonic())

    def replies(self, chat_id: str | None = None, kind: str | None = None) -> list[Reply]:
        return [r for ref, r in self.posted
                if (chat_id is None or ref.chat_id == chat_id) and (kind is None or r.kind == kind)]

    def texts(self, chat_id: str | None = None) -> list[str]:
        return [getattr(r, "text", "") or getattr(r, "caption", "") for r in self.replies(chat_id)]

    def videos(self, chat_id: str | None = None) -> list[VideoReply]:
        return self.replies(chat_id, "video")

    async def wait_for(self, predicate, timeout: float = 180.0) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while not predicate():
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out; posted so far: {[r for _, r in self.posted]}")
            await asyncio.sleep(0.05)


async def started_app(settings: Settings, platform: str = "test", **kwargs) -> tuple[App, Recorder]:
    app = App(settings, **{"progress_interval": 0.05, **kwargs})
    await app.start()
    recorder = Recorder(platform)
    # Registers as the Telegram adapter does: its share target comes from TELEGRAM_SHARE_CHAT_ID.
    share_to = settings.telegram_share_chat_id if platform == "telegram" else None
    app.register_platform(platform, recorder, share_target=share_to, share_setting="TELEGRAM_SHARE_CHAT_ID"
                          if platform == "telegram" else None)
    return app, recorder


def message(text: str = "", user: str = "u1", chat: str = "c1", platform: str = "test", **fields) -> Incoming:
    return Incoming(platform=platform, chat_id=chat, user_id=user, user_name=fields.pop("user_name", f"name-{user}"),
                    text=text, **fields)


def file_attachment(path: Path):
    from adapters.console import _attachment

    return _attachment(path)


def ffprobe(path: Path) -> dict:
    """Streams and duration of a rendered file."""
    result = subprocess.run(["ffprobe", "-v", "error", "-show_entries",
                             "stream=codec_type,codec_name,width,height:format=duration", "-of", "json", str(path)],
                            capture_output=True, text=True, check=True)
    data = json.loads(result.stdout)
    video = next(s for s in data["streams"] if s["codec_type"] == "video")
    return {"width": video["width"], "height": video["height"], "duration": float(data["format"]["duration"]),
            "codecs": sorted(s["codec_name"] for s in data["streams"]),
            "audio": any(s["codec_type"] == "audio" for s in data["streams"])}


LAST_WORDS = "Stopping at 40%: I will pick this up again after the restart."


async def run_a_job_that_speaks_when_stopped(app: App, platform: str, chat_id: str) -> None:
    """Submits a job that works until the App stops it and then posts LAST_WORDS (as a job reporting
    where it got to would) before going back to the queue; returns once the job is running."""
    from engine.models import Cancelled

    running = asyncio.Event()

    async def work_until_stopped(ctx) -> None:
        running.set()
        while not ctx.cancel.is_set():
            await asyncio.sleep(0.01)
        await ctx.post(TextReply(LAST_WORDS))
        raise Cancelled("stopped")

    app.jobs.register("until_stopped", work_until_stopped)
    user, _ = await app.repos.users.get_or_create(platform, "worker-test-user", "Ada", "en")
    await app.jobs.submit(user.id, "until_stopped", {}, ref=ChatRef(platform, chat_id))
    await asyncio.wait_for(running.wait(), 10)


def last_text(recorder: Recorder) -> str:
    """The last sentence a test's sink was given."""
    return [r for _, r in recorder.posted if isinstance(r, (TextReply, ErrorReply))][-1].text

"""LocalBackend's background analyses: several at once, and /cancel stops one nobody else waits for."""
from __future__ import annotations

import asyncio
import shutil

import pytest

from engine.models import Cancelled
from tests.bot.chat_helpers import make_settings, other_talk  # noqa: F401  (fixture)
from tests.bot.test_local_backend import open_backend, person
from tests.engine.test_soundtrack import ffmpeg_children

pytestmark = pytest.mark.slow


async def settle(future) -> BaseException | None:
    try:
        await asyncio.wrap_future(future)
    except BaseException as exc:  # noqa: BLE001 - the outcome is what is checked
        return exc
    return None


async def test_two_peoples_analyses_run_at_the_same_time(tmp_path, talk_video, other_talk):
    settings = make_settings(tmp_path / "data", analysis_concurrency=2)        # cold caches: real work
    backend, repos, db = await open_backend(settings)
    try:
        ann = await person(backend, repos, "ann")
        bob = await person(backend, repos, "bob")
        first = await backend.upload(ann, talk_video[0])
        second = await backend.upload(bob, other_talk.path)
        runs = [backend._analyses[first.media_id], backend._analyses[second.media_id]]
        both_running = False
        while not all(r.future.done() for r in runs):
            both_running = both_running or all(r.future.running() for r in runs)
            await asyncio.sleep(0.01)
        assert both_running, "the second analysis waited for the first"
        assert [await settle(r.future) for r in runs] == [None, None]
    finally:
        await backend.close()
        await db.close()


async def test_cancel_stops_an_analysis_nobody_else_waits_for(tmp_path, talk_video):
    settings = make_settings(tmp_path / "data")
    backend, repos, db = await open_backend(settings)
    try:
        ann = await person(backend, repos, "ann")
        bob = await person(backend, repos, "bob")
        shared = tmp_path / "shared.mp4"
        shutil.copyfile(talk_video[0], shared)
        media = await backend.upload(ann, shared)
        await backend.upload(bob, shared)                          # the same file: one analysis
        run = backend._analyses[media.media_id]
        assert await backend.cancel(ann) is False                  # bob still wants it
        assert not run.cancel.is_set()
        assert await backend.cancel(bob) is True                  # now nobody does: it stops
        assert isinstance(await settle(run.future), Cancelled)
        assert ffmpeg_children() == []
        again = await backend.upload(bob, shared)                  # asked for again: a new run
        assert backend._analyses[again.media_id] is not run
    finally:
        await backend.close()
        await db.close()

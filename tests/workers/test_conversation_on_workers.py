"""A whole `shortsbot chat` conversation with BROKER_URL set: the analysis and every short (the cut
and the re-render after an edit) are made by a `shortsbot worker` process, not by the bot."""
from __future__ import annotations

import re
import subprocess

import pytest

from tests.bot.chat_helpers import ffprobe, make_settings
from tests.bot.chat_helpers import warm_talk  # noqa: F401  (fixture)
from tests.bot.test_console import environment, ledger, shortsbot, videos
from tests.workers.cluster import Cluster
from tests.workers.servers import redis_server

pytestmark = pytest.mark.slow
CUT_ONE = "cut the best moment into a 10-second vertical short, 1 clip, 360p"     # short and at the smallest size the bot renders


def test_a_conversation_gets_its_shorts_from_the_worker(tmp_path, warm_talk):
    with redis_server(tmp_path / "redis") as url:
        cluster = Cluster(url, tmp_path)
        make_settings(cluster.data_dir, warm_talk)                 # the warm transcript cache, shared with the worker
        try:
            # The chat starts while the worker does: its first task waits in the queue for it. The
            # talk's transcript is in the warm cache, so the worker needs no speech model.
            worker = cluster.launch("w1", {"X264_PRESET": "ultrafast", "WORKER_PRELOAD_MODEL": "false"})
            lines = [str(warm_talk.path), CUT_ONE, "credits?", "make clip 1 shorter by 5 seconds"]
            run = subprocess.run(shortsbot() + ["chat"], input="\n".join(lines) + "\n", capture_output=True,
                                 text=True, env={**environment(cluster.data_dir), "BROKER_URL": url},
                                 cwd=tmp_path, timeout=600)
        finally:
            cluster.stop()
    assert run.returncode == 0, run.stderr[-3000:]
    out = run.stdout.splitlines()
    posted = videos(out)
    assert len(posted) >= 2, run.stdout[-3000:]
    for path, width, height, duration, _ in posted[-1:]:
        info = ffprobe(path)
        assert (info["width"], info["height"]) == (width, height) == (360, 640)
        assert abs(info["duration"] - duration) < 0.1
    log = worker.log_text()
    rendered = re.findall(r"rendered job=(\d+) attempt=(\d+) clip=(\S+)", log)
    assert len(rendered) == len(posted)                           # every short the bot posted, the worker made
    assert {name for _, _, name in rendered} == {path.name for path, *_ in posted}
    assert "analysed job=0" in log
    renders = cluster.data_dir / "media" / "renders"
    for job, attempt, name in rendered:
        assert (renders / f"job-{job}" / f"attempt-{attempt}" / name).with_suffix(".json").exists()
    # The bot posts the worker's file where the worker put it, in the media store; it keeps no copy.
    assert posted[-1][0].resolve().is_relative_to(renders.resolve()) and posted[-1][0].is_file()
    assert not list((cluster.data_dir / "out").rglob("*.mp4"))
    assert ledger(cluster.data_dir) == [("grant", 100), ("hold", 1), ("charge", 1)]

"""`shortsbot chat` as a real subprocess with piped stdin, DATA_DIR in a temporary folder: a whole
conversation at the real 1080x1920 (one 10 s short and its edit: the size, not the length, is the
property), and a crash (SIGKILL) in the middle of a job (at 360p)."""
from __future__ import annotations

import asyncio
import io
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from adapters.console import ConsoleAdapter, reply_lines
from shortsbot.app import App
from bot.messages import Button, ProgressReply, VideoReply
from tests.bot.chat_helpers import CUT_TEN, ffprobe, make_settings
from tests.bot.chat_helpers import warm_talk  # noqa: F401  (fixture)

VIDEO_LINE = re.compile(r'^video: (/\S+\.mp4) (\d+)x(\d+) ([\d.]+)s "(.*)"$')


def shortsbot() -> list[str]:
    script = Path(sys.executable).with_name("shortsbot")
    return [str(script)] if script.exists() else [sys.executable, "-m", "shortsbot.cli"]


def environment(data_dir: Path) -> dict[str, str]:
    return {**os.environ, "DATA_DIR": str(data_dir), "LOG_LEVEL": "WARNING", "X264_PRESET": "ultrafast",
            "BACKEND": "local", "PUBLIC_BASE_URL": ""}


def ledger(data_dir: Path) -> list[tuple[str, int]]:
    with sqlite3.connect(data_dir / "shortsbot.sqlite3") as db:
        return [(kind, amount) for kind, amount in db.execute("SELECT kind, amount FROM credit_ledger ORDER BY id")]


def videos(lines: list[str]) -> list[tuple[Path, int, int, float, str]]:
    found = []
    for line in lines:
        m = VIDEO_LINE.match(line)
        if m:
            found.append((Path(m.group(1)), int(m.group(2)), int(m.group(3)), float(m.group(4)), m.group(5)))
    return found


def test_a_whole_conversation_piped_into_shortsbot_chat(tmp_path, warm_talk):
    data = tmp_path / "data"
    make_settings(data, warm_talk)                                 # copies the warm transcript cache in
    lines = [str(warm_talk.path), "find the best moments and cut them into 10-second vertical shorts, 1 clip",
             "credits?", "status", "make clip 1 shorter by 5 seconds", "/export"]
    run = subprocess.run(shortsbot() + ["chat"], input="\n".join(lines) + "\n", capture_output=True, text=True,
                         env=environment(data), cwd=tmp_path, timeout=300)
    out = run.stdout.splitlines()
    assert run.returncode == 0, run.stderr[-3000:]
    text = run.stdout

    assert "Got talk.mp4 (0:40, 640x360)." in text
    assert re.search(r"^Found \d moments?:$", text, re.M)
    assert re.search(r'^1\. 0:\d\d-0:\d\d ".+" \(score \d+\)$', text, re.M)
    rendering = [line for line in out if line.startswith("progress: Rendering")]
    assert rendering and all(re.fullmatch(r"progress: Rendering clip 1( \d+%)?", line) for line in rendering), \
        rendering                                                  # one clip (made, then edited): never "of 1", "of 2"
    assert "Credits: 99 available, 0 frozen (held for running jobs), 99 total." in out
    summary = [line for line in out if line.startswith("Clip 1: Timeline (3 tracks): 1. Video: talk.mp4 ")]
    assert summary and "2. Captions: bold" in summary[0] and "3. Title:" in summary[0]

    # in order: the clips of the cut, the credits, the shortened clip 1, then the export of every draft
    posted = videos(out)
    credits_at = out.index("Credits: 99 available, 0 frozen (held for running jobs), 99 total.")
    changed_at = out.index("Changed:")
    cut_videos = videos(out[:credits_at])
    edit_videos = videos(out[changed_at:out.index("progress: Exporting 0%")])
    exported = videos(out[out.index("progress: Exporting 0%"):])
    assert len(edit_videos) == 1 and len(exported) == len(cut_videos) >= 1
    first = cut_videos[0]
    assert all((width, height) == (1080, 1920) for _, width, height, _, _ in posted)
    for path, width, height, duration, _ in edit_videos + exported:
        info = ffprobe(path)
        assert (width, height) == (info["width"], info["height"]) == (1080, 1920)
        assert info["codecs"] == ["aac", "h264"]
        assert abs(info["duration"] - duration) < 0.1
    assert 8 <= first[3] <= 12                   # about 10 s: the engine ends clips on the nearest sentence edge
    assert 2 <= first[3] - edit_videos[0][3] <= 8                  # about 5 s shorter
    assert exported[0][0] == edit_videos[0][0] != first[0]
    assert first[0].exists()                    # the replaced file is kept while "undo" may bring it back
    assert ledger(data) == [("grant", 100), ("hold", 1), ("charge", 1)]


def test_a_crash_in_the_middle_of_a_job_resumes_at_the_next_start_and_charges_once(tmp_path, warm_talk):
    data = tmp_path / "data"
    make_settings(data, warm_talk)
    first = subprocess.Popen(shortsbot() + ["chat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True, env=environment(data), cwd=tmp_path)
    try:
        first.stdin.write(f"{warm_talk.path}\n{CUT_TEN}\n")
        first.stdin.flush()
        seen = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = first.stdout.readline()
            if not line:
                break
            seen.append(line.rstrip("\n"))
            if line.startswith("video:"):
                break
        assert videos(seen), seen                                  # clip 1 is out, clip 2 is being made
        # a reply is recorded as sent just after it is sent; kill once that is on disk
        for _ in range(100):
            with sqlite3.connect(data / "shortsbot.sqlite3") as db:
                if '"posted"' in db.execute("SELECT payload_json FROM jobs").fetchone()[0]:
                    break
            time.sleep(0.05)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    with sqlite3.connect(data / "shortsbot.sqlite3") as db:
        assert db.execute("SELECT state FROM jobs").fetchall() == [("running",)]

    second = subprocess.run(shortsbot() + ["chat"], input="", capture_output=True, text=True,
                            env=environment(data), cwd=tmp_path, timeout=180)
    assert second.returncode == 0, second.stderr[-3000:]
    out = second.stdout.splitlines()
    assert "I was restarted while working on your request; picking it up again." in out
    resumed = videos(out)
    assert len(resumed) == 1 and resumed[0][4] != videos(seen)[0][4]   # only the clip not yet posted
    assert resumed[0][0].is_file() and videos(seen)[0][0].is_file()
    with sqlite3.connect(data / "shortsbot.sqlite3") as db:
        assert db.execute("SELECT state, attempts FROM jobs").fetchall() == [("done", 2)]
    assert ledger(data) == [("grant", 100), ("hold", 1), ("charge", 1)]

    # What a crash between the platform taking clip 2 and the bot recording it leaves: the job running,
    # its hold open, clip 2 begun ("sending") but not posted. Delivery is at least once: clip 2 is
    # sent again, saying it may be a repeat; clip 1 is not; the charge is still one.
    with sqlite3.connect(data / "shortsbot.sqlite3") as db:
        payload = json.loads(db.execute("SELECT payload_json FROM jobs").fetchone()[0])
        first_mark, second_mark = payload["posted"]
        assert payload["sending"] == []
        if not first_mark.endswith(str(videos(seen)[0][0])):
            first_mark, second_mark = second_mark, first_mark
        payload.update(posted=[first_mark], sending=[second_mark])
        db.execute("UPDATE jobs SET state = 'running', finished_at = NULL, payload_json = ?", (json.dumps(payload),))
        db.execute("DELETE FROM credit_ledger WHERE kind = 'charge'")
    third = subprocess.run(shortsbot() + ["chat"], input="", capture_output=True, text=True,
                           env=environment(data), cwd=tmp_path, timeout=180)
    assert third.returncode == 0, third.stderr[-3000:]
    out = third.stdout.splitlines()
    again = videos(out)
    assert len(again) == 1 and again[0][4] == resumed[0][4], out     # clip 2 again, clip 1 not
    assert "  (Sent again after a restart: you may have this short already.)" in out
    assert ledger(data) == [("grant", 100), ("hold", 1), ("charge", 1)]


def test_reply_lines():
    video = VideoReply(Path("/data/out/clip-01.mp4"), 1080, 1920, 59.84, caption="#1 Hello\n0:12-1:12 in the source",
                       title="Hello", buttons=(Button("Export", "/export"),))
    assert reply_lines(video) == ['video: /data/out/clip-01.mp4 1080x1920 59.8s "Hello"', "  #1 Hello",
                                  "  0:12-1:12 in the source", "  [Export: /export]"]
    assert reply_lines(ProgressReply("job-1", "Rendering clip 1 of 2", 0.456)) == ["progress: Rendering clip 1 of 2 46%"]


async def test_console_lines_become_messages(tmp_path):
    settings = make_settings(tmp_path / "data")
    app = App(settings)
    await app.start()
    try:
        video = tmp_path / "my talk.mp4"
        video.write_bytes(b"x")
        adapter = ConsoleAdapter(app, io.StringIO(""), io.StringIO(), user_id="me", interactive=False)
        assert adapter.incoming(str(video)).attachments[0].name == "my talk.mp4"
        assert adapter.incoming(f"/upload {video}").attachments[0].name == "my talk.mp4"
        assert adapter.incoming("https://example.com/v.mp4").text == "https://example.com/v.mp4"
        assert adapter.incoming("/tmp/not-there.mp4").attachments == ()
        out = io.StringIO()
        adapter = ConsoleAdapter(app, io.StringIO("/help\n\nstatus\n"), out, user_id="me", interactive=False)
        assert await asyncio.wait_for(adapter.run(), 30) == 0
        printed = out.getvalue()
        assert "Commands: /status" in printed and "No video yet: send me one to start." in printed
    finally:
        await app.stop()


async def test_the_greeting_is_in_the_terminal_language(tmp_path, monkeypatch):
    """A person whose terminal is set to Chinese is greeted in Chinese, as every reply after it is."""
    app = App(make_settings(tmp_path / "data"))
    await app.start()
    try:
        for lang, greeting in (("zh_CN.UTF-8", "发送视频"), ("en_GB.UTF-8", "Send a video")):
            monkeypatch.setenv("LC_ALL", lang)
            out = io.StringIO()
            adapter = ConsoleAdapter(app, io.StringIO(""), out, user_id="me", interactive=True)
            assert await asyncio.wait_for(adapter.run(), 30) == 0
            assert out.getvalue().startswith(greeting)
    finally:
        await app.stop()

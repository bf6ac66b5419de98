"""Whole conversations with BACKEND=nemo against the fake cloud: through the console adapter
in-process, and as `shortsbot chat` in a real subprocess with piped stdin."""
from __future__ import annotations

import asyncio
import io
import os
import sys
from pathlib import Path

import pytest

from adapters.console import ConsoleAdapter
from bot.app import App
from bot.backends.nemo import NemoBackend
from tests.media import make_video
from tests.nemo import fake_nemo as fk
from tests.nemo.conftest import nemo_settings

INSTRUCTION = "find the best moments and cut them into 60-second vertical shorts"


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> dict[str, Path]:
    """A small talk to upload and a small vertical MP4 the fake hands back as the render."""
    folder = tmp_path_factory.mktemp("nemo-media")
    return {"upload": make_video(folder / "talk.mp4", None, 2.0, size="320x180"),
            "render": make_video(folder / "render.mp4", None, 2.0, size="180x320")}


async def converse(settings, lines: list[str]) -> list[str]:
    """Feeds the lines to the console adapter like piped stdin; returns what it printed."""
    app = App(settings, progress_interval=0.01)
    await app.start()
    out = io.StringIO()
    try:
        assert isinstance(app.backend, NemoBackend)
        adapter = ConsoleAdapter(app, io.StringIO("\n".join(lines) + "\n"), out, user_id="tester", interactive=False)
        assert await asyncio.wait_for(adapter.run(), 60) == 0
    finally:
        await app.stop()
    return out.getvalue().splitlines()


async def test_a_whole_conversation_through_the_console(fake, tmp_path, media):
    fake.result_bytes = media["render"].read_bytes()
    settings = nemo_settings(fake.base_url, tmp_path / "data")
    printed = await converse(settings, [str(media["upload"]), INSTRUCTION, "credits?", "status", "/export"])
    text = "\n".join(printed)

    # upload: the bytes reached the cloud
    [upload] = fake.uploads
    assert upload.filename == "talk.mp4" and upload.size == media["upload"].stat().st_size
    # chat: the agent's words, with the GUI talk translated, and nothing of the tool calls
    assert fake.chats[0][1] == INSTRUCTION
    assert "Got it, cutting your video now..." in text
    assert 'Say "export" to download it' in text and "Click the Export button" not in text
    assert "edit_multitrack" not in text
    # credits and status
    assert any("100" in line for line in printed if "credit" in line.lower())
    assert "Timeline (1 track): 1. Video: talk.mp4 (0-10s)" in text
    # export: rendered on the cloud, downloaded, posted
    [render] = fake.renders.values()
    assert render.draft["t"][0]["sg"][0]["n"] == "talk.mp4"
    posted = [line for line in printed if line.startswith(("video:", "link:"))]
    assert posted, text
    if posted[-1].startswith("video:"):
        path = Path(posted[-1].split()[1])
        assert path.read_bytes() == media["render"].read_bytes() and "180x320" in posted[-1]
    else:
        assert render.render_id in posted[-1]
    # one token, one session, the attribution headers on everything
    assert len(fake.calls("token")) == 1 and len(fake.sessions) == 1
    assert all(not r.missing_attribution() for r in fake.requests if r.endpoint != "file")
    assert "nmv_usr_" not in text


async def test_the_conversation_recovers_from_1001_1002_and_429_once(fake, tmp_path, media):
    settings = nemo_settings(fake.base_url, tmp_path / "data")
    fake.fail("credits", 1001)
    fake.fail("chat", 429)
    fake.fail("state", 1002)
    printed = await converse(settings, [str(media["upload"]), "credits?", INSTRUCTION, "status"])
    text = "\n".join(printed)
    assert "error:" not in text, text
    assert len(fake.calls("token")) == 2                  # a new token after 1001, once
    assert len(fake.calls("credits")) == 2
    assert len(fake.chats) == 1 and len(fake.calls("chat")) == 2
    assert len(fake.sessions) == 2                        # a new session after 1002
    assert "Got it, cutting your video now..." in text


async def test_plan_and_credit_limits_become_sentences(fake, tmp_path, media):
    fake.export_blocked = True
    fake.chat_cost = 60                                    # the 100 free credits pay for one edit
    settings = nemo_settings(fake.base_url, tmp_path / "data")
    printed = await converse(settings, [str(media["upload"]), INSTRUCTION, "add lo-fi music at 35%", "/export"])
    text = "\n".join(printed)
    anon = next(iter(fake.tokens.values())).user_id
    errors = [line for line in printed if line.startswith("error:")]
    assert len(errors) == 2, text
    out_of_credits, blocked = errors
    assert f"https://nemovideo.com/register?bind={anon}" in out_of_credits and "40" in out_of_credits
    assert "upgrade" in blocked.lower() and "credit" not in blocked.lower()
    assert len(fake.calls("export")) == 1 and fake.renders == {}


async def test_shortsbot_chat_subprocess_holds_a_conversation(fake, tmp_path, media):
    fake.result_bytes = media["render"].read_bytes()
    fake.script(fk.heartbeat(), fk.text("Cutting now."), fk.tool_call("edit_multitrack"), fk.apply(fk.cut_short(8)),
                fk.tool_result("edit_multitrack"))
    shortsbot = Path(sys.executable).with_name("shortsbot")
    command = [str(shortsbot), "chat"] if shortsbot.exists() else [sys.executable, "-m", "bot.cli", "chat"]
    env = {**os.environ, "BACKEND": "nemo", "NEMO_API_URL": fake.base_url, "DATA_DIR": str(tmp_path / "data"),
           "NEMO_POLL_INTERVAL_S": "0.05", "NEMO_RETRY_AFTER_S": "0.05", "NEMO_BACKOFF_S": "0.01",
           "LOG_LEVEL": "WARNING", "LANG": "en_US.UTF-8"}
    process = await asyncio.create_subprocess_exec(
        *command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        cwd=tmp_path, env=env)
    lines = [str(media["upload"]), INSTRUCTION, "credits?", "status", "/export"]
    stdout, stderr = await asyncio.wait_for(process.communicate(("\n".join(lines) + "\n").encode()), 90)
    text = stdout.decode()
    assert process.returncode == 0, stderr.decode()[-2000:]
    assert "Cutting now." in text
    assert "Timeline (1 track): 1. Video: talk.mp4 (0-8s)" in text
    assert any(line.startswith(("video:", "link:")) for line in text.splitlines()), text
    assert len(fake.uploads) == 1 and len(fake.renders) == 1
    assert "nmv_usr_" not in text + stderr.decode()

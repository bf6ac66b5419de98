"""Whole conversations with BACKEND=nemo against the fake cloud: through the console adapter
in-process, and as `shortsbot chat` in a real subprocess with piped stdin."""
from __future__ import annotations

import asyncio
import io
import os
import sys
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from adapters.console import ConsoleAdapter
from shortsbot.app import App
from bot.backends.nemo import NemoBackend
from bot.messages import ChatRef, Reply
from bot.texts import say
from tests.bot.chat_helpers import file_attachment, message
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
    # the console takes files of any size: the render is downloaded and posted as a video
    [posted] = [line for line in printed if line.startswith(("video:", "link:"))]
    assert posted.startswith("video:"), text
    path = Path(posted.split()[1])
    assert path.read_bytes() == media["render"].read_bytes() and "180x320" in posted
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
    # a new token after 1001, once: the same client id is refused (429) for the week, so under a new one
    assert len(fake.calls("token")) == 3
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


async def test_undo_and_redo_on_the_cloud_say_plainly_that_it_cannot_and_cost_nothing(fake, tmp_path, media):
    fake.chat_cost = 10                                    # every turn of the cloud's chat costs credits
    settings = nemo_settings(fake.base_url, tmp_path / "data")
    printed = await converse(settings, [str(media["upload"]), INSTRUCTION, "undo", "撤销", "redo", "重做"])
    text = "\n".join(printed)
    # the words never reach the cloud's agent (it has no undo, and might pretend): one chat, the cut's
    assert [words for _, words in fake.chats] == [INSTRUCTION]
    assert say("en", "undo_cloud") in text and say("zh", "undo_cloud") in text
    assert say("en", "redo_cloud") in text and say("zh", "redo_cloud") in text
    [balance] = fake.credits.values()
    assert balance["available"] == 100 - 10


async def test_shortsbot_chat_subprocess_holds_a_conversation(fake, tmp_path, media):
    fake.result_bytes = media["render"].read_bytes()
    fake.script(fk.heartbeat(), fk.text("Cutting now."), fk.tool_call("edit_multitrack"), fk.apply(fk.cut_short(8)),
                fk.tool_result("edit_multitrack"))
    shortsbot = Path(sys.executable).with_name("shortsbot")
    command = [str(shortsbot), "chat"] if shortsbot.exists() else [sys.executable, "-m", "shortsbot.cli", "chat"]
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


# ---------------------------------------------------------------- the conversation's side of the cloud

@dataclass
class TimedSink:
    """A platform's sink that keeps each reply with the moment it was posted."""

    posted: list[tuple[float, Reply]] = field(default_factory=list)

    async def __call__(self, ref: ChatRef, reply: Reply) -> None:
        self.posted.append((time.monotonic(), reply))

    def replies(self, kind: str) -> list[Reply]:
        return [r for _, r in self.posted if r.kind == kind]

    def texts(self) -> list[str]:
        return [r.text for _, r in self.posted if r.kind in ("text", "error")]


@asynccontextmanager
async def cloud_app(settings, upload_limit: int | None = None, **app_args):
    app = App(settings, progress_interval=0.01, **app_args)
    await app.start()
    sink = TimedSink()
    app.register_platform("test", sink, upload_limit=upload_limit)
    try:
        yield app, sink
    finally:
        await app.stop()


async def said(app: App, text: str = "", *attachments) -> None:
    await app.conversation.handle(message(text, attachments=attachments))
    await app.jobs.wait_idle(timeout=180)


async def test_still_working_is_said_once_per_quiet_spell_not_by_both_the_jobs_and_the_cloud(fake, tmp_path, media):
    interval = 0.3
    settings = nemo_settings(fake.base_url, tmp_path / "data", nemo_still_working_s=interval)
    async with cloud_app(settings) as (app, sink):
        await said(app, "", file_attachment(media["upload"]))
        # 1.2 s of heartbeats and nothing else: the cloud is busy, the person sees nothing new
        fake.script(*[step for _ in range(12) for step in (fk.heartbeat(), fk.sleep(0.1))], fk.text("Cut."))
        started = time.monotonic()
        await said(app, INSTRUCTION)
        quiet = time.monotonic() - started
    notices = [at for at, r in sink.posted if getattr(r, "text", "") == say("en", "still_working")]
    # one notice per quiet spell at most (both the jobs and the cloud saying it would double them);
    # `quiet` is measured here, so a slow machine only allows more
    assert 2 <= len(notices) <= quiet / interval + 1, (quiet, notices)
    assert "Cut." in sink.texts()


async def test_a_cloud_render_comes_as_its_url_unless_it_fits_the_platform(fake, tmp_path, media):
    fake.result_bytes = media["render"].read_bytes()
    size = len(fake.result_bytes)
    settings = nemo_settings(fake.base_url, tmp_path / "data")
    async with cloud_app(settings, upload_limit=size - 1) as (app, sink):
        await said(app, "", file_attachment(media["upload"]))
        [got] = sink.texts()
        # what the cloud said about the file, and no promise that only the local engine keeps
        assert got == ('Got talk.mp4 (0:30, 1920x1080).\nTell me what you want, for example "find the best moments '
                       'and cut them into 60-second vertical shorts"')
        await said(app, INSTRUCTION)

        await said(app, "/export")
        [link] = sink.replies("link")
        [first] = fake.renders
        assert link.url == f"{fake.base_url}/files/{first}.mp4" and link.url in link.text
        assert not sink.replies("video")
        exports = settings.output_dir / "exports"
        assert not exports.exists() or not any(exports.iterdir()), "nothing downloaded that cannot be sent"

        app.register_platform("test", sink, upload_limit=size)     # a platform that takes files this big
        await said(app, "/export")
        [video] = sink.replies("video")
        [second] = [r for r in fake.renders if r != first]
        assert video.path.read_bytes() == fake.result_bytes and (video.width, video.height) == (180, 320)
        assert video.caption == "#1 Short", "no made-up place in the source or score for a cloud render"
        assert video.link == f"{fake.base_url}/files/{second}.mp4", "the URL, should the upload be refused"


async def test_a_link_goes_to_the_cloud_as_a_link(fake, tmp_path):
    url = "https://videos.example/keynote.mp4"
    settings = nemo_settings(fake.base_url, tmp_path / "data")
    async with cloud_app(settings) as (app, sink):
        await said(app, f"{url} {INSTRUCTION}")
    assert fake.uploads == [], "no bytes went through the bot"
    [session] = fake.sessions.values()
    assert [info["cdn_url"] for info in session.video_infos] == [url]
    assert sink.texts()[:2] == [f"Passing {url} to the video service ...", "Got keynote.mp4 (0:30, 1920x1080)."]
    assert fake.chats[0][1] == INSTRUCTION, "the instruction that came with the link went straight to the cut"


async def test_the_operators_shared_token_is_not_stored_per_user(fake, tmp_path, media):
    shared = "nmv_operator_0123456789abcdef"
    fake.shared_tokens.add(shared)
    settings = nemo_settings(fake.base_url, tmp_path / "data", nemo_token=shared)
    async with cloud_app(settings) as (app, sink):
        await said(app, "", file_attachment(media["upload"]))
        await said(app, "credits?")
        assert sink.texts()[-1].startswith("Credits: 100 available")
        user = await app.repos.users.find("test", "u1")
        assert await app.repos.accounts.get(user.id, "nemo") is None
        rows = await app.db.fetchall("SELECT token FROM accounts")
        assert all(row["token"] != shared for row in rows)
    assert fake.calls("token") == [], "no anonymous token either"
    assert {r.token for r in fake.requests if r.endpoint not in ("file", "token")} == {shared}


async def test_the_cloud_backends_own_sentences_are_said_in_chinese(fake, tmp_path):
    fake.fail("credits", 7777)                   # a code the documents do not list
    settings = nemo_settings(fake.base_url, tmp_path / "data")
    async with cloud_app(settings) as (app, sink):
        await said(app, "还有多少积分")
        await said(app, "credits")
    assert sink.texts() == ["视频服务拒绝了这个请求（7777）。", "Credits: 100 available, 0 frozen (held for running jobs), 100 total."]


async def test_a_silent_cloud_edit_and_the_status_are_worded_in_chinese_for_a_chinese_speaker(fake, tmp_path, media):
    """The cloud's draft read as typed tracks: a silent edit's changes and the status's timeline in the person's
    language, from the same facts as the documented English line."""
    settings = nemo_settings(fake.base_url, tmp_path / "data")
    async with cloud_app(settings) as (app, sink):
        await said(app, "", file_attachment(media["upload"]))
        fake.script(fk.tool_call("edit_multitrack"), fk.apply(fk.cut_short(10)), fk.tool_result("edit_multitrack"))
        await said(app, "剪一个十秒的短视频")
        fake.script(fk.tool_call("edit_multitrack"), fk.apply(fk.add_title("城市之梦")), fk.tool_result("edit_multitrack"))
        await said(app, "加一个标题“城市之梦”")
        await said(app, "状态")
        fake.script(fk.tool_call("edit_multitrack"), fk.apply(fk.add_title("Urban Dreams")),
                    fk.tool_result("edit_multitrack"))
        await said(app, "add the title Urban Dreams")
    assert "✅ 完成：添加了视频：talk.mp4（0-10 秒）。\n时间线（1 条轨道）：1. 视频：talk.mp4（0-10 秒）" in sink.texts()
    assert ("✅ 完成：添加了标题：“城市之梦”（0-3 秒）。\n"
            "时间线（2 条轨道）：1. 视频：talk.mp4（0-10 秒） 2. 标题：“城市之梦”（0-3 秒）") in sink.texts()
    [status] = [t for t in sink.texts() if t.startswith("素材：")]
    assert "片段 1：时间线（2 条轨道）：1. 视频：talk.mp4（0-10 秒） 2. 标题：“城市之梦”（0-3 秒）" in status
    assert sink.texts()[-1] == ('✅ Done: added Title: "Urban Dreams" (0-3s).\nTimeline (3 tracks): '
                                '1. Video: talk.mp4 (0-10s) 2. Title: "城市之梦" (0-3s) 3. Title: "Urban Dreams" (0-3s)')

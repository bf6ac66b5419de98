"""The Conversation on the cloud backend: recovery from the backend's errors, a sentence for every
other one, groups, help, sharing, exports that never finish, order and /cancel, one session.

Everything runs through the App's public surface: a message goes in through
`app.conversation.handle`, replies come out through the platform sink the test registered.
The cloud's failures come from the real NemoBackend talking to the loopback fake NemoVideo
server (tests/nemo/fake_nemo/), which answers with each documented error on demand. The same
surface on the real LocalBackend and engine is in test_conversation_local.py.
"""
from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from shortsbot.app import App
from bot.backends.base import Clip
from bot.fetch.files import safe_filename
from bot.replies import clip_reply
from bot.vocabulary import understand
from bot.messages import Attachment, ErrorReply
from bot.texts import REASONS, say
from tests.bot.chat_helpers import Recorder, file_attachment, last_text, make_settings, message, started_app
from tests.nemo import fake_nemo as fk
from tests.nemo.conftest import nemo_settings


OPERATOR_TOKEN = "nmv_operator_shared_token"


@dataclass
class Cloud:
    """A started App with BACKEND=nemo on the fake cloud, and the sink its replies go to."""

    app: App
    fake: fk.FakeNemo
    recorder: Recorder

    async def say(self, *incoming) -> None:
        """Each message in turn, then whatever jobs they started, to the end."""
        for one in incoming:
            await self.app.conversation.handle(one)
        assert await self.app.jobs.wait_idle(timeout=180)


@pytest.fixture
async def cloud(tmp_path):
    """cloud(**settings) -> a Cloud; the fake's own options go in `fake=dict(...)`."""
    started: list[tuple[App, fk.FakeNemo]] = []

    async def make(fake: dict | None = None, upload_limit: int | None = None, **overrides) -> Cloud:
        server = fk.FakeNemo(**(fake or {}))
        await server.start()
        values = dict(nemo_retry_after_s=0.2, nemo_export_timeout_s=0.5)
        values.update(overrides)
        app = App(nemo_settings(server.base_url, tmp_path / "data", **values), progress_interval=0.01)
        await app.start()
        started.append((app, server))
        recorder = Recorder()
        app.register_platform("test", recorder, upload_limit=upload_limit)
        return Cloud(app, server, recorder)

    yield make
    for app, server in started:
        await app.stop()
        await server.stop()


def anonymous_user(fake: fk.FakeNemo) -> str:
    [user] = {t.user_id for t in fake.tokens.values()}
    return user


def uploaded(name: str, folder: Path, lang: str) -> object:
    video = folder / name
    video.write_bytes(b"\0" * 10)
    return message("", attachments=(file_attachment(video),), language=lang)


ACCEPTED = "mp4, mov, avi, webm, mkv, jpg, png, gif, webp, mp3, wav, m4a, aac"


CLOUD_ERRORS = [
    # (id, fake options, the fault the cloud answers with, messages, language, code, what the sentence must be)
    ("4001-upload-en", {}, ("upload", 4001, 2), ["UPLOAD"], "en", 4001,
     f"That file type is not supported. I accept {ACCEPTED}."),
    ("4001-upload-zh", {}, ("upload", 4001, 2), ["UPLOAD"], "zh", 4001, f"不支持这种文件格式。我支持这些格式：{ACCEPTED}"),
    ("4002-upload-en", {}, ("upload", 4002, 2), ["UPLOAD"], "en", 4002,
     "That file is too big, over the 500 MB limit. Please trim or compress it"),
    ("4002-upload-zh", {}, ("upload", 4002, 2), ["UPLOAD"], "zh", 4002, "超过了 500 MB 的上限。请先剪短或压缩"),
    ("2001-chat-anonymous-en", {"chat_cost": 150}, None, ["cut it"], "en", 2001,
     "You are out of credits: 100 left, and this needs more. Register to get more: "
     "https://nemovideo.com/register?bind={anon}"),
    ("2001-credits-operator-zh", {"shared_tokens": (OPERATOR_TOKEN,)}, ("credits", 2001, 2), ["积分"], "zh", 2001,
     "积分不足：剩余 0，本次需要更多。请在 NemoVideo 账户中充值积分。"),
    ("402-export-en", {"export_blocked": True}, None, ["cut it", "/export"], "en", 402,
     "Exporting is not included in your current plan: register or upgrade your plan to export."),
    ("402-export-zh", {"export_blocked": True}, None, ["剪一下", "导出"], "zh", 402, "请注册或升级套餐后再导出"),
    ("429-credits-en", {}, ("credits", 429, 2), ["credits"], "en", 429,
     "The video service is busy right now. Please try again in a minute."),
    ("1001-credits-en", {}, ("credits", 1001, 2), ["credits"], "en", 1001, "I could not sign in to the video service."),
    ("1002-state-en", {}, ("state", 1002, 2), ["status"], "en", 1002, "Your editing session was lost. Send the video again"),
    ("1002-state-zh", {}, ("state", 1002, 2), ["状态"], "zh", 1002, "编辑会话已丢失"),
    ("503-credits-en", {}, ("credits", 503, 3), ["credits"], "en", 503, "The video service is not answering right now."),
    ("400-token-en", {}, ("token", 400, 2), ["credits"], "en", 400, "I could not sign in to the video service."),
]


@pytest.mark.parametrize("fake_options,fault,texts,lang,code,sentence",
                         [case[1:] for case in CLOUD_ERRORS], ids=[case[0] for case in CLOUD_ERRORS])
async def test_every_cloud_error_becomes_the_right_sentence(cloud, tmp_path, fake_options, fault, texts, lang, code,
                                                            sentence):
    operator = "shared_tokens" in fake_options
    c = await cloud(fake=fake_options, **({"nemo_token": OPERATOR_TOKEN} if operator else {}))
    if fault is not None:
        endpoint, error_code, times = fault            # fails again after the conversation's one recovery
        c.fake.fail(endpoint, error_code, times=times)
    await c.say(*(uploaded("talk.mp4", tmp_path, lang) if text == "UPLOAD" else message(text, language=lang)
                  for text in texts))
    [reply] = [r for _, r in c.recorder.posted if isinstance(r, ErrorReply)]
    if "{anon}" in sentence:
        sentence = sentence.format(anon=anonymous_user(c.fake))
    assert sentence in reply.text
    assert reply.code == code
    if code == 402:
        assert "credit" not in reply.text.lower() and "积分" not in reply.text
        assert len(c.fake.calls("export")) == 1 and c.fake.renders == {}


async def test_1001_1002_and_429_are_recovered_once_by_themselves(cloud):
    c = await cloud()
    await c.say(message("credits"))
    assert len(c.fake.tokens) == 1 and last_text(c.recorder).startswith("Credits: 100 available, 0 frozen")

    c.fake.fail("credits", 1001)
    await c.say(message("credits"))
    assert len(c.fake.tokens) == 2 and last_text(c.recorder).startswith("Credits: 100 available")

    await c.say(message("cut it"))
    c.fake.fail("state", 1002)
    await c.say(message("status"))
    assert len(c.fake.sessions) == 2 and last_text(c.recorder) == say("en", "status_no_media")

    c.fake.fail("credits", 429)
    started = time.monotonic()
    await c.say(message("credits"))
    assert time.monotonic() - started >= 0.2                        # NEMO_RETRY_AFTER_S before the one retry
    assert last_text(c.recorder).startswith("Credits: 100 available")
    assert len(c.fake.calls("credits")) == 5

    # inside a job: the chat stream fails before saying anything, and is tried again in a new session
    c.fake.fail("chat", 1002)
    await c.say(message("make it punchier"))
    assert len(c.fake.calls("chat")) == 3 and len(c.fake.sessions) == 3
    assert c.recorder.texts().count("Got it, cutting your video now...") == 2
    assert not [r for _, r in c.recorder.posted if isinstance(r, ErrorReply)]


async def test_a_silent_chat_gets_the_timeline_and_an_export_link(cloud):
    c = await cloud(upload_limit=100)                 # the render is larger than the platform takes: a link
    c.fake.script(fk.heartbeat(), fk.tool_call("edit_multitrack"), fk.apply(fk.cut_short(10)),
                  fk.tool_result("edit_multitrack"))
    await c.say(message("add a title 'Hi'"))
    assert "✅ Done: added Video: clip (0-10s).\nTimeline (1 track): 1. Video: clip (0-10s)" in c.recorder.texts()
    await c.say(message("/export"))
    [link] = c.recorder.replies(kind="link")
    [render] = c.fake.renders.values()
    assert link.url == f"{c.fake.base_url}/files/{render.render_id}.mp4"
    assert render.draft["t"][0]["sg"][0] == {"n": "clip", "s": 0, "e": 10000}
    await c.say(message("/export 1 1080p"))
    assert len(c.fake.renders) == 2 and len(c.recorder.replies(kind="link")) == 2
    await c.say(message("/export 2"))                 # there is one clip: nothing to render
    assert len(c.fake.renders) == 2 and last_text(c.recorder) == "There is no clip 2: you have 1 clip."


async def test_a_more_button_without_a_clip_to_name_keeps_a_chinese_speakers_replies_in_chinese(cloud):
    c = await cloud()
    [more] = [b for b in clip_reply(Clip(2, "片段"), "zh", lambda reply: None).buttons if b.label == say("zh", "button_more")]
    assert understand(more.action, has_clips=True).edits[0].kind == "more"
    await c.say(message(more.action))                 # the press: its words, no language hint from the platform
    progress = c.recorder.replies(kind="progress")
    assert progress[0].text == say("zh", "working") and progress[-1].text == say("zh", "progress_done")
    english = [b.action for b in clip_reply(Clip(2, "Talk"), "en", lambda reply: None).buttons]
    assert english == ["/export 2", "/share 2", "more clips like clip 2"]


async def test_a_cloud_render_that_fails_without_words_of_its_own_is_said_in_the_persons_language(cloud):
    c = await cloud()
    for words, lang, said in (("剪一下", "zh", "第 1 个片段导出失败：渲染被取消了"),
                              ("cut it", "en", "Export of clip 1 failed: cancelled")):
        c.fake.render_word = None
        c.fake.script(fk.tool_call("edit_multitrack"), fk.apply(fk.cut_short(10)), fk.tool_result("edit_multitrack"))
        await c.say(message(words, user=f"u-{lang}"))
        c.fake.render_word = "cancelled"                  # the cloud says only its word, no error of its own
        await c.say(message("导出" if lang == "zh" else "export", user=f"u-{lang}"))
        assert last_text(c.recorder) == said
    await c.say(message("/start", user="u-zh", user_name="", language="zh"))
    assert last_text(c.recorder).startswith("你好，朋友！")


async def test_groups_answer_only_when_addressed_and_languages_follow_the_person(cloud):
    c = await cloud()
    handle = c.app.conversation.handle
    await handle(message("credits", is_group=True))
    assert c.recorder.posted == [] and c.fake.requests == []
    await handle(message("credits", is_group=True, mentions_bot=True, chat="g1", thread_id="t9"))
    [(ref, reply)] = c.recorder.posted
    assert (ref.chat_id, ref.thread_id) == ("g1", "t9") and reply.text.startswith("Credits:")
    await handle(message("/credits", is_group=True, command="credits"))
    await handle(message("还有多少积分"))
    assert last_text(c.recorder) == "积分：可用 100，冻结 0（正在运行的任务占用），共 100。"
    await handle(message("/credits", language="zh-hans"))
    assert last_text(c.recorder).startswith("积分：")
    await handle(message("/start", user_name="Ann"))
    assert last_text(c.recorder).startswith("你好，Ann！"), "no words and no platform language: her last words'"
    await handle(message("what can you do"))
    await handle(message("/start", user_name="Ann"))
    assert last_text(c.recorder).startswith("Hi Ann! I turn long videos into short vertical clips")


async def test_help_is_the_help_and_an_unknown_command_one_short_answer(cloud):
    c = await cloud()
    recorder = c.recorder
    help_text = say("en", "help")
    for incoming in (message("/help"), message("/help", command="help"), message("/help@ClipperBot"),
                     message("help"), message("/help", is_group=True, command="help")):
        recorder.posted.clear()
        await c.app.conversation.handle(incoming)
        assert [r.text for _, r in recorder.posted] == [help_text], incoming

    recorder.posted.clear()
    await c.app.conversation.handle(message("/frobnicate now"))
    [(_, reply)] = recorder.posted
    assert reply.text == f"I don't know /frobnicate — here is what I can do:\n{help_text}"
    recorder.posted.clear()
    # someone with no words yet: the platform's language of them (u1's last words were English)
    await c.app.conversation.handle(message("/frobnicate", user="u-zh", command="frobnicate", language="zh"))
    [(_, reply)] = recorder.posted
    assert reply.text == f"我不认识 /frobnicate —— 这是我能做的：\n{say('zh', 'help')}"
    assert c.fake.requests == []


async def test_share_without_a_share_channel_says_which_setting_is_missing(cloud):
    c = await cloud()
    # as the adapters register: their share setting named, no share target set
    c.app.register_platform("telegram", c.recorder, share_setting="TELEGRAM_SHARE_CHAT_ID", label="Telegram")
    c.app.register_platform("discord", c.recorder, share_setting="DISCORD_SHARE_CHANNEL_ID", label="Discord")
    handle = c.app.conversation.handle
    await handle(message("/share 1", platform="telegram", command="share", command_args="1"))
    assert last_text(c.recorder) == ("No share channel is set up for Telegram: the bot's operator can set "
                                     "TELEGRAM_SHARE_CHAT_ID to a channel the bot may post in.")
    await handle(message("/share 1", platform="discord", language="zh"))
    assert last_text(c.recorder) == ("Discord 还没有配置分享频道：机器人的管理员可以把 DISCORD_SHARE_CHANNEL_ID "
                                     "设为机器人能发消息的频道。")
    assert c.fake.calls("export") == []


async def test_our_own_reasons_are_said_in_chinese(tmp_path):
    # bot.fetch refuses a link to this machine (ALLOW_PRIVATE_URLS is off): its reason comes in Chinese too.
    app, recorder = await started_app(make_settings(tmp_path / "data", allow_private_urls=False))
    try:
        await app.conversation.handle(message("http://127.0.0.1:9/talk.mp4 剪成两个60秒的竖屏短视频"))
        assert recorder.texts()[-2] == "无法下载这个链接：这个链接指向私有或本地网络地址（127.0.0.1），我不能打开。"
        await app.conversation.handle(message("http://127.0.0.1:9/talk.mp4 cut it"))
        assert recorder.texts()[-2] == ("That link points to a private or local network address (127.0.0.1), "
                                        "which I am not allowed to open.")
        assert await app.jobs.wait_idle(timeout=180)
        assert not list((tmp_path / "data").rglob("*.mp4")) and await app.repos.jobs.for_user(
            (await app.repos.users.find("test", "u1")).id) == []
    finally:
        await app.stop()


async def test_a_cloud_export_that_never_finishes_is_stopped_with_a_sentence(cloud):
    c = await cloud(fake={"render_steps": ("pending", "processing")})     # renders that never finish
    await c.say(message("cut it"), message("/export"))
    [render] = c.fake.renders.values()
    assert render.cancelled and len(c.fake.calls("cancel")) == 1      # stopped after NEMO_EXPORT_TIMEOUT_S (0.5 s)
    assert render.polls >= 2
    assert last_text(c.recorder) == ("Export of clip 1 failed: the export took too long (over 1 second), so I stopped "
                                     "it. Nothing was charged; try /export again later")
    await c.recorder.wait_for(lambda: any(getattr(r, "done", False) for r in c.recorder.replies(kind="progress")))
    assert c.recorder.replies(kind="progress")[-1].text == "Failed"

    c.fake.render_steps = ("pending", "processing", "completed")     # the next person's export is not held up
    await c.say(message("cut it", user="u2"), message("/export", user="u2"))
    [video] = c.recorder.videos()
    assert video.path.read_bytes() == c.fake.result_bytes


async def test_one_persons_messages_are_handled_in_order_and_cancel_never_waits(cloud):
    c = await cloud()
    conversation, recorder = c.app.conversation, c.recorder
    arrived = asyncio.Event()

    async def slow_download(path: Path) -> Path:               # a big upload still on its way
        await arrived.wait()
        path.write_bytes(b"video")
        return path

    upload = message("", attachments=(Attachment("talk.mp4", "video/mp4", 5, fetch=slow_download, kind="video"),))
    uploading = asyncio.create_task(conversation.handle(upload))
    asking = asyncio.create_task(conversation.handle(message("status")))
    others = asyncio.create_task(conversation.handle(message("status", user="u2")))
    await asyncio.wait_for(others, 5)                              # another person does not wait
    await asyncio.sleep(0.2)
    assert recorder.texts("c1") == [say("en", "status_no_media")]
    assert not asking.done()                                       # "status" waits for the upload before it

    await asyncio.wait_for(conversation.handle(message("/cancel", command="cancel")), 5)
    assert last_text(recorder) == "Nothing is running."

    arrived.set()
    await asyncio.wait_for(asyncio.gather(uploading, asking), 5)
    said = recorder.texts("c1")[2:]
    assert said[0].startswith("Got talk.mp4") and said[1].startswith("Media: talk.mp4")
    assert [u.filename for u in c.fake.uploads] == ["talk.mp4"]


async def test_two_first_messages_at_once_make_one_session(cloud):
    c = await cloud()
    await asyncio.gather(*(c.app.conversation.handle(message(text)) for text in ("status", "status", "credits")))
    assert len(c.fake.sessions) == 1 and len(c.fake.tokens) == 1
    user = await c.app.repos.users.find("test", "u1")
    rows = await c.app.repos.db.fetchall("SELECT COUNT(*) FROM sessions WHERE user_id = ?", (user.id,))
    assert rows[0][0] == 1


def test_every_reason_key_our_code_gives_has_a_chinese_sentence():
    root = Path(__file__).resolve().parents[2]
    # bot/fetch/__init__.py is left out: its __all__ lists function names, not sentence keys.
    sources = [*(root / "bot/fetch").glob("[!_]*.py"), root / "bot/edits.py", root / "bot/reel_edits.py", *(root / "bot/backends").rglob("*.py"),
               root / "adapters/discord_events.py", *(root / "engine").rglob("*.py")]
    keys = {key for source in sources
            for key in re.findall(r"[\"']((?:fetch|edit|backend|probe|pipeline|render|model|decode)_[a-z_]+)[\"']",
                                  source.read_text())}
    assert len(keys) >= 25
    assert sorted(k for k in keys if "zh" not in REASONS.get(k, {})) == []


def test_uploads_are_kept_under_a_safe_name():
    assert safe_filename("../../etc/passwd") == "passwd"
    assert safe_filename("C:\\Users\\me\\My Talk (final).mp4") == "My_Talk_final_.mp4"
    assert safe_filename("演讲.mp4") == "演讲.mp4"
    assert safe_filename("", "video/mp4") == "upload.mp4"
    assert safe_filename(".hidden") == "hidden"

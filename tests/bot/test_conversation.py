"""The Conversation: recovery from the backend's errors, a sentence for every other one, groups,
admins, sharing, two people at once, a restart in the middle of a job, and /cancel.

Everything runs through the App's public surface: a message goes in through
`app.conversation.handle`, replies come out through the platform sink the test registered.
The cloud's failures come from the real NemoBackend talking to the loopback fake NemoVideo
server (tests/nemo/fake_nemo/), which answers with each documented error on demand; the
rest runs the real LocalBackend and engine.
"""
from __future__ import annotations

import asyncio
import re
import socket
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from shortsbot.app import App
from bot.conversation import safe_filename
from bot.messages import Attachment, ErrorReply, TextReply
from bot.texts import REASONS, say
from tests.bot.chat_helpers import (  # noqa: F401  (fixtures)
    CUT_SMALL,
    Recorder,
    ffprobe,
    file_attachment,
    make_settings,
    message,
    other_talk,
    started_app,
    warm_talk,
)
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
        assert await self.app.jobs.wait_idle(timeout=30)


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


def last_text(recorder: Recorder) -> str:
    return [r for _, r in recorder.posted if isinstance(r, (TextReply, ErrorReply))][-1].text


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
    assert len(c.fake.renders) == 2 and last_text(c.recorder) == say("en", "nothing_to_export")


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
    await c.app.conversation.handle(message("/frobnicate", command="frobnicate", language="zh"))
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
        assert last_text(recorder) == "无法下载这个链接：这个链接指向私有或本地网络地址（127.0.0.1），我不能打开。"
        await app.conversation.handle(message("http://127.0.0.1:9/talk.mp4 cut it"))
        assert last_text(recorder) == ("That link points to a private or local network address (127.0.0.1), "
                                       "which I am not allowed to open.")
        assert await app.jobs.wait_idle(timeout=10)
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
    await c.recorder.wait_for(lambda: any(getattr(r, "done", False) for r in c.recorder.replies(kind="progress")), 5)
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
    sources = [*(root / "bot/fetch").glob("[!_]*.py"), root / "bot/edits.py", *(root / "bot/backends").rglob("*.py"),
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


# ---------------------------------------------------------------- with the local engine


async def test_real_bad_input_gets_sentences(tmp_path, warm_talk):
    settings = make_settings(tmp_path / "data", warm_talk, starting_credits=0, max_upload_mb=12,
                             admin_ids=["boss"])
    app, recorder = await started_app(settings)
    try:
        handle = app.conversation.handle
        await handle(message("find the best moments and cut them into 30-second vertical shorts"))
        await app.jobs.wait_idle(timeout=20)
        assert "Send me a video first (a file or a link), then tell me what to cut." in recorder.texts()
        await handle(message("找出精彩片段，剪成30秒的竖屏短视频"))
        await app.jobs.wait_idle(timeout=20)
        assert "请先发送一个视频（文件或链接），然后告诉我要剪什么。" in recorder.texts()
        notes = tmp_path / "notes.txt"
        notes.write_text("hello")
        await handle(message("", attachments=(file_attachment(notes),)))
        assert last_text(recorder) == ("That file type is not supported. I accept mp4, mov, m4v, 3gp, avi, webm, mkv, "
                                       "mp3, wav, m4a, aac, ogg, opus, flac, jpg, jpeg, png, gif, webp.")
        await handle(message("", attachments=(file_attachment(notes),), language="zh"))
        assert last_text(recorder).startswith("不支持这种文件格式。")
        big = tmp_path / "big.mp4"
        big.write_bytes(b"\0" * (13 * 1024 * 1024))
        await handle(message("", attachments=(file_attachment(big),)))
        assert last_text(recorder).startswith("That file is 13 MB, over the 12 MB limit. Please trim or compress it")
        # nothing the person sent stays behind in the download folder
        assert not any((settings.data_dir / "incoming").rglob("*.*"))

        await handle(message("", attachments=(file_attachment(warm_talk.path),)))
        assert last_text(recorder).startswith("Got talk.mp4 (0:40, 640x360).")
        await handle(message(CUT_SMALL))
        await app.jobs.wait_idle(timeout=30)
        assert ("You are out of credits: 0 left, and this needs 1. Ask an admin of this bot for more (/grant)."
                in recorder.texts())
        await handle(message("剪成两个15秒的竖屏短视频"))
        await app.jobs.wait_idle(timeout=30)
        assert "积分不足：剩余 0，本次需要 1。请联系本机器人的管理员发放积分（/grant）。" in recorder.texts()

        # admins grant credits; others cannot
        await handle(message("/grant u1 5", user="u2"))
        assert last_text(recorder) == "Only admins can grant credits."
        # an exact id or @name on the admin's own platform; a namesake elsewhere, a bare name or two people
        # with one name get a sentence and no credits
        await app.repos.users.get_or_create("discord", "u1", "name-u1")
        await handle(message("/grant name-u1 5", user="boss"))
        assert last_text(recorder).startswith("I do not know name-u1 on Test: give their user id or @name")
        await handle(message("/grant @Name-U1 5", user="boss"))
        assert last_text(recorder) == "Granted 5 credits to name-u1; they now have 5 available."
        u3, _ = await app.repos.users.get_or_create("test", "u3", "name-u1")
        await handle(message("/grant @name-u1 5", user="boss"))
        assert last_text(recorder) == ("More than one person on Test is called @name-u1 (u1 (name-u1), u3 (name-u1)); "
                                       "nothing was granted. Use the id of the one you mean, e.g. /grant u1 5.")
        assert await app.repos.ledger.entries(u3.id) == []
        await handle(message("/credits"))
        assert last_text(recorder).startswith("Credits: 5 available, 0 frozen (held for running jobs), 5 total.")
        await handle(message("/share 1"))
        assert last_text(recorder) == "No share channel is set up for this chat platform."
    finally:
        await app.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_two_people_at_once_see_only_their_own_sessions_media_and_links(tmp_path, warm_talk, other_talk):
    port = free_port()
    settings = make_settings(tmp_path / "data", warm_talk, other_talk, public_base_url=f"http://127.0.0.1:{port}",
                             http_port=port, link_secret="s3cret", telegram_share_chat_id="-100share")
    app, recorder = await started_app(settings, platform="telegram")
    one_clip = "cut them into 15-second vertical shorts, 1 clip, 360p"
    try:
        def said(user, chat, text="", **fields):
            return message(text, user=user, chat=chat, platform="telegram", **fields)

        await asyncio.gather(
            app.conversation.handle(said("ann", "chat-ann", attachments=(file_attachment(warm_talk.path),))),
            app.conversation.handle(said("bob", "chat-bob", attachments=(file_attachment(other_talk.path),))))
        await asyncio.gather(app.conversation.handle(said("ann", "chat-ann", one_clip)),
                             app.conversation.handle(said("bob", "chat-bob", one_clip)))
        await app.jobs.wait_idle(timeout=120)
        [ann_video] = recorder.videos("chat-ann")
        [bob_video] = recorder.videos("chat-bob")
        assert ann_video.path != bob_video.path and ann_video.path.parent != bob_video.path.parent
        said_to_ann = "\n".join(recorder.texts("chat-ann"))
        assert "Found 1 moment:\n1. " in said_to_ann and "1 moments" not in said_to_ann
        assert say("en", "language_heard", language="English") in said_to_ann      # which language was heard
        assert re.fullmatch(r"#1 .+\n\d+:\d\d-\d+:\d\d in the source · score \d+/100(\n#\S+( #\S+)*)?",
                            ann_video.caption), ann_video.caption

        # an edit that changes nothing says why, in the person's language (and renders nothing)
        await app.conversation.handle(said("ann", "chat-ann", "把第3个片段加长10秒"))
        await app.jobs.wait_idle(timeout=30)
        assert "没有任何改变：没有第 3 个片段（现在有 1 个）。" in recorder.texts("chat-ann")

        await app.conversation.handle(said("ann", "chat-ann", "status"))
        await app.conversation.handle(said("bob", "chat-bob", "status"))
        ann_status, bob_status = recorder.texts("chat-ann")[-1], recorder.texts("chat-bob")[-1]
        assert "talk.mp4" in ann_status and "rice.mp4" not in ann_status
        assert say("en", "language_heard", language="English") in ann_status
        assert "rice.mp4" in bob_status and "talk.mp4" not in bob_status

        # each link serves its owner's file; a link re-pointed at the other's clip is refused
        async with httpx.AsyncClient() as http:
            got = await http.get(ann_video.link)
            assert got.status_code == 200 and got.content == ann_video.path.read_bytes()
            assert f"/f/{ann_video.clip_id}-{ann_video.path.stem}/{ann_video.path.name}?" in ann_video.link
            forged = ann_video.link.replace(f"/f/{ann_video.clip_id}-{ann_video.path.stem}/{ann_video.path.name}",
                                            f"/f/{bob_video.clip_id}-{bob_video.path.stem}/{bob_video.path.name}")
            assert (await http.get(forged)).status_code == 403

        # bob shares his clip 1 to the share channel: his file, not ann's
        await app.conversation.handle(said("bob", "chat-bob", "/share 1", command="share", command_args="1"))
        await app.jobs.wait_idle(timeout=30)
        await recorder.wait_for(lambda: recorder.videos("-100share"), 10)
        [shared] = recorder.videos("-100share")
        assert shared.path == bob_video.path and not shared.buttons and shared.caption.startswith("Shared by name-bob")
        assert "Shared clip 1." in recorder.texts("chat-bob")
        assert recorder.videos("chat-ann") == [ann_video]

        # in a group, the buttons under ann's clip are ann's: bob's presses act on nothing of his or hers
        actions = {b.label: b.action for b in ann_video.buttons}
        target = f"clip-{ann_video.clip_id}"
        assert actions == {"Export": f"/export {target}", "Share": f"/share {target}",
                           "More like this": f"/more {target}"}
        for label, verb in (("Share", "share"), ("Export", "export"), ("More like this", "ask for more like")):
            await app.conversation.handle(said("bob", "group", actions[label], is_group=True, reply_to_bot=True))
            assert recorder.texts("group")[-1] == f"Only name-ann can {verb} this — send your own video to make yours."
        assert await app.jobs.wait_idle(timeout=5) and len(recorder.videos("-100share")) == 1

        # ann's edit renders her clip to a new file: its old link serves nothing, the new one the new file
        await app.conversation.handle(said("ann", "chat-ann", "make clip 1 shorter by 5 seconds"))
        await app.jobs.wait_idle(timeout=60)
        edited = recorder.videos("chat-ann")[-1]
        assert edited.clip_id == ann_video.clip_id and edited.path != ann_video.path
        async with httpx.AsyncClient() as http:
            old = await http.get(ann_video.link)
            assert old.status_code == 404 and old.content != edited.path.read_bytes()
            assert (await http.get(edited.link)).content == edited.path.read_bytes()

        # ann's own Share button under her clip shares that clip, wherever she presses it
        await app.conversation.handle(said("ann", "group", actions["Share"], is_group=True, reply_to_bot=True))
        await app.jobs.wait_idle(timeout=30)
        await recorder.wait_for(lambda: len(recorder.videos("-100share")) == 2, 10)
        assert recorder.videos("-100share")[-1].path == edited.path

        # bob cuts again: the clips of his first cut go, and a link to one serves nothing (not his
        # new clip of the very same moment, not anybody's clip)
        await app.conversation.handle(said("bob", "chat-bob", one_clip))
        await app.jobs.wait_idle(timeout=120)
        bob_new = recorder.videos("chat-bob")[-1]
        assert bob_new.clip_id != bob_video.clip_id and bob_new.link != bob_video.link
        async with httpx.AsyncClient() as http:
            old = await http.get(bob_video.link)
            assert old.status_code == 404
            assert old.content not in (bob_new.path.read_bytes(), edited.path.read_bytes())
            assert (await http.get(bob_new.link)).content == bob_new.path.read_bytes()
    finally:
        await app.stop()


async def test_a_restart_in_the_middle_of_a_cut_loses_nothing_and_charges_once(tmp_path, warm_talk):
    settings = make_settings(tmp_path / "data", warm_talk)
    app, recorder = await started_app(settings)
    try:
        await app.conversation.handle(message("", attachments=(file_attachment(warm_talk.path),)))
        await app.conversation.handle(message(CUT_SMALL))
        await recorder.wait_for(lambda: len(recorder.videos()) == 1, 90)   # clip 1 is out, clip 2 is rendering
    finally:
        await app.stop()                                         # the database and the workers close
    first = recorder.videos()[0]
    user = None

    app, recorder = await started_app(settings)                 # a new process would do the same
    try:
        user = await app.repos.users.find("test", "u1")
        await app.jobs.wait_idle(user.id, timeout=90)
        await recorder.wait_for(lambda: recorder.replies(kind="video"), 10)
        [second] = recorder.videos()                             # clip 1 is not posted again
        assert second.title != first.title and second.path.is_file() and first.path.is_file()
        assert "I was restarted while working on your request; picking it up again." in recorder.texts()
        [job] = await app.repos.jobs.for_user(user.id)
        assert job.state == "done" and job.attempts == 2
        entries = await app.repos.ledger.entries(user.id)
        assert entries == [("grant", 100, None), ("hold", 1, job.hold_ref), ("charge", 1, job.hold_ref)]
        assert [ffprobe(v.path)["height"] for v in (first, second)] == [640, 640]
    finally:
        await app.stop()


async def test_cancel_stops_the_render_and_gives_the_credits_back(tmp_path, warm_talk):
    settings = make_settings(tmp_path / "data", warm_talk)
    app, recorder = await started_app(settings)
    try:
        # the video and what to make of it in one message: straight to the cut
        await app.conversation.handle(message("cut them into 30-second vertical shorts",    # full 1080x1920
                                              attachments=(file_attachment(warm_talk.path),)))
        assert recorder.texts()[0] == "Got talk.mp4 (0:40, 640x360)."
        await recorder.wait_for(lambda: any(r.kind == "progress" and r.text.startswith("Rendering")
                                            for r in recorder.replies()), 60)
        user = await app.repos.users.find("test", "u1")
        assert (await app.repos.ledger.balance(user.id)).frozen == 1
        await app.conversation.handle(message("/cancel", command="cancel"))
        assert "Stopped. Held credits were given back." in recorder.texts()
        assert await app.jobs.wait_idle(user.id, timeout=30)
        [job] = await app.repos.jobs.for_user(user.id)
        assert job.state == "cancelled"
        assert await app.repos.ledger.entries(user.id) == [("grant", 100, None), ("hold", 1, job.hold_ref),
                                                          ("release", 1, job.hold_ref)]
        assert recorder.videos() == []
        out = settings.output_dir
        assert not [p for p in out.rglob("*") if p.is_file()] if out.exists() else True   # no partial files
        await app.conversation.handle(message("/cancel", command="cancel"))
        assert last_text(recorder) == "Nothing is running."
    finally:
        await app.stop()

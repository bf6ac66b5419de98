"""The Conversation: recovery from the backend's errors, a sentence for every other one, groups,
admins, sharing, two people at once, a restart in the middle of a job, and /cancel.

`ScriptedBackend` below stands in for the cloud (an outside service) only to make it fail with
each typed error on demand; everything else runs the real LocalBackend and engine.
"""
from __future__ import annotations

import asyncio
import re
import socket
import time
from pathlib import Path
from typing import AsyncIterator

import httpx
import pytest

from bot.backends.base import (
    ACCEPTED_TYPES,
    Account,
    BackendError,
    BackendUnavailable,
    ChatEvent,
    Clip,
    Credits,
    ExportBlocked,
    FileTooLarge,
    Media,
    MissingClientId,
    NothingUploaded,
    OutOfCredits,
    RateLimited,
    RenderRef,
    RenderStatus,
    SessionMissing,
    SessionRef,
    State,
    TokenInvalid,
    UnsupportedFile,
)
from bot.conversation import Conversation, safe_filename
from bot.jobs import JobQueue, current_job
from bot.messages import Attachment, ErrorReply, TextReply
from bot.platforms import Platform, Platforms
from bot.settings import Settings
from bot.texts import REASONS, say
from storage.db import Database
from storage.repos import Repos
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


class ScriptedBackend:
    """The cloud, reduced to what these tests need: it answers, or raises the next scripted error."""

    name = "cloud"
    poll_interval = 0.01
    takes_links = False                  # links are downloaded by the conversation first
    export_deadline_s = 0.5

    def __init__(self, repos: Repos):
        self.repos = repos
        self.failures: dict[str, list[BackendError]] = {}
        self.calls: dict[str, int] = {}
        self.tokens = 0
        self.sessions = 0
        self.chat_events: list[ChatEvent] = [ChatEvent("text", "Done: your clips are on the timeline."),
                                             ChatEvent("done")]
        self.cost = 0                        # credits a chat holds on its job, as the local engine's cut does
        self.stuck = False                   # renders that never finish

    async def _enter(self, method: str, account: Account | None = None) -> None:
        self.calls[method] = self.calls.get(method, 0) + 1
        queued = self.failures.get(method)
        if queued:
            error = queued.pop(0)
            if isinstance(error, TokenInvalid) and account is not None:
                # as NemoBackend does: the refused token is put aside, so opening the account gets a new one
                await self.repos.accounts.invalidate_token(account.user_id, self.name)
            raise error

    async def open_account(self, user_id: int, client_id: str) -> Account:
        """Like every backend, the only writer of its account rows: the stored token, else a new one."""
        await self._enter("open_account")
        record = await self.repos.accounts.get(user_id, self.name)
        if record is None or record.token is None:
            self.tokens += 1
            record = await self.repos.accounts.save(user_id, self.name, record.client_id if record else client_id,
                                                    token=f"tok-{self.tokens}", remote_user_id="anon_7")
        return Account(user_id, record.token, remote_user_id=record.remote_user_id)

    async def open_session(self, account: Account, chat_key: str, language: str = "en") -> SessionRef:
        await self._enter("open_session", account)
        self.sessions += 1
        # Like every service, the only writer of its session rows.
        await self.repos.sessions.start(account.user_id, chat_key, self.name, f"sess-{self.sessions}", language=language)
        return SessionRef(f"sess-{self.sessions}", chat_key=chat_key)

    async def upload(self, account, session, source):
        await self._enter("upload", account)
        return Media(media_id="m1", filename=Path(source).name, kind="video", duration=61.0,
                             width=640, height=360)

    async def chat(self, account, session, text) -> AsyncIterator[ChatEvent]:
        await self._enter("chat", account)
        if self.cost:
            await self.repos.ledger.hold(account.user_id, self.cost, current_job.get().hold_ref)
        for event in self.chat_events:
            yield event

    async def state(self, account, session) -> State:
        await self._enter("state", account)
        draft = {"t": [{"tt": 0, "sg": [{"s": 0, "e": 10000}]}], "d": 10000, "m": {}}
        return State(session.session_id, [Media("m1", "talk.mp4", "video", duration=61.0)],
                     [Clip(1, summary="Timeline (1 track): 1. Video: talk.mp4 (0-10s)")], [draft])

    async def credits(self, account) -> Credits:
        await self._enter("credits", account)
        return Credits(90, 10, 100)

    async def export(self, account, session, draft_index=None) -> list[RenderRef]:
        await self._enter("export", account)
        self.exported = draft_index
        return [RenderRef("render_1", draft_index or 0)]

    async def render_status(self, account, ref) -> RenderStatus:
        await self._enter("render_status", account)
        if self.stuck:
            return RenderStatus(ref.render_id, "processing", 40.0)
        return RenderStatus(ref.render_id, "completed", 100.0, url="https://cdn.example/render_1.mp4")

    async def fetch_result(self, url, dest, max_bytes=None):
        return None

    async def cancel(self, account, session) -> bool:
        await self._enter("cancel", account)
        return False

    async def close(self) -> None:
        pass


@pytest.fixture
async def scripted(tmp_path):
    """A Conversation over ScriptedBackend, with real storage and jobs."""
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", nemo_retry_after_s=0.2, nemo_export_timeout_s=0.5)
    db = await Database.open(settings.database_path)
    repos = Repos(db)
    recorder = Recorder()
    backend = ScriptedBackend(repos)
    jobs = JobQueue(repos, recorder, progress_interval=0.01, idle_poll=0.05)
    platforms = Platforms.posting_to(recorder)
    # Telegram and Discord register as their adapters do, without a share channel set.
    platforms.register(Platform("telegram", recorder, share_setting="TELEGRAM_SHARE_CHAT_ID", label="Telegram"))
    platforms.register(Platform("discord", recorder, share_setting="DISCORD_SHARE_CHANNEL_ID", label="Discord"))
    conversation = Conversation(settings, repos, backend, jobs, platforms)
    await jobs.start()
    yield conversation, backend, recorder
    await jobs.stop()
    await db.close()


def last_text(recorder: Recorder) -> str:
    return [r for _, r in recorder.posted if isinstance(r, (TextReply, ErrorReply))][-1].text


ERROR_SENTENCES = [
    # (method, error, message, language, what the sentence must say)
    ("upload", UnsupportedFile("bad", accepted=ACCEPTED_TYPES), "UPLOAD", "en",
     "That file type is not supported. I accept mp4, mov, avi, webm, mkv, jpg, png, gif, webp, mp3, wav, m4a, aac."),
    ("upload", UnsupportedFile("bad", accepted=ACCEPTED_TYPES), "UPLOAD", "zh", "不支持这种文件格式。我支持这些格式：mp4, mov"),
    ("upload", FileTooLarge("big", limit_mb=500, size_mb=812.4), "UPLOAD", "en",
     "That file is 812 MB, over the 500 MB limit. Please trim or compress it"),
    ("upload", FileTooLarge("big", limit_mb=500, size_mb=812.4), "UPLOAD", "zh", "超过了 500 MB 的上限。请先剪短或压缩"),
    ("credits", OutOfCredits("none", available=0, needed=3, register_url="https://nemovideo.com/register?bind=anon_7"),
     "credits", "en",
     "You are out of credits: 0 left, and this needs 3. Register to get more: https://nemovideo.com/register?bind=anon_7"),
    ("credits", OutOfCredits("none", available=2, needed=5), "积分", "zh", "积分不足：剩余 2，本次需要 5。请在 NemoVideo 账户中充值积分。"),
    ("credits", NothingUploaded("none"), "credits", "en", "Send me a video first"),
    ("credits", NothingUploaded("none"), "余额", "zh", "请先发送一个视频"),
    ("export", ExportBlocked("plan"), "/export", "en",
     "Exporting is not included in your current plan: register or upgrade your plan to export."),
    ("export", ExportBlocked("plan"), "导出", "zh", "请注册或升级套餐后再导出"),
    ("credits", RateLimited("slow"), "credits", "en", "The video service is busy right now. Please try again in a minute."),
    ("credits", TokenInvalid("expired"), "credits", "en", "I could not sign in to the video service."),
    ("state", SessionMissing("gone"), "status", "en", "Your editing session was lost. Send the video again"),
    ("state", SessionMissing("gone"), "状态", "zh", "编辑会话已丢失"),
    ("credits", BackendUnavailable("down"), "credits", "en", "The video service is not answering right now."),
    ("open_account", MissingClientId("no id"), "credits", "en", "I could not sign in to the video service."),
]


@pytest.mark.parametrize("method,error,text,lang,sentence", ERROR_SENTENCES,
                         ids=[f"{type(e).__name__}-{m}-{lang}" for m, e, _, lang, _ in ERROR_SENTENCES])
async def test_every_backend_error_becomes_the_right_sentence(scripted, tmp_path, method, error, text, lang, sentence):
    conversation, backend, recorder = scripted
    backend.failures[method] = [error, error]                     # fails again after any recovery
    if text == "UPLOAD":
        video = tmp_path / "talk.mp4"
        video.write_bytes(b"\0" * 10)
        incoming = message("", attachments=(file_attachment(video),), language=lang)
    else:
        incoming = message(text, language=lang)
    await conversation.handle(incoming)
    await conversation.jobs.wait_idle(timeout=10)
    await recorder.wait_for(lambda: any(isinstance(r, ErrorReply) for _, r in recorder.posted), 5)
    [reply] = [r for _, r in recorder.posted if isinstance(r, ErrorReply)]
    assert sentence in reply.text
    assert reply.code == error.code
    if isinstance(error, ExportBlocked):
        assert "credit" not in reply.text.lower() and "积分" not in reply.text


async def test_1001_1002_and_429_are_recovered_once_by_themselves(scripted):
    conversation, backend, recorder = scripted
    await conversation.handle(message("credits"))
    assert backend.tokens == 1 and last_text(recorder).startswith("Credits: 90 available, 10 frozen")

    backend.failures["credits"] = [TokenInvalid("expired")]
    await conversation.handle(message("credits"))
    assert backend.tokens == 2 and last_text(recorder).startswith("Credits: 90 available")

    backend.failures["state"] = [SessionMissing("gone")]
    await conversation.handle(message("status"))
    assert backend.sessions == 2 and "Timeline (1 track)" in last_text(recorder)

    backend.failures["credits"] = [RateLimited("slow", retry_after=30)]
    started = time.monotonic()
    await conversation.handle(message("credits"))
    assert time.monotonic() - started >= 0.2                        # NEMO_RETRY_AFTER_S, not the 30 s asked
    assert last_text(recorder).startswith("Credits: 90 available")

    # inside a job: the chat stream fails before saying anything, and is tried again in a new session
    backend.failures["chat"] = [SessionMissing("gone")]
    await conversation.handle(message("make it punchier"))
    await conversation.jobs.wait_idle(timeout=10)
    assert backend.calls["chat"] == 2 and backend.sessions == 3
    assert "Done: your clips are on the timeline." in recorder.texts()


async def test_a_silent_chat_gets_the_timeline_and_an_export_link(scripted):
    conversation, backend, recorder = scripted
    backend.chat_events = [ChatEvent("tool", data={"name": "edit"}), ChatEvent("done")]
    await conversation.handle(message("add a title 'Hi'"))
    await conversation.jobs.wait_idle(timeout=10)
    assert "Here is where things stand:\nClip 1: Timeline (1 track): 1. Video: talk.mp4 (0-10s)" in recorder.texts()
    await conversation.handle(message("/export"))
    await conversation.jobs.wait_idle(timeout=10)
    [link] = recorder.replies(kind="link")
    assert link.url == "https://cdn.example/render_1.mp4" and backend.exported is None
    await conversation.handle(message("/export 1 1080p"))
    await conversation.jobs.wait_idle(timeout=10)
    assert backend.exported == 0


async def test_groups_answer_only_when_addressed_and_languages_follow_the_person(scripted):
    conversation, backend, recorder = scripted
    await conversation.handle(message("credits", is_group=True))
    assert recorder.posted == [] and backend.calls == {}
    await conversation.handle(message("credits", is_group=True, mentions_bot=True, chat="g1", thread_id="t9"))
    [(ref, reply)] = recorder.posted
    assert (ref.chat_id, ref.thread_id) == ("g1", "t9") and reply.text.startswith("Credits:")
    await conversation.handle(message("/credits", is_group=True, command="credits"))
    await conversation.handle(message("还有多少积分"))
    assert last_text(recorder) == "积分：可用 90，冻结 10（正在运行的任务占用），共 100。"
    await conversation.handle(message("/credits", language="zh-hans"))
    assert last_text(recorder).startswith("积分：")
    await conversation.handle(message("/start", user_name="Ann"))
    assert last_text(recorder).startswith("Hi Ann! I turn long videos into short vertical clips")


async def test_help_is_the_help_and_an_unknown_command_one_short_answer(scripted):
    conversation, backend, recorder = scripted
    help_text = say("en", "help")
    for incoming in (message("/help"), message("/help", command="help"), message("/help@ClipperBot"),
                     message("help"), message("/help", is_group=True, command="help")):
        recorder.posted.clear()
        await conversation.handle(incoming)
        assert [r.text for _, r in recorder.posted] == [help_text], incoming

    recorder.posted.clear()
    await conversation.handle(message("/frobnicate now"))
    [(_, reply)] = recorder.posted
    assert reply.text == f"I don't know /frobnicate — here is what I can do:\n{help_text}"
    recorder.posted.clear()
    await conversation.handle(message("/frobnicate", command="frobnicate", language="zh"))
    [(_, reply)] = recorder.posted
    assert reply.text == f"我不认识 /frobnicate —— 这是我能做的：\n{say('zh', 'help')}"
    assert backend.calls == {}


async def test_share_without_a_share_channel_says_which_setting_is_missing(scripted):
    conversation, backend, recorder = scripted
    await conversation.handle(message("/share 1", platform="telegram", command="share", command_args="1"))
    assert last_text(recorder) == ("No share channel is set up for Telegram: the bot's operator can set "
                                   "TELEGRAM_SHARE_CHAT_ID to a channel the bot may post in.")
    await conversation.handle(message("/share 1", platform="discord", language="zh"))
    assert last_text(recorder) == ("Discord 还没有配置分享频道：机器人的管理员可以把 DISCORD_SHARE_CHANNEL_ID "
                                   "设为机器人能发消息的频道。")
    assert "export" not in backend.calls


async def test_our_own_reasons_are_said_in_chinese(scripted):
    conversation, backend, recorder = scripted
    # fetch.py refuses a link to this machine (ALLOW_PRIVATE_URLS is off): its reason comes in Chinese too.
    await conversation.handle(message("http://127.0.0.1:9/talk.mp4 剪成两个60秒的竖屏短视频"))
    assert last_text(recorder) == "无法下载这个链接：这个链接指向私有或本地网络地址（127.0.0.1），我不能打开。"
    assert "upload" not in backend.calls and "chat" not in backend.calls
    await conversation.handle(message("http://127.0.0.1:9/talk.mp4 cut it"))
    assert last_text(recorder) == ("That link points to a private or local network address (127.0.0.1), "
                                   "which I am not allowed to open.")


async def test_a_clip_the_platform_refused_is_not_marked_sent_nor_charged(scripted, tmp_path):
    conversation, backend, recorder = scripted
    await conversation.handle(message("credits"))
    user = await conversation.repos.users.find("test", "u1")
    await conversation.repos.ledger.grant(user.id, 10)
    clip = tmp_path / "clip-01.mp4"
    clip.write_bytes(b"a short")
    backend.cost = 3
    backend.chat_events = [ChatEvent("text", "Found 1 moment."),
                           ChatEvent("clip", clip=Clip(1, "Why", path=clip)), ChatEvent("done")]
    recorder.refuse["video"] = ConnectionError("Telegram is not answering")

    await conversation.handle(message("cut it"))
    assert await conversation.jobs.wait_idle(timeout=10)
    [refused] = await conversation.repos.jobs.for_user(user.id, "failed")
    assert "posted" not in refused.payload
    assert await conversation.repos.ledger.entries(user.id) == [
        ("grant", 10, None), ("hold", 3, refused.hold_ref), ("release", 3, refused.hold_ref)]
    await recorder.wait_for(lambda: any(getattr(r, "done", False) for r in recorder.replies(kind="progress")), 5)
    assert recorder.replies(kind="progress")[-1].text == "Failed"
    assert last_text(recorder) == ("I could not send clip 1 to this chat (Telegram is not answering), so nothing was "
                                   "charged for it. Say /export to get your clips once the chat works again.")

    recorder.refuse.clear()                                       # the platform is back
    await conversation.handle(message("cut it"))
    assert await conversation.jobs.wait_idle(timeout=10)
    [done] = await conversation.repos.jobs.for_user(user.id, "done")
    [video] = recorder.videos()
    assert done.payload["posted"] == [f"None:{clip}"] and video.path == clip
    assert [b.action for b in video.buttons] == [f"/{verb} draft-{done.session_id}-1" for verb in ("export", "share", "more")]
    assert (await conversation.repos.ledger.balance(user.id)).available == 7


async def test_a_cloud_export_that_never_finishes_is_stopped_with_a_sentence(scripted):
    conversation, backend, recorder = scripted
    backend.stuck = True
    started = time.monotonic()
    await conversation.handle(message("/export"))
    assert await conversation.jobs.wait_idle(timeout=10)
    assert time.monotonic() - started < 5                          # NEMO_EXPORT_TIMEOUT_S is 0.5 s here
    assert backend.calls["cancel"] == 1
    assert last_text(recorder) == ("Export of clip 1 failed: the export took too long (over 1 second), so I stopped it. "
                                   "Nothing was charged; try /export again later")
    await recorder.wait_for(lambda: any(getattr(r, "done", False) for r in recorder.replies(kind="progress")), 5)
    assert recorder.replies(kind="progress")[-1].text == "Failed"

    backend.stuck = False                                          # the next user's export is not held up
    await conversation.handle(message("/export", user="u2"))
    assert await conversation.jobs.wait_idle(timeout=10)
    assert [r.url for r in recorder.replies(kind="link")] == ["https://cdn.example/render_1.mp4"]


async def test_one_persons_messages_are_handled_in_order_and_cancel_never_waits(scripted):
    conversation, backend, recorder = scripted
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
    assert recorder.texts("c1") == ["Media: talk.mp4 (1:01)\nClip 1: Timeline (1 track): 1. Video: talk.mp4 (0-10s)"]
    assert not asking.done()                                       # "status" waits for the upload before it

    await asyncio.wait_for(conversation.handle(message("/cancel", command="cancel")), 5)
    assert last_text(recorder) == "Nothing is running."

    arrived.set()
    await asyncio.wait_for(asyncio.gather(uploading, asking), 5)
    said = recorder.texts("c1")[2:]
    assert said[0].startswith("Got talk.mp4") and said[1].startswith("Media: talk.mp4")
    assert conversation._turns == {}                              # nothing kept once everyone is answered


async def test_two_first_messages_at_once_make_one_session(scripted):
    conversation, backend, recorder = scripted
    await asyncio.gather(*(conversation.handle(message(text)) for text in ("status", "status", "credits")))
    assert backend.sessions == 1 and backend.tokens == 1
    user = await conversation.repos.users.find("test", "u1")
    rows = await conversation.repos.db.fetchall("SELECT COUNT(*) FROM sessions WHERE user_id = ?", (user.id,))
    assert rows[0][0] == 1


def test_every_reason_key_our_code_gives_has_a_chinese_sentence():
    root = Path(__file__).resolve().parents[2]
    sources = ["bot/fetch.py", "bot/edits.py", "bot/backends/local.py", "bot/backends/nemo.py",
               "adapters/discord_events.py"]
    keys = {key for source in sources
            for key in re.findall(r"[\"']((?:fetch|edit|backend)_[a-z_]+)[\"']", (root / source).read_text())}
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

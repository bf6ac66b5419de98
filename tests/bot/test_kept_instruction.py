"""What a person asked together with a link the bot refused is kept: the file they send next, without
words, is cut as they asked, and the bot says so, after a restart too (it is kept in SQLite). Newer words,
or /new, replace it."""
from __future__ import annotations

from tests.bot.chat_helpers import file_attachment, last_text, make_settings, message, started_app
from tests.bot.chat_helpers import warm_talk  # noqa: F401  (fixture)

PRIVATE_LINK = "http://127.0.0.1:9/talk.mp4"        # refused: ALLOW_PRIVATE_URLS is off
ASKED = "cut it into one 10-second vertical short, 360p"


async def test_the_file_after_a_refused_link_is_cut_as_the_link_asked(tmp_path, warm_talk):
    app, recorder = await started_app(make_settings(tmp_path / "data", warm_talk, allow_private_urls=False))
    try:
        await app.conversation.handle(message(f"{ASKED} {PRIVATE_LINK}"))
        refusal, kept = recorder.texts()[-2:]
        assert "private or local network address (127.0.0.1)" in refusal
        assert kept == f'I kept what you asked ("{ASKED}"): send the video and I will do that with it.'
        await app.conversation.handle(message("", attachments=(file_attachment(warm_talk.path),)))
        user = await app.repos.users.find("test", "u1")
        assert await app.jobs.wait_idle(user.id, timeout=300)
        said = recorder.texts()
        assert f'Doing what you asked before: "{ASKED}".' in said, said
        assert not any(t.startswith("Tell me what you want") or "\nTell me what you want" in t for t in said), said
        [job] = await app.repos.jobs.for_user(user.id)
        assert job.kind == "chat" and job.payload["text"] == ASKED
        [short] = recorder.videos()
        assert short.height == 640 and 7 <= short.duration <= 14, (short.height, short.duration)
    finally:
        await app.stop()


async def test_newer_words_or_a_fresh_start_replace_what_was_kept(tmp_path, warm_talk):
    app, recorder = await started_app(make_settings(tmp_path / "data", warm_talk, allow_private_urls=False))
    try:
        await app.conversation.handle(message(f"{PRIVATE_LINK} 剪成一个10秒的竖屏短视频"))
        assert last_text(recorder) == "你的要求（“剪成一个10秒的竖屏短视频”）我记下了：发来视频后，我就照这个做。"
        await app.conversation.handle(message("/new"))
        await app.conversation.handle(message("", attachments=(file_attachment(warm_talk.path),)))
        assert "告诉我你想要什么" in last_text(recorder), last_text(recorder)      # asked what to make: nothing kept
        user = await app.repos.users.find("test", "u1")
        assert await app.repos.jobs.for_user(user.id) == []

        await app.conversation.handle(message(f"{ASKED} {PRIVATE_LINK}", chat="c2"))
        await app.conversation.handle(message("find the funniest moment", chat="c2"))    # newer words
        assert await app.jobs.wait_idle(user.id, timeout=300)
        await app.conversation.handle(message("", attachments=(file_attachment(warm_talk.path),), chat="c2"))
        assert "Tell me what you want" in last_text(recorder), last_text(recorder)
        assert [job.payload["text"] for job in await app.repos.jobs.for_user(user.id)] == ["find the funniest moment"]
    finally:
        await app.stop()


async def test_what_was_kept_outlives_a_restart_and_is_used_once(tmp_path, warm_talk):
    settings = make_settings(tmp_path / "data", warm_talk, allow_private_urls=False)
    app, recorder = await started_app(settings)
    try:
        await app.conversation.handle(message(f"{ASKED} {PRIVATE_LINK}"))
        await app.conversation.handle(message(f"{PRIVATE_LINK} 剪成一个10秒的竖屏短视频", chat="c2"))
        await app.conversation.handle(message("/new", chat="c2"))
    finally:
        await app.stop()
    app, recorder = await started_app(settings)               # the same DATA_DIR: a restart
    try:
        for chat in ("c1", "c2"):
            await app.conversation.handle(message("", attachments=(file_attachment(warm_talk.path),), chat=chat))
        user = await app.repos.users.find("test", "u1")
        assert await app.jobs.wait_idle(user.id, timeout=300)
        # the person's last words were Chinese (in c2), so the file is answered in Chinese
        assert f'按你之前的要求来做：“{ASKED}”。' in recorder.texts("c1"), recorder.texts("c1")
        asked = recorder.texts("c2")[-1]                                  # /new let it go before the restart
        assert "Tell me what you want" in asked or "告诉我你想要什么" in asked, asked
        assert [job.payload["text"] for job in await app.repos.jobs.for_user(user.id)] == [ASKED]
        assert len(recorder.videos("c1")) == 1
        await app.conversation.handle(message("", attachments=(file_attachment(warm_talk.path),)))
        assert "告诉我你想要什么" in last_text(recorder)                   # used once: the next file asks again
    finally:
        await app.stop()

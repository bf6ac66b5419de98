"""The Conversation on the real LocalBackend and engine, through the App's public surface: bad
input gets sentences, two people at once see only their own sessions, media and links, a
restart in the middle of a cut loses nothing and charges once, /cancel stops the render."""
from __future__ import annotations

import asyncio
import re
import socket

import httpx

from bot.texts import say
from tests.bot.chat_helpers import CUT_SMALL, CUT_TEN, ffprobe, file_attachment, last_text, make_settings, message, started_app
from tests.bot.chat_helpers import other_talk, warm_talk  # noqa: F401  (fixtures)


# ---------------------------------------------------------------- with the local engine

async def test_real_bad_input_gets_sentences(tmp_path, warm_talk):
    settings = make_settings(tmp_path / "data", warm_talk, starting_credits=0, max_upload_mb=12,
                             admin_ids=["boss"])
    app, recorder = await started_app(settings)
    try:
        handle = app.conversation.handle
        await handle(message("find the best moments and cut them into 30-second vertical shorts"))
        await app.jobs.wait_idle(timeout=180)
        assert "Send me a video first (a file or a link), then tell me what to cut." in recorder.texts()
        await handle(message("找出精彩片段，剪成30秒的竖屏短视频"))
        await app.jobs.wait_idle(timeout=180)
        assert "请先发送一个视频（文件或链接），然后告诉我要剪什么。" in recorder.texts()
        notes = tmp_path / "notes.txt"
        notes.write_text("hello")
        await handle(message("", attachments=(file_attachment(notes),)))
        assert last_text(recorder).startswith("不支持这种文件格式。"), "a file alone: in the language of her last words"
        await handle(message("credits?"))
        await handle(message("", attachments=(file_attachment(notes),)))
        assert last_text(recorder) == ("That file type is not supported. I accept mp4, mov, m4v, 3gp, avi, webm, mkv, "
                                       "mp3, wav, m4a, aac, ogg, opus, flac, jpg, jpeg, png, gif, webp.")
        await handle(message("", attachments=(file_attachment(notes),), language="zh"))
        assert last_text(recorder).startswith("That file type"), "her last words (English) over the platform's hint"
        await handle(message("", user="u5", attachments=(file_attachment(notes),), language="zh"))
        assert last_text(recorder).startswith("不支持这种文件格式。"), "no words yet: the platform's hint"
        big = tmp_path / "big.mp4"
        big.write_bytes(b"\0" * (13 * 1024 * 1024))
        await handle(message("", attachments=(file_attachment(big),)))
        assert last_text(recorder).startswith("That file is 13 MB, over the 12 MB limit. Please trim or compress it")
        # nothing the person sent stays behind in the download folder
        assert not any((settings.data_dir / "incoming").rglob("*.*"))

        await handle(message("", attachments=(file_attachment(warm_talk.path),)))
        assert last_text(recorder).startswith("Got talk.mp4 (0:40, 640x360).")
        await handle(message(CUT_SMALL))
        await app.jobs.wait_idle(timeout=180)
        assert ("You are out of credits: 0 left, and this needs 1. Ask an admin of this bot for more (/grant)."
                in recorder.texts())
        await handle(message("剪成两个15秒的竖屏短视频"))
        await app.jobs.wait_idle(timeout=180)
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
        await handle(message("/credits"))                    # u1's last words were Chinese
        assert last_text(recorder).startswith("积分：可用 5，冻结 0（正在运行的任务占用），共 5。")
        await handle(message("/share 1", language="en"))
        assert last_text(recorder) == say("zh", "share_no_target"), "her last words over the platform's hint"
        await handle(message("/share 1", user="u4", language="en"))
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
    one_clip = "cut them into 10-second vertical shorts, 1 clip, 360p"
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
        await app.jobs.wait_idle(timeout=180)
        assert "没有任何改变：没有第 3 个片段（你现在有 1 个片段）。" in recorder.texts("chat-ann")

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
        await app.jobs.wait_idle(timeout=180)
        await recorder.wait_for(lambda: recorder.videos("-100share"))
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
        assert await app.jobs.wait_idle(timeout=180) and len(recorder.videos("-100share")) == 1

        # ann's edit (in Chinese: the reply names the tracks in Chinese) renders her clip to a new file: its
        # old link serves nothing, the new one the new file
        await app.conversation.handle(said("ann", "chat-ann", "把第1个片段缩短5秒"))
        await app.jobs.wait_idle(timeout=180)
        [changed] = [t for t in recorder.texts("chat-ann") if t.startswith("已修改：")]
        assert changed.startswith("已修改：\n片段 1：时间线（3 条轨道）：1. 视频：talk.mp4 ") and "2. 字幕：粗体（" in changed
        assert "Timeline" not in changed and "Video" not in changed
        await app.conversation.handle(said("ann", "chat-ann", "状态"))
        assert recorder.texts("chat-ann")[-1].startswith("素材：talk.mp4（0:40）\n")
        assert "\n片段 1：时间线（3 条轨道）：1. 视频：talk.mp4 " in recorder.texts("chat-ann")[-1]
        edited = recorder.videos("chat-ann")[-1]
        assert edited.clip_id == ann_video.clip_id and edited.path != ann_video.path
        async with httpx.AsyncClient() as http:
            old = await http.get(ann_video.link)
            assert old.status_code == 404 and old.content != edited.path.read_bytes()
            assert (await http.get(edited.link)).content == edited.path.read_bytes()

        # ann's own Share button under her clip shares that clip, wherever she presses it
        await app.conversation.handle(said("ann", "group", actions["Share"], is_group=True, reply_to_bot=True))
        await app.jobs.wait_idle(timeout=180)
        await recorder.wait_for(lambda: len(recorder.videos("-100share")) == 2)
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
        await app.conversation.handle(message(CUT_TEN))
        await recorder.wait_for(lambda: len(recorder.videos()) == 1)   # clip 1 is out, clip 2 is rendering
    finally:
        await app.stop()                                         # the database and the workers close
    first = recorder.videos()[0]
    user = None

    app, recorder = await started_app(settings)                 # a new process would do the same
    try:
        user = await app.repos.users.find("test", "u1")
        await app.jobs.wait_idle(user.id, timeout=180)
        await recorder.wait_for(lambda: recorder.replies(kind="video"))
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
        assert await app.jobs.wait_idle(user.id, timeout=180)
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


async def test_a_chinese_edit_changes_the_clip_it_names(tmp_path, warm_talk):
    settings = make_settings(tmp_path / "data", warm_talk)
    app, recorder = await started_app(settings)
    try:
        await app.conversation.handle(message("", attachments=(file_attachment(warm_talk.path),)))
        await app.conversation.handle(message(CUT_TEN))
        await app.jobs.wait_idle(timeout=180)
        first, second = recorder.videos()
        await app.conversation.handle(message("把片段2缩短3秒"))
        await app.jobs.wait_idle(timeout=180)
        [changed] = [t for t in recorder.texts() if t.startswith("已修改：")]
        assert changed.startswith("已修改：\n片段 2：时间线（3 条轨道）：1. 视频：talk.mp4 ") and "片段 1" not in changed
        [edited] = recorder.videos()[2:]                     # clip 2 alone is rendered again, shorter
        assert edited.clip_id == second.clip_id and edited.caption.startswith("#2 ")
        assert edited.duration < second.duration - 1.0
        assert first.path.is_file()                          # clip 1's file is still its current one
        # the edges keep to sentences: a length over a second from the one asked is said (here it is within one)
        assert ("片段 2 现在是" in changed) == (abs(edited.duration - (second.duration - 3)) > 1.0)
    finally:
        await app.stop()

"""The real Telegram adapter, the real App and the local engine, against a fake Bot API on loopback.

One bot runs for the whole module (starting it and cutting a talk is the expensive part); each
test talks to it as a different person or in a different chat, the way Telegram users would, and
reads what the bot sent from the fake server's record of Bot API calls. The talk is the run's
made-up one, whose transcript the run's engine cache already holds (tests/bot/chat_helpers.py).

This fake Telegram takes 50 messages a second in a private chat (the real one about one): the
chat's pacer still decides what goes out first; how it spaces messages at Telegram's own rates is
tested with a frozen clock in test_rate_limits.py and test_group_budget.py.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from bot.messages import ChatRef, VideoReply
from bot.texts import say
from tests.bot.chat_helpers import warm_talk  # noqa: F401  (fixture)
from tests.media import make_video, tone, write_wav
from tests.telegram import bot_api_objects as tg
from tests.telegram.fake_bot_api import Call
from tests.telegram.world import BOT_NAME, RETRY_DELAYS, free_port, probe, running_bot, talk_seconds

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

SHARE_CHANNEL = "@shorts_channel"
CAPTION = "cut this into a 15-second short for TikTok with captions, 360p"   # small: size is not the point here
GROUP_CUT = "cut this into a 10-second short, 360p"
MB = 1024 * 1024


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory, warm_talk):
    port = free_port()
    async with running_bot(tmp_path_factory.mktemp("telegram-e2e"), warm=warm_talk, telegram_share_chat_id=SHARE_CHANNEL,
                           public_base_url=f"http://127.0.0.1:{port}", http_port=port,
                           link_secret="telegram-e2e-secret") as world:
        yield world


@pytest.fixture(scope="module")
def small_video(tmp_path_factory) -> Path:
    """Two seconds of picture and tone, 320x180: for tests about files, not about cutting."""
    folder = tmp_path_factory.mktemp("small")
    wav = write_wav(tone(2.0), folder / "tone.wav")
    return make_video(folder / "small.mp4", wav, 2.0, size="320x180")


ADA = tg.user(1001, "Ada", "ada")
ADA_CHAT = tg.private_chat(ADA)


@dataclass
class Cut:
    mark: int          # the first call that can answer the video message
    video: Call        # the short, sent back
    done: int          # the call that set the progress message to "Done"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def private_cut(world, warm_talk) -> Cut:
    """Ada sends the talk with the caption, in one message, and gets her short back.

    The first progress edit is answered with 429 (retry after 1 s), as Telegram does under flood."""
    file = world.fake.add_file(warm_talk.path)
    world.fake.fail_next("editMessageText", status=429, description="Too Many Requests: retry after 1", retry_after=1)
    mark = world.send(tg.message_update(ADA_CHAT, ADA, caption=CAPTION,
                                        media=tg.video_fields(file, duration=talk_seconds(warm_talk))))
    video = await world.fake.wait_for(
        lambda c: c.method == "sendVideo" and c.status == 200 and c.chat_id == "1001", after=mark, timeout=240)
    # The job ends by editing its progress message to "Done".
    done = await world.fake.wait_for(lambda c: c.method == "editMessageText" and c.status == 200
                                     and c.params.get("text") == "Done", after=mark, timeout=30)
    return Cut(mark, video, world.fake.calls.index(done))


async def test_bot_registers_its_commands_at_start(world):
    english, chinese = world.fake.calls_to("setMyCommands")
    names = [command["command"] for command in english.params["commands"]]
    assert {"start", "help", "export", "status", "credits", "share", "cancel"} <= set(names)
    assert "language_code" not in english.params and english.params["commands"][0]["description"] == "What this bot does"
    assert chinese.params["language_code"] == "zh"            # the menu a Chinese-speaking user sees
    assert [c["command"] for c in chinese.params["commands"]] == names
    assert chinese.params["commands"][0]["description"] == "这个机器人能做什么"


async def test_video_with_caption_comes_back_as_a_vertical_short(world, private_cut, warm_talk):
    fake, mark = world.fake, private_cut.mark
    # The file was fetched through getFile and the file path, once.
    assert [c.status for c in fake.calls[mark:] if c.method in ("getFile", "download")] == [200, 200]
    [got] = [c.params["text"] for c in world.sent_to(1001, mark, "sendMessage")
             if c.params.get("text", "").startswith("Got talk.mp4")]
    # The caption said what to make: no "tell me what you want", straight to the cut.
    seconds = probe(warm_talk.path)["duration"]
    assert got in {f"Got talk.mp4 ({s // 60}:{s % 60:02d}, 640x360)." for s in (int(seconds), int(seconds) + 1)}, got

    video = private_cut.video
    assert (video.params["width"], video.params["height"]) == ("360", "640")
    assert video.params["supports_streaming"] == "true"
    uploaded = video.file("video")
    assert uploaded is not None and uploaded.size > 50_000
    shown = probe(uploaded.path)
    assert (shown["width"], shown["height"]) == (360, 640)
    assert 10 <= int(video.params["duration"]) <= 20, "a 15-second short, cut on sentence edges"
    assert abs(shown["duration"] - int(video.params["duration"])) <= 1.0
    thumbnail = video.file("thumbnail")
    assert thumbnail is not None and 0 < thumbnail.size <= 200 * 1024
    assert video.params["parse_mode"] == "HTML" and "#1" in video.params["caption"]
    actions = [b["callback_data"] for row in video.params["reply_markup"]["inline_keyboard"] for b in row]
    assert len(actions) == 3
    clip = actions[0].split()[-1]                        # each button names the clip it sits under
    assert clip.startswith("clip-") and actions == [f"/export {clip}", f"/share {clip}", f"/more {clip}"]

    # "uploading video…" was shown while the upload ran.
    actions_shown = [c for c in fake.calls[mark:] if c.method == "sendChatAction" and c.chat_id == "1001"]
    assert any(c.params["action"] == "upload_video" and c.at <= video.at for c in actions_shown)


async def test_progress_is_one_message_edited_in_place_and_429_is_waited_out(world, private_cut):
    fake, mark = world.fake, private_cut.mark
    edits = [c for c in fake.calls[mark:private_cut.done + 1] if c.method == "editMessageText"]
    progress_ids = {int(c.params["message_id"]) for c in edits}
    assert len(progress_ids) == 1, "one progress message per job"
    [progress_id] = progress_ids
    [created] = [c for c in fake.calls[mark:] if c.method == "sendMessage" and c.status == 200
                 and c.result["message_id"] == progress_id]
    assert created.at < edits[0].at

    limited = [c for c in edits if c.status == 429]
    assert len(limited) == 1
    retried = next(c for c in edits if c.at > limited[0].at)
    assert retried.status == 200 and retried.params["text"] == limited[0].params["text"]
    assert retried.at - limited[0].at >= 1.0, "the edit waited the retry_after Telegram asked for"

    ok = [c for c in edits if c.status == 200]
    assert len(ok) >= 2
    assert fake.message(1001, int(progress_id))["text"] == "Done"


async def test_export_sends_the_short_again(world, private_cut):
    mark = world.send(tg.message_update(ADA_CHAT, ADA, "/export"))
    video = await world.fake.wait_for(lambda c: c.method == "sendVideo" and c.status == 200 and c.chat_id == "1001",
                                      after=mark, timeout=60)
    assert (video.params["width"], video.params["height"]) == ("360", "640")
    assert abs(int(video.params["duration"]) - int(private_cut.video.params["duration"])) <= 1


async def test_credits_question_is_answered_even_through_a_502(world, private_cut):
    world.fake.fail_next("sendMessage", status=502, description="Bad Gateway")
    mark = world.send(tg.message_update(ADA_CHAT, ADA, "credits?"))
    answer = await world.reply_text(1001, mark, r"Credits: \d+ available")
    available = int(re.search(r"Credits: (\d+) available, (\d+) frozen", answer.params["text"]).group(1))
    assert available < world.settings.starting_credits, "the 2-minute cut was charged"
    failed = [c for c in world.fake.calls[mark:] if c.method == "sendMessage" and c.status == 502]
    assert len(failed) == 1 and failed[0].params["text"] == answer.params["text"]
    assert answer.at - failed[0].at >= RETRY_DELAYS[0], "retried after a backoff"


async def test_status_lists_the_video_and_the_clip(world, private_cut):
    mark = world.send(tg.message_update(ADA_CHAT, ADA, "status"))
    answer = await world.reply_text(1001, mark, r"Media: ")
    assert "talk" in answer.params["text"] and "Clip 1:" in answer.params["text"]


async def test_share_button_answers_the_callback_and_posts_to_the_share_channel(world, private_cut):
    message = world.fake.message(1001, private_cut.video.result["message_id"])
    mark = world.send(tg.callback_update(ADA, "/share 1", message))
    answered = await world.fake.wait_for(lambda c: c.method == "answerCallbackQuery", after=mark)
    shared = await world.fake.wait_for(lambda c: c.method == "sendVideo" and c.status == 200
                                       and c.chat_id == SHARE_CHANNEL, after=mark, timeout=60)
    assert answered.at <= shared.at
    assert (shared.params["width"], shared.params["height"]) == ("360", "640")
    assert "reply_markup" not in shared.params, "a shared short has no buttons"
    await world.reply_text(1001, mark, r"Shared clip 1\.")
    await world.job_ended(1001, mark)


async def test_a_share_channel_that_refuses_the_bot_is_explained_to_the_person_who_shared(world, private_cut):
    world.fake.fail_next("sendVideo", status=403, description="Forbidden: bot is not a member of the channel chat")
    mark = world.send(tg.message_update(ADA_CHAT, ADA, "/share 1"))
    answer = await world.reply_text(1001, mark, r"could not post clip 1 to the share channel", timeout=60)
    text = answer.params["text"]
    assert "bot is not a member of the channel chat" in text
    assert "add the bot to that channel as an admin" in text and "TELEGRAM_SHARE_CHAT_ID" in text
    [refused] = [c for c in world.fake.calls[mark:] if c.method == "sendVideo"]
    assert refused.chat_id == SHARE_CHANNEL and refused.status == 403
    # The share job ends as failed (its progress says so); nothing else is said about it.
    await world.job_ended(1001, mark, "progress_failed")
    said = [c.params.get("text", "") for c in world.sent_to(1001, mark, "sendMessage")]
    assert not [t for t in said if re.search("Shared clip|Something went wrong|nothing to export", t)], said


async def test_upload_refused_by_telegram_becomes_a_working_download_link(world, private_cut):
    world.fake.fail_next("sendVideo", status=400, description="Bad Request: file is too big")
    mark = world.send(tg.message_update(ADA_CHAT, ADA, "/export"))
    answer = await world.reply_text(1001, mark, r"/f/", timeout=60)
    url = re.search(r'href="([^"]+)"', answer.params["text"]).group(1).replace("&amp;", "&")
    assert url.startswith(world.settings.public_base_url)
    async with httpx.AsyncClient() as client:
        response = await client.get(url)
    assert response.status_code == 200
    assert len(response.content) == private_cut.video.file("video").size
    await world.job_ended(1001, mark)        # the next test counts this chat's messages


async def test_without_a_link_server_a_refused_upload_is_explained(world, private_cut):
    short = private_cut.video.file("video").path            # the short the bot sent, as a file on disk
    reply = VideoReply(short, 1080, 1920, 30.0, title="Pricing", caption="#pricing")   # no clip id: no link
    world.fake.fail_next("sendVideo", status=400, description="Bad Request: file is too big")
    mark = len(world.fake.calls)
    await world.adapter.send(ChatRef("telegram", "1001"), reply)
    [refused] = [c for c in world.fake.calls[mark:] if c.method == "sendVideo"]
    [answer] = world.sent_to(1001, mark, "sendMessage")
    assert refused.status == 400
    assert "Telegram did not take the video upload" in answer.params["text"]
    assert "PUBLIC_BASE_URL" in answer.params["text"]
    # to a Chinese speaker, in Chinese
    world.fake.fail_next("sendVideo", status=400, description="Bad Request: file is too big")
    mark = len(world.fake.calls)
    await world.adapter.send(ChatRef("telegram", "1001"), dataclasses.replace(reply, language="zh"))
    [answer] = world.sent_to(1001, mark, "sendMessage")
    assert answer.params["text"].startswith("Telegram 没有接收这个视频上传。这个机器人没有设置下载链接服务器")
    assert "PUBLIC_BASE_URL" in answer.params["text"]


async def test_a_slow_upload_keeps_showing_uploading_video(world, private_cut):
    short = private_cut.video.file("video").path
    # The upload is answered only once the bot has shown the action again (every CHAT_ACTION_EVERY_S).
    world.fake.hold_next("sendVideo", until=lambda c: c.method == "sendChatAction" and c.chat_id == "1001")
    mark = len(world.fake.calls)
    await world.adapter.send(ChatRef("telegram", "1001"), VideoReply(short, 1080, 1920, 30.0, caption="#slow"))
    [video] = [c for c in world.fake.calls[mark:] if c.method == "sendVideo"]
    shown = [c.at for c in world.fake.calls[mark:] if c.method == "sendChatAction"
             and c.params["action"] == "upload_video"]
    assert shown[0] <= video.at and any(at > video.at for at in shown), "shown before the upload and again during it"


GRACE = tg.user(1002, "Grace", "grace")
GROUP = tg.group_chat(-1001987654321, "Video editors")


async def test_group_ignores_plain_talk_and_answers_a_reply_to_the_bot(world):
    mark = world.send(tg.message_update(GROUP, GRACE, f"/start@{BOT_NAME}"))
    welcome = await world.reply_text(GROUP["id"], mark, r"^Hi Grace")
    assert welcome.params["reply_parameters"]["message_id"] is not None
    welcome_message = world.fake.message(GROUP["id"], welcome.result["message_id"])

    plain = tg.message_update(GROUP, GRACE, "has anyone seen the new episode?")
    after_plain = world.send(plain)
    reply = tg.message_update(GROUP, GRACE, "how many credits do I have?", reply_to=welcome_message)
    world.send(reply)
    answer = await world.reply_text(GROUP["id"], after_plain, r"Credits: \d+ available")
    assert answer.params["reply_parameters"]["message_id"] == reply["message"]["message_id"]
    to_group = world.sent_to(GROUP["id"], after_plain)
    assert to_group == [answer], "nothing was said about the plain message"


async def test_oversized_file_gets_a_clear_answer_and_no_download(world):
    bob = tg.user(1003, "Bob", "bob")
    huge = world.fake.add_file(None, size=25 * MB)
    mark = world.send(tg.message_update(tg.private_chat(bob), bob, caption="find the best moments",
                                        media=tg.video_fields(huge, file_name="conference.mp4", duration=3600)))
    answer = await world.reply_text(1003, mark, r"20 MB")
    text = answer.params["text"]
    assert "25 MB" in text and "link" in text and "docker-compose" in text
    assert not [c for c in world.fake.calls[mark:] if c.method in ("getFile", "download")]
    assert world.sent_to(1003, mark) == [answer], "one clear answer, nothing else"


async def test_a_chinese_speakers_oversized_files_are_refused_in_chinese(world):
    """Telegram will not hand over 25 MB; this bot takes 500 MB: both said before any download, in Chinese."""
    mei = tg.user(1010, "美", "mei", language_code="zh-hans")
    chat = tg.private_chat(mei)
    huge = world.fake.add_file(None, size=25 * MB)
    mark = world.send(tg.message_update(chat, mei, media=tg.video_fields(huge, file_name="会议.mp4", duration=3600)))
    answer = await world.reply_text(1010, mark, r"^“会议\.mp4”有 25 MB，但 Telegram 只允许机器人下载不超过 20 MB 的文件")
    assert "docker-compose 里的本地 Bot API 服务器" in answer.params["text"]
    assert not [c for c in world.fake.calls[mark:] if c.method in ("getFile", "download")]
    world.adapter.download_limit_mb = 2000               # as with the local Bot API server, which hands over 2000 MB
    try:
        enormous = world.fake.add_file(None, size=600 * MB)
        mark = world.send(tg.message_update(chat, mei, caption="剪成三个短视频",
                                            media=tg.video_fields(enormous, file_name="全天.mp4", duration=3600)))
        await world.reply_text(1010, mark, r"^“全天\.mp4”有 600 MB；这个机器人只接收不超过 500 MB 的文件。")
    finally:
        world.adapter.download_limit_mb = 20
    assert not [c for c in world.fake.calls[mark:] if c.method in ("getFile", "download")]


async def test_a_failing_update_is_logged_with_its_id_and_the_user_gets_an_apology(world, caplog):
    carol = tg.user(1004, "Carol", "carol")
    # The welcome and then the conversation's own error message are both refused by "Telegram":
    # the update fails in the adapter, which is what the error handler is for.
    world.fake.fail_next("sendMessage", status=400, description="Bad Request: can't parse entities", times=2)
    update = tg.message_update(tg.private_chat(carol), carol, "/start")
    with caplog.at_level(logging.ERROR, logger="adapters.telegram_adapter"):
        mark = len(world.fake.calls)
        update_id = world.fake.queue_update(update)
        apology = await world.reply_text(1004, mark, re.escape(say("en", "telegram_apology")))
    assert any(r.getMessage() == f"Telegram update {update_id} failed" and r.exc_info for r in caplog.records)
    assert apology.params["text"] == "Sorry, something went wrong with that message. Please try again in a moment."
    refused = [c for c in world.fake.calls[mark:] if c.method == "sendMessage" and c.status == 400]
    assert len(refused) == 2, "a 400 is an answer, not retried"

    lin = tg.user(1011, "林", "lin", language_code="zh-hans")
    world.fake.fail_next("sendMessage", status=400, description="Bad Request: can't parse entities", times=2)
    mark = len(world.fake.calls)
    world.fake.queue_update(tg.message_update(tg.private_chat(lin), lin, "/start"))
    apology = await world.reply_text(1011, mark, re.escape(say("zh", "telegram_apology")))
    assert apology.params["text"] == "抱歉，处理这条消息时出了问题。请稍后再试。"



async def test_a_download_that_fails_on_the_network_is_retried(world, small_video):
    dan = tg.user(1005, "Dan", "dan")
    file = world.fake.add_file(small_video)
    world.fake.fail_next("download", status=503, description="Service Unavailable")
    mark = world.send(tg.message_update(tg.private_chat(dan), dan, media=tg.video_fields(file, file_name="small.mp4", duration=2)))
    await world.reply_text(1005, mark, r"Got small\.mp4 \(0:02, 320x180\)")
    assert [c.status for c in world.fake.calls[mark:] if c.method == "download"] == [503, 200]


async def test_a_voice_message_is_taken_as_sound_for_background_music(world, tmp_path):
    """Telegram sends voice as Ogg/Opus, named here voice-<id>.ogg: the probe reads it for what it is."""
    fay = tg.user(1007, "Fay", "fay")
    voice = tmp_path / "voice.ogg"
    subprocess.run(["ffmpeg", "-y", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=330:duration=2",
                    "-c:a", "libopus", "-b:a", "24k", str(voice)], check=True)
    file = world.fake.add_file(voice, subdir="voice")
    media = {"voice": {**file, "duration": 2, "mime_type": "audio/ogg"}}
    mark = world.send(tg.message_update(tg.private_chat(fay), fay, media=media))
    answer = await world.reply_text(1007, mark, r"Got voice-\S+\.ogg")
    assert "(0:02)" in answer.params["text"] and "background music" in answer.params["text"]
    assert not [c for c in world.sent_to(1007, mark) if "not supported" in c.params.get("text", "")]


async def test_a_clip_telegram_refuses_is_not_marked_sent_nor_charged(world, warm_talk):
    """Telegram answers the short's upload with 403 (the person blocked the bot meanwhile): the job
    fails, its held credits go back and the person hears why; once Telegram takes videos again,
    the same request is delivered and charged once."""
    gil = tg.user(1008, "Gil", "gil")
    chat = tg.private_chat(gil)
    file = world.fake.add_file(warm_talk.path)               # analysed already: the engine's cache has it
    mark = world.send(tg.message_update(chat, gil, media=tg.video_fields(file, duration=talk_seconds(warm_talk))))
    await world.reply_text(1008, mark, r"Got talk\.mp4")
    user = await world.app.repos.users.find("telegram", "1008")
    one_clip = "cut one 10-second vertical short, 1 clip, 360p"

    world.fake.fail_next("sendVideo", status=403, description="Forbidden: bot was blocked by the user")
    mark = world.send(tg.message_update(chat, gil, one_clip))
    await world.reply_text(1008, mark, r"could not send clip 1", timeout=120)
    assert await world.app.jobs.wait_idle(user.id, timeout=180)
    [refused] = await world.app.repos.jobs.for_user(user.id, "failed")
    assert "posted" not in refused.payload
    entries = await world.app.repos.ledger.entries(user.id)
    held = entries[1][1]
    assert held > 0 and entries == [("grant", world.settings.starting_credits, None), ("hold", held, refused.hold_ref),
                                    ("release", held, refused.hold_ref)]
    [answer] = [c for c in world.sent_to(1008, mark, "sendMessage") if "could not send" in c.params["text"]]
    assert answer.params["text"] == ("I could not send clip 1 to this chat (Forbidden: bot was blocked by the user), "
                                     "so nothing was charged for it. Say /export to get your clips once the chat "
                                     "works again.")
    assert [c.status for c in world.fake.calls[mark:] if c.method == "sendVideo"] == [403]

    mark = world.send(tg.message_update(chat, gil, one_clip))       # Telegram takes videos again
    video = await world.fake.wait_for(lambda c: c.method == "sendVideo" and c.status == 200 and c.chat_id == "1008",
                                      after=mark, timeout=120)
    assert await world.app.jobs.wait_idle(user.id, timeout=180)
    [done] = await world.app.repos.jobs.for_user(user.id, "done")
    clip = max(await world.app.repos.clips.for_session(done.session_id), key=lambda c: c.id)
    assert done.payload["posted"] == [f"{clip.id}:{clip.output_path}"]
    assert video.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == f"/export clip-{clip.id}"
    assert (await world.app.repos.ledger.balance(user.id)).available == world.settings.starting_credits - held


async def test_local_bot_api_server_files_are_copied_from_disk_and_may_be_large(tmp_path, small_video):
    async with running_bot(tmp_path, local_mode=True) as local:
        eve = tg.user(1006, "Eve", "eve")
        # Telegram says 25 MB: too big for the cloud API, fine for a local server.
        file = local.fake.add_file(small_video, size=25 * MB)
        mark = local.send(tg.message_update(tg.private_chat(eve), eve, media=tg.video_fields(file, file_name="small.mp4", duration=2)))
        await local.reply_text(1006, mark, r"Got small\.mp4 \(0:02, 320x180\)")
        [get_file] = [c for c in local.fake.calls[mark:] if c.method == "getFile"]
        assert Path(get_file.result["file_path"]).is_absolute()
        assert not [c for c in local.fake.calls if c.method == "download"], "nothing fetched over HTTP"


async def test_a_cut_in_a_group_sends_few_messages_there(world, warm_talk):
    """In a group (20 messages a minute shared by everyone) one cut says "got it" and its queue
    place in one message, the service's words go in the clip's caption, and its progress message
    is edited at most at its end (the spacing is set wider than the job here)."""
    world.adapter.group_progress_every_s = 3600.0
    try:
        file = world.fake.add_file(warm_talk.path)
        mark = world.send(tg.message_update(GROUP, GRACE, caption=f"@{BOT_NAME} {GROUP_CUT}",
                                            media=tg.video_fields(file, duration=talk_seconds(warm_talk))))
        await world.fake.wait_for(lambda c: c.method == "sendVideo" and c.status == 200
                                  and c.chat_id == str(GROUP["id"]), after=mark, timeout=240)
        assert await world.app.jobs.wait_idle(timeout=180)
        for _ in range(300):                     # the progress message's last state, if any, is out
            if not world.adapter._progress:
                break
            await asyncio.sleep(0.1)
    finally:
        world.adapter.group_progress_every_s = 30.0
    sent = world.sent_to(GROUP["id"], mark)
    texts = [c.params["text"] for c in sent if c.method == "sendMessage"]
    [video] = [c for c in sent if c.method == "sendVideo"]
    edits = [c.params["text"] for c in sent if c.method == "editMessageText"]
    assert texts[0].startswith("Got talk.mp4") and len(texts) <= 2, texts     # "got it" (+ a progress message)
    assert all(t.startswith("Got") or not re.search(r"short|clip", t, re.I) for t in texts), texts
    assert len(edits) <= 1 and all(e == "Done" for e in edits), edits
    assert "#1" in video.params["caption"] and len(sent) <= 4

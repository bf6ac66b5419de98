"""The Discord adapter end to end: the real App (SQLite, job workers, the local engine, signed
links) and discord.py, against the fake Discord on loopback (REST and gateway).

The bot starts as in production (`DiscordAdapter.start`: login, slash command sync, gateway
connection) and the test plays Discord: it dispatches INTERACTION_CREATE and MESSAGE_CREATE
events through the gateway and reads what the bot sent to the REST API.

The run's made-up talk (espeak-ng over testsrc2, 640x360, ~40 s; its transcript is in the run's
engine cache, tests/bot/chat_helpers.py), sent as keynote.mp4, is cut twice into a small (360p)
short: once from a slash command in a server (thread, progress, link because the interaction's
upload limit is tiny, then Share to the share channel as a file upload), once from a DM (file
upload, no thread). The other tests need no rendering.
"""
from __future__ import annotations

import os
import re
import socket
import subprocess
from pathlib import Path
from types import SimpleNamespace

import aiohttp
import discord
import pytest
import pytest_asyncio
import yarl

from adapters.discord_adapter import DiscordAdapter
from shortsbot.app import App
from bot.messages import ChatRef, ProgressReply, TextReply, VideoReply
from bot.settings import Settings
from bot.texts import say
from tests.bot.chat_helpers import link_cache
from tests.bot.chat_helpers import warm_talk  # noqa: F401  (fixture)
from tests.discord.fake_discord import LOADING_FLAG, FakeDiscord

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

INSTRUCTION = "1 vertical short of 10 seconds, 360p"   # small: size is not the point here
TINY_LIMIT = 256 * 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def talk(warm_talk, tmp_path_factory) -> Path:
    """The run's talk under the name a person gave it (a hard link: the same bytes, so the same transcript)."""
    path = tmp_path_factory.mktemp("discord-talk") / "keynote.mp4"
    path.hardlink_to(warm_talk.path)
    return path


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(tmp_path_factory, warm_talk):
    folder = tmp_path_factory.mktemp("discord-e2e")
    link_cache(warm_talk.cache, folder / "data")
    fake = await FakeDiscord(folder / "fake").start()
    makers = fake.add_guild("Makers")
    general = fake.add_text_channel(makers, "general")
    showcase = fake.add_guild("Showcase")
    shorts = fake.add_text_channel(showcase, "shorts")
    alice, bob = fake.add_user("alice"), fake.add_user("bob")
    port = free_port()
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith(("TELEGRAM_", "DISCORD_", "NEMO_")) or name in {"BACKEND", "DATA_DIR", "PUBLIC_BASE_URL"}:
                patch.delenv(name)
        patch.setattr(discord.http.Route, "BASE", discord.http.Route.BASE)   # restored after the module
        patch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(fake.gateway_url))
        settings = Settings(_env_file=None, data_dir=folder / "data", discord_bot_token=fake.token,
                            discord_api_url=fake.api_url, discord_share_channel_id=int(shorts["id"]),
                            public_base_url=f"http://127.0.0.1:{port}", http_port=port, link_secret="e2e-secret",
                            x264_preset="ultrafast")
        app = App(settings)
        await app.start()
        adapter = DiscordAdapter(app)
        try:
            await adapter.start()
            await fake.wait_connected()
            await fake.wait_for(lambda: adapter.client.get_guild(int(makers["id"])) is not None
                                and adapter.client.get_guild(int(showcase["id"])) is not None, what="GUILD_CREATE")
            yield SimpleNamespace(fake=fake, app=app, adapter=adapter, general=general, shorts=shorts,
                                  alice=alice, bob=bob, makers=makers, base_url=settings.public_base_url)
        finally:
            await app.stop()             # jobs end first, while Discord can still take their last words
            await adapter.stop()
            await fake.close()


async def command(bot, channel: dict, user: dict, name: str, options: dict | None = None, **kw):
    """Dispatches a slash command and waits for the bot to acknowledge it."""
    payload = bot.fake.command_interaction(channel, user, name, options, **kw)
    await bot.fake.dispatch("INTERACTION_CREATE", payload)
    interaction = bot.fake.interactions[payload["token"]]
    await bot.fake.wait_for(lambda: interaction.acknowledged_at is not None, 5, f"/{name} to be acknowledged")
    return interaction


def custom_ids(message: dict) -> list[str]:
    return [c["custom_id"] for row in message["components"] for c in row["components"]]


def answered_first(fake, interaction) -> bool:
    """The interaction's callback came before any other call the bot made with its token."""
    token = interaction.payload["token"]
    about = [c for c in fake.calls if token in c.path]
    return bool(about) and about[0].route.endswith("/callback") and about[0].status == 200


def video_size(path: Path) -> str:
    return subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height",
                           "-of", "csv=p=0:s=x", str(path)], capture_output=True, text=True, check=True).stdout.strip()


# ---------------------------------------------------------------------------- start

async def test_start_logs_in_syncs_commands_and_identifies_without_privileged_intents(bot):
    [put] = bot.fake.calls_to("PUT /applications/{application_id}/commands")
    names = sorted(c["name"] for c in put.body)
    assert names == ["cancel", "clip", "credits", "export", "help", "new", "share", "status"]
    clip = next(c for c in put.body if c["name"] == "clip")
    assert [(o["name"], o["type"], o["required"]) for o in clip["options"]] == [("video", 11, True),
                                                                                ("instruction", 3, False)]
    # described in Chinese for Chinese-speaking users (Discord's zh-CN and zh-TW locales), in English for the rest
    assert clip["description"] == "Cut a long video into short vertical clips"
    assert clip["description_localizations"] == {"zh-CN": "把长视频剪成竖屏短视频", "zh-TW": "把长视频剪成竖屏短视频"}
    assert clip["options"][1]["description_localizations"]["zh-CN"] == "你的要求，例如：三个60秒的竖屏短视频"
    assert all(c["description_localizations"]["zh-CN"] for c in put.body)
    intents = discord.Intents._from_value(bot.fake.identify[0]["intents"])
    assert intents.guild_messages and intents.dm_messages and intents.guilds
    assert not (intents.message_content or intents.members or intents.presences)


# ---------------------------------------------------------------------------- the main path in a server

async def test_clip_in_a_server_thread_progress_link_then_share(bot, talk):
    fake = bot.fake
    video = fake.host_file(talk)
    interaction = await command(bot, bot.general, bot.alice, "clip", {"video": video, "instruction": INSTRUCTION},
                                attachment_size_limit=TINY_LIMIT)

    # Deferred at once (type 5: "thinking"): the fake, like Discord, takes it only within 3 seconds,
    # and it is the first thing the bot did for the interaction.
    assert interaction.callback_type == 5
    assert answered_first(fake, interaction)
    response_id = interaction.original_message_id

    # The attachment was streamed from its URL, and the upload is answered in the deferred response.
    await fake.wait_for(lambda: "keynote.mp4" in fake.messages[response_id]["content"], what="the upload answer")
    assert len(fake.downloads) == 1

    # The job opens a thread on the response; progress and results go there.
    thread = await fake.wait_for(lambda: fake.channels.get(response_id), what="a thread on the response")
    assert thread["type"] == 11 and thread["parent_id"] == bot.general["id"]
    assert thread["name"] == f"Shorts: {INSTRUCTION}"
    link_pattern = re.compile(re.escape(bot.base_url) + r"/f/\S+")
    [result] = await fake.wait_for(
        lambda: [m for m in fake.sent_by_bot(thread["id"]) if link_pattern.search(m["content"])], 180, "the clip")
    assert result["attachments"] == []                      # over the interaction's 256 KiB: a link, no upload
    assert "Here is a download link" in result["content"]
    url = link_pattern.search(result["content"]).group(0)
    clip = await bot.app.repos.clips.get(int(yarl.URL(url).parts[2].split("-")[0]))   # /f/<clip id>-<file>/<file>
    assert yarl.URL(url).parts[3] == Path(clip.output_path).name
    # The buttons name this clip, so a press acts on it whoever presses and whenever.
    assert custom_ids(result) == [f"shortsbot:/{verb} clip-{clip.id}" for verb in ("export", "share", "more")]

    # One progress message, edited in place, ending "Done" (how often: the job's throttle, bot/jobs.py).
    progress = fake.sent_by_bot(thread["id"])[0]
    await fake.wait_for(lambda: progress["content"] == say("en", "progress_done"), what="the last progress edit")
    edits = fake.edits[int(progress["id"])]
    assert edits, "the progress message was never edited"
    thread_calls = fake.calls_to("POST /channels/{channel_id}/messages/{message_id}/threads")
    assert [c.path for c in thread_calls if str(response_id) in c.path] == [
        f"/channels/{bot.general['id']}/messages/{response_id}/threads"]

    # The signed link serves the rendered clip.
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        assert response.status == 200
        assert await response.read() == Path(clip.output_path).read_bytes()

    # Storage learned the thread: a job resumed after a restart (queued again, with its stored chat
    # ref, as a restart leaves it) posts into that thread too.
    rows = await bot.app.repos.db.fetchall("SELECT id, thread_id FROM chat_refs WHERE reply_to = ?", (str(response_id),))
    assert rows and {r["thread_id"] for r in rows} == {str(response_id)}
    resumed = "Picking this up again after a restart."
    bot.app.jobs.register("resumed", lambda ctx: ctx.post(TextReply(resumed)))
    owner = await bot.app.repos.users.find("discord", str(bot.alice["id"]))
    await bot.app.repos.jobs.enqueue(owner.id, "resumed", {"lang": "en"}, chat_ref_id=rows[0]["id"])
    await fake.wait_for(lambda: any(m["content"] == resumed for m in fake.sent_by_bot(thread["id"])), 15,
                        "the resumed job's post in the thread")

    # Share pressed by somebody else in the server: told whose clip it is; nothing is shared.
    share_button = custom_ids(result)[1]
    press = fake.button_interaction(result, share_button, bot.bob)
    await fake.dispatch("INTERACTION_CREATE", press)
    not_yours = "Only alice can share this — send your own video to make yours."
    await fake.wait_for(lambda: any(m["content"] == not_yours for m in fake.sent_by_bot(thread["id"])), 15,
                        "the answer to bob's press")
    assert fake.sent_by_bot(bot.shorts["id"]) == []

    # Share, pressed by the owner: acknowledged at once, then clip 1 goes to the share channel
    # as a file (it fits the default 10 MiB there), and the thread hears that it was shared.
    press = fake.button_interaction(result, share_button, bot.alice)
    await fake.dispatch("INTERACTION_CREATE", press)
    pressed = fake.interactions[press["token"]]
    await fake.wait_for(lambda: pressed.acknowledged_at is not None, what="the button to be acknowledged")
    assert pressed.callback_type == 6 and answered_first(fake, pressed)
    [shared] = await fake.wait_for(lambda: fake.sent_by_bot(bot.shorts["id"]), what="the shared clip")
    [upload] = next(c for c in fake.calls if c.route == "POST /channels/{channel_id}/messages"
                    and c.path.split("/")[2] == bot.shorts["id"]).files
    assert upload.filename == "clip-1.mp4" and upload.size == Path(clip.output_path).stat().st_size
    assert video_size(upload.path) == f"{clip.width}x{clip.height}"
    assert shared["components"] == []                        # no buttons on the public post
    await fake.wait_for(lambda: any(m["content"] == say("en", "share_done", n=1)
                                    for m in fake.sent_by_bot(thread["id"])), what="the share confirmation")


# ---------------------------------------------------------------------------- DMs

async def test_dm_with_a_video_gets_progress_and_the_clip_as_a_file(bot, talk):
    fake = bot.fake
    dm = fake.add_dm(bot.bob)
    message = fake.user_message(dm, bot.bob, INSTRUCTION, attachments=(fake.host_file(talk),))
    await fake.dispatch("MESSAGE_CREATE", message)

    [video] = await fake.wait_for(lambda: [m for m in fake.sent_by_bot(dm["id"]) if m["attachments"]], 180,
                                  "the clip in the DM")
    [attachment] = video["attachments"]
    assert attachment["filename"] == "clip-1.mp4"               # short #1: its number, not its row
    clip = await bot.app.repos.clips.get(int(custom_ids(video)[0].rsplit("-", 1)[1]))
    assert custom_ids(video) == [f"shortsbot:/{verb} clip-{clip.id}" for verb in ("export", "share", "more")]
    assert attachment["size"] == Path(clip.output_path).stat().st_size
    assert fake.threads() == [t for t in fake.threads() if t["parent_id"] != dm["id"]]   # no threads in DMs

    # The first answer replies to the person's message; the progress message ends "Done".
    first = fake.sent_by_bot(dm["id"])[0]
    assert first["message_reference"]["message_id"] == message["id"] and "keynote.mp4" in first["content"]
    await fake.wait_for(lambda: any(m["content"] == say("en", "progress_done") for m in fake.sent_by_bot(dm["id"])),
                        15, "the last progress edit")

    # Share from the DM; the share channel refuses the upload as too large (413), so a link goes instead.
    fake.fail_next("POST", f"/channels/{bot.shorts['id']}/messages", 413, 40005, "Request entity too large")
    before = len(fake.sent_by_bot(bot.shorts["id"]))
    press = fake.button_interaction(video, custom_ids(video)[1], bot.bob)
    await fake.dispatch("INTERACTION_CREATE", press)
    shared = await fake.wait_for(lambda: fake.sent_by_bot(bot.shorts["id"])[before:], what="the shared link")
    assert bot.base_url + f"/f/{clip.id}-" in shared[0]["content"] and shared[0]["attachments"] == []
    assert "Discord would not take the file here" in shared[0]["content"]

    def shared_notes() -> list[dict]:
        return [m for m in fake.sent_by_bot(dm["id"]) if m["content"] == say("en", "share_done", n=1)]

    await fake.wait_for(shared_notes, what="the share confirmation")

    # A share channel the bot may not post in: the person who shared hears why and what to ask for.
    for _ in range(2):                                       # the clip, then the adapter's apology there
        fake.fail_next("POST", f"/channels/{bot.shorts['id']}/messages", 403, 50013, "Missing Permissions")
    said_before = len(fake.sent_by_bot(dm["id"]))
    await fake.dispatch("INTERACTION_CREATE", fake.button_interaction(video, custom_ids(video)[1], bot.bob))
    [told] = await fake.wait_for(lambda: [m for m in fake.sent_by_bot(dm["id"])[said_before:]
                                          if "share channel" in m["content"]], what="the share failure")
    assert "Missing Permissions" in told["content"] and "DISCORD_SHARE_CHANNEL_ID" in told["content"]
    assert len(shared_notes()) == 1, "not \"Shared\" when it was not"


async def test_a_clip_discord_refused_is_apologised_for_and_reported_to_the_job(bot, tmp_path):
    fake = bot.fake
    dm = fake.add_dm(bot.alice)
    clip = tmp_path / "clip-01-abc.mp4"
    clip.write_bytes(b"\0" * 2048)
    fake.fail_next("POST", f"/channels/{dm['id']}/messages", 403, 50013, "Missing Permissions")
    with pytest.raises(discord.Forbidden):               # the job must not count it as sent, nor charge for it
        await bot.adapter.send(ChatRef("discord", dm["id"]), VideoReply(clip, 360, 640, 3.0, caption="#1 Hi"))
    [apology] = fake.sent_by_bot(dm["id"])
    assert "Attach Files" in apology["content"]
    await bot.adapter.send(ChatRef("discord", dm["id"]), VideoReply(clip, 360, 640, 3.0, caption="#1 Hi"))
    assert fake.sent_by_bot(dm["id"])[-1]["attachments"]  # the same clip goes once Discord takes it


async def test_a_rate_limited_post_is_retried_by_discord_py(bot):
    fake = bot.fake
    dm = fake.add_dm(bot.alice)
    fake.fail_next("POST", f"/channels/{dm['id']}/messages", 429, 20028, "You are being rate limited.",
                   retry_after=0.3)
    await fake.dispatch("MESSAGE_CREATE", fake.user_message(dm, bot.alice, "/credits"))
    [answer] = await fake.wait_for(lambda: fake.sent_by_bot(dm["id"]), what="the credits answer")
    assert "credit" in answer["content"].lower()
    posts = [c for c in fake.calls if c.path == f"/channels/{dm['id']}/messages"]
    assert [c.status for c in posts] == [429, 200]
    assert posts[1].at - posts[0].at >= 0.3


# ---------------------------------------------------------------------------- quick commands in a server

async def test_credits_status_and_help_answer_privately(bot):
    fake = bot.fake
    for name, expected in (("credits", "credit"), ("status", say("en", "status_no_media")), ("help", "/export")):
        interaction = await command(bot, bot.general, bot.bob, name)
        assert interaction.callback_type == 5
        assert fake.messages[interaction.original_message_id]["flags"] & 64, f"/{name} should be ephemeral"

        def answers(interaction_id=interaction.payload["id"]):
            return [m for m in fake.messages.values() if m.get("interaction_id") == interaction_id]

        await fake.wait_for(lambda: any(expected.lower() in m["content"].lower() for m in answers()), 15,
                            f"the /{name} answer")
        assert all(m["flags"] & 64 for m in answers()), f"every answer to /{name} should be ephemeral"
    # /help adds how Discord differs.
    await fake.wait_for(lambda: any("/clip video:" in m["content"] for m in answers()), what="the Discord tip")


async def test_export_opens_a_thread_and_falls_back_to_the_channel_where_threads_are_forbidden(bot):
    fake = bot.fake
    channel = fake.add_text_channel(bot.makers, "no-threads")
    await fake.dispatch("CHANNEL_CREATE", {**channel})
    await fake.wait_for(lambda: bot.adapter.client.get_channel(int(channel["id"])) is not None, what="CHANNEL_CREATE")
    fake.fail_next("POST", "/channels/{channel_id}/messages/{message_id}/threads", 403, 50013, "Missing Permissions")

    interaction = await command(bot, channel, bot.bob, "export")

    nothing = say("en", "nothing_to_export")
    await fake.wait_for(lambda: any(nothing in m["content"] for m in fake.sent_by_bot(channel["id"])), 30,
                        "the export answer in the channel")
    assert [c.status for c in fake.calls if c.path.startswith(f"/channels/{channel['id']}/messages/")
            and c.path.endswith("/threads")] == [403]
    assert not any(t["parent_id"] == channel["id"] for t in fake.threads())
    # The deferred response does not stay "thinking": it got the first answer.
    response = fake.messages[interaction.original_message_id]
    await fake.wait_for(lambda: not response["flags"] & LOADING_FLAG and response["content"], 10,
                        "the deferred response to be answered")


async def test_share_and_cancel_commands_reach_the_conversation(bot):
    fake = bot.fake
    share = await command(bot, bot.general, bot.bob, "share", {"clip": 4})
    cancel = await command(bot, bot.general, bot.bob, "cancel")
    no_clip = say("en", "share_no_clip", n=4, count=0)
    await fake.wait_for(lambda: fake.messages[share.original_message_id]["content"] == no_clip, what="the /share answer")
    await fake.wait_for(lambda: fake.messages[cancel.original_message_id]["content"] == say("en", "nothing_to_cancel"),
                        15, "the /cancel answer")


async def test_replies_after_the_interaction_token_expired_go_to_the_channel(bot):
    fake = bot.fake
    fake.tokens_expire_on_ack = True
    try:
        interaction = await command(bot, bot.general, bot.bob, "new")
        new_session = say("en", "new_session")
        [answer] = await fake.wait_for(
            lambda: [m for m in fake.sent_by_bot(bot.general["id"]) if m["content"] == new_session], 15,
            "the answer as a channel message")
    finally:
        fake.tokens_expire_on_ack = False
    assert answer["message_reference"]["message_id"] == str(interaction.original_message_id)
    refused = [c for c in fake.calls if c.route == "PATCH /webhooks/{application_id}/{token}/messages/@original"
               and interaction.payload["token"] in c.path]
    assert [c.status for c in refused] == [401]


# ---------------------------------------------------------------------------- messages in a server

async def test_server_messages_not_meant_for_the_bot_are_ignored_and_unreadable_replies_get_a_hint(bot, talk):
    fake = bot.fake
    channel = fake.add_text_channel(bot.makers, "show-and-tell")      # its own channel: no other test's messages
    await fake.dispatch("CHANNEL_CREATE", {**channel})
    await fake.wait_for(lambda: bot.adapter.client.get_channel(int(channel["id"])) is not None, what="CHANNEL_CREATE")
    await bot.adapter.send(ChatRef("discord", channel["id"]), TextReply(say("en", "status_no_media")))
    [bots_message] = fake.sent_by_bot(channel["id"])                  # something the bot said there, to reply to
    downloads = len(fake.downloads)
    sent_before = len(fake.sent_by_bot(channel["id"]))
    await fake.dispatch("MESSAGE_CREATE", fake.user_message(channel, bot.bob, "look at my video",
                                                            attachments=(fake.host_file(talk),)))
    # A reply to the bot without the @mention: without Message Content Discord sends it empty.
    await fake.dispatch("MESSAGE_CREATE", fake.user_message(channel, bot.bob, "", reply_to=bots_message))

    [hint] = await fake.wait_for(lambda: fake.sent_by_bot(channel["id"])[sent_before:], what="the hint")
    assert hint["content"] == ("I can't read that message: Discord only shows me messages that mention me. "
                               "Mention me (@shortsbot) in it, or use /clip.")
    assert len(fake.sent_by_bot(channel["id"])) == sent_before + 1     # nothing for the unaddressed message
    assert len(fake.downloads) == downloads


async def test_in_a_chinese_server_the_hint_its_threads_and_the_apologies_are_chinese(bot):
    """A server whose preferred locale is Chinese: a reply the bot cannot read gets the hint in Chinese, a
    Chinese request's job opens a thread named in Chinese, and what Discord refuses is apologised for in
    the person's language."""
    fake = bot.fake
    guild = fake.add_guild("剪辑群")
    guild["preferred_locale"] = "zh-CN"
    channel = fake.add_text_channel(guild, "闲聊")
    await fake.dispatch("GUILD_CREATE", guild)
    await fake.wait_for(lambda: bot.adapter.client.get_channel(int(channel["id"])) is not None, what="GUILD_CREATE")
    bots_message = fake.user_message(channel, fake.bot, "你好")
    await fake.dispatch("MESSAGE_CREATE", fake.user_message(channel, bot.bob, "", reply_to=bots_message))
    [hint] = await fake.wait_for(lambda: fake.sent_by_bot(channel["id"])[1:], what="the hint")
    assert hint["content"] == "我读不到那条消息：Discord 只给我看提到我的消息。请在消息里提到我（@shortsbot），或者使用 /clip。"

    asked = fake.user_message(channel, bot.bob, f"<@{fake.bot['id']}> 导出", mentions=(fake.bot,))
    await fake.dispatch("MESSAGE_CREATE", asked)
    thread = await fake.wait_for(lambda: fake.channels.get(int(asked["id"])), 30, "a thread on the request")
    assert thread["name"] == "短视频：导出"
    nothing = say("zh", "nothing_to_export")
    await fake.wait_for(lambda: any(nothing in m["content"] for m in fake.sent_by_bot(thread["id"])), 30,
                        "the export answer in the thread")

    dm = fake.add_dm(bot.bob)
    fake.fail_next("POST", f"/channels/{dm['id']}/messages", 403, 50013, "Missing Permissions")
    await bot.adapter.send(ChatRef("discord", dm["id"], language="zh"), TextReply(say("zh", "status_no_media")))
    fake.fail_next("POST", f"/channels/{dm['id']}/messages", 400, 50035, "Invalid Form Body")
    await bot.adapter.send(ChatRef("discord", dm["id"], language="zh"), TextReply(say("zh", "status_no_media")))
    assert [m["content"] for m in fake.sent_by_bot(dm["id"])] == [
        "Discord 不让我在这里发这条消息。服务器管理员可以在这个频道给我“发送消息”、“在子区中发送消息”和“附加文件”的权限。",
        "抱歉，我这边出了点问题。请稍后再试。"]


async def test_progress_states_that_came_while_an_edit_was_on_its_way_are_superseded(bot):
    """How often progress changes is the job's throttle's business (bot/jobs.py); the adapter only
    keeps the newest state while it waits: the posted message, eleven states offered before the
    writer could run (the sink's own step, which does not wait when the message exists), then the
    final state: one edit to the newest, and the final one."""
    fake = bot.fake
    dm = fake.add_dm(bot.bob)
    ref = ChatRef("discord", dm["id"])
    await bot.adapter.send(ref, ProgressReply("coalesce-test", "step 0", 0.0))
    channel = await bot.adapter._channel(int(dm["id"]))
    for step in range(1, 12):
        await bot.adapter._progress_update(channel, ProgressReply("coalesce-test", f"step {step}", step / 12))
    [message] = await fake.wait_for(lambda: fake.sent_by_bot(dm["id"]), what="the progress message")
    [posted] = [c.body["content"] for c in fake.calls if c.path == f"/channels/{dm['id']}/messages"]
    assert posted.startswith("step 0\n")
    await bot.adapter.send(ref, ProgressReply("coalesce-test", "finished", 1.0, done=True))
    await fake.wait_for(lambda: message["content"] == "finished", what="the final edit")
    edits = [c.body["content"] for c in fake.calls if c.path == f"/channels/{dm['id']}/messages/{message['id']}"]
    assert [e.split("\n")[0] for e in edits] == ["step 11", "finished"]

"""Discord -> Incoming, from gateway payloads turned into discord.py objects by a real ConnectionState.

Each payload has the documented shape of a MESSAGE_CREATE or INTERACTION_CREATE dispatch; the
fake Discord serves the attachment URLs, so the downloads are real HTTP streams.
"""
from __future__ import annotations

import os

import aiohttp
import discord
import pytest

from adapters.discord_events import (
    attachment_from_discord,
    attachment_kind,
    incoming_from_button,
    incoming_from_command,
    incoming_from_message,
    locale_language,
    stream_to_file,
    strip_bot_mention,
)
from bot.fetch import FetchError, TooLarge

MAX_BYTES = 5 * 1024 * 1024


@pytest.fixture
def world(fake):
    guild = fake.add_guild("Makers")
    general = fake.add_text_channel(guild, "general")
    alice = fake.add_user("alice")
    return {"guild": guild, "general": general, "alice": alice, "dm": fake.add_dm(alice)}


@pytest.fixture
def video_file(tmp_path):
    path = tmp_path / "talk.mp4"
    path.write_bytes(os.urandom(700 * 1024))     # several download chunks
    return path


@pytest.fixture
async def http():
    async with aiohttp.ClientSession() as session:
        yield session


def as_message(client: discord.Client, payload: dict) -> discord.Message:
    """What ConnectionState.parse_message_create builds before dispatching on_message."""
    state = client._connection
    channel, _ = state._get_guild_channel(payload)
    return discord.Message(state=state, channel=channel, data=payload)


def with_guild(client: discord.Client, guild: dict) -> None:
    client._connection.parse_guild_create(guild)


def fetcher_for(http):
    def factory(attachment: discord.Attachment):
        async def fetch(path):
            return await stream_to_file(http, attachment.url, path, attachment.size, MAX_BYTES)
        return fetch
    return factory


async def test_dm_with_a_video_attachment_streams_it_to_disk(fake, client, world, video_file, http, tmp_path):
    attachment = fake.host_file(video_file, "My Talk.mp4")
    payload = fake.user_message(world["dm"], world["alice"], "60-second vertical shorts", attachments=(attachment,))

    incoming = incoming_from_message(as_message(client, payload), fake.app_id, fetcher_for(http))

    assert incoming is not None
    assert (incoming.platform, incoming.chat_id, incoming.user_id) == ("discord", world["dm"]["id"], world["alice"]["id"])
    assert incoming.is_group is False and incoming.addressed_to_bot
    assert incoming.text == "60-second vertical shorts" and incoming.command is None
    assert incoming.message_id == payload["id"]
    [got] = incoming.attachments
    assert (got.name, got.kind, got.mime, got.size) == ("My Talk.mp4", "video", "video/mp4", video_file.stat().st_size)
    target = tmp_path / "media" / "upload.mp4"
    assert await got.fetch(target) == target
    assert target.read_bytes() == video_file.read_bytes()
    assert not target.with_name("upload.mp4.part").exists()
    assert len(fake.downloads) == 1


async def test_server_message_that_mentions_the_bot(fake, client, world):
    with_guild(client, world["guild"])
    payload = fake.user_message(world["general"], world["alice"], f"<@{fake.app_id}> cut 3 shorts about pricing",
                                mentions=(fake.bot,))

    incoming = incoming_from_message(as_message(client, payload), fake.app_id, lambda a: None)

    assert incoming is not None
    assert incoming.is_group and incoming.mentions_bot and incoming.addressed_to_bot
    assert incoming.text == "cut 3 shorts about pricing"
    assert incoming.chat_id == world["general"]["id"] and incoming.message_id == payload["id"]


async def test_server_message_without_a_mention_is_not_for_the_bot(fake, client, world):
    with_guild(client, world["guild"])
    payload = fake.user_message(world["general"], world["alice"], "anyone seen the keynote?")
    assert incoming_from_message(as_message(client, payload), fake.app_id, lambda a: None) is None


async def test_messages_from_bots_are_ignored(fake, client, world):
    other_bot = fake.add_user("otherbot", bot=True)
    payload = fake.user_message(world["dm"], other_bot, "hello")
    assert incoming_from_message(as_message(client, payload), fake.app_id, lambda a: None) is None


async def test_reply_to_the_bot_counts_as_addressed(fake, client, world):
    with_guild(client, world["guild"])
    bots_message = fake.user_message(world["general"], fake.bot, "Here are your 3 clips.")
    payload = fake.user_message(world["general"], world["alice"], "make the second one shorter",
                                reply_to=bots_message)

    incoming = incoming_from_message(as_message(client, payload), fake.app_id, lambda a: None)

    assert incoming is not None and incoming.reply_to_bot and not incoming.mentions_bot
    assert incoming.reply_to == bots_message["id"] and incoming.addressed_to_bot
    assert incoming.text == "make the second one shorter"


async def test_reply_to_someone_else_is_not_for_the_bot(fake, client, world):
    with_guild(client, world["guild"])
    bob = fake.add_user("bob")
    bobs_message = fake.user_message(world["general"], bob, "look at this")
    payload = fake.user_message(world["general"], world["alice"], "nice", reply_to=bobs_message)
    assert incoming_from_message(as_message(client, payload), fake.app_id, lambda a: None) is None


async def test_a_typed_command_in_a_dm(fake, client, world):
    payload = fake.user_message(world["dm"], world["alice"], "/share 2")
    incoming = incoming_from_message(as_message(client, payload), fake.app_id, lambda a: None)
    assert (incoming.command, incoming.command_args) == ("share", "2")


async def test_a_message_in_a_thread_continues_the_channel_and_answers_the_thread(fake, client, world):
    starter = fake.user_message(world["general"], world["alice"], "source")
    thread = fake.start_thread(world["general"], starter, "Shorts: source")
    with_guild(client, world["guild"])          # GUILD_CREATE carries the active threads
    payload = fake.user_message(thread, world["alice"], f"<@{fake.app_id}> export", mentions=(fake.bot,))

    message = as_message(client, payload)
    incoming = incoming_from_message(message, fake.app_id, lambda a: None)

    assert isinstance(message.channel, discord.Thread)
    # The session is the channel's; replies answer the thread's starter message, i.e. go into the thread.
    assert (incoming.chat_id, incoming.message_id, incoming.thread_id) == (world["general"]["id"], thread["id"], None)
    assert incoming.chat_ref.chat_key == f"discord:{world['general']['id']}"
    assert incoming.command is None and incoming.text == "export"


async def test_slash_command_with_an_attachment_option(fake, client, world, video_file):
    with_guild(client, world["guild"])
    attachment = fake.host_file(video_file, "keynote.mov", content_type="video/quicktime")
    payload = fake.command_interaction(world["general"], world["alice"], "clip",
                                       {"video": attachment, "instruction": "3 shorts"}, attachment_size_limit=12345)
    interaction = discord.Interaction(data=payload, state=client._connection)

    video = interaction.namespace.video                       # resolved from data.resolved.attachments
    assert isinstance(video, discord.Attachment)
    incoming = incoming_from_command(interaction, message_id=987, text=interaction.namespace.instruction,
                                     attachments=(attachment_from_discord(video, lambda a: None),))

    assert incoming.is_group and incoming.addressed_to_bot and incoming.mentions_bot
    assert incoming.text == "3 shorts" and incoming.command is None
    assert incoming.message_id == "987" and incoming.language == "en"
    assert incoming.user_id == world["alice"]["id"] and incoming.chat_id == world["general"]["id"]
    [got] = incoming.attachments
    assert (got.name, got.kind, got.size) == ("keynote.mov", "video", video_file.stat().st_size)
    assert interaction.filesize_limit == 12345


async def test_slash_command_without_options_in_a_dm(fake, client, world):
    payload = fake.command_interaction(world["dm"], world["alice"], "credits")
    interaction = discord.Interaction(data=payload, state=client._connection)
    incoming = incoming_from_command(interaction, message_id=None, command="credits")
    assert (incoming.command, incoming.text, incoming.is_group) == ("credits", "/credits", False)
    assert incoming.chat_id == world["dm"]["id"] and incoming.user_name == "alice"


async def test_button_press(fake, client, world):
    with_guild(client, world["guild"])
    bots_message = fake.user_message(world["general"], fake.bot, "Clip 2 is ready.")
    payload = fake.button_interaction(bots_message, "shortsbot:/share 2", world["alice"])
    interaction = discord.Interaction(data=payload, state=client._connection)

    incoming = incoming_from_button(interaction, "/share 2")

    assert (incoming.command, incoming.command_args, incoming.text) == ("share", "2", "/share 2")
    assert incoming.reply_to_bot and incoming.reply_to == bots_message["id"]
    assert incoming.message_id == bots_message["id"] and incoming.chat_id == world["general"]["id"]


async def test_declared_size_over_the_limit_is_refused_before_downloading(fake, world, video_file, http, tmp_path):
    attachment = fake.host_file(video_file, claimed_size=MAX_BYTES + 1)
    with pytest.raises(TooLarge) as caught:
        await stream_to_file(http, attachment["url"], tmp_path / "x.mp4", attachment["size"], MAX_BYTES)
    assert "5 MB" in str(caught.value)
    assert fake.downloads == []


async def test_a_download_larger_than_declared_is_cut_off(fake, world, video_file, http, tmp_path):
    attachment = fake.host_file(video_file, claimed_size=1000)   # the file is 700 KiB
    target = tmp_path / "x.mp4"
    with pytest.raises(TooLarge):
        await stream_to_file(http, attachment["url"], target, attachment["size"], 300 * 1024)
    assert not target.exists() and not target.with_name("x.mp4.part").exists()


async def test_a_refused_or_broken_download_is_a_sentence_and_leaves_nothing(fake, world, video_file, http, tmp_path):
    attachment = fake.host_file(video_file)
    gone = attachment["url"].replace("/attachments/", "/attachments/0-")     # a URL the fake does not serve
    target = tmp_path / "in" / "x.mp4"
    with pytest.raises(FetchError, match="HTTP 404") as caught:
        await stream_to_file(http, gone, target, attachment["size"], MAX_BYTES)
    assert caught.value.key == "fetch_discord_refused"
    with pytest.raises(FetchError, match="broke off"):
        await stream_to_file(http, "http://127.0.0.1:9/attachments/x.mp4", target, None, MAX_BYTES)
    assert not target.parent.exists() or list(target.parent.iterdir()) == []
    assert await stream_to_file(http, attachment["url"], target, attachment["size"], MAX_BYTES) == target
    assert target.read_bytes() == video_file.read_bytes() and list(target.parent.iterdir()) == [target]


def test_small_pieces():
    assert strip_bot_mention("<@!42> <@42>  hi <@7>", 42) == "hi <@7>"
    assert attachment_kind("a.MOV", None) == "video"
    assert attachment_kind("a.bin", "audio/mpeg") == "audio"
    assert attachment_kind("notes.txt", "text/plain") == "document"
    assert attachment_kind("voice-message.ogg", "audio/ogg") == "audio"
    assert attachment_kind("clip.m4v", "application/octet-stream") == "video"
    assert attachment_kind("song.flac", None) == "audio"
    assert locale_language(discord.Locale.chinese) == "zh"
    assert locale_language(None) is None

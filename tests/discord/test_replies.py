"""The outgoing rules that do not depend on where a reply goes: text, limits, buttons, timing."""
from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone
from pathlib import Path

import discord

from adapters.discord_commands import command_shapes
from adapters.discord_replies import (
    ActionButton,
    clip_text,
    fits_upload,
    interaction_token_usable,
    link_text,
    no_link_text,
    progress_text,
    refused_upload,
    thread_name,
    too_big,
    view_for,
)
from bot.messages import Button, ProgressReply, VideoReply


def test_text_is_cut_to_discords_2000_characters():
    assert clip_text("short") == "short"
    cut = clip_text("word " * 1000)
    assert len(cut) == 2000 and cut.endswith("…")


def test_progress_shows_a_bar_until_done():
    assert progress_text(ProgressReply("job-1", "Rendering clip 2 of 3", 0.4)) == "Rendering clip 2 of 3\n▰▰▰▰▱▱▱▱▱▱ 40%"
    assert progress_text(ProgressReply("job-1", "Done: 3 clips", 1.0, done=True)) == "Done: 3 clips"
    assert progress_text(ProgressReply("job-1", "Transcribing")) == "Transcribing"
    assert progress_text(ProgressReply("job-1", "x", 7.0)).endswith("▰" * 10 + " 100%")


def test_interaction_tokens_are_not_used_near_their_15_minutes():
    created = datetime(2025, 1, 1, 12, 0, tzinfo=timezone.utc)
    assert interaction_token_usable(created, created + timedelta(minutes=10))
    assert not interaction_token_usable(created, created + timedelta(minutes=14, seconds=30))
    assert not interaction_token_usable(created, created + timedelta(hours=2))


def test_upload_or_link():
    assert fits_upload(10 * 1024 * 1024, discord.utils.DEFAULT_FILE_SIZE_LIMIT_BYTES)
    assert not fits_upload(10 * 1024 * 1024 + 1, discord.utils.DEFAULT_FILE_SIZE_LIMIT_BYTES)
    reply = VideoReply(Path("clip.mp4"), 1080, 1920, 30.0, caption="The pricing bit", title="Clip 1")
    text = link_text(reply, "https://example.org/f/1/clip-1.mp4?sig=x", too_big(26 * 1024 * 1024, 25 * 1024 * 1024))
    assert text.splitlines() == ["The pricing bit",
                                 "The clip is 26.0 MB, more than the 25.0 MB Discord takes here. Here is a download link:",
                                 "https://example.org/f/1/clip-1.mp4?sig=x"]
    # to a Chinese speaker, in Chinese
    chinese = dataclasses.replace(reply, language="zh")
    text = link_text(chinese, "https://example.org/f/1/clip-1.mp4?sig=x", too_big(26 * 1024 * 1024, 25 * 1024 * 1024, "zh"))
    assert text.splitlines()[1] == "这个片段有 26.0 MB，超过了 Discord 在这里允许的 25.0 MB。下载链接："
    assert no_link_text(chinese, refused_upload("zh")).splitlines()[1] == (
        "Discord 在这里不接收这个文件。这个机器人没有设置下载链接（PUBLIC_BASE_URL），请试试更短的片段。")
    assert no_link_text(reply, refused_upload()).splitlines()[1] == (
        "Discord would not take the file here. Download links are not set up on this bot (PUBLIC_BASE_URL), "
        "so try a shorter clip.")


def test_thread_names_fit_discords_100_characters():
    assert thread_name("  3 vertical\nshorts ") == "Shorts: 3 vertical shorts"
    assert thread_name("") == "Shorts"
    assert thread_name("  剪成三个短视频\n", "zh") == "短视频：剪成三个短视频" and thread_name("", "zh") == "短视频"
    assert len(thread_name("x" * 300)) == 100


def test_buttons_carry_their_command_line():
    view = view_for((Button("Export", "/export"), Button("Cancel", "/cancel"), Button("Share 2", "/share 2"),
                     Button("Too long", "/share " + "9" * 100), Button("More like it", "more clips like clip 2")))
    assert view is not None and view.timeout is None
    ids = [item.custom_id for item in view.children]
    assert ids == ["shortsbot:/export", "shortsbot:/cancel", "shortsbot:/share 2", "shortsbot:more clips like clip 2"]
    assert all(isinstance(item, ActionButton) for item in view.children)
    styles = [item.item.style for item in view.children]
    assert styles == [discord.ButtonStyle.primary, discord.ButtonStyle.danger, discord.ButtonStyle.secondary,
                      discord.ButtonStyle.secondary]
    assert ActionButton.__discord_ui_compiled_template__.fullmatch("shortsbot:/share 2")["action"] == "/share 2"
    assert view_for(()) is None


def test_commands_compare_by_what_users_see():
    local = [{"name": "share", "description": "Post a clip", "type": 1, "nsfw": False, "dm_permission": True,
              "options": [{"name": "clip", "description": "n", "type": 4, "required": True, "min_value": 1}]}]
    # Discord answers with ids, versions and without false "required".
    remote = [{"id": "1", "application_id": "2", "version": "3", "name": "share", "description": "Post a clip",
               "type": 1, "options": [{"name": "clip", "description": "n", "type": 4, "required": True,
                                       "min_value": 1}]}]
    assert command_shapes(local) == command_shapes(remote)
    remote[0]["options"][0]["description"] = "changed"
    assert command_shapes(local) != command_shapes(remote)

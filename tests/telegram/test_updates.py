"""Update -> Incoming, from update JSON in the shape the Bot API sends (recorded_updates.json)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from telegram import Bot, Update

from adapters.telegram_updates import BotIdentity, incoming_from_callback, incoming_from_message

RECORDED = json.loads((Path(__file__).parent / "recorded_updates.json").read_text())
CLIPPER = BotIdentity(id=7000000001, username="ClipperBot")
CLOUD_LIMIT = 20 * 1024 * 1024


def update(name: str) -> Update:
    # A Bot only to satisfy de_json's shortcuts; nothing here talks to a network.
    return Update.de_json(RECORDED[name], Bot("7000000001:TEST"))


def fetchers():
    """A fetcher factory that remembers which Telegram file each attachment would download."""
    asked: list[tuple[str, int | None]] = []

    def fetcher_for(file_id: str, size: int | None):
        asked.append((file_id, size))

        async def fetch(path: Path) -> Path:
            raise AssertionError("translation must not download")

        fetch.file_id = file_id
        return fetch

    return fetcher_for, asked


def translate(name: str, limit: int | None = CLOUD_LIMIT):
    fetcher_for, asked = fetchers()
    return incoming_from_message(update(name).message, CLIPPER, fetcher_for, limit), asked


def test_private_text():
    incoming, _ = translate("private_text")
    assert incoming.platform == "telegram"
    assert (incoming.chat_id, incoming.user_id, incoming.message_id) == ("1001", "1001", "11")
    assert incoming.text == "make the captions bigger please"
    assert incoming.user_name == "Ada Lovelace"
    assert incoming.language == "en"
    assert incoming.command is None and incoming.attachments == ()
    assert not incoming.is_group and incoming.addressed_to_bot
    assert incoming.chat_ref.reply_to == "11"


def test_command_with_botname():
    incoming, _ = translate("private_command_with_botname")
    assert (incoming.command, incoming.command_args) == ("export", "2 1080p")
    assert incoming.text == "/export 2 1080p"


def test_video_with_caption_is_upload_and_instruction():
    incoming, asked = translate("private_video_with_caption")
    assert incoming.text == "cut this into a 30-second short for TikTok with captions"
    [video] = incoming.attachments
    assert (video.kind, video.name, video.mime, video.size) == ("video", "keynote.mp4", "video/mp4", 8123456)
    assert video.fetch is not None and video.fetch.file_id == "BAACAgIAAxkBAAMNZ0video"
    assert asked == [("BAACAgIAAxkBAAMNZ0video", 8123456)]


@pytest.mark.parametrize("name, kind, file_name", [
    ("private_document_video", "video", "interview.MOV"),
    ("private_document_octet_stream_mkv", "video", "stream-recording.mkv"),
    ("private_document_pdf", "document", "slides.pdf"),
])
def test_documents_are_videos_by_mime_or_extension(name, kind, file_name):
    incoming, _ = translate(name)
    [attachment] = incoming.attachments
    assert (attachment.kind, attachment.name) == (kind, file_name)


@pytest.mark.parametrize("file_name, mime, kind", [
    ("holiday.m4v", "application/octet-stream", "video"),
    ("old-phone.3gp", None, "video"),
    ("memo.opus", "application/octet-stream", "audio"),
    ("track.flac", None, "audio"),
    ("notes.txt", "text/plain", "document"),
    ("no-suffix", "video/quicktime", "video"),
])
def test_a_documents_kind_comes_from_the_one_table_of_types(file_name, mime, kind):
    raw = json.loads(json.dumps(RECORDED["private_document_octet_stream_mkv"]))
    raw["message"]["document"].update(file_name=file_name, mime_type=mime)
    if mime is None:
        del raw["message"]["document"]["mime_type"]
    fetcher_for, _ = fetchers()
    incoming = incoming_from_message(Update.de_json(raw, Bot("7000000001:TEST")).message, CLIPPER, fetcher_for)
    [attachment] = incoming.attachments
    assert (attachment.kind, attachment.name) == (kind, file_name)


def test_animation_is_one_video_not_also_a_document():
    incoming, _ = translate("private_animation")
    [attachment] = incoming.attachments
    assert (attachment.kind, attachment.name, attachment.size) == ("video", "reaction.mp4", 350000)


def test_video_note():
    incoming, _ = translate("private_video_note")
    [attachment] = incoming.attachments
    assert attachment.kind == "video" and attachment.mime == "video/mp4" and attachment.name.endswith(".mp4")


def test_voice_is_audio_with_its_caption():
    incoming, _ = translate("private_voice")
    [attachment] = incoming.attachments
    assert (attachment.kind, attachment.mime) == ("audio", "audio/ogg")
    assert incoming.text == "use this as background music"


def test_audio():
    incoming, _ = translate("private_audio")
    [attachment] = incoming.attachments
    assert (attachment.kind, attachment.name, attachment.mime) == ("audio", "lofi-beat.mp3", "audio/mpeg")


def test_photo_takes_the_largest_size():
    incoming, asked = translate("private_photo")
    [attachment] = incoming.attachments
    assert attachment.kind == "image" and attachment.size == 48000
    assert asked == [("AgACAgIAAxkBAAMVZ0large", 48000)]


def test_links_in_text_and_under_words_reach_the_text():
    incoming, _ = translate("private_text_with_links")
    assert "https://example.com/talk.mp4" in incoming.text
    assert "https://example.org/other-talk" in incoming.text


def test_oversized_file_has_no_fetcher_on_the_cloud_api_but_has_one_in_local_mode():
    incoming, asked = translate("private_oversized_video")
    [attachment] = incoming.attachments
    assert attachment.fetch is None and attachment.size == 734003200 and asked == []
    local, _ = translate("private_oversized_video", limit=2000 * 1024 * 1024)
    assert local.attachments[0].fetch is not None


def test_group_message_without_mention_is_not_addressed():
    incoming, _ = translate("group_plain_message")
    assert incoming.is_group and not incoming.mentions_bot and not incoming.addressed_to_bot
    video, _ = translate("group_video_without_mention")
    assert not video.addressed_to_bot


def test_group_mention_after_an_emoji_counts_utf16_and_is_removed_from_the_text():
    incoming, _ = translate("group_mention")
    assert incoming.mentions_bot and incoming.addressed_to_bot
    assert incoming.text == "🎬 how many credits do I have?"
    assert incoming.chat_id == "-1001987654321" and incoming.user_id == "1002"


def test_group_reply_to_the_bot():
    incoming, _ = translate("group_reply_to_bot")
    assert incoming.reply_to_bot and incoming.addressed_to_bot
    assert incoming.reply_to == "1204"
    assert incoming.attachments == ()             # the bot's own message is not taken as an upload


def test_group_command_for_another_bot_is_not_ours():
    incoming, _ = translate("group_command_for_other_bot")
    assert incoming.command is None and not incoming.addressed_to_bot


def test_group_video_whose_caption_mentions_the_bot():
    incoming, _ = translate("group_video_caption_mention")
    assert incoming.addressed_to_bot and incoming.text == "three 20 second clips please"
    assert [a.kind for a in incoming.attachments] == ["video"]


def test_group_mention_replying_to_someones_video_takes_that_video():
    incoming, asked = translate("group_mention_replying_to_video")
    assert incoming.text == "cut the best minute of this" and incoming.addressed_to_bot
    assert asked == [("BAACAgIAAxkBAAMZZ0quiet", 3000000)]


def test_forum_topic_keeps_its_thread():
    incoming, _ = translate("forum_topic_command")
    assert incoming.command == "status" and incoming.thread_id == "77"
    assert incoming.chat_ref.chat_key == "telegram:-1001555000111:77"


def test_service_message_is_nothing_to_act_on():
    incoming, _ = translate("group_service_message")
    assert incoming is None


def test_callback_query_is_the_buttons_command_from_the_presser():
    incoming = incoming_from_callback(update("callback_query_share").callback_query)
    assert (incoming.command, incoming.command_args) == ("share", "2")
    assert incoming.user_id == "1002" and incoming.chat_id == "-1001987654321"
    assert incoming.is_group and incoming.addressed_to_bot and incoming.language == "de"
    assert incoming.reply_to == "1205"

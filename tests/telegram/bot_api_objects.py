"""Bot API update JSON as Telegram sends it (https://core.telegram.org/bots/api#update), for the fake server.

Entity offsets and lengths are in UTF-16 code units, as Telegram counts them.
"""
from __future__ import annotations

import itertools
import re
import time

_message_ids = itertools.count(1)
_callback_ids = itertools.count(1)

_COMMAND = re.compile(r"^/\w+(?:@\w+)?")
_MENTION = re.compile(r"(?<![\w@])@\w{5,32}")
_URL = re.compile(r"https?://\S+")


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def entities_for(text: str) -> list[dict]:
    """The entities Telegram's servers attach: a leading bot command, @mentions, URLs."""
    found = []
    command = _COMMAND.match(text)
    if command:
        found.append(("bot_command", command.start(), command.end()))
    found += [("mention", m.start(), m.end()) for m in _MENTION.finditer(text)]
    found += [("url", m.start(), m.end()) for m in _URL.finditer(text)]
    return [
        {"offset": utf16_len(text[:start]), "length": utf16_len(text[start:end]), "type": kind}
        for kind, start, end in sorted(found, key=lambda e: e[1])
    ]


def user(user_id: int = 1001, first_name: str = "Ada", username: str | None = "ada",
         language_code: str | None = "en") -> dict:
    body = {"id": user_id, "is_bot": False, "first_name": first_name}
    if username:
        body["username"] = username
    if language_code:
        body["language_code"] = language_code
    return body


def private_chat(sender: dict) -> dict:
    chat = {"id": sender["id"], "type": "private", "first_name": sender["first_name"]}
    if "username" in sender:
        chat["username"] = sender["username"]
    return chat


def group_chat(chat_id: int = -1001234567890, title: str = "Video editors") -> dict:
    return {"id": chat_id, "type": "supergroup", "title": title}


def message(chat: dict, sender: dict, text: str | None = None, *, caption: str | None = None,
            media: dict | None = None, reply_to: dict | None = None, message_id: int | None = None) -> dict:
    """A Message object; `media` holds the file fields, e.g. {"video": {...}} or {"photo": [...]}."""
    body: dict = {
        "message_id": message_id or next(_message_ids),
        "from": sender,
        "chat": chat,
        "date": int(time.time()),
    }
    if text is not None:
        body["text"] = text
        if entities := entities_for(text):
            body["entities"] = entities
    if caption is not None:
        body["caption"] = caption
        if entities := entities_for(caption):
            body["caption_entities"] = entities
    if media:
        body.update(media)
    if reply_to is not None:
        body["reply_to_message"] = reply_to
    return body


def message_update(*args, **kwargs) -> dict:
    return {"message": message(*args, **kwargs)}


def callback_update(sender: dict, data: str, on_message: dict) -> dict:
    """A press of an inline keyboard button under one of the bot's messages."""
    return {"callback_query": {
        "id": f"{next(_callback_ids)}0000000000",
        "from": sender,
        "message": on_message,
        "chat_instance": "-424242",
        "data": data,
    }}


def video_fields(file: dict, *, width: int = 640, height: int = 360, duration: int = 120,
                 file_name: str | None = "talk.mp4", mime_type: str = "video/mp4") -> dict:
    """`file` is what FakeBotApi.add_file returned (file_id, file_unique_id, file_size)."""
    body = {**file, "width": width, "height": height, "duration": duration, "mime_type": mime_type}
    if file_name:
        body["file_name"] = file_name
    return {"video": body}


def document_fields(file: dict, *, file_name: str, mime_type: str) -> dict:
    return {"document": {**file, "file_name": file_name, "mime_type": mime_type}}

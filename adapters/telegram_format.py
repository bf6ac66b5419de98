"""bot.messages replies -> what Telegram shows: HTML text, captions, inline keyboards, limit sentences.

Everything goes out with parse_mode=HTML, so user and model text is escaped with
`html.escape` (Telegram's HTML needs only &, < and > escaped) and the only markup is ours.
Telegram measures its limits (4096 for a message, 1024 for a caption) in UTF-16 code
units of the text after markup is parsed, so lengths are counted on the plain text.
"""
from __future__ import annotations

import html
import logging

from telegram import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup

from bot import texts
from bot.messages import Button, ProgressReply, VideoReply

log = logging.getLogger(__name__)

MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64                      # bytes
BUTTONS_PER_ROW = 2
MB = 1024 * 1024

CLOUD_DOWNLOAD_LIMIT_MB = 20
CLOUD_UPLOAD_LIMIT_MB = 50
LOCAL_SERVER_LIMIT_MB = 2000


MENU = ("start", "help", "status", "export", "credits", "share", "cancel", "new")


def bot_commands(lang: str) -> tuple[BotCommand, ...]:
    """The command menu (setMyCommands), described in `lang`."""
    return tuple(BotCommand(name, texts.say(lang, f"menu_{name}")) for name in MENU)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def escape(text: str) -> str:
    return html.escape(text, quote=False)


def _prefix(text: str, limit: int) -> str:
    """The longest prefix of `text` within `limit` UTF-16 units."""
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > limit:
            return text[:index]
    return text


def fit(text: str, limit: int) -> str:
    """`text` cut to `limit` UTF-16 units, with an ellipsis when cut."""
    if utf16_len(text) <= limit:
        return text
    return _prefix(text, limit - 1).rstrip() + "…"


def split_text(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Pieces of at most `limit` UTF-16 units, broken at line ends where possible."""
    pieces: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        if utf16_len(current + line) > limit and current:
            pieces.append(current)
            current = ""
        while utf16_len(line) > limit:                 # a single line longer than a message
            head = _prefix(line, limit)
            pieces.append(head)
            line = line[len(head):]
        current += line
    if current or not pieces:
        pieces.append(current)
    return [piece.rstrip("\n") or piece for piece in pieces]


def keyboard(buttons: tuple[Button, ...]) -> InlineKeyboardMarkup | None:
    """Inline buttons whose callback data is the button's action ("/export", "/share 2")."""
    usable = []
    for button in buttons:
        if len(button.action.encode()) > CALLBACK_DATA_LIMIT:
            log.warning("button %r dropped: its action is longer than Telegram's 64-byte callback data", button.label)
            continue
        usable.append(InlineKeyboardButton(button.label, callback_data=button.action))
    if not usable:
        return None
    return InlineKeyboardMarkup([usable[i:i + BUTTONS_PER_ROW] for i in range(0, len(usable), BUTTONS_PER_ROW)])


def progress_bar(fraction: float, width: int = 10) -> str:
    filled = round(max(0.0, min(1.0, fraction)) * width)
    return "▓" * filled + "░" * (width - filled) + f" {round(fraction * 100):d}%"


def progress_html(reply: ProgressReply) -> str:
    text = reply.text
    if reply.fraction is not None and not reply.done:
        text = f"{text}\n{progress_bar(reply.fraction)}"
    return escape(fit(text, MESSAGE_LIMIT))


def video_caption_html(reply: VideoReply) -> str:
    """The caption (which carries the hashtags) with the title in bold, within Telegram's 1024.

    A caption that already names the title gets it in bold where it stands; otherwise the title goes on top.
    """
    title = reply.title.strip()
    body = reply.caption.strip()
    if not body:
        return f"<b>{escape(fit(title, CAPTION_LIMIT))}</b>" if title else ""
    if title and title in body:
        before, _, after = fit(body, CAPTION_LIMIT).partition(title)
        if _:
            return f"{escape(before)}<b>{escape(title)}</b>{escape(after)}"
    if title:
        title = fit(title, 200)
        return f"<b>{escape(title)}</b>\n\n{escape(fit(body, CAPTION_LIMIT - utf16_len(title) - 2))}"
    return escape(fit(body, CAPTION_LIMIT))


def link_html(url: str, text: str = "") -> str:
    shown = escape(text.strip()) if text.strip() else ""
    anchor = f'<a href="{html.escape(url, quote=True)}">{escape(url)}</a>'
    return f"{shown}\n{anchor}" if shown else anchor


def size_mb(size: int) -> str:
    return f"{size / MB:.0f} MB" if size >= 10 * MB else f"{size / MB:.1f} MB"


def too_big_to_download(lang: str, name: str, size: int, limit_mb: int, local_mode: bool) -> str:
    """The sentence for a file Telegram will not hand over, with the ways around it."""
    if local_mode:
        return texts.say(lang, "telegram_too_big_for_local_server", name=name, size=size_mb(size), limit=limit_mb)
    return texts.say(lang, "telegram_too_big_to_download", name=name, size=size_mb(size), limit=limit_mb,
                     local_limit=LOCAL_SERVER_LIMIT_MB)


def too_big_for_this_bot(lang: str, name: str, size: int, limit_mb: int) -> str:
    return texts.say(lang, "telegram_too_big_for_this_bot", name=name, size=size_mb(size), limit=limit_mb)


def too_big_to_send(reply: VideoReply, size: int, limit_mb: int) -> str:
    return texts.reason(reply.language, "link_telegram_too_big", f"This short is {size_mb(size)}, over the "
                        f"{limit_mb} MB Telegram lets bots send.", size=size_mb(size), limit=limit_mb)


def upload_refused(reply: VideoReply) -> str:
    return texts.reason(reply.language, "link_telegram_refused", "Telegram did not take the video upload.")


def sent_as_link(reply: VideoReply, url: str, reason: str) -> str:
    """HTML for a short that goes out as a download link instead of a video, in the person's language."""
    heading = f"<b>{escape(reply.title.strip())}</b>\n" if reply.title.strip() else ""
    here = texts.reason(reply.language, "link_telegram_here", "Download it here (the link expires):")
    return f"{heading}{escape(texts.sentences(reply.language, reason, here))}\n{link_html(url)}"


def no_link_possible(reply: VideoReply, reason: str) -> str:
    none = texts.reason(reply.language, "link_telegram_none",
                        "This bot has no download link server set up, so the short cannot reach you this way; "
                        "whoever runs the bot can set PUBLIC_BASE_URL, or run the local Bot API server from "
                        f"docker-compose to send files up to {LOCAL_SERVER_LIMIT_MB} MB.", limit=LOCAL_SERVER_LIMIT_MB)
    return texts.sentences(reply.language, reason, none)

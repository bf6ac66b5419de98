"""bot.messages replies -> what a Discord message holds: text, a file or a link, buttons.

Nothing here sends anything; discord_adapter.py decides where a reply goes (the interaction,
a thread, the channel) and calls Discord. These are the rules that do not depend on where:
- a message holds at most 2000 characters;
- a video goes as a file when it fits the upload limit of the place it is posted to,
  otherwise as a signed download link;
- progress is one message per job, edited as often as the job's throttle sends (bot/jobs.py);
- buttons carry their action in the custom id ("shortsbot:/share 2"), so a press still
  works after a restart: discord.py matches the id against ActionButton's template.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import discord

from bot import texts
from bot.messages import Button, ProgressReply, VideoReply

if TYPE_CHECKING:
    from adapters.discord_adapter import ShortsClient

MESSAGE_LIMIT = 2000
THREAD_NAME_LIMIT = 100
# An interaction's token lives 15 minutes; stop using it a minute early so a slow upload still lands.
INTERACTION_TOKEN_LIFETIME = timedelta(minutes=15)
INTERACTION_TOKEN_MARGIN = timedelta(minutes=1)
BUTTON_ID_PREFIX = "shortsbot:"
CUSTOM_ID_LIMIT = 100
BUTTON_LABEL_LIMIT = 80
BUTTONS_PER_ROW = 5


def clip_text(text: str, limit: int = MESSAGE_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def progress_text(reply: ProgressReply) -> str:
    """"Rendering clip 2 of 3" over a bar: ▰▰▰▰▱▱▱▱▱▱ 40%."""
    if reply.fraction is None or reply.done:
        return clip_text(reply.text)
    fraction = min(max(reply.fraction, 0.0), 1.0)
    filled = round(fraction * 10)
    return clip_text(f"{reply.text}\n{'▰' * filled}{'▱' * (10 - filled)} {fraction:.0%}")


def video_text(reply: VideoReply) -> str:
    """The caption (which names the clip); the bare title when there is no caption."""
    return clip_text(reply.caption or (f"**{reply.title}**" if reply.title else ""))


def too_big(size_bytes: int, limit_bytes: int, lang: str = "en") -> str:
    size, limit = megabytes(size_bytes), megabytes(limit_bytes)
    return texts.reason(lang, "link_discord_too_big", f"The clip is {size}, more than the {limit} Discord takes here.",
                        size=size, limit=limit)


def refused_upload(lang: str = "en") -> str:
    return texts.reason(lang, "link_discord_refused", "Discord would not take the file here.")


def link_text(reply: VideoReply, url: str, why: str) -> str:
    here = texts.reason(reply.language, "link_discord_here", "Here is a download link:")
    return clip_text("\n".join(p for p in (video_text(reply), texts.sentences(reply.language, why, here), url) if p))


def no_link_text(reply: VideoReply, why: str) -> str:
    none = texts.reason(reply.language, "link_discord_none",
                        "Download links are not set up on this bot (PUBLIC_BASE_URL), so try a shorter clip.")
    return clip_text("\n".join(p for p in (video_text(reply), texts.sentences(reply.language, why, none)) if p))


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def fits_upload(size_bytes: int, limit_bytes: int) -> bool:
    return size_bytes <= limit_bytes


def thread_name(subject: str, lang: str = "en") -> str:
    """A thread title from what the user asked: "Shorts: 3 vertical clips about pricing" / "短视频：剪成三个短视频"."""
    subject = re.sub(r"\s+", " ", subject).strip()
    name = texts.say(lang, "discord_thread", subject=subject) if subject else texts.say(lang, "discord_thread_untitled")
    return name if len(name) <= THREAD_NAME_LIMIT else name[: THREAD_NAME_LIMIT - 1].rstrip() + "…"


def interaction_token_usable(created_at: datetime, now: datetime) -> bool:
    """Whether an interaction's webhook token may still be used (15 minutes, less a margin)."""
    return now - created_at < INTERACTION_TOKEN_LIFETIME - INTERACTION_TOKEN_MARGIN


# ---------------------------------------------------------------------------- buttons

class ActionButton(discord.ui.DynamicItem[discord.ui.Button], template=r"shortsbot:(?P<action>.+)"):
    """A button whose custom id is its command line; its press goes through the conversation."""

    def __init__(self, label: str, action: str) -> None:
        self.action = action
        super().__init__(discord.ui.Button(label=label[:BUTTON_LABEL_LIMIT], style=_style(action),
                                           custom_id=BUTTON_ID_PREFIX + action))

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /):
        return cls(item.label or match["action"], match["action"])

    async def callback(self, interaction: discord.Interaction["ShortsClient"]) -> None:
        await interaction.client.adapter.on_button(interaction, self.action)


def _style(action: str) -> discord.ButtonStyle:
    if action.startswith("/cancel"):
        return discord.ButtonStyle.danger
    if action.startswith("/export"):
        return discord.ButtonStyle.primary
    return discord.ButtonStyle.secondary


def view_for(buttons: tuple[Button, ...]) -> discord.ui.View | None:
    """A persistent view (no timeout) of the buttons whose action fits a custom id; None for none."""
    usable = [b for b in buttons if b.action.strip() and len(BUTTON_ID_PREFIX + b.action) <= CUSTOM_ID_LIMIT]
    if not usable:
        return None
    view = discord.ui.View(timeout=None)
    for index, button in enumerate(usable[: BUTTONS_PER_ROW * 5]):
        item = ActionButton(button.label, button.action)
        item.item.row = index // BUTTONS_PER_ROW
        view.add_item(item)
    return view


@dataclass
class Outgoing:
    """One message to post or edit: text, at most one file, buttons."""

    content: str
    file: discord.File | None = None
    view: discord.ui.View | None = None

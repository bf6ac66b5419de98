"""A terminal chat with the bot: the same App and Conversation as Telegram and Discord, no tokens.

Each stdin line is a message from one local user. A line that is the path of an existing file,
`/upload PATH`, or an http(s) link is an upload; anything else is said to the bot. Replies are
printed one per line:

    video: /abs/path/clip-01.mp4 1080x1920 59.8s "Do you know what happened next?"
    progress: Rendering clip 1 of 3 45%
    error: Send me a video first (a file or a link), then tell me what to cut.

With piped stdin each line waits until the work the previous one started is finished (as a
person would read the reply before typing the next line), and at the end of the input the
user's running jobs are waited for before the program exits 0.
"""
from __future__ import annotations

import asyncio
import getpass
import mimetypes
import os
import shutil
import sys
from pathlib import Path
from typing import TextIO

from bot.texts import pick_language, say
from bot.messages import Attachment, ChatRef, ErrorReply, Incoming, LinkReply, ProgressReply, Reply, VideoReply

PLATFORM = "console"


def video_line(reply: VideoReply) -> str:
    """`video: /abs/path.mp4 1080x1920 59.8s "title"`"""
    return f'video: {Path(reply.path).resolve()} {reply.width}x{reply.height} {reply.duration:.1f}s "{reply.title}"'


def reply_lines(reply: Reply) -> list[str]:
    if isinstance(reply, VideoReply):
        lines = [video_line(reply)] + [f"  {line}" for line in reply.caption.splitlines() if line.strip()]
        if reply.link:
            lines.append(f"  link: {reply.link}")
    elif isinstance(reply, ProgressReply):
        percent = "" if reply.fraction is None else f" {round(reply.fraction * 100)}%"
        lines = [f"progress: {reply.text}{percent}"]
    elif isinstance(reply, LinkReply):
        lines = [f"link: {reply.url}" + (f" {reply.text}" if reply.text and reply.url not in reply.text else "")]
    elif isinstance(reply, ErrorReply):
        lines = [f"error: {reply.text}"]
    else:
        lines = reply.text.splitlines() or [""]
    buttons = getattr(reply, "buttons", ())
    if buttons:
        lines.append("  [" + " | ".join(f"{b.label}: {b.typed or b.action}" for b in buttons) + "]")
    return lines


def _attachment(path: Path) -> Attachment:
    mime = mimetypes.guess_type(path.name)[0]
    kind = (mime or "").split("/")[0]

    async def fetch(dest: Path) -> Path:
        await asyncio.to_thread(shutil.copyfile, path, dest)
        return dest

    return Attachment(name=path.name, mime=mime, size=path.stat().st_size, fetch=fetch,
                      kind=kind if kind in ("video", "audio", "image") else "document")


class ConsoleAdapter:
    def __init__(self, app, stdin: TextIO | None = None, stdout: TextIO | None = None, *,
                 user_id: str | None = None, user_name: str | None = None, chat_id: str = "terminal",
                 interactive: bool | None = None):
        self.app = app
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self.user_id = user_id or _login_name()
        self.user_name = user_name or self.user_id
        self.chat_id = chat_id
        self.interactive = self.stdin.isatty() if interactive is None else interactive
        self.language = _language_hint()
        self._count = 0

    async def start(self) -> None:
        self.app.register_platform(PLATFORM, self.sink, upload_limit=None)   # files stay on this disk: any size

    async def stop(self) -> None:
        pass

    async def sink(self, ref: ChatRef, reply: Reply) -> None:
        for line in reply_lines(reply):
            print(line, file=self.stdout, flush=True)

    def incoming(self, line: str) -> Incoming:
        """One typed line as the message a platform adapter would build."""
        self._count += 1
        text, attachments = line, ()
        candidate = line[len("/upload"):].strip() if line.startswith("/upload ") else line
        path = Path(os.path.expanduser(candidate.strip("'\"")))
        if candidate and not candidate.startswith(("http://", "https://")) and path.is_file():
            text, attachments = "", (_attachment(path),)
        return Incoming(platform=PLATFORM, chat_id=self.chat_id, user_id=self.user_id, user_name=self.user_name,
                        text=text, attachments=attachments, message_id=str(self._count), language=self.language)

    async def run(self) -> int:
        await self.start()
        if self.interactive:
            print(say(pick_language(hint=self.language), "console_greeting"), file=self.stdout, flush=True)
        while True:
            line = await asyncio.to_thread(self.stdin.readline)
            if not line:
                break
            line = line.strip()
            if not line:
                continue
            await self.app.conversation.handle(self.incoming(line))
            if not self.interactive:
                await self.wait_for_jobs()
        await self.wait_for_jobs()
        return 0

    async def wait_for_jobs(self) -> None:
        await self.app.conversation.wait_idle(PLATFORM, self.user_id)


def _login_name() -> str:
    try:
        return getpass.getuser() or "local"
    except (KeyError, OSError):
        return "local"


def _language_hint() -> str | None:
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name)
        if value and value not in ("C", "POSIX") and not value.startswith("C."):
            return value.split(".")[0].replace("_", "-").lower()
    return None

"""`shortsbot run | chat | clip`: the console script."""
from __future__ import annotations

import argparse
import logging
import sys

from bot.settings import SettingsError, load_settings


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="shortsbot",
        description="Turn long videos into captioned vertical shorts, from Telegram, Discord or a terminal.",
    )
    sub = parser.add_subparsers(dest="command", metavar="{run,chat,clip}")

    sub.add_parser("run", help="start the bot: Telegram and/or Discord when their tokens are set, else the terminal chat")
    sub.add_parser("chat", help="talk to the bot in this terminal (one local user; piped stdin works)")

    clip = sub.add_parser("clip", help="find the best moments of a video and render them as shorts")
    clip.add_argument("video", help="a video or audio file")
    clip.add_argument("instruction", nargs="?", default="",
                      help='what you want, e.g. "find the best moments and cut them into 60-second vertical shorts"')
    clip.add_argument("--out", required=True, help="folder for clips.json and the MP4s")
    clip.add_argument("--no-render", action="store_true", help="choose the moments and write clips.json only")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"shortsbot: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # These libraries log what holds tokens: SQL parameters and headers at DEBUG, and httpx every
    # request URL at INFO (Telegram's URLs carry the bot token).
    for chatty in ("aiosqlite", "httpcore", "hpack"):
        logging.getLogger(chatty).setLevel(max(settings.log_level, "INFO", key=logging.getLevelName))
    logging.getLogger("httpx").setLevel(max(settings.log_level, "WARNING", key=logging.getLevelName))

    if args.command == "clip":
        from shortsbot.commands.clip import run_clip

        return run_clip(settings, args)
    if args.command == "chat":
        from shortsbot.commands.chat import run_chat

        return run_chat(settings)
    from shortsbot.commands.serve import run_bot

    return run_bot(settings)


if __name__ == "__main__":
    sys.exit(main())

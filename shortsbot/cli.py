"""`shortsbot run | chat | clip | worker | models pull NAME`: the console script."""
from __future__ import annotations

import argparse
import logging
import sys

from pydantic import SecretStr

from bot.settings import SettingsError, load_settings


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="shortsbot",
        description="Turn long videos into captioned vertical shorts, from Telegram, Discord or a terminal.",
    )
    sub = parser.add_subparsers(dest="command", metavar="{run,chat,clip,models,worker}")

    sub.add_parser("run", help="start the bot: Telegram and/or Discord when their tokens are set, else the terminal chat")
    sub.add_parser("chat", help="talk to the bot in this terminal (one local user; piped stdin works)")

    clip = sub.add_parser("clip", help="find the best moments of a video and render them as shorts")
    clip.add_argument("video", help="a video or audio file")
    clip.add_argument("instruction", nargs="?", default="",
                      help='what you want, e.g. "find the best moments and cut them into 60-second vertical shorts"')
    clip.add_argument("--out", required=True, help="folder for clips.json and the MP4s")
    clip.add_argument("--no-render", action="store_true", help="choose the moments and write clips.json only")
    clip.add_argument("--debug-reframe", action="store_true",
                      help="also write clip-NN.reframe.mp4: the source with face tracks, speaking scores and the crop drawn")
    worker = sub.add_parser("worker", help="run analysis and rendering tasks from BROKER_URL (a worker machine)")
    worker.add_argument("--concurrency", type=int, default=None, help="tasks at once (default WORKER_CONCURRENCY)")
    worker.add_argument("--name", default=None, help="the worker's name in logs (default shortsbot-PID@host)")
    models = sub.add_parser("models", help="speech models: `models pull NAME` downloads one (the only download)")
    models_sub = models.add_subparsers(dest="models_command", metavar="{pull}", required=True)
    pull = models_sub.add_parser("pull", help="download a faster-whisper model by name into the cache")
    pull.add_argument("name", help='e.g. "small", "large-v3" or a hub repository "owner/name"')
    return parser


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class RedactSecrets(logging.Filter):
    """Replaces the operator's secrets in every line with ***: libraries log URLs that carry them
    (python-telegram-bot logs its Bot API URL, which holds the bot token, at DEBUG)."""

    def __init__(self, secrets: list[str]):
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(secret in message for secret in self.secrets):
            for secret in self.secrets:
                message = message.replace(secret, "***")
            record.msg, record.args = message, ()
        return True


def configure_logging(settings, stream=None) -> None:
    """LOG_LEVEL for everything (to stderr, or `stream`), but never the lines that carry a token."""
    logging.basicConfig(level=settings.log_level, format=LOG_FORMAT, stream=stream)
    secrets = [value.get_secret_value() for value in vars(settings).values() if isinstance(value, SecretStr)]
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactSecrets(secrets))
    # These libraries log what holds tokens: SQL parameters and headers at DEBUG, and httpx every
    # request URL at INFO (Telegram's URLs carry the bot token).
    for chatty in ("aiosqlite", "httpcore", "hpack"):
        logging.getLogger(chatty).setLevel(max(settings.log_level, "INFO", key=logging.getLevelName))
    logging.getLogger("httpx").setLevel(max(settings.log_level, "WARNING", key=logging.getLevelName))


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
    configure_logging(settings)

    if args.command == "clip":
        from shortsbot.commands.clip import run_clip

        return run_clip(settings, args)
    if args.command == "models":
        from shortsbot.commands.models import run_models

        return run_models(settings, args)
    if args.command == "worker":
        from workers.command import run_worker

        return run_worker(settings, args.concurrency, args.name)
    if args.command == "chat":
        from shortsbot.commands.chat import run_chat

        return run_chat(settings)
    from shortsbot.commands.serve import run_bot

    return run_bot(settings)


if __name__ == "__main__":
    sys.exit(main())

"""A video site's page through yt-dlp: one video, not live, mp4 up to 1080p, within the size limit.

yt-dlp does its own networking, so it gets only the known sites' extractors (the generic one
would follow whatever a page embeds), and the media hosts it chose are checked before a byte
moves. It runs in a thread; a cancel stops it at its next progress report.
"""
from __future__ import annotations

import asyncio
import importlib.util
import logging
import re
import secrets
import shutil
import threading
from pathlib import Path

import httpx

from bot.fetch.addresses import check_host_now
from bot.fetch.errors import DownloadFailed, NotAVideoPage, TooLarge
from bot.fetch.files import CHUNK_BYTES, title_filename
from engine.probe import ACCEPTED

log = logging.getLogger(__name__)

# The generic extractor reads any page and follows what it embeds: only the sites' own extractors run.
YTDLP_EXTRACTORS = ("default", "-generic")


class _OverLimit(Exception):
    pass


class _Stopped(Exception):
    pass


async def fetch_page(url: str, dest_dir: Path, max_bytes: int, allow_private: bool, timeout: float,
                      extractors: tuple[str, ...] | None = None) -> Path:
    """The page's one video, saved as dest_dir/fetch-<random>/<its title>.<ext>. `extractors`:
    YTDLP_EXTRACTORS unless given (tests allow the generic one, on loopback pages)."""
    if importlib.util.find_spec("yt_dlp") is None:
        raise DownloadFailed(
            "That link is a web page, not a video file, and downloading from video sites is not installed here "
            "(the bot's `links` extra adds yt-dlp). Send the video file itself or a direct link to it.",
            "fetch_no_ytdlp",
        )
    # A thread cannot be cancelled: on cancel, the next progress report stops it and it cleans up.
    stop = threading.Event()
    try:
        return await asyncio.to_thread(ytdlp_download, url, dest_dir, max_bytes, allow_private, timeout, stop,
                                       extractors or YTDLP_EXTRACTORS)
    except asyncio.CancelledError:
        stop.set()
        raise


def ytdlp_download(
    url: str, dest_dir: Path, max_bytes: int, allow_private: bool, timeout: float, stop: threading.Event,
    extractors: tuple[str, ...] = YTDLP_EXTRACTORS,
) -> Path:
    import yt_dlp
    from yt_dlp.utils import DownloadError, UnsupportedError

    # a folder of its own, so the file can take the video's title for the replies ("Why_we_sleep.mp4")
    folder = dest_dir / f"fetch-{secrets.token_hex(8)}"
    log_sink = _YtdlpLog()

    def stop_over_limit(progress: dict) -> None:
        if stop.is_set():
            raise _Stopped
        seen = max(progress.get("downloaded_bytes") or 0, progress.get("total_bytes") or 0)
        if seen > max_bytes:
            raise _OverLimit

    options = {
        "format": "bv*[height<=?1080]+ba/b[height<=?1080]",
        "format_sort": ["res:1080", "ext:mp4:m4a"],
        "merge_output_format": "mp4",
        "outtmpl": {"default": str(folder / "video.%(ext)s")},
        "max_filesize": max_bytes,
        "noplaylist": True,
        "allowed_extractors": list(extractors),
        "progress_hooks": [stop_over_limit],
        "socket_timeout": timeout,
        "buffersize": CHUNK_BYTES,           # fixed blocks, so the size check in the hook acts within one block
        "noresizebuffer": True,
        "retries": 2,
        "fragment_retries": 2,
        "cachedir": False,
        "quiet": True,
        "no_warnings": True,
        "noprogress": True,
        "logger": log_sink,
    }
    try:
        with yt_dlp.YoutubeDL(options) as ydl:
            info = ydl.extract_info(url, download=False)
            _check_page_info(info, max_bytes, allow_private)
            ydl.process_ie_result(info, download=True)
        done = [p for p in folder.glob("video.*") if p.name.count(".") == 1 and p.suffix not in (".part", ".ytdl")]
        if not done and log_sink.over_max_filesize:     # yt-dlp skips such a file without raising
            raise TooLarge(max_bytes / 2**20)
        if not done:
            raise DownloadFailed("The video site sent nothing I could save; try another link.", "fetch_site_nothing")
        if done[0].stat().st_size > max_bytes:
            raise TooLarge(max_bytes / 2**20)
        suffix = done[0].suffix if done[0].suffix.lstrip(".") in ACCEPTED else ""     # not "unknown_video"
        return done[0].rename(folder / title_filename(info.get("title") or "", suffix))
    except BaseException as exc:
        shutil.rmtree(folder, ignore_errors=True)
        cause = exc.exc_info[1] if isinstance(exc, DownloadError) and exc.exc_info else None
        if isinstance(exc, _OverLimit) or isinstance(cause, _OverLimit):
            raise TooLarge(max_bytes / 2**20) from None
        if isinstance(exc, DownloadError):
            reason = _ytdlp_reason(str(exc))
            if (isinstance(cause, UnsupportedError)
                    or any(words in reason for words in ("Unsupported URL", "No video formats", "No suitable extractor"))):
                raise NotAVideoPage() from None
            raise DownloadFailed(f"The video site refused the download: {reason}.", "fetch_site_refused",
                                 reason=reason) from None
        raise


def _check_page_info(info: dict, max_bytes: int, allow_private: bool) -> None:
    """Before any media byte moves: one video, not live, not too large, and served from allowed addresses."""
    if info.get("_type") in ("playlist", "multi_video"):
        raise NotAVideoPage("it is a playlist; send a link to one video", "fetch_playlist")
    if info.get("is_live"):
        raise DownloadFailed("That is a live stream; send the link again once the recording is published.",
                             "fetch_live")
    parts = info.get("requested_formats") or [info]
    if sum(part.get("filesize") or part.get("filesize_approx") or 0 for part in parts) > max_bytes:
        raise TooLarge(max_bytes / 2**20)
    for part in parts:
        media_url = part.get("url") or part.get("manifest_url")
        if media_url:
            media = httpx.URL(media_url)
            check_host_now(media.host, media.port or 443, allow_private)


def _ytdlp_reason(message: str) -> str:
    """yt-dlp's "ERROR: [site] id: reason" -> "reason", short."""
    reason = re.sub(r"^ERROR:\s*", "", message.strip())
    reason = re.sub(r"^\[[^\]]+\]\s*(?:[\w-]+:\s*)?", "", reason)
    return reason.splitlines()[0].rstrip(".")[:200] if reason else "unknown error"


class _YtdlpLog:
    """yt-dlp's messages go to our log, not to stdout."""

    over_max_filesize = False

    def debug(self, message: str) -> None:
        if "max-filesize" in message:
            self.over_max_filesize = True
        log.debug("yt-dlp: %s", message)

    def info(self, message: str) -> None:
        log.debug("yt-dlp: %s", message)

    def warning(self, message: str) -> None:
        log.info("yt-dlp: %s", message)

    def error(self, message: str) -> None:
        log.info("yt-dlp: %s", message)

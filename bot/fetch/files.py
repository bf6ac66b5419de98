"""Writing a download to disk: the one helper every download in the project goes through (links,
Telegram and Discord attachments, NemoVideo renders), within a byte limit, with nothing left behind
when it fails."""
from __future__ import annotations

import mimetypes
import re
from pathlib import Path
from typing import AsyncIterable

import httpx

from bot.fetch.errors import DownloadFailed, TooLarge

CHUNK_BYTES = 256 * 1024


async def save_stream(chunks: AsyncIterable[bytes], dest: Path, max_bytes: int | None, *,
                      declared_size: int | None = None) -> Path:
    """Writes `chunks` to `<dest>.part` and renames it to `dest` once complete.

    TooLarge before a byte is written when `declared_size` (a Content-Length) is over
    `max_bytes`, and as soon as the bytes received pass it. On any failure or cancel the
    .part file is removed and `dest` is untouched.
    """
    if max_bytes is not None and declared_size is not None and declared_size > max_bytes:
        raise TooLarge(max_bytes / 2**20)
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".part")
    written = 0
    try:
        with partial.open("wb") as out:
            async for chunk in chunks:
                written += len(chunk)
                if max_bytes is not None and written > max_bytes:
                    raise TooLarge(max_bytes / 2**20)
                out.write(chunk)
        return partial.replace(dest)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


async def stream_to_file(client: httpx.AsyncClient, url: str, dest: Path, max_bytes: int | None, *,
                         headers: dict[str, str] | None = None, timeout=httpx.USE_CLIENT_DEFAULT) -> Path:
    """GETs `url` with `client` straight into `dest` (see save_stream).

    An HTTP error status is DownloadFailed with `values["status"]`; a network failure is
    DownloadFailed too. Messages name the host only: a URL may hold a token (Telegram's do).
    """
    host = httpx.URL(url).host
    try:
        async with client.stream("GET", url, headers=headers, timeout=timeout) as response:
            if response.status_code >= 400:
                raise DownloadFailed(f"{host} answered the download with HTTP {response.status_code}.",
                                     "fetch_http_status", host=host, status=response.status_code)
            return await save_stream(response.aiter_bytes(CHUNK_BYTES), dest, max_bytes,
                                     declared_size=declared_length(response))
    except httpx.TimeoutException:
        raise DownloadFailed(f"{host} stopped answering during the download.", "fetch_failed", host=host,
                             error="timeout") from None
    except httpx.HTTPError as exc:
        raise DownloadFailed(f"I couldn't download from {host} ({type(exc).__name__}).", "fetch_failed",
                             host=host, error=type(exc).__name__) from None


def declared_length(response: httpx.Response) -> int | None:
    declared = response.headers.get("content-length", "")
    return int(declared) if declared.isdigit() else None


_UNSAFE = re.compile(r"[^\w.\-]+")


def safe_filename(name: str, mime: str | None = None) -> str:
    """A file name to keep an upload under while it is probed: the user's name without any path
    or odd characters (display only; stored media are named by content hash)."""
    base = Path(name.replace("\\", "/")).name if name else ""
    base = _UNSAFE.sub("_", base).strip("._")[-80:]
    if "." not in base:
        extension = (mimetypes.guess_extension(mime or "") or "") if mime else ""
        base = (base or "upload") + extension
    return base or "upload"


TITLE_CHARS = 72                 # with a suffix, within safe_filename's 80


def title_filename(title: str, suffix: str) -> str:
    """A video site's title as the file's name in the replies ("Why we sleep: part 1/2" ->
    "Why_we_sleep_part_1_2.mp4"): slashes and odd characters made safe before safe_filename could read
    them as a path, cut to TITLE_CHARS from its start (where a title says what it is); "video" when
    nothing of it is left."""
    bounded = _UNSAFE.sub("_", title).strip("._")[:TITLE_CHARS].rstrip("._")
    return safe_filename(f"{bounded or 'video'}{suffix}")

"""Links as uploads: an http(s) link in a message is fetched to a file the caller then probes.

Two kinds of links:
- a direct file link is streamed with httpx to a temporary file (never held in memory);
  the size is checked from Content-Length before reading and again while streaming;
- a link to a known video site (VIDEO_SITES, also when a link redirects there) goes through
  yt-dlp, the field's standard, limited to mp4 up to 1080p and the same size cap. Any other
  web page is answered with NotAVideoPage: yt-dlp's generic extractor would follow whatever a
  page embeds or redirects to, on any host, outside the checks below.

Server-side request forgery: a bot that fetches whatever users send must not become a
way into the network it runs in. Every hop's host is resolved and every address checked
before connecting, and the connection is then made to the checked address itself
(the Host header and TLS server name keep the real name), so a DNS answer cannot change
between the check and the connection. Loopback and private addresses are refused unless
`allow_private` (tests, a LAN install); link-local, multicast, unspecified and cloud
metadata addresses are refused always, since no video lives there. yt-dlp does its own
networking, so it only gets the known sites, with the generic extractor excluded; the
page's host and the media hosts it chose are checked before it downloads.

The Content-Type header is not trusted: the caller probes the file with ffprobe.

save_stream / stream_to_file are the one way this project writes a download to disk
(links, Telegram and Discord attachments, NemoVideo renders): through `<dest>.part`,
within a byte limit, and nothing left behind when it fails.
"""
from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import ipaddress
import logging
import re
import secrets
import socket
import threading
from pathlib import Path, PurePosixPath
from typing import AsyncIterable, AsyncIterator
from urllib.parse import unquote

import httpx

from engine.probe import ACCEPTED

log = logging.getLogger(__name__)

USER_AGENT = "shortsbot/0.1 (+https://github.com/shortsbot)"
MAX_REDIRECTS = 5
CHUNK_BYTES = 256 * 1024

VIDEO_SITES = (
    "youtube.com", "youtu.be", "vimeo.com", "tiktok.com", "dailymotion.com", "twitch.tv",
    "bilibili.com", "b23.tv", "instagram.com", "facebook.com", "fb.watch", "x.com", "twitter.com",
    "reddit.com", "streamable.com",
)
# The generic extractor reads any page and follows what it embeds: only the sites' own extractors run.
YTDLP_EXTRACTORS = ("default", "-generic")

_METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200")
)


# ---------------------------------------------------------------------------
# Errors: str() is a sentence for the person who sent the link.


class FetchError(Exception):
    """`key` and `values` name the sentence, so that bot.texts can say it in other languages."""

    def __init__(self, message: str, key: str | None = None, **values):
        super().__init__(message)
        self.key = key
        self.values = values


class BlockedAddress(FetchError):
    def __init__(self, host: str):
        self.host = host
        super().__init__(
            f"That link points to a private or local network address ({host}), which I am not allowed to open.",
            "fetch_blocked", host=host,
        )


class TooLarge(FetchError):
    def __init__(self, limit_mb: float):
        self.limit_mb = limit_mb
        size = _size_text(limit_mb)
        super().__init__(
            f"That video is larger than the {size} limit. Trim or compress it and send it again.",
            "fetch_too_large", size=size,
        )


class NotAVideoPage(FetchError):
    def __init__(self, detail: str = "", key: str = "fetch_not_video"):
        super().__init__(
            "I couldn't find a video at that link"
            + (f" ({detail})" if detail else "")
            + ". Send a direct link to a video file, or a link to a video on a video site.",
            key,
        )


class DownloadFailed(FetchError):
    pass


def _size_text(limit_mb: float) -> str:
    if limit_mb >= 1:
        return f"{limit_mb:.0f} MB" if limit_mb == int(limit_mb) else f"{limit_mb:.1f} MB"
    return f"{round(limit_mb * 1024 * 1024)} bytes"


# ---------------------------------------------------------------------------
# Finding links in text

_URL = re.compile(r"https?://[^\s<>\"'`\u3000-\u303f\uff01-\uff0f\uff1a-\uff20]+", re.IGNORECASE)
_TRAILING = ".,;:!?"


def find_urls(text: str) -> list[str]:
    """The http(s) links in a message, in order, without the punctuation that ends a sentence."""
    urls = []
    for match in _URL.finditer(text or ""):
        url = match.group().rstrip(_TRAILING)
        # A closing bracket belongs to the link only when the link opened one: (see https://x.org/a_(b)).
        while url and url[-1] in ")]}" and url.count(url[-1]) > url.count({")": "(", "]": "[", "}": "{"}[url[-1]]):
            url = url[:-1].rstrip(_TRAILING)
        with contextlib.suppress(httpx.InvalidURL):
            if httpx.URL(url).host:
                urls.append(url)
    return urls


# ---------------------------------------------------------------------------
# Address checks


def is_refused_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, allow_private: bool = False) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip in _METADATA_ADDRESSES or ip.is_link_local or ip.is_multicast or ip.is_unspecified:
        return True
    return not ip.is_global and not allow_private


async def checked_addresses(host: str, port: int, allow_private: bool) -> list[str]:
    """Every address `host` resolves to, or BlockedAddress when any of them is refused."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise DownloadFailed(f"I couldn't find the server {host}. Check the link and send it again.",
                             "fetch_no_server", host=host) from None
    return _allowed_or_raise(host, infos, allow_private)


def _allowed_or_raise(host: str, infos: list, allow_private: bool) -> list[str]:
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses or any(is_refused_address(ipaddress.ip_address(a), allow_private) for a in addresses):
        raise BlockedAddress(host)
    return addresses


def _parse(url: str) -> httpx.URL:
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        raise DownloadFailed("That link is not a web address I can open.", "fetch_not_address") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise DownloadFailed("Only http:// and https:// links can be sent as videos.", "fetch_scheme")
    return parsed


def is_video_site(host: str, sites: tuple[str, ...] = VIDEO_SITES) -> bool:
    """Whether a link on `host` goes to yt-dlp: one of `sites` (VIDEO_SITES) or a subdomain of one."""
    host = host.lower().rstrip(".")
    return any(host == site or host.endswith("." + site) for site in sites)


# ---------------------------------------------------------------------------
# Fetching


async def fetch_url(
    url: str,
    dest_dir: Path,
    *,
    max_bytes: int,
    allow_private: bool = False,
    client: httpx.AsyncClient | None = None,
    timeout: float = 60,
    video_sites: tuple[str, ...] = VIDEO_SITES,
) -> Path:
    """Download what `url` points to into dest_dir and return the new file's path.

    `timeout` bounds each network wait (connecting, each read): a large file may take
    longer in total, but a stalled one does not hang. The file gets a generated name.
    Links on `video_sites` (tests name a loopback host) go to yt-dlp.
    """
    dest_dir.mkdir(parents=True, exist_ok=True)
    current = _parse(url)
    own_client = client is None
    if client is None:
        client = httpx.AsyncClient(timeout=timeout)
    try:
        for _ in range(MAX_REDIRECTS + 1):
            if is_video_site(current.host, video_sites):     # also when a short link redirects to one
                await checked_addresses(current.host, _port(current), allow_private)
                return await _fetch_page(str(current), dest_dir, max_bytes, allow_private, timeout)
            async with _open(client, current, allow_private, timeout) as response:
                if response.is_redirect:
                    current = _redirect_target(current, response.headers.get("location", ""))
                    continue
                if response.status_code >= 400:
                    raise DownloadFailed(
                        f"{current.host} answered the link with HTTP {response.status_code}; check that it is public.",
                        "fetch_http_status", host=current.host, status=response.status_code,
                    )
                if _is_html(response):
                    raise NotAVideoPage("it is a web page; I only open pages of known video sites")
                dest = dest_dir / f"fetch-{secrets.token_hex(8)}{_suffix(current)}"
                return _not_empty(await save_stream(response.aiter_bytes(CHUNK_BYTES), dest, max_bytes,
                                                    declared_size=declared_length(response)))
        raise DownloadFailed(f"The link redirected more than {MAX_REDIRECTS} times; send the final address.",
                             "fetch_redirects", max=MAX_REDIRECTS)
    except httpx.TimeoutException:
        raise DownloadFailed(f"{current.host} stopped answering for more than {timeout:g} seconds.",
                             "fetch_timeout", host=current.host, seconds=f"{timeout:g}") from None
    except httpx.HTTPError as exc:
        raise DownloadFailed(f"I couldn't download from {current.host} ({type(exc).__name__}).",
                             "fetch_failed", host=current.host, error=type(exc).__name__) from None
    finally:
        if own_client:
            await client.aclose()


@contextlib.asynccontextmanager
async def _open(
    client: httpx.AsyncClient, url: httpx.URL, allow_private: bool, timeout: float
) -> AsyncIterator[httpx.Response]:
    """GET `url` from one of its checked addresses (pinned: the Host header and TLS name stay the host's)."""
    addresses = await checked_addresses(url.host, _port(url), allow_private)
    host_header = url.netloc.decode("ascii")
    for position, address in enumerate(addresses):
        request = client.build_request(
            "GET",
            url.copy_with(host=address),
            headers={"Host": host_header, "User-Agent": USER_AGENT, "Accept": "*/*"},
            extensions={"sni_hostname": url.host},
            timeout=timeout,
        )
        try:
            response = await client.send(request, stream=True, follow_redirects=False)
        except httpx.ConnectError:
            if position == len(addresses) - 1:
                raise
            continue
        try:
            yield response
        finally:
            await response.aclose()
        return


def _port(url: httpx.URL) -> int:
    return url.port or (443 if url.scheme == "https" else 80)


def _redirect_target(current: httpx.URL, location: str) -> httpx.URL:
    try:
        return _parse(str(current.join(location)))
    except httpx.InvalidURL:
        raise DownloadFailed(f"{current.host} redirected the link to an address I cannot open.",
                             "fetch_bad_redirect", host=current.host) from None


def declared_length(response: httpx.Response) -> int | None:
    declared = response.headers.get("content-length", "")
    return int(declared) if declared.isdigit() else None


def _is_html(response: httpx.Response) -> bool:
    """A web page. Anything else is saved as it is: whether it is a video, ffprobe says."""
    kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
    return kind in ("text/html", "application/xhtml+xml")


def _suffix(url: httpx.URL) -> str:
    """The link's own suffix when it names an accepted type; cosmetic, since the probe reads the bytes."""
    suffix = PurePosixPath(unquote(url.path)).suffix.lower()
    return suffix if suffix.lstrip(".") in ACCEPTED else ""


def _not_empty(path: Path) -> Path:
    if path.stat().st_size == 0:
        path.unlink(missing_ok=True)
        raise DownloadFailed("The link answered with an empty file.", "fetch_empty")
    return path


# ---------------------------------------------------------------------------
# Writing a download to disk: the one helper every download in the project goes through


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


# ---------------------------------------------------------------------------
# Pages of video sites: yt-dlp


class _OverLimit(Exception):
    pass


class _Stopped(Exception):
    pass


async def _fetch_page(url: str, dest_dir: Path, max_bytes: int, allow_private: bool, timeout: float,
                      extractors: tuple[str, ...] = YTDLP_EXTRACTORS) -> Path:
    if importlib.util.find_spec("yt_dlp") is None:
        raise DownloadFailed(
            "That link is a web page, not a video file, and downloading from video sites is not installed here "
            "(the bot's `links` extra adds yt-dlp). Send the video file itself or a direct link to it.",
            "fetch_no_ytdlp",
        )
    # A thread cannot be cancelled: on cancel, the next progress report stops it and it cleans up.
    stop = threading.Event()
    try:
        return await asyncio.to_thread(_ytdlp_download, url, dest_dir, max_bytes, allow_private, timeout, stop,
                                       extractors)
    except asyncio.CancelledError:
        stop.set()
        raise


def _ytdlp_download(
    url: str, dest_dir: Path, max_bytes: int, allow_private: bool, timeout: float, stop: threading.Event,
    extractors: tuple[str, ...] = YTDLP_EXTRACTORS,
) -> Path:
    import yt_dlp
    from yt_dlp.utils import DownloadError, UnsupportedError

    stem = f"fetch-{secrets.token_hex(8)}"
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
        "outtmpl": {"default": str(dest_dir / f"{stem}.%(ext)s")},
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
        done = [p for p in dest_dir.glob(f"{stem}.*") if p.name.count(".") == 1 and p.suffix not in (".part", ".ytdl")]
        if not done and log_sink.over_max_filesize:     # yt-dlp skips such a file without raising
            raise TooLarge(max_bytes / 2**20)
        if not done:
            raise DownloadFailed("The video site sent nothing I could save; try another link.", "fetch_site_nothing")
        if done[0].stat().st_size > max_bytes:
            raise TooLarge(max_bytes / 2**20)
        return done[0]
    except BaseException as exc:
        for leftover in dest_dir.glob(f"{stem}*"):
            leftover.unlink(missing_ok=True)
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
            _check_host_now(media.host, media.port or 443, allow_private)


def _check_host_now(host: str, port: int, allow_private: bool) -> None:
    """checked_addresses for code already running in a worker thread."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise DownloadFailed(f"I couldn't find the server {host} the video is on.", "fetch_no_video_server",
                             host=host) from None
    _allowed_or_raise(host, infos, allow_private)


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

"""fetch_url: a link -> a file on disk. Hop by hop through redirects, each hop's addresses checked
and the connection pinned to a checked address; a direct file is streamed to disk within the size
limit, a video site's page (also one a short link redirects to) goes to bot.fetch.sites."""
from __future__ import annotations

import contextlib
import secrets
import shutil
from pathlib import Path, PurePosixPath
from typing import AsyncIterator
from urllib.parse import unquote

import httpx

from bot.fetch.addresses import VIDEO_SITES, checked_addresses, is_video_site, parse_link, port_of
from bot.fetch.errors import DownloadFailed, NotAVideoPage
from bot.fetch.files import CHUNK_BYTES, declared_length, safe_filename, save_stream
from bot.fetch.sites import fetch_page
from engine.probe import ACCEPTED

USER_AGENT = "shortsbot/0.1 (+https://github.com/shortsbot)"
MAX_REDIRECTS = 5


async def fetch_url(
    url: str,
    dest_dir: Path,
    *,
    max_bytes: int,
    allow_private: bool = False,
    client: httpx.AsyncClient | None = None,
    timeout: float = 60,
    video_sites: tuple[str, ...] | None = None,
) -> Path:
    """Download what `url` points to into dest_dir and return the new file's path.

    `timeout` bounds each network wait (connecting, each read): a large file may take
    longer in total, but a stalled one does not hang. The file is put in a folder of its own and
    keeps the link's name (a video site's: the video's title), which the replies show.
    Links on `video_sites` (VIDEO_SITES unless given; tests name a loopback host) go to yt-dlp.
    """
    video_sites = VIDEO_SITES if video_sites is None else video_sites
    dest_dir.mkdir(parents=True, exist_ok=True)
    current = parse_link(url)
    own_client = client is None
    if client is None:
        client = httpx.AsyncClient(timeout=timeout)
    try:
        for _ in range(MAX_REDIRECTS + 1):
            if is_video_site(current.host, video_sites):     # also when a short link redirects to one
                await checked_addresses(current.host, port_of(current), allow_private)
                return await fetch_page(str(current), dest_dir, max_bytes, allow_private, timeout)
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
                # a folder of its own, so the file keeps the link's name for the replies ("iv.mp4")
                dest = dest_dir / f"fetch-{secrets.token_hex(8)}" / _link_name(current)
                dest.parent.mkdir(parents=True, exist_ok=True)
                try:
                    return _not_empty(await save_stream(response.aiter_bytes(CHUNK_BYTES), dest, max_bytes,
                                                        declared_size=declared_length(response)))
                except BaseException:
                    shutil.rmtree(dest.parent, ignore_errors=True)      # nothing left of a download that failed
                    raise
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
    addresses = await checked_addresses(url.host, port_of(url), allow_private)
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


def _redirect_target(current: httpx.URL, location: str) -> httpx.URL:
    try:
        return parse_link(str(current.join(location)))
    except httpx.InvalidURL:
        raise DownloadFailed(f"{current.host} redirected the link to an address I cannot open.",
                             "fetch_bad_redirect", host=current.host) from None


def _is_html(response: httpx.Response) -> bool:
    """A web page. Anything else is saved as it is: whether it is a video, ffprobe says."""
    kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
    return kind in ("text/html", "application/xhtml+xml")


def _link_name(url: httpx.URL) -> str:
    """The file name the link ends in, made safe, when it names an accepted type; else "video"."""
    suffix = _suffix(url)
    return safe_filename(PurePosixPath(unquote(url.path)).name) if suffix else "video"


def _suffix(url: httpx.URL) -> str:
    """The link's own suffix when it names an accepted type; cosmetic, since the probe reads the bytes."""
    suffix = PurePosixPath(unquote(url.path)).suffix.lower()
    return suffix if suffix.lstrip(".") in ACCEPTED else ""


def _not_empty(path: Path) -> Path:
    if path.stat().st_size == 0:
        path.unlink(missing_ok=True)
        raise DownloadFailed("The link answered with an empty file.", "fetch_empty")
    return path

"""Which links a message holds, which of them go to yt-dlp, and which addresses may be opened.

Every host is resolved and every address it resolves to is checked before anything connects
(see bot.fetch): a link to this machine, its network or a cloud's metadata service is refused.
"""
from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import re
import socket

import httpx

from bot.fetch.errors import BlockedAddress, DownloadFailed

VIDEO_SITES = (
    "youtube.com", "youtu.be", "vimeo.com", "tiktok.com", "dailymotion.com", "twitch.tv",
    "bilibili.com", "b23.tv", "instagram.com", "facebook.com", "fb.watch", "x.com", "twitter.com",
    "reddit.com", "streamable.com",
)

_METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200")
)


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


def parse_link(url: str) -> httpx.URL:
    """An http(s) address with a host, or DownloadFailed."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        raise DownloadFailed("That link is not a web address I can open.", "fetch_not_address") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise DownloadFailed("Only http:// and https:// links can be sent as videos.", "fetch_scheme")
    return parsed


def port_of(url: httpx.URL) -> int:
    return url.port or (443 if url.scheme == "https" else 80)


def is_video_site(host: str, sites: tuple[str, ...] = VIDEO_SITES) -> bool:
    """Whether a link on `host` goes to yt-dlp: one of `sites` (VIDEO_SITES) or a subdomain of one."""
    host = host.lower().rstrip(".")
    return any(host == site or host.endswith("." + site) for site in sites)


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


def check_host_now(host: str, port: int, allow_private: bool) -> None:
    """checked_addresses for code already running in a worker thread (yt-dlp's media hosts)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise DownloadFailed(f"I couldn't find the server {host} the video is on.", "fetch_no_video_server",
                             host=host) from None
    _allowed_or_raise(host, infos, allow_private)


def _allowed_or_raise(host: str, infos: list, allow_private: bool) -> list[str]:
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses or any(is_refused_address(ipaddress.ip_address(a), allow_private) for a in addresses):
        raise BlockedAddress(host)
    return addresses

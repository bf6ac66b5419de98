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

The modules, in the order a link meets them:
    addresses.py   links in a message, which go to yt-dlp, and which addresses may be opened
    direct.py      fetch_url: hop by hop to the file, a direct file streamed to disk
    sites.py       a video site's page through yt-dlp
    files.py       save_stream / stream_to_file: a download onto disk, within a limit
    errors.py      FetchError and its kinds: a sentence's key and facts, worded by bot.texts
"""
from __future__ import annotations

from bot.fetch.addresses import VIDEO_SITES, checked_addresses, find_urls, is_refused_address, is_video_site
from bot.fetch.direct import MAX_REDIRECTS, USER_AGENT, fetch_url
from bot.fetch.errors import BlockedAddress, DownloadFailed, FetchError, NotAVideoPage, TooLarge
from bot.fetch.files import CHUNK_BYTES, declared_length, save_stream, stream_to_file
from bot.fetch.sites import YTDLP_EXTRACTORS, fetch_page, ytdlp_download

__all__ = [
    "CHUNK_BYTES", "MAX_REDIRECTS", "USER_AGENT", "VIDEO_SITES", "YTDLP_EXTRACTORS", "BlockedAddress",
    "DownloadFailed", "FetchError", "NotAVideoPage", "TooLarge", "checked_addresses", "declared_length",
    "fetch_page", "fetch_url", "find_urls", "is_refused_address", "is_video_site", "save_stream",
    "stream_to_file", "ytdlp_download",
]

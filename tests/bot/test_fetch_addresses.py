"""Links to private, local, link-local, metadata or multicast addresses are refused before any
connection, at every redirect hop; only http(s) links are fetched."""
from __future__ import annotations

import ipaddress

import pytest

from bot.fetch import (
    BlockedAddress,
    DownloadFailed,
    fetch_url,
    is_refused_address,
)
from tests.bot.fetch_site import LIMIT
from tests.bot.fetch_site import guard, site, tiny_mp4  # noqa: F401  (fixtures)


# ---------------------------------------------------------------------------
# Addresses that are refused before any connection


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/v.mp4",
        "http://127.1.2.3:8080/v.mp4",
        "http://10.1.2.3/v.mp4",
        "http://192.168.1.20/v.mp4",
        "http://172.16.0.9/v.mp4",
        "http://100.64.0.1/v.mp4",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/v.mp4",
        "http://[::ffff:127.0.0.1]/v.mp4",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://[fe80::1]/v.mp4",
        "http://0.0.0.0/v.mp4",
        "http://224.0.0.251/v.mp4",
        "http://localhost/v.mp4",
        "https://LOCALHOST/v.mp4",
    ],
)
async def test_private_and_local_addresses_are_refused(url, guard, tmp_path):
    with pytest.raises(BlockedAddress) as caught:
        await fetch_url(url, tmp_path, max_bytes=LIMIT, client=guard)
    assert "not allowed" in str(caught.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://[fe80::1]/v.mp4",
        "http://0.0.0.0/v.mp4",
        "http://224.0.0.251/v.mp4",
    ],
)
async def test_metadata_link_local_and_multicast_stay_refused_when_private_is_allowed(url, guard, tmp_path):
    with pytest.raises(BlockedAddress):
        await fetch_url(url, tmp_path, max_bytes=LIMIT, allow_private=True, client=guard)


@pytest.mark.parametrize("path", ["/to-metadata", "/to-link-local"])
async def test_each_redirect_hop_is_checked(site, guard, tmp_path, path):
    base, _, _ = site
    with pytest.raises(BlockedAddress):
        await fetch_url(f"{base}{path}", tmp_path, max_bytes=LIMIT, allow_private=True, client=guard)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "address,allow_private,refused",
    [
        ("8.8.8.8", False, False),
        ("2606:4700:4700::1111", False, False),
        ("127.0.0.1", False, True),
        ("127.0.0.1", True, False),
        ("::1", True, False),
        ("10.0.0.1", True, False),
        ("169.254.169.254", True, True),
        ("::ffff:10.0.0.1", False, True),
        ("::ffff:8.8.8.8", False, False),
        ("fd00:ec2::254", True, True),
    ],
)
def test_address_verdicts(address, allow_private, refused):
    assert is_refused_address(ipaddress.ip_address(address), allow_private) is refused


@pytest.mark.parametrize("url", ["ftp://example.com/v.mp4", "file:///etc/passwd", "http:///nohost", "not a url"])
async def test_only_http_links_are_fetched(url, guard, tmp_path):
    with pytest.raises(DownloadFailed):
        await fetch_url(url, tmp_path, max_bytes=LIMIT, client=guard)

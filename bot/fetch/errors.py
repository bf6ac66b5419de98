"""Why a link or a download failed: str() is the English sentence for the person who sent the
link; `key` and `values` name it, so that bot.texts can say it in other languages."""
from __future__ import annotations


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

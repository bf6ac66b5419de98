"""The HTTP side of the NemoVideo cloud: paths, envelopes, error codes, and the one client.

Every request carries the attribution headers (X-Skill-Source / -Version / -Platform); every
request but the anonymous-token one carries `Authorization: Bearer <token>`, and only to the
API host. GETs are retried after a network error, with backoff; a refused call becomes the typed
error with the cloud's code, with what the person needs added and storage repaired for the
service's one retry (a refused token put aside, a missing session ended; bot/backends/nemo/service.py).
"""
from __future__ import annotations

import asyncio
import logging
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, AsyncIterator, Literal

import httpx

from bot.backends.base import (
    ACCEPTED_TYPES,
    BackendError,
    BackendUnavailable,
    ERRORS_BY_CODE,
    ExportBlocked,
    FileTooLarge,
    MissingClientId,
    OutOfCredits,
    RateLimited,
    SessionMissing,
    TokenInvalid,
    UnsupportedFile,
)
from engine.probe import media_type_of_file

log = logging.getLogger(__name__)


BACKEND = "nemo"
APP_NAME = "nemo_agent"
REGISTER_URL = "https://nemovideo.com/register?bind={user_id}"
STILL_WORKING = "⏳ Still working..."
ANONYMOUS_TOKEN_DAYS = 7
TOKEN_REFRESH_MARGIN = timedelta(minutes=1)   # a token this close to expiry is refreshed before use

PATH_ANONYMOUS_TOKEN = "/api/auth/anonymous-token"
PATH_SESSION = "/api/tasks/me/with-session/nemo_agent"
PATH_CHAT = "/run_sse"
PATH_UPLOAD = "/api/upload-video/nemo_agent/me/{sid}"
PATH_CREDITS = "/api/credits/balance/simple"
PATH_STATE = "/api/state/nemo_agent/me/{sid}/latest"
PATH_RENDER = "/api/render/proxy/lambda"
PATH_RENDER_STATUS = "/api/render/proxy/lambda/{rid}"
PATH_RENDER_CANCEL = "/api/render/proxy/lambda/{rid}/cancel"

TIMEOUT_DEFAULT = httpx.Timeout(30.0, connect=10.0)
TIMEOUT_UPLOAD = httpx.Timeout(connect=10.0, read=300.0, write=300.0, pool=30.0)
UPLOAD_CHUNK_BYTES = 256 * 1024
# Render ids end up in file names (exports/<render id>.mp4): only these characters are taken from the cloud.
SAFE_RENDER_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")


# ---------------------------------------------------------------- the cloud's own handles (never leave this package)

@dataclass(frozen=True)
class Account:
    user_id: int                             # our storage user id
    token: str = field(repr=False)           # never shown in logs or reprs
    expires_at: datetime | None = None
    remote_user_id: str | None = None        # "anon_…" on the cloud
    anonymous: bool = True


@dataclass(frozen=True)
class SessionRef:
    session_id: str
    task_id: str | None = None
    chat_key: str = ""


@dataclass(frozen=True)
class RenderRef:
    render_id: str
    draft_index: int = 0


@dataclass(frozen=True)
class RenderStatus:
    render_id: str
    status: Literal["pending", "processing", "completed", "failed"]
    progress: float = 0.0                    # 0-100
    url: str | None = None                   # the finished file on the cloud's CDN
    error: str | None = None
    reported: str | None = None              # the cloud's own status word, also one not known to `status`
    error_key: str | None = None             # the error's key in bot/translations.py when the words are ours



# ====================================================================== pure parts

# ---------------------------------------------------------------- envelopes and errors

def error_message(payload: Any) -> str:
    """The server's own words, from whichever key this copy of the API uses."""
    if not isinstance(payload, dict):
        return ""
    for key in ("message", "msg", "error", "errorMessage", "detail"):
        value = payload.get(key)
        if isinstance(value, str) and value:
            return value
        if isinstance(value, dict):
            return error_message(value)
    return ""


def unwrap(status_code: int, payload: Any) -> Any:
    """The `data` of a response in either envelope; a failure raises the typed error.

    `{"code": 0, "data": ...}` / `{"code": n, "message"|"msg": ...}` and
    `{"success": true, "data": ...}` / `{"success": false, ...}` are both understood;
    an HTTP error without an envelope is mapped by its status.
    """
    if isinstance(payload, dict):
        code = payload.get("code")
        if isinstance(code, str) and code.lstrip("-").isdigit():
            code = int(code)
        failed = (isinstance(code, int) and code != 0 and code != 200) or payload.get("success") is False
        if not failed and status_code < 400:
            return payload.get("data", payload) if ("data" in payload or "code" in payload
                                                    or "success" in payload) else payload
        if not isinstance(code, int) or code in (0, 200):
            code = status_code if status_code >= 400 else 0
        raise error_for(code, status_code, error_message(payload))
    if status_code >= 400:
        raise error_for(status_code, status_code, "")
    raise BackendUnavailable("The video service sent an answer I could not read.")


def error_for(code: int, status_code: int, server_message: str) -> BackendError:
    """A typed error for a cloud code (or an HTTP status when the body has none)."""
    if code == 0 or code not in ERRORS_BY_CODE:
        code = status_code if status_code in ERRORS_BY_CODE else code
    if status_code == 401 and code not in ERRORS_BY_CODE:
        code = TokenInvalid.code
    if _looks_like_duplicate_id(status_code, server_message):
        return DuplicateRenderId("That render id is taken.", server_message=server_message)
    cls = ERRORS_BY_CODE.get(code)
    if cls is None:
        if status_code >= 500:
            return BackendUnavailable("The video service is having trouble right now. Please try again in a minute.",
                                      server_message=server_message, status=status_code)
        error = BackendError(f"The video service refused that ({code}).", server_message=server_message,
                             reason_key="backend_refused", code=code)
        error.code = code
        return error
    return cls(USER_SENTENCES.get(cls, ""), server_message=server_message)


class DuplicateRenderId(BackendError):
    """A render id the cloud has seen before: retried with a new id, never shown to a user."""

    code = 409


def _looks_like_duplicate_id(status_code: int, server_message: str) -> bool:
    text = server_message.lower()
    return status_code == 409 or ("duplicate" in text) or ("already exists" in text)


USER_SENTENCES: dict[type[BackendError], str] = {
    TokenInvalid: "My access to the video service expired; I am reconnecting.",
    SessionMissing: "The video service lost our editing session; I am starting a new one.",
    OutOfCredits: "You are out of credits on the video service.",
    UnsupportedFile: "That file type is not supported. Send one of: " + ", ".join(ACCEPTED_TYPES) + ".",
    FileTooLarge: "That file is too large (the limit is 500 MB). Trim or compress it and send it again.",
    MissingClientId: "The video service did not accept my client id.",
    ExportBlocked: "Exporting is not included in the free plan: register or upgrade your plan to export.",
    RateLimited: "The video service is busy; please try again in a little while.",
    BackendUnavailable: "The video service is not reachable right now. Please try again in a minute.",
}


def redact(text: str, secret: str | None) -> str:
    return text.replace(secret, "***") if secret and text else text


class HttpClient:
    """The NemoBackend's requests (a mixin: it owns settings, repos, _client, _shared_token)."""

    def _auth(self, token: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"} if token else {}

    async def _call(self, account: Account, method: str, path: str, *, session: SessionRef | None = None,
                    whole: bool = False, **kwargs: Any) -> Any:
        """One API call with the user's token: the envelope's `data` (or, with whole, the checked
        payload itself), or the typed error."""
        token = await self._token(account)
        response = await self._send(method, path, token=token, **kwargs)
        payload = _json(response)
        try:
            data = self._unwrap(response, payload, secret=token)
        except BackendError as exc:
            raise await self._raised(account, session, exc, token, look_up_balance=path != PATH_CREDITS) from None
        return payload if whole else data

    def _unwrap(self, response: httpx.Response, payload: Any, secret: str | None) -> Any:
        try:
            return unwrap(response.status_code, payload)
        except BackendError as exc:
            server_message = redact(str(exc.details.get("server_message", "")), secret)
            exc.details["server_message"] = server_message
            if isinstance(exc, RateLimited):
                # the documented wait (30 s, NEMO_RETRY_AFTER_S); the server's own hint is kept beside it
                exc.details["retry_after"] = self.settings.nemo_retry_after_s
                exc.details["server_retry_after"] = _retry_after(response)
            log.info("%s %s -> HTTP %s, code %s: %s", response.request.method, response.request.url.path,
                     response.status_code, exc.code, server_message)
            raise

    async def _available_or_none(self, account: Account) -> int | None:
        """The balance to quote in an out-of-credits sentence, when the cloud will tell."""
        try:
            token = await self._token(account)
            response = await self._send("GET", PATH_CREDITS, token=token)
            return int(unwrap(response.status_code, _json(response)).get("available") or 0)
        except (BackendError, AttributeError, TypeError, ValueError):
            return None

    async def _raised(self, account: Account, session: SessionRef | None, exc: BackendError, token: str,
                      look_up_balance: bool = True) -> BackendError:
        """Adds what the user needs to an error and repairs storage so the conversation's one retry works."""
        exc.details["server_message"] = redact(str(exc.details.get("server_message", "")), token)
        if isinstance(exc, TokenInvalid):
            exc.details["shared"] = bool(self._shared_token)
            if self._shared_token:
                exc.args = ("The operator's NEMO_TOKEN was refused by the video service.",)
            else:
                await self.repos.accounts.invalidate_token(account.user_id, BACKEND)
        elif isinstance(exc, SessionMissing) and session is not None:
            record = await self.repos.sessions.by_remote_id(BACKEND, session.session_id)
            if record is not None and record.active:
                await self.repos.sessions.end(record.id)
        elif isinstance(exc, OutOfCredits):
            available = await self._available_or_none(account) if look_up_balance else None
            if available is not None:
                exc.details.setdefault("available", available)
            record = None if self._shared_token else await self.repos.accounts.get(account.user_id, BACKEND)
            anonymous = record is not None and record.anonymous
            remote_id = (record.remote_user_id if record else None) or account.remote_user_id
            exc.details["anonymous"] = anonymous
            exc.details["register_url"] = REGISTER_URL.format(user_id=remote_id) if anonymous and remote_id else None
            exc.args = ((f"You are out of credits. Register to get more: {exc.details['register_url']}"
                         if exc.details["register_url"] else "You are out of credits. Top up credits in your "
                         "NemoVideo account."),)
        elif isinstance(exc, UnsupportedFile):
            exc.details["accepted"] = ACCEPTED_TYPES
        elif isinstance(exc, FileTooLarge):
            exc.details.setdefault("limit_mb", self.settings.max_upload_mb)
        return exc

    async def _send(self, method: str, path: str, *, token: str | None, headers: dict | None = None,
                    **kwargs: Any) -> httpx.Response:
        """One request; GETs are retried with backoff after a network error or a 502/503/504."""
        attempts = 3 if method == "GET" else 1
        all_headers = {**(headers or {}), **self._auth(token)}
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                response = await self._client.request(method, path, headers=all_headers, **kwargs)
            except httpx.TransportError as exc:
                log.warning("%s %s failed (%s)%s", method, path, type(exc).__name__, "" if last else "; retrying")
                if last:
                    raise BackendUnavailable(USER_SENTENCES[BackendUnavailable]) from None
            else:
                if last or response.status_code not in (502, 503, 504):
                    return response
                log.warning("%s %s -> HTTP %s; retrying", method, path, response.status_code)
            await asyncio.sleep(self.settings.nemo_backoff_s * (2 ** attempt))
        raise AssertionError("unreachable")


async def _cloud_file_name(path: Path, max_upload_mb: int) -> str:
    """The name the file goes up under: its own when its suffix is one the cloud documents, else
    its name with the type its content has (a link saved as `fetch-3fa9`); refused before any
    byte is sent when it is too large or not a type the cloud takes."""
    if not path.is_file():
        raise BackendError("That file is gone; please send it again.", reason_key="backend_file_gone")
    size_mb = path.stat().st_size / (1024 * 1024)
    if size_mb > max_upload_mb:
        raise FileTooLarge(f"That file is {size_mb:.0f} MB and the limit is {max_upload_mb} MB. "
                           "Trim or compress it and send it again.", limit_mb=max_upload_mb, size_mb=round(size_mb))
    if path.suffix.lower().lstrip(".") in ACCEPTED_TYPES:
        return path.name
    media_type = await asyncio.to_thread(media_type_of_file, path)
    if media_type not in ACCEPTED_TYPES:
        raise UnsupportedFile(USER_SENTENCES[UnsupportedFile], accepted=ACCEPTED_TYPES)
    return f"{path.stem or 'upload'}.{media_type}"


def multipart_file(field: str, path: Path, filename: str, content_type: str,
                   chunk_size: int = UPLOAD_CHUNK_BYTES) -> tuple[dict[str, str], AsyncIterator[bytes]]:
    """(headers, body) of a multipart/form-data request carrying one file, read from disk in a
    worker thread one chunk at a time: a large upload neither sits in memory nor blocks the
    event loop (httpx's own multipart reads files on the loop). The length is declared, so the
    body goes up with Content-Length rather than chunked."""
    boundary = secrets.token_hex(16)
    quoted = filename.replace("\\", "\\\\").replace('"', "%22").replace("\r", " ").replace("\n", " ")
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{quoted}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}",
               "Content-Length": str(len(head) + path.stat().st_size + len(tail))}

    async def body() -> AsyncIterator[bytes]:
        yield head
        handle = await asyncio.to_thread(path.open, "rb")
        try:
            while chunk := await asyncio.to_thread(handle.read, chunk_size):
                yield chunk
        finally:
            handle.close()
        yield tail

    return headers, body()


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return float(response.headers.get("retry-after", ""))
    except ValueError:
        return None


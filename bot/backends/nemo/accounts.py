"""Tokens: NEMO_TOKEN when the operator set one (shared by every user), otherwise one anonymous
token per user, fetched with a stable X-Client-Id and kept in storage (AccountRepo). The stored
token is the source of truth: an Account is a handle, so a token refreshed after expiry or a
1001 is used by the next call without a new Account.
"""
from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any


from bot.backends.nemo.client import Account

log = logging.getLogger(__name__)

from bot.backends.nemo.client import ANONYMOUS_TOKEN_DAYS, BACKEND, PATH_ANONYMOUS_TOKEN, TOKEN_REFRESH_MARGIN, _json


class Accounts:
    """The NemoBackend's tokens (a mixin: it owns settings, repos, _shared_token, _token_locks)."""

    async def open_account(self, user_id: int, client_id: str = "") -> Account:
        """The user's account with a usable token: NEMO_TOKEN, the stored one, or a fresh anonymous one."""
        if self._shared_token:
            return Account(user_id=user_id, token=self._shared_token, anonymous=False)
        record = await self._fresh_record(user_id, client_id)
        return Account(user_id=user_id, token=record.token, expires_at=record.expires_at,
                       remote_user_id=record.remote_user_id, anonymous=record.anonymous)

    async def _fresh_record(self, user_id: int, client_id: str = ""):
        record = await self.repos.accounts.get(user_id, BACKEND)
        if record is not None and not record.expired(_now() + TOKEN_REFRESH_MARGIN):
            return record
        async with self._token_locks[user_id]:
            record = await self.repos.accounts.get(user_id, BACKEND)   # another call may have refreshed it
            if record is not None and not record.expired(_now() + TOKEN_REFRESH_MARGIN):
                return record
            stable_id = record.client_id if record else (client_id or str(uuid.uuid4()))
            return await self._anonymous_token(user_id, stable_id, renewing=record is not None)

    async def _anonymous_token(self, user_id: int, client_id: str, renewing: bool = False):
        """POST /api/auth/anonymous-token; a 400 (bad client id) gets a new id and one more try.

        So does a 429 when a token is being replaced: the cloud issues one anonymous token per
        client id per 7 days, so a token lost to a 1001 cannot be replaced under the same id for
        a week. The new id is a new anonymous user on the cloud (its old sessions answer 1002,
        which the conversation recovers from); it is stored with the new token.
        """
        for attempt in range(2):
            response = await self._send("POST", PATH_ANONYMOUS_TOKEN, token=None,
                                        headers={"X-Client-Id": client_id})
            payload = _json(response)
            code = payload.get("code") if isinstance(payload, dict) else None
            if attempt == 0 and (response.status_code == 400 or code == 400):
                log.warning("anonymous token refused the client id of user %s; trying a new one", user_id)
                client_id = str(uuid.uuid4())
                continue
            if attempt == 0 and renewing and (response.status_code == 429 or code == 429):
                log.warning("the client id of user %s has had its anonymous token for this week; "
                            "renewing under a new client id", user_id)
                client_id = str(uuid.uuid4())
                continue
            data = self._unwrap(response, payload, secret=None)
            token = str(data["token"])
            expires_at = _parse_time(data.get("expires_at")) or _now() + timedelta(days=ANONYMOUS_TOKEN_DAYS)
            log.info("new anonymous NemoVideo token for user %s (expires %s)", user_id, expires_at.isoformat())
            return await self.repos.accounts.save(
                user_id, BACKEND, client_id, token=token,
                remote_user_id=str(data.get("user_id") or "") or None, expires_at=expires_at, anonymous=True)
        raise AssertionError("unreachable")

    async def _token(self, account: Account) -> str:
        if self._shared_token:
            return self._shared_token
        record = await self.repos.accounts.get(account.user_id, BACKEND)
        if record is None and account.token:
            return account.token
        return (await self._fresh_record(account.user_id)).token


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


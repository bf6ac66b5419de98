"""What the NemoCloud tests share: the documented draft of nemo-api.md, and an account with a session."""
from __future__ import annotations

DOC_DRAFT = {"t": [
    {"tt": 0, "sg": [{"n": "city timelapse", "s": 0, "e": 10000}]},
    {"tt": 1, "sg": [{"n": "Lo-fi", "s": 0, "e": 10000, "v": 0.35}]},
    {"tt": 7, "sg": [{"text": "Urban Dreams", "s": 0, "e": 3000}]},
], "d": 10000, "m": {"title": "Urban Dreams", "width": 1920, "height": 1080}}


async def account_and_session(backend, user_id, chat_key="console:1"):
    account = await backend.open_account(user_id, "")
    session = await backend.open_session(account, chat_key)
    return account, session

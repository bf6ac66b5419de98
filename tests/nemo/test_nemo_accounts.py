"""NemoCloud's tokens and sessions against the fake NemoVideo cloud, stored in real SQLite: fetched
once, renewed, refreshed across a restart, shared by every user; sessions per user per chat."""
from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from bot.backends.base import (
    MissingClientId,
    OutOfCredits,
    RateLimited,
    SessionMissing,
    TokenInvalid,
)
from bot.backends.nemo import (
    NemoCloud,
)
from storage.db import Database
from storage.repos import Repos
from tests.nemo import fake_nemo as fk
from tests.nemo.conftest import nemo_settings


# ====================================================================== accounts and tokens


async def test_anonymous_token_is_fetched_once_and_stored(backend, fake, repos, user_id):
    account = await backend.open_account(user_id, "")
    record = await repos.accounts.get(user_id, "nemo")
    assert account.token == record.token and account.token in fake.tokens
    assert account.anonymous and account.remote_user_id.startswith("anon_")
    assert uuid.UUID(record.client_id)
    assert fake.tokens[account.token].client_id == record.client_id
    assert record.expires_at > datetime.now(timezone.utc) + timedelta(days=6)
    again = await backend.open_account(user_id, "")
    assert again.token == account.token and len(fake.calls("token")) == 1
    assert account.token not in repr(account)


async def test_a_client_id_given_by_the_caller_is_kept(backend, fake, repos, user_id):
    client_id = str(uuid.uuid4())
    await backend.open_account(user_id, client_id)
    assert (await repos.accounts.get(user_id, "nemo")).client_id == client_id
    assert fake.calls("token")[0].headers["x-client-id"] == client_id


async def test_a_refused_client_id_is_regenerated_and_retried_once(backend, fake, repos, user_id):
    account = await backend.open_account(user_id, "not-a-uuid")
    record = await repos.accounts.get(user_id, "nemo")
    assert [r.headers.get("x-client-id") for r in fake.calls("token")] == ["not-a-uuid", record.client_id]
    assert uuid.UUID(record.client_id) and account.token in fake.tokens


async def test_a_second_refusal_is_missing_client_id(backend, fake, user_id):
    fake.fail("token", 400, times=2)
    with pytest.raises(MissingClientId):
        await backend.open_account(user_id, "")
    assert len(fake.calls("token")) == 2


async def test_rate_limited_token_is_a_typed_error_with_the_configured_wait(fake, make_backend, repos, user_id):
    backend = make_backend(nemo_retry_after_s=0.25)
    fake.fail("token", 429)
    with pytest.raises(RateLimited) as caught:
        await backend.open_account(user_id, "")            # a first token: no other id to try
    assert caught.value.details["retry_after"] == 0.25 and len(fake.calls("token")) == 1

    account = await backend.open_account(user_id, "")
    fake.expire(account.token)
    await _expire_in_storage(repos, user_id)
    fake.fail("token", 429, times=2)                        # the cloud refuses any id for now
    with pytest.raises(RateLimited) as caught:
        await backend.credits(account)
    assert caught.value.details["retry_after"] == 0.25
    renewals = [r.headers["x-client-id"] for r in fake.calls("token")[2:]]
    assert len(renewals) == 2 and renewals[0] != renewals[1], "one more try, under a new client id"


async def _expire_in_storage(repos, user_id):
    record = await repos.accounts.get(user_id, "nemo")
    await repos.accounts.save(user_id, "nemo", record.client_id, token=record.token,
                              remote_user_id=record.remote_user_id, expires_at=datetime.now(timezone.utc))


async def test_a_token_lost_to_1001_is_renewed_under_a_new_client_id_not_locked_out_for_a_week(
        backend, fake, repos, user_id):
    """The cloud gives one anonymous token per client id per 7 days (the fake does so by default)."""
    account = await backend.open_account(user_id, "")
    first = await repos.accounts.get(user_id, "nemo")
    fake.fail("credits", 1001)                              # the cloud forgot the token days before its expiry
    with pytest.raises(TokenInvalid):
        await backend.credits(account)
    assert (await backend.credits(account)).available == 100     # the conversation's one retry
    asked = fake.calls("token")
    assert [r.headers["x-client-id"] for r in asked[:2]] == [first.client_id, first.client_id]
    assert [r.headers["x-client-id"] for r in asked[2:]] != [first.client_id]
    renewed = await repos.accounts.get(user_id, "nemo")
    assert renewed.client_id == asked[-1].headers["x-client-id"] != first.client_id
    assert fake.tokens[renewed.token].client_id == renewed.client_id
    assert fake.calls("credits")[-1].token == renewed.token
    assert len(asked) == 3


async def test_a_token_that_ran_its_week_is_renewed_under_the_same_client_id(backend, fake, repos, user_id):
    account = await backend.open_account(user_id, "")
    first = await repos.accounts.get(user_id, "nemo")
    fake.expire(account.token)
    await _expire_in_storage(repos, user_id)
    await backend.credits(account)
    assert [r.headers["x-client-id"] for r in fake.calls("token")] == [first.client_id] * 2
    assert (await repos.accounts.get(user_id, "nemo")).client_id == first.client_id


async def test_an_expired_token_is_refreshed_and_persisted_across_a_restart(fake, tmp_path, user_id, repos, db):
    settings = nemo_settings(fake.base_url, tmp_path / "data")
    first = NemoCloud(settings, repos)
    account = await first.open_account(user_id, "")
    record = await repos.accounts.get(user_id, "nemo")
    past = datetime.now(timezone.utc) - timedelta(hours=1)
    await repos.accounts.save(user_id, "nemo", record.client_id, token=record.token,
                              remote_user_id=record.remote_user_id, expires_at=past)
    fake.expire(record.token)                     # its week is over on the cloud too
    await first.close()
    await db.close()

    reopened = await Database.open(tmp_path / "data" / "shortsbot.sqlite3")
    try:
        second = NemoCloud(settings, Repos(reopened))
        credits = await second.credits(account)           # the old Account handle still works
        assert credits.available == 100
        refreshed = await Repos(reopened).accounts.get(user_id, "nemo")
        assert refreshed.token != record.token and refreshed.client_id == record.client_id
        assert refreshed.expires_at > datetime.now(timezone.utc)
        assert fake.calls("credits")[-1].token == refreshed.token
        await second.close()
    finally:
        await reopened.close()
    third_db = await Database.open(tmp_path / "data" / "shortsbot.sqlite3")
    try:
        assert (await Repos(third_db).accounts.get(user_id, "nemo")).token == refreshed.token
    finally:
        await third_db.close()
    assert len(fake.calls("token")) == 2


async def test_1001_forgets_the_token_and_the_one_retry_gets_a_new_one(backend, fake, repos, user_id):
    account = await backend.open_account(user_id, "")
    fake.fail("credits", 1001)
    with pytest.raises(TokenInvalid):
        await backend.credits(account)
    assert (await repos.accounts.get(user_id, "nemo")).token is None
    assert (await backend.credits(account)).available == 100     # the conversation's retry
    assert len(fake.calls("token")) == 3        # the same client id is refused for the week: a new one
    assert fake.calls("credits")[-1].token != account.token


async def test_a_token_the_server_expired_is_1001(backend, fake, user_id):
    account = await backend.open_account(user_id, "")
    fake.expire(account.token)
    with pytest.raises(TokenInvalid):
        await backend.credits(account)


async def test_nemo_token_is_shared_by_every_user(fake, make_backend, repos):
    fake.shared_tokens.add("nmv_operator_secret")
    backend = make_backend(nemo_token="nmv_operator_secret")
    ann, _ = await repos.users.get_or_create("telegram", "1")
    bob, _ = await repos.users.get_or_create("discord", "2")
    a = await backend.open_account(ann.id, "")
    b = await backend.open_account(bob.id, "")
    assert a.token == b.token == "nmv_operator_secret" and not a.anonymous
    sa = await backend.open_session(a, "telegram:1")
    sb = await backend.open_session(b, "discord:2")
    assert sa.session_id != sb.session_id
    assert fake.calls("token") == [] and await repos.accounts.get(ann.id, "nemo") is None
    assert "nmv_operator_secret" not in repr(backend) and "nmv_operator_secret" not in repr(a)
    fake.fail("credits", 2001)
    with pytest.raises(OutOfCredits) as caught:
        await backend.credits(a)
    assert caught.value.details["register_url"] is None and "Top up" in str(caught.value)
    fake.fail("credits", 1001)
    with pytest.raises(TokenInvalid) as caught:
        await backend.credits(a)
    assert caught.value.details["shared"] is True and "NEMO_TOKEN" in str(caught.value)


async def test_concurrent_calls_fetch_one_token(backend, fake, user_id):
    await asyncio.gather(*(backend.open_account(user_id, "") for _ in range(5)))
    assert len(fake.calls("token")) == 1


# ====================================================================== sessions

async def test_sessions_are_per_user_per_chat_and_kept(backend, fake, repos, user_id):
    account = await backend.open_account(user_id, "")
    first = await backend.open_session(account, "console:1", "zh-CN")
    assert fake.sessions[first.session_id].language == "zh-CN"
    assert fake.sessions[first.session_id].user_id == account.remote_user_id
    assert (await backend.open_session(account, "console:1")).session_id == first.session_id
    other_chat = await backend.open_session(account, "console:2")
    assert other_chat.session_id != first.session_id and len(fake.calls("session")) == 2
    record = await repos.sessions.active(user_id, "console:1", "nemo")
    assert (record.remote_session_id, record.task_id, record.language) == (first.session_id, first.task_id, "zh-CN")


async def test_1002_retires_the_session_and_the_retry_makes_a_new_one(backend, fake, repos, user_id):
    account = await backend.open_account(user_id, "")
    session = await backend.open_session(account, "console:1")
    fake.fail("state", 1002)
    with pytest.raises(SessionMissing):
        await backend.state(account, session)
    assert await repos.sessions.active(user_id, "console:1", "nemo") is None
    fresh = await backend.open_session(account, "console:1")
    assert fresh.session_id != session.session_id
    assert (await backend.state(account, fresh)).drafts == []


async def test_two_users_have_separate_tokens_and_sessions(backend, fake, repos):
    ann, _ = await repos.users.get_or_create("telegram", "1", "ann")
    bob, _ = await repos.users.get_or_create("telegram", "2", "bob")
    a = await backend.open_account(ann.id, "")
    b = await backend.open_account(bob.id, "")
    assert a.token != b.token and a.remote_user_id != b.remote_user_id
    sa = await backend.open_session(a, "telegram:100")        # the same group chat
    sb = await backend.open_session(b, "telegram:100")
    assert sa.session_id != sb.session_id
    assert fake.sessions[sa.session_id].user_id == a.remote_user_id
    assert fake.sessions[sb.session_id].user_id == b.remote_user_id
    fake.script(fk.text("ann's answer"))
    fake.script(fk.text("bob's answer"))
    a_texts = [e.text async for e in backend.chat(a, sa, "hi") if e.kind == "text"]
    b_texts = [e.text async for e in backend.chat(b, sb, "hi") if e.kind == "text"]
    assert (a_texts, b_texts) == (["ann's answer"], ["bob's answer"])
    assert {r.token for r in fake.calls("chat")} == {a.token, b.token}
    # Bob's token cannot reach Ann's session: the cloud says 1002
    with pytest.raises(SessionMissing):
        await backend.state(b, sa)

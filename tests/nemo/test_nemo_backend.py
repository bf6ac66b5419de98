"""NemoCloud (the API NemoBackend calls) against the fake NemoVideo cloud: every endpoint, every error path, tokens and
sessions in real SQLite, the attribution headers, and the SSE stream in both shapes."""
from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import subprocess
import time
import tracemalloc
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from bot.backends.base import (
    BackendError,
    BackendUnavailable,
    ExportBlocked,
    FileTooLarge,
    MissingClientId,
    NothingUploaded,
    OutOfCredits,
    RateLimited,
    SessionMissing,
    TokenInvalid,
    UnsupportedFile,
)
from bot.backends.nemo import (
    STILL_WORKING,
    DuplicateRenderId,
    NemoCloud,
    RenderRef,
    describe_changes,
    draft_summary,
    parse_event,
    read_render_status,
    read_state,
    translate_gui,
    unwrap,
)
from storage.db import Database
from storage.repos import Repos
from tests.nemo import fake_nemo as fk
from tests.nemo.conftest import nemo_settings

# ====================================================================== pure functions

@pytest.mark.parametrize("said, shown, actions", [
    ("Click the Export button to download.", 'Say "export" to download.', ("export",)),
    ("When you are happy, click Export.", 'When you are happy, say "export".', ("export",)),
    ("Use the Export button at the top right.", 'Say "export" at the top right.', ("export",)),
    ("点击导出按钮即可下载", "发送“导出”即可下载", ("export",)),
    ("Preview it in the timeline before exporting.", 'Say "status" to see the tracks before exporting.', ("status",)),
    ("Open the Effects panel to check the look.", 'Say "status" to check the look.', ("status",)),
    ("open the timeline to see it", 'say "status" to see it', ("status",)),
    ("打开时间线查看", "发送“状态”查看", ("status",)),
    ("打开特效面板", "发送“状态”", ("status",)),
    ("Drag the title to 0:05.", "Tell me to move the title to 0:05.", ()),
    ("drag and drop the logo onto the corner", "tell me to move the logo onto the corner", ()),
    ("拖拽字幕到开头", "告诉我移动字幕到开头", ()),
    ('Click "Apply style" to confirm.', 'Say "Apply style" to confirm.', ()),
    ("Click the Apply button.", 'Say "Apply".', ()),
    ("click on Apply", 'say "Apply"', ()),
    ("点击“应用”", "发送“应用”", ()),
    ("点击应用按钮", "发送“应用”", ()),
    ("I cut your video into three shorts.", "I cut your video into three shorts.", ()),
])
def test_gui_talk_is_translated_for_a_chat(said, shown, actions):
    translated = translate_gui(said)
    assert translated.text == shown
    assert translated.actions == actions


DOC_DRAFT = {"t": [
    {"tt": 0, "sg": [{"n": "city timelapse", "s": 0, "e": 10000}]},
    {"tt": 1, "sg": [{"n": "Lo-fi", "s": 0, "e": 10000, "v": 0.35}]},
    {"tt": 7, "sg": [{"text": "Urban Dreams", "s": 0, "e": 3000}]},
], "d": 10000, "m": {"title": "Urban Dreams", "width": 1920, "height": 1080}}


def test_draft_summary_is_the_documented_line():
    assert draft_summary(DOC_DRAFT) == ('Timeline (3 tracks): 1. Video: city timelapse (0-10s) '
                                        '2. BGM: Lo-fi (0-10s, 35%) 3. Title: "Urban Dreams" (0-3s)')
    assert draft_summary({"t": []}) == "Timeline (0 tracks): empty"
    # other spellings of the undocumented segment keys
    assert draft_summary({"t": [{"tt": 0, "sg": [{"src": "https://cdn/x/talk.mp4", "start": 1500, "d": 2000}]}]}) \
        == "Timeline (1 track): 1. Video: talk.mp4 (1.5-3.5s)"


def test_changes_are_described_from_the_track_lines():
    before = {"t": DOC_DRAFT["t"][:2]}
    added = describe_changes([before], [DOC_DRAFT])
    assert added.splitlines()[0] == '✅ Done: added Title: "Urban Dreams" (0-3s).'
    assert added.splitlines()[1] == draft_summary(DOC_DRAFT)
    louder = {"t": [DOC_DRAFT["t"][0], {"tt": 1, "sg": [{"n": "Lo-fi", "s": 0, "e": 10000, "v": 0.5}]}]}
    changed = describe_changes([before], [louder])
    assert "changed BGM: Lo-fi (0-10s, 35%) → Lo-fi (0-10s, 50%)" in changed
    assert describe_changes([before], [before]).startswith("The edit finished and the timeline is unchanged.")
    assert "added Video: city timelapse (0-10s)" in describe_changes(None, [before])
    assert describe_changes([before], []) == "Done. The timeline is empty so far."


@pytest.mark.parametrize("status, payload, expected", [
    (200, {"code": 0, "data": {"a": 1}}, {"a": 1}),
    (200, {"success": True, "data": {"a": 2}}, {"a": 2}),
    (200, {"code": 0, "message": "ok"}, {"code": 0, "message": "ok"}),
    (200, {"code": 1001, "message": "expired"}, TokenInvalid),
    (401, {"code": 1001, "msg": "expired"}, TokenInvalid),
    (401, None, TokenInvalid),
    (200, {"code": 1002, "msg": "no session"}, SessionMissing),
    (200, {"code": 2001, "message": "no credits"}, OutOfCredits),
    (200, {"code": 4001, "message": "bad type"}, UnsupportedFile),
    (200, {"code": 4002, "message": "too big"}, FileTooLarge),
    (400, {"code": 400, "message": "missing X-Client-Id"}, MissingClientId),
    (402, {"success": False, "error": "free plan"}, ExportBlocked),
    (429, None, RateLimited),
    (400, {"success": False, "error": "Duplicate render id: render_1 already exists"}, DuplicateRenderId),
    (503, None, BackendUnavailable),
    (500, {"code": 5000, "message": "boom"}, BackendUnavailable),
])
def test_both_envelopes_and_every_code_unwrap(status, payload, expected):
    if isinstance(expected, type):
        with pytest.raises(expected) as caught:
            unwrap(status, payload)
        assert str(caught.value)                      # a sentence, not an empty error
    else:
        assert unwrap(status, payload) == expected


def test_render_status_reads_both_result_locations():
    nested = read_render_status("render_1", {"success": True, "data": {
        "id": "render_1", "status": "completed", "progress": 100, "outputUrl": "https://cdn/r1.mp4"}})
    top = read_render_status("render_2", {"status": "completed", "output": {"url": "https://cdn/r2.mp4"}})
    assert (nested.status, nested.url, nested.progress) == ("completed", "https://cdn/r1.mp4", 100.0)
    assert (top.status, top.url, top.progress) == ("completed", "https://cdn/r2.mp4", 100.0)
    assert read_render_status("r", {"success": True, "data": {"status": "processing", "progress": 50}}).progress == 50
    failed = read_render_status("r", {"success": True, "data": {"status": "failed", "error": "node crashed"}})
    assert (failed.status, failed.error) == ("failed", "node crashed")
    assert read_render_status("r", {"success": True, "data": {"status": "cancelled"}}).status == "failed"
    assert read_render_status("r", {"success": True, "data": {"status": "completed"}}).status == "failed"


def test_sse_events_of_both_shapes_parse():
    assert [i.kind for i in parse_event("")] == ["heartbeat"]
    assert [i.kind for i in parse_event('{"type":"heartbeat"}')] == ["heartbeat"]
    assert parse_event('{"type":"text","content":"hi"}')[0][:2] == ("text", "hi")
    assert parse_event('{"type":"tool_call","name":"cut","args":{}}')[0].kind == "tool_call"
    assert parse_event('{"type":"tool_result","name":"cut","result":{}}')[0].kind == "tool_result"
    adk = parse_event('{"content":{"parts":[{"text":"he"}]},"partial":true}')[0]
    assert (adk.kind, adk.text, adk.partial) == ("text", "he", True)
    mixed = parse_event('{"content":{"parts":[{"text":"ok"},{"functionCall":{"name":"cut"}}]}}')
    assert [(i.kind, i.partial) for i in mixed] == [("text", False), ("tool_call", False)]
    assert parse_event('{"content":{"parts":[{"text":"hmm","thought":true}]}}')[0].kind == "ignored"
    error = parse_event('{"type":"error","code":2001,"message":"no credits"}')[0]
    assert (error.kind, error.code) == ("error", 2001)
    assert parse_event("not json")[0].kind == "ignored"


def test_state_reads_the_draft_and_media():
    state = read_state("s1", {"session_id": "s1", "state": {"draft": DOC_DRAFT, "video_infos": [{"filename": "a.mp4"}],
                                                            "generated_media": [{"filename": "g.png"}]}})
    assert state.drafts == [DOC_DRAFT] and [m.filename for m in state.media] == ["a.mp4", "g.png"]
    assert state.summary == [draft_summary(DOC_DRAFT)]
    assert read_state("s2", {"state": {"draft": {}}}).drafts == []


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


# ====================================================================== upload

async def test_upload_streams_the_file_from_disk(backend, fake, user_id, tmp_path):
    big = tmp_path / "long talk.mp4"
    size = 16 * 1024 * 1024
    with big.open("wb") as out:
        block = bytes(range(256)) * 4096
        for _ in range(size // len(block)):
            out.write(block)
    account = await backend.open_account(user_id, "")
    session = await backend.open_session(account, "console:1")
    tracemalloc.start()
    try:
        media = await backend.upload(account, session, big)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    received = fake.uploads[-1]
    assert received.size == size and received.sha256 == hashlib.sha256(big.read_bytes()).hexdigest()
    assert received.filename == "long talk.mp4" and received.content_type == "video/mp4"
    assert peak < size / 4, f"upload held {peak / 1e6:.1f} MB in memory"
    assert (media.filename, media.kind, media.width, media.height, media.duration) == (
        "long talk.mp4", "video", 1920, 1080, 30.5)
    assert media.media_id == received.sha256[:16] and media.url.startswith(fake.base_url)


async def test_upload_declares_its_length_and_keeps_an_odd_name(backend, fake, user_id, tmp_path):
    clip = tmp_path / 'my "best" take, 第1.mp4'
    clip.write_bytes(os.urandom(300 * 1024 + 7))           # not a whole number of read chunks
    account, session = await _ready(backend, user_id)
    await backend.upload(account, session, clip)
    received = fake.uploads[-1]
    assert received.sha256 == hashlib.sha256(clip.read_bytes()).hexdigest() and received.size == clip.stat().st_size
    assert received.filename == 'my %22best%22 take, 第1.mp4'
    [request] = fake.calls("upload")
    assert int(request.headers["content-length"]) > received.size and "transfer-encoding" not in request.headers


async def test_a_file_without_a_suffix_goes_up_under_the_type_its_content_has(backend, fake, user_id, tmp_path):
    made = tmp_path / "made.mp4"
    subprocess.run(["ffmpeg", "-y", "-nostdin", "-v", "error", "-f", "lavfi", "-i",
                    "testsrc2=size=64x36:rate=10:duration=1", "-c:v", "libx264", "-preset", "ultrafast",
                    "-pix_fmt", "yuv420p", str(made)], check=True)
    nameless = tmp_path / "fetch-3fa9c1"
    nameless.write_bytes(made.read_bytes())
    account, session = await _ready(backend, user_id)
    media = await backend.upload(account, session, nameless)
    assert fake.uploads[-1].filename == "fetch-3fa9c1.mp4" and fake.uploads[-1].content_type == "video/mp4"
    assert media.filename == "fetch-3fa9c1.mp4"
    text = tmp_path / "notes"
    text.write_text("not a video")
    with pytest.raises(UnsupportedFile):
        await backend.upload(account, session, text)
    assert len(fake.uploads) == 1


async def test_upload_by_link_sends_the_url(backend, fake, user_id):
    account = await backend.open_account(user_id, "")
    session = await backend.open_session(account, "console:1")
    media = await backend.upload(account, session, "https://example.com/videos/keynote.mp4")
    assert media.filename == "keynote.mp4" and media.url == "https://example.com/videos/keynote.mp4"
    assert fake.sessions[session.session_id].video_infos[0]["cdn_url"] == media.url


@pytest.mark.parametrize("code, error", [(4001, UnsupportedFile), (4002, FileTooLarge)])
async def test_upload_errors_from_the_cloud_are_typed(backend, fake, user_id, tmp_path, code, error):
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"\x00" * 1000)
    account = await backend.open_account(user_id, "")
    session = await backend.open_session(account, "console:1")
    fake.fail("upload", code)
    with pytest.raises(error) as caught:
        await backend.upload(account, session, clip)
    assert str(caught.value)
    if code == 4001:
        assert "mp4" in caught.value.details["accepted"]


async def test_upload_rejects_bad_files_before_sending(make_backend, fake, user_id, tmp_path):
    backend = make_backend(max_upload_mb=1)
    account = await backend.open_account(user_id, "")
    session = await backend.open_session(account, "console:1")
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    with pytest.raises(UnsupportedFile):
        await backend.upload(account, session, notes)
    large = tmp_path / "large.mp4"
    large.write_bytes(b"\x00" * (2 * 1024 * 1024))
    with pytest.raises(FileTooLarge) as caught:
        await backend.upload(account, session, large)
    assert caught.value.details == {"limit_mb": 1, "size_mb": 2}
    assert fake.calls("upload") == []


# ====================================================================== chat (SSE)

async def _ready(backend, user_id, chat_key="console:1"):
    account = await backend.open_account(user_id, "")
    session = await backend.open_session(account, chat_key)
    return account, session


async def test_chat_documented_shape(backend, fake, user_id):
    account, session = await _ready(backend, user_id)
    events = [e async for e in backend.chat(account, session, "find the best moments")]
    kinds = [e.kind for e in events]
    texts = [e.text for e in events if e.kind == "text"]
    assert texts == ["Got it, cutting your video now...",
                     'Done! I made a 10-second vertical short. Say "export" to download it, or say "status" to see '
                     'the tracks.']
    assert [list(e.actions) for e in events if e.kind == "text"][1] == ["export", "status"]
    assert kinds.count("tool") == 2 and all(e.text == "" for e in events if e.kind == "tool")
    assert kinds[-1] == "done" and STILL_WORKING not in [e.text for e in events]
    assert fake.chats == [(session.session_id, "find the best moments")]
    chat_request = fake.calls("chat")[0]
    assert "text/event-stream" in chat_request.headers["accept"]


async def test_chat_adk_shape_streams_partials_once(backend, fake, user_id):
    account, session = await _ready(backend, user_id)
    fake.script(fk.adk_text("Cutting ", partial=True), fk.adk_text("now.", partial=True),
                fk.adk_text("Cutting now."), fk.adk_call("edit_multitrack"), fk.apply(fk.cut_short()),
                fk.adk_result("edit_multitrack", ok=True),
                fk.adk_text("Your short ", partial=True), fk.adk_text("is ready.", partial=True))
    events = [e async for e in backend.chat(account, session, "cut it")]
    assert [e.text for e in events if e.kind == "text"] == ["Cutting now.", "Your short is ready."]
    assert [e.phase for e in events if e.kind == "tool"] == ["call", "result"]


async def test_heartbeats_drive_still_working_at_the_interval(make_backend, fake, user_id):
    backend = make_backend(nemo_still_working_s=0.1)
    account, session = await _ready(backend, user_id)
    steps = []
    for _ in range(12):                                   # ~0.6 s of heartbeats, both kinds
        steps += [fk.heartbeat(), fk.sleep(0.025), fk.empty_data(), fk.sleep(0.025)]
    fake.script(*steps, fk.text("Finished."))
    started = time.monotonic()
    events = [e async for e in backend.chat(account, session, "make it pop")]
    took = time.monotonic() - started                    # at least the 0.6 s of the script; longer on a busy machine
    notices = [e for e in events if e.kind == "heartbeat"]
    assert 2 <= len(notices) <= took / 0.1 + 1 and all(e.text == STILL_WORKING for e in notices)
    assert [e.text for e in events if e.kind == "text"] == ["Finished."]


async def test_silent_completion_reads_the_state_and_says_what_changed(backend, fake, user_id):
    account, session = await _ready(backend, user_id)
    fake.sessions[session.session_id].draft = {"t": [{"tt": 0, "sg": [{"n": "talk.mp4", "s": 0, "e": 10000}]}]}
    fake.script(fk.tool_call("edit_multitrack"), fk.empty_data(), fk.apply(fk.add_title("Urban Dreams")),
                fk.tool_result("edit_multitrack", ok=True))
    events = [e async for e in backend.chat(account, session, "add the title Urban Dreams")]
    summary = [e for e in events if e.kind == "text"]
    assert len(summary) == 1 and summary[0].silent
    assert summary[0].text == ('✅ Done: added Title: "Urban Dreams" (0-3s).\n'
                               'Timeline (2 tracks): 1. Video: talk.mp4 (0-10s) 2. Title: "Urban Dreams" (0-3s)')
    assert [r.endpoint for r in fake.requests[-3:]] == ["state", "chat", "state"]


@pytest.mark.parametrize("inject, error", [
    (lambda fake: fake.fail("chat", 1002), SessionMissing),
    (lambda fake: fake.fail("chat", 2001), OutOfCredits),
    (lambda fake: fake.fail("chat", 1001), TokenInvalid),
    (lambda fake: fake.fail("chat", 429), RateLimited),
    (lambda fake: fake.script(fk.text("Starting."), fk.error_event(2001, "insufficient credits")), OutOfCredits),
])
async def test_chat_errors_are_typed(backend, fake, user_id, inject, error):
    account, session = await _ready(backend, user_id)
    inject(fake)
    with pytest.raises(error):
        async for _ in backend.chat(account, session, "go"):
            pass


async def test_out_of_credits_links_anonymous_users_to_registration(make_backend, fake, user_id):
    fake.chat_cost = 60
    backend = make_backend()
    account, session = await _ready(backend, user_id)
    [e async for e in backend.chat(account, session, "first edit")]
    with pytest.raises(OutOfCredits) as caught:
        [e async for e in backend.chat(account, session, "second edit")]
    url = f"https://nemovideo.com/register?bind={account.remote_user_id}"
    assert caught.value.details["register_url"] == url and url in str(caught.value)
    assert (await backend.credits(account)).available == 40


@pytest.mark.parametrize("steps", [
    [fk.heartbeat(), fk.sleep(0.1)] * 8 + [fk.text("too late")],     # alive, but past the time limit
    [fk.text("Starting."), fk.sleep(5), fk.text("too late")],        # silent longer than the time limit
])
async def test_a_chat_past_its_time_limit_ends_with_a_sentence(make_backend, fake, user_id, steps):
    backend = make_backend(nemo_sse_timeout_s=0.3)
    account, session = await _ready(backend, user_id)
    fake.script(*steps)
    texts = []
    with pytest.raises(BackendUnavailable) as caught:
        async for event in backend.chat(account, session, "long edit"):
            texts.append(event.text)
    assert "too late" not in texts and "status" in str(caught.value)


async def test_cancel_stops_a_running_chat(backend, fake, user_id):
    account, session = await _ready(backend, user_id)
    fake.script(fk.text("Working on it."), fk.heartbeat(), fk.sleep(30), fk.text("never sent"))
    events = []

    async def consume():
        async for event in backend.chat(account, session, "long edit"):
            events.append(event)

    task = asyncio.create_task(consume())
    while not events:
        await asyncio.sleep(0.01)
    assert await backend.cancel(account, session)
    await asyncio.wait_for(task, 5)
    assert [e.text for e in events if e.kind == "text"] == ["Working on it."]
    assert events[-1].kind == "done" and events[-1].cancelled
    for _ in range(100):
        if fake.disconnects:
            break
        await asyncio.sleep(0.01)
    assert fake.disconnects == 1 and fake.open_streams == 0
    assert not await backend.cancel(account, session)


# ====================================================================== state and credits

@pytest.mark.parametrize("envelope, message_key", [("code", "message"), ("success", "msg")])
async def test_state_and_credits_in_either_envelope(fake, make_backend, user_id, envelope, message_key):
    fake.envelope, fake.message_key = envelope, message_key
    backend = make_backend()
    account, session = await _ready(backend, user_id)
    fake.sessions[session.session_id].draft = DOC_DRAFT
    state = await backend.state(account, session)
    assert state.summary == [draft_summary(DOC_DRAFT)] and state.session_id == session.session_id
    fake.credits[account.remote_user_id] = {"available": 25000, "frozen": 40}
    assert (await backend.credits(account)).__dict__ == {"available": 25000, "frozen": 40, "total": 25040,
                                                          "cost_per_minute": None}
    fake.fail("state", 1002, message="session gone")
    with pytest.raises(SessionMissing) as caught:
        await backend.state(account, session)
    assert caught.value.details["server_message"] == "session gone"


async def test_gets_are_retried_after_network_errors_posts_are_not(backend, fake, user_id):
    account = await backend.open_account(user_id, "")
    fake.drop("credits")
    fake.fail("credits", 503)
    assert (await backend.credits(account)).available == 100
    assert len(fake.calls("credits")) == 3
    fake.drop("credits", times=3)
    with pytest.raises(BackendUnavailable):
        await backend.credits(account)
    fake.drop("session")
    with pytest.raises(BackendUnavailable):
        await backend.open_session(account, "console:1")
    assert len(fake.calls("session")) == 1
    fake.fail("session", 500)
    with pytest.raises(BackendUnavailable):
        await backend.open_session(account, "console:1")
    assert len(fake.calls("session")) == 2


# ====================================================================== export

async def _with_draft(backend, fake, user_id):
    account, session = await _ready(backend, user_id)
    fake.sessions[session.session_id].draft = DOC_DRAFT
    return account, session


async def _poll(backend, account, ref):
    seen = []
    while True:
        status = await backend.render_status(account, ref)
        seen.append(status.status)
        if status.status in ("completed", "failed"):
            return status, seen
        await asyncio.sleep(backend.settings.nemo_poll_interval_s)


@pytest.mark.parametrize("shape", ["data.outputUrl", "output.url"])
async def test_export_renders_and_the_status_progresses(backend, fake, user_id, shape):
    fake.result_shape = shape
    account, session = await _with_draft(backend, fake, user_id)
    [ref] = await backend.export(account, session)
    assert ref.render_id.startswith("render_") and ref.render_id[len("render_"):].isdigit()
    render = fake.renders[ref.render_id]
    assert render.draft == DOC_DRAFT and render.session_id == session.session_id
    status, seen = await _poll(backend, account, ref)
    assert seen == ["pending", "processing", "completed"]
    assert status.url == f"{fake.base_url}/files/{ref.render_id}.mp4" and status.progress == 100


async def test_a_duplicate_render_id_is_retried_with_a_new_one(backend, fake, user_id):
    account, session = await _with_draft(backend, fake, user_id)
    fake.duplicate_render_id()
    [ref] = await backend.export(account, session)
    ids = [r for r in fake.renders]
    assert ids == [ref.render_id] and len(fake.calls("export")) == 2
    fake.duplicate_render_id(times=2)
    with pytest.raises(BackendError) as caught:
        await backend.export(account, session)
    assert not isinstance(caught.value, DuplicateRenderId) and len(fake.calls("export")) == 4


async def test_free_plan_export_is_blocked_not_a_credit_issue(fake, make_backend, user_id):
    fake.export_blocked = True
    backend = make_backend()
    account, session = await _with_draft(backend, fake, user_id)
    with pytest.raises(ExportBlocked) as caught:
        await backend.export(account, session)
    assert "register or upgrade" in str(caught.value).lower() and "credit" not in str(caught.value).lower()


async def test_export_without_attribution_headers_is_402(fake, make_backend, user_id):
    backend = make_backend(nemo_skill_source="")
    account, session = await _with_draft(backend, fake, user_id)
    with pytest.raises(ExportBlocked):
        await backend.export(account, session)


async def test_an_empty_timeline_is_not_sent_to_export(backend, fake, user_id):
    account, session = await _ready(backend, user_id)
    with pytest.raises(NothingUploaded):
        await backend.export(account, session)
    with pytest.raises(NothingUploaded):
        await backend.export(account, session, draft_index=3)
    assert fake.calls("export") == []


async def test_failed_and_cancelled_renders(backend, fake, user_id):
    account, session = await _with_draft(backend, fake, user_id)
    fake.fail_renders = True
    [ref] = await backend.export(account, session)
    status, _ = await _poll(backend, account, ref)
    assert (status.status, status.error) == ("failed", "render node crashed")
    fake.fail_renders = False
    [ref] = await backend.export(account, session)
    assert await backend.cancel(account, session)
    assert fake.renders[ref.render_id].cancelled
    assert (await backend.render_status(account, ref)).status == "failed"


async def test_the_result_is_downloaded_without_the_token(backend, fake, user_id, tmp_path):
    account, session = await _with_draft(backend, fake, user_id)
    [ref] = await backend.export(account, session)
    status, _ = await _poll(backend, account, ref)
    path = await backend.fetch_result(status.url, tmp_path / "out" / "short.mp4", max_bytes=1_000_000)
    assert path.read_bytes() == fake.result_bytes
    assert "authorization" not in fake.calls("file")[-1].headers
    assert await backend.fetch_result(status.url, tmp_path / "out" / "big.mp4", max_bytes=100) is None
    assert not (tmp_path / "out" / "big.mp4").exists()


async def test_a_broken_result_download_is_a_sentence_and_leaves_nothing(backend, fake, user_id, tmp_path):
    account, session = await _with_draft(backend, fake, user_id)
    [ref] = await backend.export(account, session)
    status, _ = await _poll(backend, account, ref)
    fake.break_results = True
    out = tmp_path / "out"
    with pytest.raises(BackendUnavailable) as caught:
        await backend.fetch_result(status.url, out / f"{status.render_id}.mp4", max_bytes=1_000_000)
    assert "could not be downloaded" in str(caught.value)
    with pytest.raises(BackendUnavailable):
        await backend.fetch_result("http://127.0.0.1:9/files/r.mp4", out / "closed.mp4")   # nobody listens
    assert not out.exists() or list(out.iterdir()) == []


async def test_the_clouds_render_ids_never_name_a_file(backend, fake, user_id):
    account, session = await _with_draft(backend, fake, user_id)
    fake.answer_render_id = "../../../home/bot/.ssh/authorized_keys"
    [ref] = await backend.export(account, session)
    assert ref.render_id.startswith("render_") and ref.render_id in fake.renders     # ours, not the answer's
    fake.answer_render_id = None
    fake.render_word = "completed"                          # the status answer carries "../../<id>"
    status = await backend.render_status(account, ref)
    assert status.render_id == ref.render_id
    assert read_render_status("render_7", {"data": {"id": "../x", "status": "processing"}}).render_id == "render_7"


@pytest.mark.parametrize("word, status", [
    ("error", "failed"), ("cancelled", "failed"), ("canceled", "failed"), ("timeout", "failed"),
    ("timed-out", "failed"), ("TIMED OUT", "failed"), ("aborted", "failed"),
    ("rendering", "processing"), ("queued", "pending"), ("uploading_to_cdn", "processing"),
])
def test_render_status_words(word, status):
    read = read_render_status("render_1", {"success": True, "data": {"status": word}})
    assert read.status == status
    assert read.reported == word.lower()


async def test_a_render_that_errors_ends_and_an_unknown_word_keeps_it_running(backend, fake, user_id):
    account, session = await _with_draft(backend, fake, user_id)
    [ref] = await backend.export(account, session)
    fake.render_word = "warming_up"
    running = await backend.render_status(account, ref)
    assert (running.status, running.reported) == ("processing", "warming_up")
    fake.render_word = "error"
    ended = await backend.render_status(account, ref)
    assert (ended.status, ended.reported) == ("failed", "error") and ended.error


async def test_render_status_of_an_unknown_render_is_an_error(backend, fake, user_id):
    account, _ = await _ready(backend, user_id)
    with pytest.raises(BackendError) as caught:
        await backend.render_status(account, RenderRef("render_1"))
    error = caught.value
    assert type(error) is BackendError and error.code == 404            # the cloud's refusal, not an outage
    assert error.details["server_message"] == "render not found" and error.details["reason_key"] == "backend_refused"


# ====================================================================== headers, secrets

async def test_every_request_carries_the_attribution_headers_and_the_token(backend, fake, user_id, tmp_path):
    account, session = await _with_draft(backend, fake, user_id)
    clip = tmp_path / "a.mp4"
    clip.write_bytes(b"\x00" * 2048)
    await backend.upload(account, session, clip)
    [e async for e in backend.chat(account, session, "cut")]
    await backend.credits(account)
    [ref] = await backend.export(account, session)
    await _poll(backend, account, ref)
    fake.drop("credits")
    await backend.credits(account)
    endpoints = {r.endpoint for r in fake.requests}
    assert {"token", "session", "upload", "chat", "state", "credits", "export", "render_status"} <= endpoints
    for request in fake.requests:
        if request.endpoint == "file":
            continue
        assert request.headers["x-skill-source"] == "best-shorts"
        assert request.headers["x-skill-version"] == "1.2.3"
        assert request.headers["x-skill-platform"] == "unknown"
        if request.endpoint != "token":
            assert request.token == account.token, request.path


async def test_tokens_never_reach_logs_reprs_or_error_text(backend, fake, user_id, caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="httpx")      # whatever an adapter set it to earlier in the run
    account, session = await _ready(backend, user_id)
    token = account.token
    fake.fail("credits", 2001, message=f"no credits left for {token}")
    with pytest.raises(OutOfCredits) as caught:
        await backend.credits(account)
    assert token not in str(caught.value) and token not in str(caught.value.details)
    fake.fail("state", 1001, message=f"token {token} expired")
    with pytest.raises(TokenInvalid) as caught:
        await backend.state(account, session)
    assert token not in str(caught.value.details)
    new_account = await backend.open_account(user_id, "")
    # renewed under a new client id (the old one had its token this week): a new cloud user, a new session
    session = await backend.open_session(new_account, "console:2")
    [e async for e in backend.chat(new_account, session, "hello")]
    # aiosqlite logs SQL parameters at DEBUG, which is the storage layer's business; every other logger is checked
    logged = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("aiosqlite"))
    assert "HTTP Request" in logged and "anonymous NemoVideo token" in logged
    for secret in (token, new_account.token):
        assert secret not in logged
        assert secret not in repr(account) and secret not in repr(new_account) and secret not in repr(backend)

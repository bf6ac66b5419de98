"""NemoCloud's exports against the fake NemoVideo cloud: render status, duplicate ids, the free
plan, downloads without the token; and the attribution headers and secrets on every request."""
from __future__ import annotations

import asyncio
import logging

import pytest

from bot.backends.base import (
    BackendError,
    BackendUnavailable,
    ExportBlocked,
    NothingUploaded,
    OutOfCredits,
    TokenInvalid,
)
from bot.backends.nemo import (
    DuplicateRenderId,
    RenderRef,
    read_render_status,
)
from bot.sentences import error_reply
from tests.nemo.cloud_helpers import DOC_DRAFT, account_and_session


# ====================================================================== export


async def _with_draft(backend, fake, user_id):
    account, session = await account_and_session(backend, user_id)
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
    account, session = await account_and_session(backend, user_id)
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
    # said as it is, in the person's language: not "the video service is not answering"
    assert error_reply(caught.value, "en", 50).text.startswith("The finished video could not be downloaded.")
    assert error_reply(caught.value, "zh", 50).text.startswith("做好的视频无法下载")
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
    account, _ = await account_and_session(backend, user_id)
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
    account, session = await account_and_session(backend, user_id)
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

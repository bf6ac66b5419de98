"""NemoCloud (the API NemoBackend calls) against the fake NemoVideo cloud: uploads, the chat's SSE
stream in both shapes, state and credits. Reading the cloud's answers is in test_nemo_replies.py,
tokens and sessions in test_nemo_accounts.py, export and the headers in test_nemo_export.py."""
from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
import time
import tracemalloc

import pytest

from bot.backends.base import (
    BackendUnavailable,
    FileTooLarge,
    OutOfCredits,
    RateLimited,
    SessionMissing,
    TokenInvalid,
    UnsupportedFile,
)
from bot.backends.nemo import (
    STILL_WORKING,
    draft_summary,
)
from bot.texts import timeline
from tests.nemo import fake_nemo as fk
from tests.nemo.cloud_helpers import DOC_DRAFT, account_and_session


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
    account, session = await account_and_session(backend, user_id)
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
    account, session = await account_and_session(backend, user_id)
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

async def test_chat_documented_shape(backend, fake, user_id):
    account, session = await account_and_session(backend, user_id)
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
    account, session = await account_and_session(backend, user_id)
    fake.script(fk.adk_text("Cutting ", partial=True), fk.adk_text("now.", partial=True),
                fk.adk_text("Cutting now."), fk.adk_call("edit_multitrack"), fk.apply(fk.cut_short()),
                fk.adk_result("edit_multitrack", ok=True),
                fk.adk_text("Your short ", partial=True), fk.adk_text("is ready.", partial=True))
    events = [e async for e in backend.chat(account, session, "cut it")]
    assert [e.text for e in events if e.kind == "text"] == ["Cutting now.", "Your short is ready."]
    assert [e.phase for e in events if e.kind == "tool"] == ["call", "result"]


async def test_heartbeats_drive_still_working_at_the_interval(make_backend, fake, user_id):
    backend = make_backend(nemo_still_working_s=0.1)
    account, session = await account_and_session(backend, user_id)
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
    account, session = await account_and_session(backend, user_id)
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
    account, session = await account_and_session(backend, user_id)
    inject(fake)
    with pytest.raises(error):
        async for _ in backend.chat(account, session, "go"):
            pass


async def test_out_of_credits_links_anonymous_users_to_registration(make_backend, fake, user_id):
    fake.chat_cost = 60
    backend = make_backend()
    account, session = await account_and_session(backend, user_id)
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
    account, session = await account_and_session(backend, user_id)
    fake.script(*steps)
    texts = []
    with pytest.raises(BackendUnavailable) as caught:
        async for event in backend.chat(account, session, "long edit"):
            texts.append(event.text)
    assert "too late" not in texts and "status" in str(caught.value)


async def test_cancel_stops_a_running_chat(backend, fake, user_id):
    account, session = await account_and_session(backend, user_id)
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
    account, session = await account_and_session(backend, user_id)
    fake.sessions[session.session_id].draft = DOC_DRAFT
    state = await backend.state(account, session)
    assert [timeline("en", s) for s in state.summary] == [draft_summary(DOC_DRAFT)]
    assert state.session_id == session.session_id
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

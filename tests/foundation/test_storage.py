import asyncio
import sqlite3
from datetime import datetime, timedelta, timezone

import pytest

from storage.db import Database, available_migrations
from storage.repos import IllegalTransition, InsufficientCredits, LedgerError, Repos


@pytest.fixture
async def db(tmp_path):
    database = await Database.open(tmp_path / "bot.sqlite3")
    yield database
    await database.close()


@pytest.fixture
def repos(db):
    return Repos(db)


async def test_opens_with_wal_foreign_keys_and_busy_timeout(db):
    assert (await db.fetchone("PRAGMA journal_mode"))[0] == "wal"
    assert (await db.fetchone("PRAGMA foreign_keys"))[0] == 1
    assert (await db.fetchone("PRAGMA busy_timeout"))[0] >= 5000


async def test_migrations_apply_once_and_are_recorded(tmp_path):
    path = tmp_path / "m.sqlite3"
    first = await Database.open(path)
    recorded = await first.applied_migrations()
    assert [v for v, _ in recorded] == [v for v, _, _ in available_migrations()]
    await first.close()
    second = await Database.open(path)
    assert await second.migrate() == []
    assert await second.applied_migrations() == recorded
    await second.close()


async def test_users_round_trip_per_platform(repos):
    ann, created = await repos.users.get_or_create("telegram", "42", "ann", "en")
    assert created
    again, created = await repos.users.get_or_create("telegram", "42", "ann2")
    assert not created and again.id == ann.id and again.name == "ann2" and again.language == "en"
    other, created = await repos.users.get_or_create("discord", "42", "ann")
    assert created and other.id != ann.id
    assert (await repos.users.get(ann.id)) == again
    assert [u.id for u in await repos.users.matching("telegram", "@ANN2")] == [ann.id]
    assert [u.id for u in await repos.users.matching("telegram", "42")] == [ann.id]
    assert await repos.users.matching("telegram", "@nobody") == []


async def test_accounts_keep_tokens_with_expiry_and_hide_them(repos):
    user, _ = await repos.users.get_or_create("telegram", "1")
    expires = datetime(2030, 1, 1, tzinfo=timezone.utc)
    saved = await repos.accounts.save(user.id, "nemo", "client-uuid", "nmv_usr_secret", "anon_1", expires)
    assert saved.token == "nmv_usr_secret" and saved.expires_at == expires and not saved.expired()
    assert "nmv_usr_secret" not in repr(saved)
    assert saved.expired(now=expires + timedelta(seconds=1))
    await repos.accounts.invalidate_token(user.id, "nemo")
    assert (await repos.accounts.get(user.id, "nemo")).expired()
    assert await repos.accounts.get(user.id, "local") is None


async def test_one_active_session_per_user_chat_backend(repos):
    user, _ = await repos.users.get_or_create("telegram", "1")
    first = await repos.sessions.start(user.id, "telegram:100", "local", "s-1", state={"drafts": []})
    second = await repos.sessions.start(user.id, "telegram:100", "local", "s-2")
    elsewhere = await repos.sessions.start(user.id, "telegram:200", "local", "s-3")
    assert (await repos.sessions.active(user.id, "telegram:100", "local")).id == second.id
    assert not (await repos.sessions.get(first.id)).active
    assert (await repos.sessions.active(user.id, "telegram:200", "local")).id == elsewhere.id
    await repos.sessions.save_state(second.id, {"drafts": [{"t": []}]})
    assert (await repos.sessions.get(second.id)).state == {"drafts": [{"t": []}]}
    assert (await repos.sessions.by_remote_id("local", "s-2")).id == second.id
    with pytest.raises(sqlite3.IntegrityError):  # the partial unique index holds even against raw inserts
        await repos.db.execute(
            "INSERT INTO sessions (user_id, chat_key, backend, remote_session_id) VALUES (?, 'telegram:100', 'local', 'x')",
            (user.id,))


async def test_media_is_stored_once_by_hash_and_listed_per_session(repos):
    user, _ = await repos.users.get_or_create("console", "me")
    session = await repos.sessions.start(user.id, "console:me", "local", "s")
    video = await repos.media.add("ab" * 32, "/data/media/abab.mp4", "video", 1000, 12.5, {"width": 640})
    same = await repos.media.add("ab" * 32, "/elsewhere.mp4", "video", 1000)
    assert same.id == video.id and same.path == "/data/media/abab.mp4"
    music = await repos.media.add("cd" * 32, "/data/media/cdcd.mp3", "audio", 500, 30.0)
    await repos.media.attach(session.id, video.id, "my talk.mp4")
    await repos.media.attach(session.id, music.id, "song.mp3")
    listed = await repos.media.for_session(session.id)
    assert [m.id for m in listed] == [video.id, music.id]
    assert listed[0].display_name == "my talk.mp4" and listed[0].info == {"width": 640}


async def test_chat_refs_and_clips_round_trip(repos):
    user, _ = await repos.users.get_or_create("discord", "9")
    session = await repos.sessions.start(user.id, "discord:5", "local", "s")
    ref = await repos.chat_refs.add("discord", "5", None, "777", "9")
    await repos.chat_refs.set_thread(ref.id, "888")
    assert (await repos.chat_refs.get(ref.id)).thread_id == "888"
    clip = await repos.clips.add(session.id, 1, 10.0, 40.5, score=87.5, scores={"hook": 90}, reasons=["a question"],
                                 title="Why pricing matters", hashtags=["#pricing"], text="...", draft={"t": [], "d": 30500})
    updated = await repos.clips.update(clip.id, end=35.5, output_path="/out/clip-01.mp4", draft={"t": [1]})
    assert (updated.start, updated.end, updated.output_path, updated.draft) == (10.0, 35.5, "/out/clip-01.mp4", {"t": [1]})
    assert updated.scores == {"hook": 90} and updated.hashtags == ["#pricing"]
    assert [c.id for c in await repos.clips.for_session(session.id)] == [clip.id]
    assert (await repos.clips.by_output_name(str(clip.id))).id == clip.id
    assert await repos.clips.by_output_name("../../etc/passwd") is None
    with pytest.raises(ValueError):
        await repos.clips.update(clip.id, path="/etc/passwd")


async def test_credit_ledger_available_frozen_total(repos):
    user, _ = await repos.users.get_or_create("telegram", "1")
    ledger = repos.ledger
    assert await ledger.grant_once(user.id, 100)
    assert not await ledger.grant_once(user.id, 100)
    balance = await ledger.hold(user.id, 10, "job:1")
    assert (balance.available, balance.frozen, balance.total) == (90, 10, 100)
    await ledger.hold(user.id, 5, "job:2")
    assert await ledger.charge("job:1")
    assert not await ledger.charge("job:1")          # settled once only
    assert not await ledger.release("job:1")
    balance = await ledger.balance(user.id)
    assert (balance.available, balance.frozen, balance.total) == (85, 5, 90)
    assert await ledger.release("job:2")
    balance = await ledger.balance(user.id)
    assert (balance.available, balance.frozen, balance.total) == (90, 0, 90)
    with pytest.raises(InsufficientCredits) as caught:
        await ledger.hold(user.id, 91, "job:3")
    assert caught.value.available == 90
    with pytest.raises(LedgerError):
        await ledger.hold(user.id, 1, "job:2")       # a hold reference is used once
    assert await ledger.open_hold("job:3") is None
    assert [kind for kind, _, _ in await ledger.entries(user.id)] == ["grant", "hold", "hold", "charge", "release"]


async def test_job_state_machine_refuses_illegal_moves(repos):
    user, _ = await repos.users.get_or_create("console", "me")
    job = await repos.jobs.enqueue(user.id, "cut", {"text": "3 clips"})
    assert job.state == "queued" and job.attempts == 0
    with pytest.raises(IllegalTransition):
        await repos.jobs.move(job.id, "done")
    claimed = await repos.jobs.claim_next()
    assert claimed.id == job.id and claimed.state == "running" and claimed.attempts == 1
    requeued = await repos.jobs.move(job.id, "queued")
    assert requeued.state == "queued"
    await repos.jobs.claim_next()
    done = await repos.jobs.move(job.id, "done", result={"clips": 3})
    assert done.state == "done" and done.result == {"clips": 3} and done.progress == 1.0 and done.attempts == 2
    for state in ("running", "queued", "failed", "cancelled"):
        with pytest.raises(IllegalTransition):
            await repos.jobs.move(job.id, state)
    with pytest.raises(IllegalTransition):
        await repos.jobs.move(job.id, "exploded")


async def test_one_person_at_a_time_unless_asked_otherwise(repos):
    ann, _ = await repos.users.get_or_create("console", "ann")
    bob, _ = await repos.users.get_or_create("console", "bob")
    first = await repos.jobs.enqueue(ann.id, "cut", {})
    second = await repos.jobs.enqueue(ann.id, "cut", {})
    bobs = await repos.jobs.enqueue(bob.id, "cut", {})
    assert (await repos.jobs.claim_next()).id == first.id
    assert (await repos.jobs.claim_next()).id == bobs.id      # Ann's second waits for her first
    assert await repos.jobs.claim_next() is None
    assert (await repos.jobs.claim_next(one_per_user=False)).id == second.id


async def test_queue_position_counts_jobs_ahead(repos):
    user, _ = await repos.users.get_or_create("console", "me")
    jobs = [await repos.jobs.enqueue(user.id, "cut", {}) for _ in range(3)]
    await repos.jobs.claim_next()
    assert [await repos.jobs.position(j.id) for j in jobs] == [0, 1, 2]
    assert [j.id for j in await repos.jobs.in_state("queued")] == [jobs[1].id, jobs[2].id]


async def test_two_concurrent_writers_do_not_lock_each_other_out(tmp_path):
    path = tmp_path / "shared.sqlite3"
    first, second = await Database.open(path), await Database.open(path)
    user_a, _ = await Repos(first).users.get_or_create("telegram", "a")
    user_b, _ = await Repos(second).users.get_or_create("telegram", "b")
    await Repos(first).ledger.grant(user_a.id, 1000)
    await Repos(second).ledger.grant(user_b.id, 1000)

    async def churn(db, user_id, prefix):
        repos = Repos(db)
        for i in range(40):
            await repos.ledger.hold(user_id, 1, f"{prefix}:{i}")
            await repos.ledger.charge(f"{prefix}:{i}")
            await repos.jobs.enqueue(user_id, "cut", {"i": i})

    await asyncio.gather(churn(first, user_a.id, "a"), churn(second, user_b.id, "b"))
    assert (await Repos(first).ledger.balance(user_a.id)).available == 960
    assert (await Repos(first).ledger.balance(user_b.id)).available == 960
    assert len(await Repos(first).jobs.in_state("queued")) == 80
    await first.close()
    await second.close()


async def test_clip_ids_are_never_handed_out_again_after_deletes(repos):
    user, _ = await repos.users.get_or_create("telegram", "1")
    ann = await repos.sessions.start(user.id, "telegram:1", "local", "ann")
    first = [await repos.clips.add(ann.id, rank, 0.0, 10.0) for rank in (1, 2)]
    await repos.clips.delete_for_session(ann.id)               # a new cut forgets the session's clips
    again = await repos.clips.add(ann.id, 1, 0.0, 10.0)
    assert again.id > max(c.id for c in first)
    await repos.clips.delete_for_session(ann.id)
    assert (await repos.clips.add(ann.id, 1, 0.0, 10.0)).id > again.id


def _database_before(path, version: int) -> sqlite3.Connection:
    """A database file as a release that knew only the migrations up to `version` left it."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                 " applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))")
    for number, name, sql in available_migrations():
        if number <= version:
            conn.executescript(sql)
            conn.execute("INSERT INTO schema_migrations (version, name) VALUES (?, ?)", (number, name))
    return conn


async def test_migration_2_keeps_every_clip_and_stops_id_reuse(tmp_path):
    path = tmp_path / "old.sqlite3"
    old = _database_before(path, 1)
    old.execute("INSERT INTO users (platform, platform_user_id) VALUES ('telegram', '1')")
    old.execute("INSERT INTO sessions (user_id, chat_key, backend, remote_session_id) VALUES (1, 'telegram:1', 'local', 's')")
    for rank in (1, 2, 3):
        old.execute('INSERT INTO clips (session_id, rank, start, "end", title, draft_json, output_path, width)'
                    " VALUES (1, ?, ?, ?, ?, '{\"t\": []}', ?, 360)", (rank, rank * 10.0, rank * 10.0 + 5, f"clip {rank}",
                                                                    f"/out/s/clip-0{rank}-abc.mp4"))
    old.execute("DELETE FROM clips WHERE rank = 3")            # the old table would hand out id 3 again
    before = old.execute("SELECT * FROM clips ORDER BY id").fetchall()
    old.close()

    db = await Database.open(path)
    try:
        assert [v for v, _ in await db.applied_migrations()] == [v for v, _, _ in available_migrations()]
        after = [tuple(row) for row in await db.fetchall("SELECT * FROM clips ORDER BY id")]
        assert after == before and len(after) == 2
        assert (await db.fetchone("SELECT COUNT(*) FROM sqlite_master WHERE name = 'clips_by_session'"))[0] == 1
        repos = Repos(db)
        kept = await repos.clips.get(2)
        assert (kept.title, kept.output_path, kept.width) == ("clip 2", "/out/s/clip-02-abc.mp4", 360)
        await repos.clips.delete_for_session(1)
        fresh = await repos.clips.add(1, 1, 0.0, 5.0)
        assert fresh.id == 3                                    # above every id the rebuilt table has seen
        await repos.clips.delete_for_session(1)
        assert (await repos.clips.add(1, 1, 0.0, 5.0)).id == 4
        await db.execute("DELETE FROM sessions WHERE id = 1")   # the rebuilt table still cascades
        assert await repos.clips.for_session(1) == []
    finally:
        await db.close()


async def test_grant_targets_are_found_on_one_platform_by_exact_id_or_name(repos):
    ann, _ = await repos.users.get_or_create("telegram", "111", "Ann")
    await repos.users.get_or_create("discord", "111", "mallory")        # the same id on another platform
    await repos.users.get_or_create("discord", "222", "ann")            # the same name on another platform
    other_ann, _ = await repos.users.get_or_create("telegram", "333", "ann")
    assert await repos.users.matching("telegram", "111") == [ann]
    assert await repos.users.matching("telegram", "11") == []             # no partial ids
    assert await repos.users.matching("telegram", "Ann") == []            # a name needs its @
    assert await repos.users.matching("telegram", "@Ann") == [ann, other_ann]   # ambiguous: both, oldest first
    assert [u.platform_user_id for u in await repos.users.matching("discord", "@ann")] == ["222"]
    assert await repos.users.matching("telegram", "@") == []


async def test_a_read_never_sees_another_coroutines_uncommitted_transaction(repos, db):
    user, _ = await repos.users.get_or_create("telegram", "7")
    await repos.ledger.grant_once(user.id, 10)
    inside = asyncio.Event()
    seen: list[int] = []

    async def half_made_hold():
        with pytest.raises(RuntimeError):
            async with db.transaction() as conn:
                await conn.execute("INSERT INTO credit_ledger (user_id, kind, amount, hold_ref) "
                                   "VALUES (?, 'hold', 10, 'job:9')", (user.id,))
                inside.set()
                await asyncio.sleep(0.05)    # another coroutine runs while this one is open
                raise RuntimeError("the hold fails before it commits")

    async def reader():
        await inside.wait()
        seen.append((await repos.ledger.balance(user.id)).available)
        seen.append(len(await db.fetchall("SELECT * FROM credit_ledger WHERE user_id = ?", (user.id,))))

    await asyncio.gather(half_made_hold(), reader())
    assert seen == [10, 1]                   # the rolled-back hold was never visible


async def test_reads_inside_ones_own_transaction_do_not_wait_for_themselves(db):
    async with db.transaction() as conn:
        await conn.execute("INSERT INTO users (platform, platform_user_id) VALUES ('telegram', '8')")
        row = await db.fetchone("SELECT COUNT(*) FROM users WHERE platform_user_id = '8'")
    assert row[0] == 1

"""LocalBackend with the real engine, real SQLite and real files (ffprobe checks the renders)."""
from __future__ import annotations

import asyncio
import logging
import shutil
from pathlib import Path

import pytest

from bot.backends.base import (
    Clip,
    FileTooLarge,
    NothingUploaded,
    OutOfCredits,
    UnsupportedFile,
    Who,
)
from bot.backends.local import LocalBackend
from bot.replies import event_text, progress_text
from bot.texts import timeline
from bot.work import failure
from bot.vocabulary import looks_like_cut, understand
from engine.probe import ACCEPTED
from engine.transcribe import cache_path
from storage.db import Database
from storage.repos import Repos
from tests.bot.chat_helpers import CUT_SMALL, CUT_TEN, ffprobe, make_settings
from tests.bot.chat_helpers import other_talk, warm_talk  # noqa: F401  (fixtures)
from tests.media import tone, write_wav


async def open_backend(settings):
    db = await Database.open(settings.database_path)
    repos = Repos(db)
    return LocalBackend(settings, repos), repos, db


async def person(backend: LocalBackend, repos: Repos, name: str = "ann") -> Who:
    user, _ = await repos.users.get_or_create("test", name, name)
    return Who(user.id, f"test:{name}")


async def run_chat(backend, who, text) -> list:
    """What a chat job does with the words: one reading (bot.vocabulary), then a cut or edits."""
    understood = understand(text, has_clips=bool((await backend.state(who)).clips))
    stream = (backend.cut(who, text, understood.request) if understood.kind == "cut"
              else backend.edit(who, understood.edits, text))
    return [event async for event in stream]


async def watching_ahead(stream) -> tuple[list, list[str]]:
    """A chat's events, and in what order clips came and their faces began to be found (engine.ahead)."""
    order: list[str] = []

    class Started(logging.Handler):
        def emit(self, record):
            order.append("faces of " + "-".join(Path(str(record.args[0])).name.split("-")[:2]))

    log, handler = logging.getLogger("engine.ahead"), Started(level=logging.DEBUG)
    level = log.level
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    events = []
    try:
        async for event in stream:
            events.append(event)
            if event.kind == "clip":
                order.append(f"clip {event.clip.number}")
    finally:
        log.removeHandler(handler)
        log.setLevel(level)
    return events, order


def clip_events(events) -> list[Clip]:
    return [e.clip for e in events if e.kind == "clip"]


def said(events) -> str:
    return "\n".join(e.text for e in events if e.kind == "text")


def rendering_said(events, lang: str = "en") -> list[str]:
    """The progress sentences a person sees while clips render, each once, in order."""
    return list(dict.fromkeys(progress_text(e, lang) for e in events if e.kind == "progress" and e.stage == "render"))


@pytest.fixture
async def local(tmp_path, warm_talk):
    settings = make_settings(tmp_path / "data", warm_talk)
    backend, repos, db = await open_backend(settings)
    yield backend, repos
    await backend.close()
    await db.close()


async def test_upload_keeps_the_file_by_content_hash_and_starts_listening_at_once(tmp_path, other_talk):
    settings = make_settings(tmp_path / "data")                 # a cold cache: the transcript must be made
    backend, repos, db = await open_backend(settings)
    try:
        who = await person(backend, repos)
        sent = tmp_path / "sent" / "My Talk (final).mp4"
        sent.parent.mkdir()
        shutil.copyfile(other_talk.path, sent)                   # the 19 s talk: less to transcribe
        media = await backend.upload(who, sent)
        stored = settings.media_dir / f"{media.media_id}.mp4"
        assert stored.is_file() and sent.is_file()               # a copy: the sender's file is left alone
        assert [p.name for p in settings.media_dir.iterdir()] == [stored.name]
        assert (media.filename, media.kind, media.width, media.height) == ("My Talk (final).mp4", "video", 320, 180)
        assert 15 < media.duration < 25
        # nobody asked for anything yet, and the transcript is being made
        transcript = cache_path(settings.engine_config(), media.media_id)
        for _ in range(6000):                                     # a hang guard: 10 minutes
            if transcript.exists():
                break
            await asyncio.sleep(0.1)
        assert transcript.exists(), "the upload should start transcription in the background"
        # the same bytes again: one stored file, one media row
        again = await backend.upload(who, sent)
        assert again.media_id == media.media_id
        assert len(list(settings.media_dir.iterdir())) == 1
        state = await backend.state(who)
        assert [m.filename for m in state.media] == ["My Talk (final).mp4"]
    finally:
        await backend.close()
        await db.close()


async def test_bad_uploads_are_refused_with_their_code_and_nothing_is_kept(tmp_path):
    settings = make_settings(tmp_path / "data", max_upload_mb=1)
    backend, repos, db = await open_backend(settings)
    try:
        who = await person(backend, repos)
        notes = tmp_path / "notes.txt"
        notes.write_text("not a video")
        with pytest.raises(UnsupportedFile) as unsupported:
            await backend.upload(who, notes)
        assert unsupported.value.code == 4001 and unsupported.value.details["accepted"] == ACCEPTED
        renamed = tmp_path / "holiday.mp4"
        renamed.write_text("this is text, renamed to .mp4")
        with pytest.raises(UnsupportedFile) as broken:
            await backend.upload(who, renamed)
        assert broken.value.details["broken"] and "holiday.mp4" in str(broken.value)
        big = tmp_path / "big.mp4"
        big.write_bytes(b"\0" * (2 * 1024 * 1024))
        with pytest.raises(FileTooLarge) as too_large:
            await backend.upload(who, big)
        assert too_large.value.code == 4002 and too_large.value.details["limit_mb"] == 1
        assert too_large.value.details["size_mb"] == 2.0
        assert not settings.media_dir.exists() or not any(settings.media_dir.iterdir())
    finally:
        await backend.close()
        await db.close()


async def test_sessions_and_starting_credits(local):
    backend, repos = local
    ann = await person(backend, repos, "ann")
    bob = await person(backend, repos, "bob")
    assert (await backend.credits(ann)).available == 100
    assert (await backend.credits(ann)).available == 100       # granted once, not at every call
    await backend.state(bob)
    bobs = await repos.sessions.active(bob.user_id, bob.chat_key, "local")
    # a session row of someone else's is not ann's: she gets her own
    await backend.state(Who(ann.user_id, ann.chat_key, session=bobs.id))
    anns = await repos.sessions.active(ann.user_id, ann.chat_key, "local")
    assert anns is not None and anns.id != bobs.id
    await backend.start_over(ann)
    assert await repos.sessions.active(ann.user_id, ann.chat_key, "local") is None
    assert not await backend.cancel(ann)                      # nothing runs, and no session is made for it
    with pytest.raises(NothingUploaded):
        await run_chat(backend, ann, "cut it into shorts")
    assert await repos.accounts.get(ann.user_id, "local") is None     # no tokens of its own to fake


async def test_out_of_credits_holds_nothing(tmp_path, warm_talk):
    settings = make_settings(tmp_path / "data", warm_talk, starting_credits=0)
    backend, repos, db = await open_backend(settings)
    try:
        who = await person(backend, repos)
        await backend.upload(who, warm_talk.path)
        with pytest.raises(OutOfCredits) as out:
            await run_chat(backend, who, CUT_SMALL)
        assert out.value.code == 2001 and out.value.details == {"available": 0, "needed": 1, "ask_admin": True}
        assert await repos.ledger.entries(who.user_id) == [("grant", 0, None)]
    finally:
        await backend.close()
        await db.close()


def test_what_counts_as_a_cut():
    assert looks_like_cut("find the best moments and cut them into 30-second vertical shorts")
    assert looks_like_cut("3 square clips about pricing")
    assert looks_like_cut("剪成三个60秒的竖屏短视频")
    assert not looks_like_cut("make clip 1 shorter by 5 seconds")
    assert not looks_like_cut("hello, how are you?")


async def test_cut_then_edit_then_export(local, warm_talk, tmp_path):
    backend, repos = local
    who = await person(backend, repos)
    await backend.upload(who, warm_talk.path)

    # the cut: moments, then each clip as it is rendered; clip 2's faces are found while clip 1 renders
    events, order = await watching_ahead(backend.cut(who, CUT_TEN, understand(CUT_TEN, has_clips=False).request))
    row = await repos.sessions.active(who.user_id, who.chat_key, "local")
    assert said(events).startswith("Found 2 moments:")
    clips = clip_events(events)
    assert [c.number for c in clips] == [1, 2]
    assert order == ["faces of clip-01", "faces of clip-02", "clip 1", "clip 2"]
    for clip in clips:
        info = ffprobe(Path(clip.path))
        assert (info["width"], info["height"]) == (360, 640) and info["audio"]
        assert abs(info["duration"] - (clip.end - clip.start)) < 0.3
        assert 8 <= info["duration"] <= 12 and clip.title and clip.hashtags
        assert Path(clip.path).parent == backend.settings.output_dir / row.remote_session_id
    assert events[-1].kind == "done"
    assert rendering_said(events) == ["Rendering clip 1 of 2", "Rendering clip 2 of 2"]
    assert rendering_said(events, "zh") == ["正在渲染第 1 个片段（共 2 个）", "正在渲染第 2 个片段（共 2 个）"]
    credits = await backend.credits(who)
    assert (credits.available, credits.frozen, credits.total) == (99, 0, 99)   # 40 s of video: 1 credit
    state = await backend.state(who)
    assert len(state.clips) == 2 and all(c.path for c in state.clips)
    summary = timeline("en", state.summary[0])
    assert summary.startswith("Timeline (3 tracks): 1. Video: talk.mp4 ")
    assert "2. Captions: bold" in summary and '3. Title: "' in summary
    assert timeline("zh", state.summary[0]).startswith("时间线（3 条轨道）：1. 视频：talk.mp4 ")

    # shorter: only clip 1 renders again, about 5 s shorter, ending on a sentence
    before = clips[0]
    events = await run_chat(backend, who, "make clip 1 shorter by 5 seconds")
    [changed] = clip_events(events)
    assert changed.number == 1 and changed.path != before.path
    assert Path(before.path).exists()                                # kept while "undo" may bring it back
    shorter = ffprobe(Path(changed.path))["duration"]
    assert 2.0 <= (before.end - before.start) - shorter <= 8.0
    assert "Changed:" in said(events)
    assert rendering_said(events) == ["Rendering clip 1"]             # one clip renders, not "1 of 2"
    assert rendering_said(events, "zh") == ["正在渲染第 1 个片段"]
    [change] = [e for e in events if e.sentence is not None and e.sentence.key == "changed"]
    removed = (before.end - before.start) - (changed.end - changed.start)
    assert [fact.clip for fact in change.sentence.landed] == ([1] if abs(removed - 5) > 1.0 else [])
    assert event_text(change, "en").startswith("Changed:\nClip 1: Timeline (3 tracks): 1. Video: talk.mp4 ")
    assert event_text(change, "zh").startswith("已修改：\n片段 1：时间线（3 条轨道）：1. 视频：talk.mp4 ")

    # several edits of one clip in one message
    events = await run_chat(backend, who, "make clip 1 square without captions and add a title 'Big News'")
    [square] = clip_events(events)
    assert (ffprobe(Path(square.path))["width"], ffprobe(Path(square.path))["height"]) == (360, 360)
    assert square.title == "Big News" and "Captions" not in timeline("en", square.summary)
    assert '2. 标题：“Big News”（0-3 秒）' in timeline("zh", square.summary) and "字幕" not in timeline("zh", square.summary)
    state = await backend.state(who)
    assert "Captions: bold" in timeline("en", state.summary[1])  # clip 2 was left alone

    # a message that changes nothing says so, and renders nothing
    events = await run_chat(backend, who, "make clip 1 square")
    assert not clip_events(events) and said(events).startswith("Nothing changed")
    events = await run_chat(backend, who, "what a lovely day")
    assert not clip_events(events) and events[0].sentence.key == "not_understood"

    # more clips: up to two more (as many as the gaps hold), overlapping neither
    events = await run_chat(backend, who, "more clips")
    new = clip_events(events)
    assert [c.number for c in new] in ([3], [3, 4])
    assert rendering_said(events) == (["Rendering clip 3"] if len(new) == 1 else
                                      ["Rendering clip 3 (1 of 2)", "Rendering clip 4 (2 of 2)"])
    taken = [(c.start, c.end) for c in (changed, clips[1])]
    assert not any(c.start < e and s < c.end for s, e in taken for c in new)

    # background music, after a sound upload
    song = write_wav(tone(30.0, 330.0), tmp_path / "song.wav")
    music = await backend.upload(who, song)
    assert music.kind == "audio"
    events = await run_chat(backend, who, "use this as background music for clip 3 at 30%")
    [with_music] = clip_events(events)
    music_line = timeline("en", with_music.summary)
    assert with_music.number == 3 and "BGM: song.wav" in music_line and "30%)" in music_line
    assert rendering_said(events) == ["Rendering clip 3"]             # its own number, not "1 of 1" or "3 of 4"
    assert "背景音乐：song.wav（" in timeline("zh", with_music.summary) and "音量 30%）" in timeline("zh", with_music.summary)

    # export: current files are given at once; a lost one (the shortest) is rendered again
    finished = clip_events([e async for e in backend.export(who)])
    assert len(finished) == 2 + len(new) and finished[2].path == Path(with_music.path)
    assert finished[0].path == Path(square.path)
    Path(square.path).unlink()
    exported = [e async for e in backend.export(who, 1)]
    assert [e.stage for e in exported if e.kind == "progress"][:1] == ["export"]
    [again] = clip_events(exported)
    assert again.path.is_file() and again.path == Path(square.path)
    # no cut, edit or export leaves its cancel event behind
    assert backend._cancels == {}

    # a render that fails in an export is said with its reason in the person's language; the others still come
    await repos.db.execute("UPDATE clips SET media_id = NULL WHERE id = ?", (again.clip_id,))
    Path(again.path).unlink()
    events = [e async for e in backend.export(who)]
    [failed] = [e for e in events if e.kind == "failed"]
    assert failed.clip.number == 1 and len(clip_events(events)) == 2 + len(new) - 1
    assert failure(failed, "en") == "the source video of this clip is gone; send it again"
    assert failure(failed, "zh") == "这个片段的原视频已经不在了，请重新发送"

    # the reel: the best clips joined in source order, within the length asked for
    events = await run_chat(backend, who, "compile them into a 20-second highlight reel")
    [reel] = clip_events(events)
    assert len(reel.segments) >= 2 and list(reel.segments) == sorted(reel.segments)
    state = await backend.state(who)
    assert len(state.clips) == 1 and state.clips[0].duration <= 22
    assert ffprobe(Path(reel.path))["duration"] == pytest.approx(state.clips[0].duration, abs=0.3)
    assert (await backend.credits(who)).available == 99    # edits and export are free


UNPLACED_CUT = "cut the funniest bits into 10-second vertical shorts, 1 clip, 360p"


@pytest.mark.slow
async def test_without_a_model_the_bot_says_which_words_it_could_not_use(local, warm_talk):
    backend, repos = local
    who = await person(backend, repos)
    await backend.upload(who, warm_talk.path)
    events = await run_chat(backend, who, UNPLACED_CUT)
    [note] = [e for e in events if e.sentence is not None and e.sentence.key == "unplaced"]
    assert note.sentence.reason == "the funniest bits" and '"the funniest bits"' in note.text
    assert len(clip_events(events)) == 1                     # the clips still come, chosen by the engine
    from bot.texts import say

    assert "“the funniest bits”" in say("zh", "unplaced", reason="the funniest bits")
    assert say("en", "unplaced", reason="the funniest bits") == note.text


@pytest.mark.slow
async def test_with_a_model_the_words_go_to_it_and_nothing_is_said_about_them(tmp_path, warm_talk):
    from tests.fake_llm import FakeLLM, verdicts

    async with FakeLLM() as fake:
        def last_is_funniest(prompt):
            last = max(prompt.candidates, key=lambda c: c.start)
            return verdicts(prompt, lambda c: {"matches": c is last, "score": 90 if c is last else 10,
                                               "title": "Funniest" if c is last else None})

        fake.reply = last_is_funniest
        settings = make_settings(tmp_path / "data", warm_talk, llm_url=fake.base_url, llm_model="fake-judge")
        backend, repos, db = await open_backend(settings)
        try:
            who = await person(backend, repos)
            await backend.upload(who, warm_talk.path)
            events = await run_chat(backend, who, UNPLACED_CUT)
        finally:
            await backend.close()
            await db.close()
    assert not [e for e in events if e.sentence is not None and e.sentence.key == "unplaced"]
    assert fake.prompts and all(p.request == "the funniest bits" for p in fake.prompts)
    [clip] = clip_events(events)
    assert clip.title == "Funniest"


@pytest.mark.slow
async def test_a_sound_file_is_cut_into_audiograms_over_the_last_photo(local, talk_video, tmp_path):
    """A podcast without a picture: the clips are audiograms, their background the photo sent last."""
    import subprocess

    import numpy as np

    backend, repos = local
    who = await person(backend, repos)
    photo = tmp_path / "cover.png"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=c=0xd02020:s=400x300", "-frames:v", "1",
                    str(photo)], check=True)
    assert (await backend.upload(who, photo)).kind == "image"
    sound = Path(talk_video[0]).with_suffix(".wav")           # tests.media writes the talk's sound beside it
    assert (await backend.upload(who, sound)).kind == "audio"
    events = await run_chat(backend, who, "one 10-second vertical short, 360p")
    [clip] = clip_events(events)
    info = ffprobe(clip.path)
    assert (info["width"], info["height"]) == (360, 640) and info["audio"] and info["codecs"] == ["aac", "h264"]
    assert 9.0 <= info["duration"] <= 11.0
    raw = subprocess.run(["ffmpeg", "-v", "error", "-ss", "4", "-i", str(clip.path), "-frames:v", "1", "-f", "rawvideo",
                          "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout
    top = np.frombuffer(raw, dtype=np.uint8).reshape(640, 360, 3)[20:120].reshape(-1, 3).mean(axis=0)
    assert top[0] > 120 and top[0] > 2 * top[1] and top[0] > 2 * top[2]        # the red cover, a little darkened

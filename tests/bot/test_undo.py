"""Undo after a cut, on the real LocalBackend and engine through the conversation every platform uses:
"undo" / "go back" / "撤销" put the clips back as they were before the last change, one change further
back each time, say what was taken back in the person's language, send the clips put back (their old
files when still there, rendered again when gone), charge nothing, and a new cut starts over. The files of
what undo took back stay for "redo" (tests/bot/test_redo.py) until a new change. A start
moved further than asked says where the clip starts now and how far it moved."""
from __future__ import annotations

import os

from bot.backends.local_renders import draft_of
from bot.backends.local_undo import UNDO_STEPS
from bot.texts import clock, say, short_seconds
from tests.bot.chat_helpers import CUT_TEN, ffprobe, file_attachment, last_text, make_settings, message, started_app
from tests.bot.chat_helpers import warm_talk  # noqa: F401  (fixture)
from tests.run_once import analysed_once


def captions_of(text: str) -> list[str]:
    return [line.split("Captions: ")[1].split(" ")[0] for line in text.splitlines() if line.startswith("Clip ")]


async def test_undo_walks_back_each_change_reusing_the_old_file_or_rendering_it_again(tmp_path, warm_talk):
    app, recorder = await started_app(make_settings(tmp_path / "data", warm_talk), platform="telegram")
    try:
        async def said(text: str) -> None:
            await app.conversation.handle(message(text, platform="telegram"))
            await app.jobs.wait_idle(timeout=180)

        async def available() -> int:
            user, _ = await app.repos.users.get_or_create("telegram", "u1", "name-u1")
            return (await app.repos.ledger.balance(user.id)).available

        await app.conversation.handle(message("", platform="telegram", attachments=(file_attachment(warm_talk.path),)))
        await said(CUT_TEN)
        first, second = recorder.videos()
        credits_after_the_cut = await available()

        await said("undo")                                   # nothing changed since the cut
        assert last_text(recorder) == say("en", "undo_nothing", steps=UNDO_STEPS) and len(recorder.videos()) == 2

        await said("use karaoke captions on clip 1")
        await said("make clip 2 shorter by 3 seconds")
        karaoke, shorter = recorder.videos()[2:]
        assert shorter.duration < second.duration - 1.0 and second.path.is_file()      # kept for undo
        kept = os.stat(second.path)

        await said("undo")                                   # the last change: clip 2 is as long as it was
        assert last_text(recorder).startswith(
            "Undone: clip 2 shorter by 3 s. The clips are as they were before it:\nClip 2: Timeline (3 tracks)")
        [back] = recorder.videos()[4:]
        assert back.caption.startswith("#2 ") and back.path == second.path and back.clip_id == second.clip_id
        again = os.stat(back.path)                            # its old file, not rendered again
        assert (again.st_ino, again.st_mtime_ns) == (kept.st_ino, kept.st_mtime_ns)
        assert shorter.path.exists()                          # the undone change's file is kept for "redo"

        first.path.unlink()                                   # clip 1's old file is gone: rendered again
        await said("go back")
        assert last_text(recorder).startswith("Undone: karaoke captions on clip 1. The clips are as they were")
        [rendered] = recorder.videos()[5:]
        assert rendered.caption.startswith("#1 ") and rendered.path == first.path and rendered.path.is_file()
        assert abs(ffprobe(rendered.path)["duration"] - first.duration) < 0.3 and karaoke.path.exists()
        await app.conversation.handle(message("status", platform="telegram"))
        assert captions_of(last_text(recorder)) == ["bold", "bold"]

        await said("undo")                                   # back at the cut
        assert last_text(recorder) == say("en", "undo_nothing", steps=UNDO_STEPS) and len(recorder.videos()) == 6
        assert await available() == credits_after_the_cut    # undo, like an edit, is free
    finally:
        await app.stop()


async def test_undo_in_chinese_brings_back_the_clips_a_reel_joined_and_a_new_cut_starts_over(
        tmp_path, warm_talk, engine_config, tmp_path_factory):
    app, recorder = await started_app(make_settings(tmp_path / "data", warm_talk), platform="discord")
    try:
        async def said(text: str) -> None:
            await app.conversation.handle(message(text, platform="discord", language="zh"))
            await app.jobs.wait_idle(timeout=180)

        await app.conversation.handle(message("", platform="discord", attachments=(file_attachment(warm_talk.path),)))
        await said(CUT_TEN)
        first, second = recorder.videos()
        await said("把这些片段合成集锦")
        [reel] = recorder.videos()[2:]
        assert first.path.is_file() and second.path.is_file()           # kept for undo

        await said("撤销")
        assert last_text(recorder).startswith("已撤销：把片段合成一个集锦。片段已恢复到这次修改之前：\n片段 1：时间线")
        assert "\n片段 2：时间线" in last_text(recorder)
        one, two = recorder.videos()[3:]
        assert (one.path, two.path) == (first.path, second.path) and reel.path.exists()      # kept for "redo"
        assert [one.caption[:3], two.caption[:3]] == ["#1 ", "#2 "]

        # "2 seconds earlier" lands on a sentence start: where the clip starts now and how far it moved is said
        sentences = [s.start for s in analysed_once(tmp_path_factory, warm_talk.path, engine_config).sentences]
        rows = [await app.repos.clips.get(v.clip_id) for v in (one, two)]
        for number, row in enumerate(rows, start=1):
            start = draft_of(row).start
            earlier = [s for s in sentences if s < start - 0.05]
            if earlier and start - earlier[-1] > 2.2:
                break
        else:
            raise AssertionError(f"no clip starts over 2.2 s after a sentence start: {sentences}")
        step = max(1, int((start - earlier[-1]) / 3))         # the nearest sentence start is over a second past it
        await said(f"把片段{number}提前{step}秒开始")
        now = draft_of(await app.repos.clips.get(row.id)).start
        assert not reel.path.exists()                         # a new change: the reel cannot be redone
        assert now in earlier                  # a sentence start at or before the nearest one (bot.edits._closest)
        assert last_text(recorder).endswith(f"\n片段 {number} 现在从 {clock(round(now, 1))} 开始，提前了 "
                                            f"{short_seconds(round(start - now, 1))} 秒：最近的句子开头。")

        await said(CUT_TEN)                                   # a new cut: nothing before it to undo
        await said("撤回")
        assert last_text(recorder) == say("zh", "undo_nothing", steps=UNDO_STEPS)
        assert last_text(recorder).startswith("没有可撤销的修改：这些片段还是剪出来时的样子。")
    finally:
        await app.stop()


async def test_undo_keeps_the_last_steps_and_lets_the_oldest_go_with_its_files(tmp_path):
    from bot.backends.local_undo import DROPPED, history
    from bot.vocabulary import Edit
    from tests.bot.test_local_backend import open_backend, person

    backend, repos, db = await open_backend(make_settings(tmp_path / "data"))
    try:
        who = await person(backend, repos)
        record = await backend._session(who)
        files = []
        for n in range(UNDO_STEPS + 1):                   # one change more than undo keeps
            files.append(tmp_path / f"clip-01-step{n}.mp4")
            files[-1].write_bytes(b"a render")
            row = await repos.clips.add(record.id, 1, 0.0, 10.0, draft={"source": "f00d", "segments": [[0, 10]]})
            row = await repos.clips.update(row.id, output_path=str(files[-1]))
            record = await backend._remember(record, [row], [Edit("shorter", clip=1, seconds=n + 1)], record.state)
        steps = history((await repos.sessions.get(record.id)).state)
        assert [s.edits[0].seconds for s in steps] == [2, 3, 4, 5, 6] and record.state[DROPPED]
        assert not files[0].exists() and all(f.exists() for f in files[1:])
    finally:
        await backend.close()
        await db.close()


async def test_an_undo_cut_short_by_a_restart_takes_back_one_change_not_two(tmp_path, warm_talk):
    """The undo's job is picked up again after a restart; its retry must not take a second step back."""
    settings = make_settings(tmp_path / "data", warm_talk)
    app, recorder = await started_app(settings, platform="telegram")
    try:
        async def said(text: str) -> None:
            await app.conversation.handle(message(text, platform="telegram"))
            await app.jobs.wait_idle(timeout=180)

        await app.conversation.handle(message("", platform="telegram", attachments=(file_attachment(warm_talk.path),)))
        await said(CUT_TEN)
        first, second = recorder.videos()
        await said("make clip 2 shorter by 3 seconds")
        await said("use karaoke captions on clip 2")
        shorter, karaoke = recorder.videos()[2:]
        assert shorter.duration < second.duration - 1.0 and karaoke.duration == shorter.duration
        shorter.path.unlink()                                 # the undo renders clip 2 again: a restart can catch it
        seen = len(recorder.replies())
        await app.conversation.handle(message("undo", platform="telegram"))
        await recorder.wait_for(lambda: any(r.kind == "progress" and r.text.startswith("Rendering")
                                            for r in recorder.replies()[seen:]))
    finally:
        await app.stop()

    app, recorder = await started_app(settings, platform="telegram")
    try:
        user = await app.repos.users.find("telegram", "u1")
        assert await app.jobs.wait_idle(user.id, timeout=180)
        assert "I was restarted while working on your request; picking it up again." in recorder.texts()
        [back] = recorder.videos()
        assert back.caption.startswith("#2 ") and abs(back.duration - shorter.duration) < 0.1    # not second's length
        await app.conversation.handle(message("undo", platform="telegram"))
        assert await app.jobs.wait_idle(user.id, timeout=180)
        assert last_text(recorder).startswith("Undone: clip 2 shorter by 3 s.")
    finally:
        await app.stop()

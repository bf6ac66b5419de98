"""Redo after undo, on the real LocalBackend and engine through the conversation every platform uses:
"redo" / "重做" put back the change undo took back (its file again, not rendered again), say what was
put back in the person's language, can be undone again, charge nothing; a new change after an undo lets
what could be redone go, with its files."""
from __future__ import annotations

import os

from bot.backends.local_undo import UNDO_STEPS
from bot.texts import say
from tests.bot.chat_helpers import CUT_TEN, file_attachment, last_text, make_settings, message, started_app
from tests.bot.chat_helpers import warm_talk  # noqa: F401  (fixture)


async def test_redo_puts_back_what_undo_took_back_until_a_new_change(tmp_path, warm_talk):
    app, recorder = await started_app(make_settings(tmp_path / "data", warm_talk), platform="telegram")
    try:
        async def said(text: str, lang: str = "en") -> str:
            await app.conversation.handle(message(text, platform="telegram", language=lang))
            await app.jobs.wait_idle(timeout=180)
            return last_text(recorder)

        async def available() -> int:
            user, _ = await app.repos.users.get_or_create("telegram", "u1", "name-u1")
            return (await app.repos.ledger.balance(user.id)).available

        await app.conversation.handle(message("", platform="telegram", attachments=(file_attachment(warm_talk.path),)))
        await said(CUT_TEN)
        first, second = recorder.videos()
        credits_after_the_cut = await available()
        assert await said("redo") == say("en", "redo_nothing")           # nothing undone yet

        await said("make clip 2 shorter by 3 seconds")
        await said("use karaoke captions on clip 1")
        shorter, karaoke = recorder.videos()[2:]
        made = os.stat(shorter.path)
        await said("undo")
        await said("undo")
        assert [v.path for v in recorder.videos()[4:]] == [first.path, second.path]   # both changes taken back

        assert (await said("redo")).startswith(
            "Redone: clip 2 shorter by 3 s. The clips are as they were after it:\nClip 2: Timeline (3 tracks)")
        [back] = recorder.videos()[6:]
        assert back.caption.startswith("#2 ") and back.path == shorter.path
        again = os.stat(back.path)                            # its file again, not rendered again
        assert (again.st_ino, again.st_mtime_ns) == (made.st_ino, made.st_mtime_ns)
        assert (await said("重做", "zh")).startswith("已重做：片段 1 的字幕改成逐字高亮。片段已恢复到这次修改之后：\n片段 1：")
        assert recorder.videos()[-1].path == karaoke.path and len(recorder.videos()) == 8
        assert await said("redo") == say("en", "redo_nothing")           # both put back: nothing more

        assert (await said("undo")).startswith("Undone: karaoke captions on clip 1.")     # redone: undone again
        assert recorder.videos()[-1].path == first.path and karaoke.path.exists()
        await said("remove captions from clip 2")             # a new change: the karaoke cannot come back
        assert await said("恢复撤销", "zh") == say("zh", "redo_nothing")
        assert not karaoke.path.exists() and first.path.exists()
        assert (await said("undo")).startswith("Undone: captions removed from clip 2.")
        assert (await said("undo")).startswith("Undone: clip 2 shorter by 3 s.")
        assert await said("undo") == say("en", "undo_nothing", steps=UNDO_STEPS)    # back at the cut, nothing let go
        assert await available() == credits_after_the_cut     # redo, like undo, is free
    finally:
        await app.stop()

"""/export of a clip already made sends the same file again and says so, in the person's language, on the
real LocalBackend and renders; a clip whose file is gone is rendered again and said as nothing more."""
from __future__ import annotations

from bot.texts import say
from tests.bot.chat_helpers import CUT_TEN, file_attachment, make_settings, message, started_app
from tests.bot.chat_helpers import warm_talk  # noqa: F401  (fixture)


async def test_an_export_of_clips_already_made_says_they_are_the_files_sent_before(tmp_path, warm_talk):
    app, recorder = await started_app(make_settings(tmp_path / "data", warm_talk), platform="telegram")
    try:
        async def said(text: str, lang: str = "en") -> list[str]:
            before = len(recorder.texts())
            await app.conversation.handle(message(text, platform="telegram", language=lang))
            await app.jobs.wait_idle(timeout=180)
            return [t for t in recorder.texts()[before:] if "made" in t or "做好" in t]     # not its progress

        await app.conversation.handle(message("", platform="telegram", attachments=(file_attachment(warm_talk.path),)))
        await said(CUT_TEN)
        one, two = recorder.videos()

        assert await said("/export 1") == [
            "Clip 1 was already made: this is the same file I sent before. /export makes only the clips that are "
            "not made yet."]
        assert recorder.videos()[-1].path == one.path
        assert await said("导出", "zh") == ["片段 1、2 已经做好了：这些是之前发过的同样的文件。/export 只会制作还没做好的片段。"]
        assert [v.path for v in recorder.videos()[-2:]] == [one.path, two.path]

        two.path.unlink()                                     # gone: /export renders it, and says nothing of it
        # a /command has no words of its own: it is answered in the person's last words' language (导出)
        assert await said("/export") == [say("zh", "export_again_one", ranks="1")]
        again = recorder.videos()[-1]
        assert again.caption.startswith("#2 ") and again.path.is_file() and len(recorder.videos()) == 7
        assert await said("/export 2") == [say("zh", "export_again_one", ranks="2")]
    finally:
        await app.stop()

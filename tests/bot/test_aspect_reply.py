"""An aspect edit's reply says the new shape in words, in the person's language ("Clip 1 is now square
(1:1)."), on the real LocalBackend, renders and conversation; before, it gave only the clips' tracks."""
from __future__ import annotations

from tests.bot.chat_helpers import CUT_TEN, file_attachment, last_text, make_settings, message, started_app
from tests.bot.chat_helpers import warm_talk  # noqa: F401  (fixture)


async def test_each_aspect_edit_says_the_shape_the_clips_have_now(tmp_path, warm_talk):
    app, recorder = await started_app(make_settings(tmp_path / "data", warm_talk))
    try:
        async def said(text: str, lang: str = "en") -> str:
            await app.conversation.handle(message(text, language=lang))
            await app.jobs.wait_idle(timeout=180)
            return last_text(recorder)

        await app.conversation.handle(message("", attachments=(file_attachment(warm_talk.path),)))
        await said(CUT_TEN)
        assert len(recorder.videos()) == 2
        reply = await said("make it square")
        assert reply.startswith("Changed:\n") and reply.endswith("\nAll clips are now square (1:1)."), reply
        assert [(v.width, v.height) for v in recorder.videos()[2:]] == [(360, 360)] * 2
        assert (await said("make clip 1 vertical")).endswith("\nClip 1 is now vertical (9:16).")
        assert (await said("make clip 2 an instagram post")).endswith("\nClip 2 is now 4:5 (an Instagram post).")
        assert (await said("把片段1改成横屏", "zh")).endswith("\n片段 1 现在是横屏（16:9）。")
        two, one = recorder.videos()[-2:]                 # clip 2 made 4:5, then clip 1 landscape
        assert one.width > one.height and 4 * two.height == 5 * two.width, (one, two)
        assert (await said("undo")).startswith("Undone: clip 1 made landscape (16:9). The clips are as they were")
    finally:
        await app.stop()

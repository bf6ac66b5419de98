"""After a cut, on the real LocalBackend and engine: the caption style changes on one clip or all of
them (English and Chinese) and renders them again."""
from __future__ import annotations

from bot.backends.local_renders import draft_of
from bot.texts import say
from tests.bot.chat_helpers import CUT_TEN, file_attachment, last_text, make_settings, message, started_app
from tests.bot.chat_helpers import warm_talk  # noqa: F401  (fixture)


def status_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(("Clip ", "片段 "))]


async def test_the_caption_style_changes_after_the_cut_on_one_clip_or_all(tmp_path, warm_talk):
    app, recorder = await started_app(make_settings(tmp_path / "data", warm_talk))
    try:
        async def say_and_wait(text: str, **fields) -> None:
            await app.conversation.handle(message(text, **fields))
            await app.jobs.wait_idle(timeout=180)

        async def styles() -> list[str]:
            await app.conversation.handle(message("status"))
            return [line.split("Captions: ")[1].split(" ")[0] for line in status_lines(last_text(recorder))]

        await app.conversation.handle(message("", attachments=(file_attachment(warm_talk.path),)))
        await say_and_wait(CUT_TEN)
        first = recorder.videos()
        assert len(first) == 2 and await styles() == ["bold", "bold"]

        await say_and_wait("use karaoke captions on clip 1")
        assert last_text(recorder).startswith("Changed:\nClip 1: ") and "Captions: karaoke" in last_text(recorder)
        [one] = recorder.videos()[2:]                            # only clip 1 rendered again
        assert one.caption.startswith("#1 ") and one.path != first[0].path
        row = await app.repos.clips.get(one.clip_id)
        assert draft_of(row).caption_style == "karaoke" and one.path.stem.endswith(draft_of(row).key)
        assert await styles() == ["karaoke", "bold"]

        await say_and_wait("make the captions boxed")
        assert [v.caption[:2] for v in recorder.videos()[3:]] == ["#1", "#2"]
        assert await styles() == ["boxed", "boxed"]

        await say_and_wait("字幕改成逐字高亮", language="zh")
        assert "字幕：逐字高亮" in last_text(recorder) and len(recorder.videos()) == 7
        assert await styles() == ["karaoke", "karaoke"]

        await say_and_wait("use karaoke captions on clip 2")      # now it is true
        assert last_text(recorder) == "Nothing changed: that is already how the clips are."
        await say_and_wait("把第2个片段的字幕改成底框", language="zh")
        assert last_text(recorder).startswith("已修改：\n片段 2：") and len(recorder.videos()) == 8
        assert await styles() == ["karaoke", "boxed"]
    finally:
        await app.stop()


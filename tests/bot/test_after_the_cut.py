"""After a cut, on the real LocalBackend and engine: the caption style changes on one clip or all of
them (English and Chinese) and renders them again, and after a second cut every number the person
sees (the short's, its buttons', /export N, /share N, status) is the clip's place among the clips now."""
from __future__ import annotations

from adapters.console import reply_lines
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


async def test_after_a_second_cut_every_number_is_the_clips_place(tmp_path, warm_talk):
    settings = make_settings(tmp_path / "data", warm_talk, telegram_share_chat_id="-100share")
    app, recorder = await started_app(settings, platform="telegram")
    try:
        async def said(text: str) -> None:
            await app.conversation.handle(message(text, platform="telegram"))
            await app.jobs.wait_idle(timeout=180)

        await app.conversation.handle(message("", platform="telegram", attachments=(file_attachment(warm_talk.path),)))
        await said("cut them into 10-second vertical shorts, 1 clip, 360p")
        [old] = recorder.videos("c1")
        await said(CUT_TEN)
        one, two = recorder.videos("c1")[1:]
        for n, video in ((1, one), (2, two)):
            more = say("en", "more_like_clip", n=n)
            assert reply_lines(video)[-1] == f"  [Export: /export {n} | Share: /share {n} | More like this: {more}]"
            assert video.caption.startswith(f"#{n} ") and video.number == n

        # the first cut's buttons name a clip that is gone
        for button in old.buttons:
            await app.conversation.handle(message(button.action, platform="telegram"))
            assert last_text(recorder) == say("en", "clip_gone")

        # "/export 1" and short #1's own Export button both give short #1; #2's gives #2
        await said("/export 1")
        assert recorder.videos("c1")[-1].path == one.path and recorder.videos("c1")[-1].caption.startswith("#1 ")
        for video in (one, two):
            await said(video.buttons[0].action)
            exported = recorder.videos("c1")[-1]
            assert exported.path == video.path and exported.number == video.number

        await said("/share 2")
        assert recorder.videos("-100share")[-1].path == two.path and last_text(recorder) == "Shared clip 2."
        await said(one.buttons[1].action)
        assert recorder.videos("-100share")[-1].path == one.path and last_text(recorder) == "Shared clip 1."

        await app.conversation.handle(message("status", platform="telegram"))
        lines = status_lines(last_text(recorder))
        assert [line[:7] for line in lines] == ["Clip 1:", "Clip 2:"]
        assert "Video: talk.mp4 " in lines[0] and lines[0] != lines[1]
    finally:
        await app.stop()

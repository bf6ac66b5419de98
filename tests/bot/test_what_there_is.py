"""Replies that say what there is: a clip number that is not there names the clips there are, a
video too short for a short is refused before a credit is held, an unreadable file lists the
formats once, "add music" without a song is an offer, and a cut's notes call a video a video."""
from __future__ import annotations

import subprocess
from pathlib import Path

from bot.backends.base import ChatEvent, Clip
from bot.replies import event_text
from bot.texts import say
from engine.models import SHORTEST_CLIP_SECONDS, SelectionNote
from tests.bot.chat_helpers import file_attachment, last_text, make_settings, message, started_app
from tests.bot.chat_helpers import warm_talk  # noqa: F401  (fixture)

INTERVIEW = Path("/work/coord/media/interview.mp4")          # 18 s of TV interview; see SOURCES.md


def clips_said(count: int) -> str:
    return "1 clip" if count == 1 else f"{count} clips"


async def test_a_clip_number_that_is_not_there_is_said_with_the_clips_there_are(tmp_path, warm_talk):
    """With one clip, "/export 4" said there was nothing to export yet, "more clips like clip 2" that the
    video had no other moments, "make clip 5 shorter" "(there are 1)"; "add music" began "Nothing changed:"."""
    app, recorder = await started_app(make_settings(tmp_path / "data", warm_talk))
    try:
        handle = app.conversation.handle
        await handle(message("cut it into shorts, 360p", attachments=(file_attachment(INTERVIEW),)))
        user = await app.repos.users.find("test", "u1")
        assert await app.jobs.wait_idle(user.id, timeout=300)
        count = len(recorder.videos())
        assert count >= 1
        missing = count + 3

        await handle(message(f"/export {missing}"))
        assert await app.jobs.wait_idle(user.id, timeout=60)
        assert last_text(recorder) == f"There is no clip {missing}: you have {clips_said(count)}."
        assert len(recorder.videos()) == count, "nothing exported"
        await handle(message(f"导出 {missing}"))        # the person's own words choose the language, not the platform's hint
        assert last_text(recorder) == f"没有第 {missing} 个片段：你现在有 {count} 个片段。"

        for words in (f"more clips like clip {missing}", f"make clip {missing} shorter by 3 seconds"):
            await handle(message(words))
            assert await app.jobs.wait_idle(user.id, timeout=120)
            assert last_text(recorder) == (f"Nothing changed: there is no clip {missing} "
                                           f"(you have {clips_said(count)})."), words
        await handle(message(f"再来几个像第 {missing} 个片段这样的片段"))
        assert await app.jobs.wait_idle(user.id, timeout=120)
        assert last_text(recorder) == f"没有任何改变：没有第 {missing} 个片段（你现在有 {count} 个片段）。"

        await handle(message("add music"))
        assert await app.jobs.wait_idle(user.id, timeout=60)
        assert last_text(recorder) == say("en", "no_music") and not last_text(recorder).startswith("Nothing")

        # A second upload: "more" still searches the clips' own video, and says which one it searched.
        # (The interview's one clip leaves no gap as long as a "more" moment may be: none is found.)
        await handle(message("", attachments=(file_attachment(warm_talk.path),)))
        await handle(message("再来几个片段"))
        assert await app.jobs.wait_idle(user.id, timeout=120)
        assert last_text(recorder).startswith("没有任何改变：interview.mp4 里没有找到"), last_text(recorder)
        assert len(recorder.videos()) == count
    finally:
        await app.stop()


async def test_a_video_shorter_than_a_short_is_refused_without_a_charge(tmp_path, warm_talk):
    """A 1-second video became a 0.7 s "short", and each ask cost a credit."""
    one_second = tmp_path / "one_second.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=d=1:s=640x360", "-f", "lavfi",
                    "-i", "sine=d=1", "-shortest", "-pix_fmt", "yuv420p", str(one_second)], check=True)
    app, recorder = await started_app(make_settings(tmp_path / "data", warm_talk))
    try:
        handle = app.conversation.handle
        await handle(message("", attachments=(file_attachment(one_second),)))
        user = await app.repos.users.find("test", "u1")
        await handle(message("credits?"))
        before = last_text(recorder)
        least = f"{SHORTEST_CLIP_SECONDS:g}"
        for words, said in (("剪成一个竖屏短视频", f"one_second.mp4 只有 1 秒，而一个短视频至少需要 {least} 秒"),
                            ("剪成一个竖屏短视频", f"one_second.mp4 只有 1 秒，而一个短视频至少需要 {least} 秒"),
                            ("cut a vertical short", f"one_second.mp4 is only 1 s long, and a short needs at "
                                                     f"least {least} s of it, so I cut nothing and charged nothing.")):
            await handle(message(words))
            assert await app.jobs.wait_idle(user.id, timeout=120)
            assert last_text(recorder).startswith(said), last_text(recorder)
        assert not recorder.videos()
        await handle(message("credits?"))
        assert last_text(recorder) == before
    finally:
        await app.stop()


async def test_a_file_that_is_not_media_lists_the_formats_once(tmp_path):
    """"...I accept videos (mp4, ...) and images (...). I accept mp4, mov, ..., webp." in English."""
    notes = tmp_path / "notes.mp4"
    notes.write_text("my notes for the talk, not a video")
    app, recorder = await started_app(make_settings(tmp_path / "data"))
    try:
        await app.conversation.handle(message("", attachments=(file_attachment(notes),), language="en"))
        english = last_text(recorder)
        assert english.startswith("notes.mp4 is not a video, audio or image file I can read") and \
            english.count("I accept") == 1 and english.count("webp") == 1, english
        await app.conversation.handle(message("", attachments=(file_attachment(notes),), language="zh"))
        chinese = last_text(recorder)
        assert chinese.startswith("notes.mp4 不是我能读取的") and chinese.count("webp") == 1, chinese
    finally:
        await app.stop()


def test_a_cut_with_nothing_standing_out_calls_a_video_a_video_and_a_sound_file_a_sound_file():
    """"Nothing in this recording stands out ..." was said of a street video."""
    note = SelectionNote("nothing_stands_out", kept=1)
    for kind, english, chinese in (("video", "this video", "这个视频"), ("audio", "this sound file", "这个音频文件")):
        event = ChatEvent("text", clips=(Clip(number=1, start=0.0, end=4.0, source_kind=kind),), notes=(note,))
        assert f"Nothing in {english} stands out" in event_text(event, "en")
        assert f"{chinese}里没有声音或内容特别突出的地方" in event_text(event, "zh")
        assert "recording" not in event_text(event, "en") and "录音" not in event_text(event, "zh")

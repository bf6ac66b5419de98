"""A cut that makes no short costs nothing: a video with no sound to cut by, a part asked for
past the end of the video. Each gets a sentence saying why, in the person's language."""
from __future__ import annotations

import subprocess

from tests.bot.chat_helpers import file_attachment, last_text, make_settings, message, started_app
from tests.bot.chat_helpers import warm_talk  # noqa: F401  (fixture)


async def test_a_video_without_sound_gives_no_short_and_costs_nothing(tmp_path, warm_talk):
    mute = tmp_path / "mute.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=6",
                    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(mute)], check=True)
    app, recorder = await started_app(make_settings(tmp_path / "data", warm_talk))
    try:
        await app.conversation.handle(message("cut one 4-second vertical short", attachments=(file_attachment(mute),)))
        user = await app.repos.users.find("test", "u1")
        assert await app.jobs.wait_idle(user.id, timeout=180)
        assert recorder.texts()[0] == ("Got mute.mp4 (0:06, 320x180). It has no sound, and I find the best moments in "
                                       "what is said, so I cannot choose any here. I can still make all of it vertical "
                                       "(say \"make the whole video vertical\") or a part you name (\"cut 0:05 to 0:20\").")
        assert "I could not find any speech to cut clips from in this video." in recorder.texts()
        assert recorder.videos() == []
        [job] = await app.repos.jobs.for_user(user.id)
        assert await app.repos.ledger.entries(user.id) == [("grant", 100, None), ("hold", 1, job.hold_ref),
                                                          ("release", 1, job.hold_ref)]
        await app.conversation.handle(message("/credits"))
        assert last_text(recorder).startswith("Credits: 100 available, 0 frozen")
    finally:
        await app.stop()


async def test_a_part_past_the_end_is_said_and_costs_nothing(tmp_path, warm_talk):
    app, recorder = await started_app(make_settings(tmp_path / "data", warm_talk))
    try:
        await app.conversation.handle(message("", attachments=(file_attachment(warm_talk.path),)))
        await app.conversation.handle(message("cut clips from 5:00 to 6:00"))
        user = await app.repos.users.find("test", "u1")
        assert await app.jobs.wait_idle(user.id, timeout=180)
        assert ("This video is only 0:40 long, so there is nothing from 5:00 on. Ask for a part within it."
                in recorder.texts())
        await app.conversation.handle(message("从5:00到6:00剪一个片段", language="zh"))
        assert await app.jobs.wait_idle(user.id, timeout=180)
        assert "这个视频只有 0:40 长，5:00 之后没有内容。请选择视频范围内的部分。" in recorder.texts()
        assert recorder.videos() == []
        assert await app.repos.ledger.entries(user.id) == [("grant", 100, None)]
    finally:
        await app.stop()

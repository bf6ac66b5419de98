"""An exact cut in the real bot: "cut 0:05 to 0:20" gives one short of that stretch (not the best moment
inside it), said as what was cut, without a score; "make the whole video vertical" on a video without
sound gives all of it, reframed, saying why it has no captions. Each is charged as any cut."""
from __future__ import annotations

import subprocess

from tests.bot.chat_helpers import ffprobe, file_attachment, make_settings, message, started_app
from tests.bot.chat_helpers import warm_talk  # noqa: F401  (fixture)


async def test_a_range_asked_to_cut_is_cut_as_it_is(tmp_path, warm_talk):
    app, recorder = await started_app(make_settings(tmp_path / "data", warm_talk))
    try:
        await app.conversation.handle(message("", attachments=(file_attachment(warm_talk.path),)))
        await app.conversation.handle(message("cut 0:05 to 0:20"))
        user = await app.repos.users.find("test", "u1")
        assert await app.jobs.wait_idle(user.id, timeout=300)
        [said] = [t for t in recorder.texts() if t.startswith("Cut ")]
        assert said.startswith(("Cut 0:05-0:20 as you asked.", "Cut 0:04", "Cut 0:05")) and "you asked" in said, said
        assert "score" not in said and "weak" not in said
        [video] = recorder.videos()
        info = ffprobe(video.path)
        assert (info["width"], info["height"]) == (1080, 1920)
        assert 14.0 <= info["duration"] <= 16.8, info           # 15 s asked; a word's end may add a little
        assert "score" not in video.caption, video.caption
        [job] = await app.repos.jobs.for_user(user.id)
        assert await app.repos.ledger.entries(user.id) == [("grant", 100, None), ("hold", 1, job.hold_ref),
                                                          ("charge", 1, job.hold_ref)]
    finally:
        await app.stop()


async def test_the_whole_of_a_video_without_sound_is_made_vertical(tmp_path, warm_talk):
    mute = tmp_path / "street.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25:duration=6",
                    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(mute)], check=True)
    app, recorder = await started_app(make_settings(tmp_path / "data", warm_talk))
    try:
        await app.conversation.handle(message("", attachments=(file_attachment(mute),)))
        await app.conversation.handle(message("make the whole video vertical"))
        await app.conversation.handle(message("把整个视频做成竖屏", language="zh"))
        user = await app.repos.users.find("test", "u1")
        assert await app.jobs.wait_idle(user.id, timeout=300)
        texts = recorder.texts()
        assert "Cut the whole video, 0:00-0:06, as you asked. It has no captions: nothing is said in it." in texts
        assert "已按你的要求剪出整个视频（0:00-0:06）。没有字幕：这段里没有人说话。" in texts
        videos = recorder.videos()
        assert len(videos) == 2
        for video in videos:
            info = ffprobe(video.path)
            assert (info["width"], info["height"]) == (1080, 1920) and 5.8 <= info["duration"] <= 6.2, info
        jobs = await app.repos.jobs.for_user(user.id)
        entries = await app.repos.ledger.entries(user.id)
        assert entries == [("grant", 100, None)] + [e for job in jobs for e in (("hold", 1, job.hold_ref),
                                                                               ("charge", 1, job.hold_ref))]
    finally:
        await app.stop()

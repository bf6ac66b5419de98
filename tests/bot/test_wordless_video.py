"""A face video with only a faint hiss: the short it makes has no placeholder title ("Moment at
0:00") drawn over the face, and the bot names no language it did not hear, in English and Chinese."""
from __future__ import annotations

import subprocess

import pytest

from bot.backends.local_renders import draft_of
from tests.bot.chat_helpers import file_attachment, make_settings, message, started_app
from tests.media import SHARED_MEDIA

FACE = SHARED_MEDIA / "face_moving_liveportrait_d9.mp4"


@pytest.mark.skipif(not FACE.exists(), reason="needs ../shared/media/face_moving_liveportrait_d9.mp4")
async def test_a_video_without_speech_gets_no_drawn_placeholder_title_and_no_language(tmp_path):
    face = tmp_path / "face.mp4"            # 8 s of it, small, to keep the test short
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(FACE), "-t", "8", "-vf", "scale=240:240", "-c:v", "libx264",
                    "-preset", "ultrafast", "-c:a", "aac", str(face)], check=True)
    app, recorder = await started_app(make_settings(tmp_path / "data"))
    try:
        await app.conversation.handle(message("", attachments=(file_attachment(face),)))
        user = await app.repos.users.find("test", "u1")
        for text, lang, named in (("make it a vertical short", "en", "Moment at 0:00"),
                                  ("做成一个竖屏短视频", "zh", "0:00 精彩瞬间")):
            recorder.posted.clear()
            await app.conversation.handle(message(text, language=lang))
            assert await app.jobs.wait_idle(user.id, timeout=300)
            said = "\n".join(recorder.texts())
            [video] = recorder.videos()
            assert video.title == named and named in said       # the chat names the clip, in its language
            record = await app.repos.clips.get(video.clip_id)
            assert draft_of(record).title is None                           # but it is not drawn
            assert "Language heard" not in said and "识别到的语言" not in said
            assert "1 evenly spaced moments" not in said and "1 个均匀分布的片段" not in said
    finally:
        await app.stop()

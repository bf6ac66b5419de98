"""A reply is in the language of the person's words; a file or a /command alone has none, so it is
answered in the language of their last words (before: always English without a platform hint)."""
from __future__ import annotations

from tests.bot.chat_helpers import file_attachment, last_text, make_settings, message, started_app
from tests.bot.chat_helpers import warm_talk  # noqa: F401  (fixture)


async def test_a_file_sent_after_chinese_words_is_answered_in_chinese(tmp_path, warm_talk):
    app, recorder = await started_app(make_settings(tmp_path / "data", warm_talk))
    try:
        handle = app.conversation.handle
        await handle(message("状态"))
        await handle(message("", attachments=(file_attachment(warm_talk.path),)))
        assert last_text(recorder).startswith("收到 talk.mp4")
        await handle(message("/credits", command="credits"))
        assert last_text(recorder).startswith("积分")
        await handle(message("status"))
        await handle(message("", attachments=(file_attachment(warm_talk.path),)))
        assert last_text(recorder).startswith("Got talk.mp4")
        await handle(message("", attachments=(file_attachment(warm_talk.path),), user="u2"))
        assert last_text(recorder).startswith("Got talk.mp4"), "someone else's words are not theirs"
    finally:
        await app.stop()

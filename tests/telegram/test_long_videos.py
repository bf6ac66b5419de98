"""MAX_DURATION_MINUTES through the real Telegram adapter and the fake Bot API: a video Telegram says
is too long is refused before it is downloaded; one whose length only the file tells (a document)
is refused after its probe, before any analysis; both with a sentence, in the person's language,
and without a charge."""
from __future__ import annotations

import pytest

from tests.media import make_video, tone, write_wav
from tests.telegram import bot_api_objects as tg
from tests.telegram.world import running_bot

pytestmark = [pytest.mark.slow]



@pytest.fixture
def short_video(tmp_path):
    wav = write_wav(tone(3.0), tmp_path / "tone.wav")
    return make_video(tmp_path / "three-seconds.mp4", wav, 3.0, size="160x90")


async def test_a_video_telegram_says_is_too_long_is_refused_before_the_download(tmp_path, short_video):
    async with running_bot(tmp_path, max_duration_minutes=240) as world:
        ada = tg.user(3001, "Ada", "ada")
        chat = tg.private_chat(ada)
        file = world.fake.add_file(short_video)
        mark = world.send(tg.message_update(chat, ada, caption="cut this into shorts",
                                            media=tg.video_fields(file, duration=5 * 3600)))
        reply = await world.reply_text(3001, mark, r"300 minutes long, over the 240-minute limit")
        assert "Traceback" not in reply.params["text"]
        assert world.fake.calls_to("getFile") == []                       # nothing was downloaded
        assert not world.settings.media_dir.exists() or not any(world.settings.media_dir.iterdir())
        user = await world.app.repos.users.get_or_create("telegram", "3001")
        balance = await world.app.repos.ledger.balance(user[0].id)
        assert balance.frozen == 0 and balance.total in (0, world.settings.starting_credits)
        assert await world.app.repos.jobs.in_state("queued", "running", "done", "failed") == []

        lin = tg.user(3101, "Lin", "lin", language_code="zh-hans")
        mark = world.send(tg.message_update(tg.private_chat(lin), lin, caption="剪成短视频",
                                            media=tg.video_fields(world.fake.add_file(short_video), duration=4 * 3600 + 60)))
        await world.reply_text(3101, mark, r"这个视频有 241 分钟，超过了 240 分钟的上限")
        assert world.fake.calls_to("getFile") == []


async def test_a_document_whose_length_only_the_file_tells_is_refused_after_its_probe(tmp_path, short_video):
    async with running_bot(tmp_path, max_duration_minutes=0.02) as world:         # 1.2 seconds
        ada = tg.user(3002, "Ada", "ada")
        chat = tg.private_chat(ada)
        file = world.fake.add_file(short_video)
        mark = world.send(tg.message_update(chat, ada, caption="cut this into shorts",
                                            media=tg.document_fields(file, file_name="talk.mp4",
                                                                     mime_type="video/mp4")))
        await world.reply_text(3002, mark, r"over the 0\.02-minute limit")
        assert world.fake.calls_to("getFile") != []                       # it had to be fetched to be measured
        assert await world.app.repos.jobs.in_state("queued", "running", "done", "failed") == []
        assert not world.app.backend._analyses                            # no analysis was started

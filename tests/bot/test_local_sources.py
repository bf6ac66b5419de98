"""Which upload a cut is made from, on the real LocalBackend, engine and SQLite: the latest video or
sound file, unless that sound file was chosen as background music; edits keep their clips' source."""
from __future__ import annotations

import pytest

from bot.backends.local_renders import draft_of
from bot.texts import timeline
from storage.repos import Repos
from tests.bot.chat_helpers import make_settings
from tests.bot.chat_helpers import other_talk, warm_talk  # noqa: F401  (fixtures)
from tests.bot.test_local_backend import clip_events, open_backend, person, run_chat
from tests.media import tone, write_wav

ONE_CLIP = "cut one 10-second vertical short from it, 360p"


@pytest.fixture
async def local(tmp_path, warm_talk, other_talk):
    settings = make_settings(tmp_path / "data", warm_talk, other_talk)
    backend, repos, db = await open_backend(settings)
    yield backend, repos
    await backend.close()
    await db.close()


async def sources_of_clips(repos: Repos, who) -> set[str]:
    row = await repos.sessions.active(who.user_id, who.chat_key, "local")
    return {draft_of(c).label for c in await repos.clips.for_session(row.id)}


async def test_a_sound_file_sent_after_a_video_is_what_the_cut_is_made_from(local, warm_talk, other_talk):
    backend, repos = local
    who = await person(backend, repos)
    await backend.upload(who, warm_talk.path)
    sound = other_talk.path.with_suffix(".wav")           # the rice lesson's sound, beside its video
    assert (await backend.upload(who, sound)).kind == "audio"
    [clip] = clip_events(await run_chat(backend, who, ONE_CLIP))
    assert timeline("en", clip.summary).startswith("Timeline (3 tracks): 1. Sound: rice.wav ")
    assert "BGM" not in timeline("en", clip.summary)
    assert await sources_of_clips(repos, who) == {"rice.wav"}

    # an edit keeps its clips' source, whatever came after it
    await backend.upload(who, warm_talk.path)
    [shorter] = clip_events(await run_chat(backend, who, "make clip 1 shorter by 2 seconds"))
    assert "rice.wav" in timeline("en", shorter.summary) and shorter.end < clip.end
    # and a new cut goes to the latest upload again: the video sent again
    clip_events(await run_chat(backend, who, ONE_CLIP))
    assert await sources_of_clips(repos, who) == {"talk.mp4"}


async def test_a_sound_file_chosen_as_music_is_music_and_the_cut_goes_to_the_video(local, warm_talk, tmp_path):
    backend, repos = local
    song = write_wav(tone(30.0, 330.0), tmp_path / "song.wav")
    # chosen before the first cut
    ann = await person(backend, repos, "ann")
    await backend.upload(ann, warm_talk.path)
    await backend.upload(ann, song)
    events = await run_chat(backend, ann, "use this as background music at 30%")
    assert [e.sentence.key for e in events if e.sentence is not None] == ["music_noted"]
    [clip] = clip_events(await run_chat(backend, ann, ONE_CLIP))
    line = timeline("en", clip.summary)
    assert line.startswith("Timeline (4 tracks): 1. Video: talk.mp4 ") and "BGM: song.wav" in line and "30%)" in line

    # chosen as an edit of the clips: the next cut still comes from the video, without it
    bob = await person(backend, repos, "bob")
    await backend.upload(bob, warm_talk.path)
    clip_events(await run_chat(backend, bob, ONE_CLIP))
    await backend.upload(bob, song)
    [with_music] = clip_events(await run_chat(backend, bob, "use this as background music at 30%"))
    assert "BGM: song.wav" in timeline("en", with_music.summary)
    [again] = clip_events(await run_chat(backend, bob, ONE_CLIP))
    assert timeline("en", again.summary).startswith("Timeline (3 tracks): 1. Video: talk.mp4 ")


async def test_music_is_never_the_clips_own_sound(local, warm_talk, other_talk):
    backend, repos = local
    who = await person(backend, repos)
    await backend.upload(who, warm_talk.path)
    await backend.upload(who, other_talk.path.with_suffix(".wav"))
    clip_events(await run_chat(backend, who, ONE_CLIP))       # cut from the sound file
    events = await run_chat(backend, who, "use this as background music at 30%")
    assert not clip_events(events)
    assert [e.sentence.key for e in events if e.sentence is not None] == ["no_music"]   # send one, as for none


async def test_no_background_music_gives_the_sound_file_back_to_cut_from(local, warm_talk, other_talk):
    """A podcast taken for music, then "no background music": it is the latest upload again, so the cut is made from it."""
    backend, repos = local
    who = await person(backend, repos, "cy")
    await backend.upload(who, warm_talk.path)
    await backend.upload(who, other_talk.path.with_suffix(".wav"))
    await run_chat(backend, who, "use this as background music at 30%")
    events = await run_chat(backend, who, "no background music")
    assert [e.sentence.key for e in events if e.sentence is not None] == ["music_off"]
    clip_events(await run_chat(backend, who, ONE_CLIP))
    assert await sources_of_clips(repos, who) == {"rice.wav"}

"""A highlight reel edited in the chat: asked at a new length it is chosen again by the engine (its
look kept, nothing charged), its look edits as any clip's, and what cannot apply to a reel is said.
On a real recording (a 60 s House floor speech), the real LocalBackend and engine, through the App."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.backends.base import ReelRemade
from bot.edits import Draft
from bot.messages import ErrorReply, TextReply
from bot.reel_edits import is_reel, reel_plan
from bot.reel_texts import reel_remade
from bot.vocabulary import Edit
from tests.bot.chat_helpers import WarmTalk, ffprobe, file_attachment, make_settings, message, started_app
from tests.bot.chat_helpers import warm_cache

REEL_CUT = "extract the best moments and compile them into a 30-second highlight reel, 360p"
REMADE = re.compile(r"The reel (?:now joins (\d+) moments, ([\d.]+) s in all, in the order they happen|is now (one) moment, "
                    r"([\d.]+) s) \(you asked for (\d+) s\)\.")
REMADE_ZH = re.compile(r"集锦现在由 (\d+) 个片段组成，共 ([\d.]+) 秒，按发生顺序排列（你要的是 (\d+) 秒）。")
REMADE_SHORT = re.compile(r"The reel now joins (\d+) moments, ([\d.]+) s in all: this video has no more worth "
                          r"showing for a 120 s reel\.")
RANGES = re.compile(r"Video: talking_tedlieu_60s\.mp4 ((?:\d+:\d\d-\d+:\d\d(?:, )?)+)")


@pytest.fixture(scope="session")
def ted(shared_media, engine_config, tmp_path_factory) -> WarmTalk:
    path = shared_media / "talking_tedlieu_60s.mp4"
    return WarmTalk(path, warm_cache(tmp_path_factory, path, engine_config))


def remade(said: list[str]) -> tuple[int, float, int]:
    """What the bot said it made of the reel: (moments, seconds, seconds asked)."""
    [fact] = [m for m in map(REMADE.search, said) if m]
    kept = 1 if fact.group(3) else int(fact.group(1))
    return kept, float(fact.group(2) or fact.group(4)), int(fact.group(5))


def reel(*segments: tuple[float, float]) -> Draft:
    return Draft(source="abc", label="talk.mp4", segments=segments)


# ---------------------------------------------------------------- what an edit means for a reel

def test_a_length_step_or_edge_on_a_reel_means_a_new_length_or_a_sentence():
    joined = reel((0.0, 10.0), (20.0, 30.0), (40.0, 50.0))            # 30 s of pieces, a little less as it plays
    now = joined.duration
    assert reel_plan(joined, Edit("reel", seconds=45)).seconds == 45
    assert reel_plan(joined, Edit("length", clip=1, seconds=20)).seconds == 20
    assert reel_plan(joined, Edit("shorter", clip=1, seconds=10)).seconds == round(now - 10)
    assert reel_plan(joined, Edit("shorter")).seconds == round(now * 0.75)      # "make it shorter": a quarter off
    assert reel_plan(joined, Edit("longer")).seconds == round(now * 1.25)
    for look in (Edit("aspect", value="1:1"), Edit("captions", value="karaoke"), Edit("title", value="X"),
                 Edit("music", volume=0.2), Edit("shorter", clip=2, seconds=5)):   # clip 2: "there is no clip 2"
        assert reel_plan(joined, look) is None
    assert reel_plan(joined, Edit("start_earlier")).problem_key == "edit_reel_edges"
    assert reel_plan(joined, Edit("end_later", clip=1, seconds=3)).problem_values == {"pieces": 3}
    assert reel_plan(joined, Edit("more")).problem_key == "edit_reel_more"
    assert reel_plan(joined, Edit("reel")).problem_key == "edit_reel_already"
    too_short = reel_plan(joined, Edit("shorter", seconds=27))
    assert too_short.seconds is None and too_short.problem_key == "edit_reel_too_short"
    # one draft of several pieces is a reel; so is a reel request's one piece; two clips are not
    assert is_reel([joined], asked_reel=False) and is_reel([reel((0.0, 10.0))], asked_reel=True)
    assert not is_reel([reel((0.0, 10.0))], asked_reel=False) and not is_reel([joined, joined], asked_reel=True)


def test_what_a_reel_chosen_again_is_said_in_english_and_chinese():
    assert reel_remade("en", ReelRemade(3, 20.6, 20)) == (
        "The reel now joins 3 moments, 20.6 s in all, in the order they happen (you asked for 20 s).")
    assert reel_remade("zh", ReelRemade(3, 20.6, 20)) == "集锦现在由 3 个片段组成，共 20.6 秒，按发生顺序排列（你要的是 20 秒）。"
    assert reel_remade("en", ReelRemade(1, 8.2, 10)) == "The reel is now one moment, 8.2 s (you asked for 10 s)."
    assert reel_remade("zh", ReelRemade(1, 8.2, 10)) == "集锦现在只有 1 个片段，共 8.2 秒（你要的是 10 秒）。"
    assert reel_remade("zh", ReelRemade(5, 44.3, 120, short=True)) == (
        "集锦现在由 5 个片段组成，共 44.3 秒：这个视频没有更多值得放进 120 秒集锦的内容。")


# ---------------------------------------------------------------- in the chat

async def test_a_reel_asked_at_a_new_length_is_chosen_again_keeping_its_look_and_what_cannot_apply_is_said(
        tmp_path, ted, shared_media):
    app, recorder = await started_app(make_settings(tmp_path / "data", ted))
    try:
        async def chat(text: str = "", attachment: Path | None = None) -> list[str]:
            """The person's message; the texts the bot answered with."""
            mark = len(recorder.posted)
            await app.conversation.handle(message(text, attachments=(file_attachment(attachment),) if attachment else ()))
            await app.jobs.wait_idle(timeout=300)
            return [r.text for _, r in recorder.posted[mark:] if isinstance(r, (TextReply, ErrorReply))]

        def last_video() -> dict:
            return ffprobe(Path(recorder.videos()[-1].path))

        async def status() -> str:
            return (await chat("status"))[-1]

        await chat(attachment=ted.path)
        await chat(REEL_CUT)
        assert len(recorder.videos()) == 1
        first = last_video()
        credits = (await chat("credits?"))[-1]

        # its look, as any clip's: music, square, karaoke captions, a title
        await chat(attachment=shared_media / "jfk_11s.flac")
        await chat("use this as background music at 20%, square, with karaoke captions")
        await chat('add a title "Shutdown"')
        assert len(recorder.videos()) == 3
        look = last_video()
        assert (look["width"], look["height"]) == (360, 360)
        assert look["duration"] == pytest.approx(first["duration"], abs=0.3)

        # a length: the moments chosen again, the look kept, what it did said
        said = await chat("make the reel 20 seconds")
        assert len(recorder.videos()) == 4, said
        kept, got, asked = remade(said)
        shorter = last_video()
        assert asked == 20 and 0.6 * 20 <= got <= 1.2 * 20 and shorter["duration"] == pytest.approx(got, abs=0.3)
        assert (shorter["width"], shorter["height"]) == (360, 360) and shorter["audio"]
        now = await status()
        assert "Captions: karaoke" in now and 'Title: "Shutdown"' in now and "BGM: jfk_11s.flac" in now and "20%" in now
        assert len(RANGES.search(now).group(1).split(", ")) == kept
        assert shorter["duration"] < first["duration"] - 5
        # undone: the reel as it was, its look too
        said = await chat("undo")
        assert any(t.startswith("Undone:") for t in said), said
        back = last_video()
        assert back["duration"] == pytest.approx(look["duration"], abs=0.3) and (back["width"], back["height"]) == (360, 360)
        await chat("make the reel 20 seconds")
        assert last_video()["duration"] == pytest.approx(shorter["duration"], abs=0.3)

        # in Chinese, and a step from its length now
        said = await chat("把集锦改成35秒")
        [fact] = [m for m in map(REMADE_ZH.search, said) if m]
        longer = last_video()
        assert int(fact.group(3)) == 35 and longer["duration"] == pytest.approx(float(fact.group(2)), abs=0.3)
        assert longer["duration"] > shorter["duration"] + 5
        said = await chat("make clip 1 shorter by 5 seconds")
        already = [t for t in said if "s already, as near to" in t]      # sentences may leave no nearer reel
        asked = float(re.search(r"as near to ([\d.]+) s", already[0]).group(1)) if already else remade(said)[2]
        assert abs(asked - (longer["duration"] - 5)) <= 1

        # more than the video has: all it has, and said so
        said = await chat("make it 2 minutes")
        [fact] = [m for m in map(REMADE_SHORT.search, said) if m]
        longest = last_video()
        assert longest["duration"] <= 60 and longest["duration"] == pytest.approx(float(fact.group(2)), abs=0.3)

        # what cannot apply to a reel: a sentence, and nothing rendered
        videos = len(recorder.videos())
        pieces = len(RANGES.search(await status()).group(1).split(", "))
        assert (await chat("start it earlier"))[-1] == (
            f"Nothing changed: the reel joins {pieces} moments from across the video, so it has no one start or end "
            "to move; say a length for it instead, e.g. \"make the reel 30 seconds\".")
        assert (await chat("more clips"))[-1] == (
            "Nothing changed: the reel is one video; to put more moments in it, make it longer (\"make the reel 90 "
            "seconds\"); for separate shorts, ask for them (\"cut 3 shorts of 30 seconds\").")
        assert (await chat("第1个片段提前开始"))[-1].startswith(f"没有任何改变：集锦由视频中各处的 {pieces} 个片段组成")
        assert len(recorder.videos()) == videos
        # no surprise charges: every edit was free, as edits are
        assert (await chat("credits?"))[-1] == credits
    finally:
        await app.stop()

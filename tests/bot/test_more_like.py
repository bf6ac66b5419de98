""""More clips like clip 1" keeps the first cut's rules: no fragment shorter than the cut allows, weak
moments and moments without captions said as a cut says them, titles from the clip's own start,
and the source called by the name it was sent under."""
from __future__ import annotations

import re
from pathlib import Path

from engine.highlights.candidates import length_bounds
from engine.models import ClipRequest
from tests.bot.chat_helpers import file_attachment, last_text, make_settings, message, started_app
from tests.bot.chat_helpers import warm_talk  # noqa: F401  (fixture)

INTERVIEW = Path("/work/coord/media/interview.mp4")          # 18 s of TV interview; see SOURCES.md
SHORTEST_MORE = max(3.0, length_bounds(ClipRequest())[0] / 2)  # a "more" moment may be half the cut's shortest


def moment_lines(text: str) -> dict[int, str]:
    """The listed moments of a reply, by clip number ("2. 0:20-0:35 "Title" (score 28) (weak)")."""
    return {int(m.group(1)): m.group(0) for m in re.finditer(r"^(\d+)\. \d+:\d\d-\d+:\d\d .*$", text, re.M)}


async def test_more_from_a_short_interview_gives_no_fragment_and_names_the_source(tmp_path, warm_talk):
    """The interview's opening words are a loop the trust filter doubts, 4 s before clip 1: "more"
    offered them as a 4 s clip of a source called "video", unmarked. Now a moment that short is not given."""
    app, recorder = await started_app(make_settings(tmp_path / "data", warm_talk))
    try:
        await app.conversation.handle(message("cut it into shorts, 360p", attachments=(file_attachment(INTERVIEW),)))
        user = await app.repos.users.find("test", "u1")
        assert await app.jobs.wait_idle(user.id, timeout=300)
        await app.conversation.handle(message("more clips like clip 1"))
        assert await app.jobs.wait_idle(user.id, timeout=300)
        await app.conversation.handle(message("/status"))
        status = last_text(recorder)
        lengths = [float(s) for s in re.findall(r"^Clip \d+: .*?1\. Video: .*? \(0-([\d.]+)s\)", status, re.M)]
        assert lengths and all(length >= SHORTEST_MORE - 0.05 for length in lengths[1:]), status
        assert "Video: video" not in status and status.count("Video: interview.mp4") == len(lengths), status
    finally:
        await app.stop()


async def test_more_clips_are_listed_like_a_cuts_and_named_by_their_source(tmp_path, warm_talk):
    app, recorder = await started_app(make_settings(tmp_path / "data", warm_talk))
    try:
        await app.conversation.handle(message("", attachments=(file_attachment(warm_talk.path),)))
        await app.conversation.handle(message("cut one 10-second vertical short, 360p"))
        user = await app.repos.users.find("test", "u1")
        assert await app.jobs.wait_idle(user.id, timeout=300)
        before = len(recorder.posted)
        await app.conversation.handle(message("more clips like clip 1"))
        assert await app.jobs.wait_idle(user.id, timeout=300)
        said = [getattr(r, "text", "") for _, r in recorder.posted[before:]]
        made = recorder.videos()[1:]
        assert made, said
        listed = {}
        for text in said:
            listed.update(moment_lines(text))
        for short in made:
            number = int(short.caption.split()[0].lstrip("#"))
            line = listed.get(number)
            assert line is not None, f"clip {number} is not listed: {said}"
            score = int(re.search(r"\(score (\d+)\)", line).group(1))
            assert score >= 40 or line.endswith("(weak)"), line
            title = short.caption.splitlines()[0].split(" ", 1)[1]
            if at := re.search(r" at (\d+:\d\d)$", title):      # a moment named by when it starts
                assert at.group(1) == line.split()[1].split("-")[0], (title, line)
        changed = next(t for t in said if t.startswith("Changed:"))
        assert "Video: video" not in changed and "Video: talk.mp4" in changed, changed
    finally:
        await app.stop()


def test_a_moment_named_by_its_start_says_the_start_its_caption_says():
    from bot.texts import clock as caption_clock
    from engine.highlights.sound import clock as title_clock

    for seconds in (0.0, 22.4, 22.6, 59.5, 3599.7, 3725.2):
        assert title_clock(seconds) == caption_clock(seconds), seconds


def test_doubted_speech_is_not_offered_over_the_clips_already_made(engine_config):
    """Where no believed speech is left, the speech the trust filter doubted is cut instead (named by
    its time, no captions): never over a clip the person has."""
    from engine.pipeline import analyse, choose_explained

    analysis = analyse(INTERVIEW, engine_config)
    assert analysis.transcript.distrusted, "the interview opens with a loop the trust filter doubts"
    everything = [(0.0, analysis.media.duration)]
    assert choose_explained(analysis, ClipRequest(count=3), engine_config, avoid=everything).moments == []

"""What an Edit means for a highlight reel: one short joining several moments from across the video.

A reel has no one start or end a person means to move: "make the reel 30 seconds", "make it shorter",
"make clip 1 shorter by 20 seconds", "把集锦改成30秒" ask for the reel again at a new length, its
moments chosen again by the engine (LocalBackend does that). Its look (captions, aspect, title, music)
is edited as any clip's. What cannot apply to a reel (moving an edge, more clips beside it) is said,
with what to say instead. Pure: `reel_plan` only reads the draft and the edit.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from bot.edits import Draft
from bot.vocabulary import Edit

REEL_STEP_SHARE = 0.25           # "make it shorter" / "longer" without seconds: a quarter of its length
MIN_REEL_SECONDS = 5.0           # a reel asked shorter than this is refused
LOOKS = frozenset({"captions", "aspect", "title", "music"})
EDGES = frozenset({"start_earlier", "start_later", "end_earlier", "end_later"})
EXAMPLE = "make the reel 30 seconds"


@dataclass(frozen=True)
class ReelPlan:
    """A reel edit: the length to choose its moments at, or why it cannot be done."""

    seconds: float | None = None
    problem: str | None = None                           # English, for "Nothing changed: ..."
    problem_key: str | None = None                       # the same, for bot.texts.reason in other languages
    problem_values: dict = field(default_factory=dict)


def is_reel(drafts: list[Draft], asked_reel: bool) -> bool:
    """The session's clips are one highlight reel: one draft of several pieces, or the one a reel
    request made (a reel of one piece looks like any clip). `asked_reel`: the session's request was a reel."""
    return len(drafts) == 1 and (len(drafts[0].segments) > 1 or asked_reel)


def reel_plan(reel: Draft, edit: Edit) -> ReelPlan | None:
    """None: the edit applies to the reel as to any clip (its look, or a clip number it does not have)."""
    if edit.kind in LOOKS or (edit.clip is not None and edit.clip != 1):
        return None
    now = round(reel.duration, 1)
    pieces = len(reel.segments)
    if edit.kind in EDGES:
        return ReelPlan(problem=f"the reel joins {pieces} moments from across the video, so it has no one start or "
                                f"end to move; say a length for it instead, e.g. \"{EXAMPLE}\"",
                        problem_key="edit_reel_edges", problem_values={"pieces": pieces})
    if edit.kind == "more":
        return ReelPlan(problem="the reel is one video; to put more moments in it, make it longer (\"make the reel "
                                "90 seconds\"); for separate shorts, ask for them (\"cut 3 shorts of 30 seconds\")",
                        problem_key="edit_reel_more")
    if edit.kind in ("reel", "length"):
        asked = edit.seconds
    elif edit.kind in ("longer", "shorter"):
        step = edit.seconds if edit.seconds is not None else now * REEL_STEP_SHARE
        asked = now + step if edit.kind == "longer" else now - step
    else:
        return None
    if asked is None:
        return ReelPlan(problem=f"it is one highlight reel already; say a length to change it, e.g. \"{EXAMPLE}\"",
                        problem_key="edit_reel_already")
    asked = round(asked)
    if asked < MIN_REEL_SECONDS:
        least = round(MIN_REEL_SECONDS)
        return ReelPlan(problem=f"a reel of {asked} s is too short to show a moment; ask for {least} s or more "
                                f"(it is {now:g} s now)",
                        problem_key="edit_reel_too_short", problem_values={"asked": asked, "least": least, "now": f"{now:g}"})
    return ReelPlan(seconds=float(asked))

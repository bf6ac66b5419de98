"""An edit's result in the person's language, from bot/edit_texts.py: where a start or end landed
("Clip 1 now starts at 0:14, 6 s earlier: the nearest sentence start.") and what "undo" took back
("Undone: clip 1 starting earlier by 2 s. The clips are as they were before it:")."""
from __future__ import annotations

from bot.backends.base import EdgeMoved, Reshaped, Sentence
from bot.edit_texts import ASPECT_NAMES
from bot.texts import CAPTION_STYLE_NAMES, CHANGES_SEPARATOR, clock, say, short_seconds, timeline
from bot.vocabulary import Edit


def moved(lang: str, fact: EdgeMoved) -> str:
    """One EdgeMoved: where the edge is now, how far it went, and what it landed on."""
    how_far = say(lang, "moved_earlier" if fact.moved < 0 else "moved_later", seconds=short_seconds(abs(fact.moved)))
    why = fact.landed_on
    if why == "limit":
        why = ("video_start" if fact.edge == "start" and fact.moved < 0
               else "video_end" if fact.edge == "end" and fact.moved > 0 else "limit")
    return say(lang, f"moved_{fact.edge}", n=fact.clip, at=clock(fact.at), how_far=how_far,
               why=say(lang, f"moved_on_{why}"))


def aspect_name(lang: str, aspect: str) -> str:
    """"square (1:1)", "竖屏（9:16）"; an aspect without a name as it is."""
    return ASPECT_NAMES.get(aspect, {}).get(lang, aspect)


def reshaped(lang: str, fact: Reshaped) -> str:
    """One Reshaped: "Clip 1 is now square (1:1).", "All clips are now vertical (9:16)." """
    key = "reshaped_every" if fact.every else "reshaped_one" if len(fact.clips) == 1 else "reshaped_some"
    ranks = ("、" if lang == "zh" else ", ").join(str(n) for n in fact.clips)
    return say(lang, key, ranks=ranks, shape=aspect_name(lang, fact.aspect))


def undone(lang: str, said: Sentence) -> str:
    """What undo took back (Sentence "undone") or redo put back ("redone"), then each clip it put back
    with its tracks."""
    what = CHANGES_SEPARATOR[lang].join(change(lang, edit) for edit in said.undone)
    return "\n".join([say(lang, said.key, what=what)] + [say(lang, "status_clip", n=n, summary=timeline(lang, s))
                                                         for n, s in said.changes])


def change(lang: str, edit: Edit) -> str:
    """One Edit as a change made: "clip 1 starting earlier by 2 s", "所有片段的字幕改成逐字高亮"."""
    which = say(lang, "undo_which_clip", n=edit.clip) if edit.clip is not None else say(lang, "undo_which_all")
    by = say(lang, "undo_by", seconds=f"{edit.seconds:g}") if edit.seconds else ""
    kind = edit.kind
    if kind in ("longer", "shorter", "start_earlier", "start_later", "end_earlier", "end_later"):
        return say(lang, f"undo_{kind}", which=which, by=by)
    if kind == "length":
        return say(lang, "undo_length", which=which, seconds=f"{edit.seconds or 0:g}")
    if kind == "captions" and edit.on and edit.value:
        style = CAPTION_STYLE_NAMES.get(edit.value, {}).get(lang, edit.value)
        return say(lang, "undo_captions_style", which=which, style=style)
    if kind == "aspect":
        return say(lang, "undo_aspect", which=which, aspect=aspect_name(lang, edit.value or ""))
    if kind == "title" and edit.on:
        return say(lang, "undo_title_on", which=which, title=edit.value)
    if kind in ("captions", "title", "music"):
        return say(lang, f"undo_{kind}_{'on' if edit.on else 'off'}", which=which)
    if kind == "reel" and edit.seconds:                # clips joined into a reel of a length, or a reel made that long
        return say(lang, "undo_reel_seconds", seconds=f"{edit.seconds:g}")
    return say(lang, f"undo_{kind}")                   # more, reel


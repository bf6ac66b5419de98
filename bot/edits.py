"""Drafts: one short as the local service keeps it, typed; its tracks (a ClipTimeline); what an Edit does to it.

A `Draft` is which ranges of one source a short plays (in order: a reel has several), how it looks
(aspect, resolution, captions and their style), its title and its background music. What the
engine said of the moment (its name, score, hashtags, why) is kept beside it in the clip's row,
once; the draft's `title` is the text shown on the video (a person may take it off and keep the name).

`bot.vocabulary` reads what a person asked to change ("make clip 2 shorter by 10 seconds",
"remove captions", "use karaoke captions on clip 1",
"把第1个片段加长5秒"); `apply_edit` makes the change on a list of drafts and
says which drafts changed. Both are pure: LocalBackend stores the drafts and renders the changed ones.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Literal, Sequence

from bot.backends.base import ClipTimeline, EdgeMoved, Landed, Track
from bot.vocabulary import Edit
from engine.joins import crossfade_for, placements
from engine.render import output_size

TITLE_SECONDS = 3.0
DEFAULT_STEP_SECONDS = 5.0
DEFAULT_MUSIC_VOLUME = 0.3
MIN_CLIP_SECONDS = 1.0
PREFER_CLEAN_SECONDS = 1.5                # a clean sentence edge this much further from the asked point still wins
EXACT_ENOUGH_SECONDS = 1.0                # a length edit that lands further than this from the asked length says so
LENGTHENING = frozenset({"longer", "start_earlier", "end_later"})
SHORTENING = frozenset({"shorter", "start_later", "end_earlier"})
EDGE_MOVES = {"start_earlier": ("start", -1), "start_later": ("start", 1),     # the edge an edit moves, and which way
              "end_earlier": ("end", -1), "end_later": ("end", 1)}
EDGE_SECONDS = 0.05                       # a clip edge this near the video's own is at it
ALREADY = "that is already how the clips are"          # why an edit changed nothing, when nothing else is known


# ---------------------------------------------------------------- drafts

@dataclass(frozen=True)
class Music:
    src: str                                 # the content hash of the sound upload
    label: str = "music"
    volume: float = DEFAULT_MUSIC_VOLUME     # 0-1


@dataclass(frozen=True)
class Draft:
    source: str                              # the content hash of the source
    label: str                               # its file name, for its timeline
    segments: tuple[tuple[float, float], ...]    # source ranges in seconds, in the order they play
    aspect: str = "9:16"
    resolution: int = 1080
    captions: bool = True
    caption_style: str = "bold"
    title: str | None = None
    music: Music | None = None
    source_kind: Literal["video", "audio"] = "video"    # a sound file is called one in the replies

    @property
    def start(self) -> float:
        return self.segments[0][0]

    @property
    def end(self) -> float:
        return self.segments[-1][1]

    @property
    def duration(self) -> float:
        """Its length on screen (the joins of a reel overlap)."""
        return placements(list(self.segments), crossfade_for(list(self.segments)))[1]

    @property
    def size(self) -> tuple[int, int]:
        return output_size(self.aspect, self.resolution)

    @property
    def key(self) -> str:
        """Identifies what a render of this draft looks like: same key, same file."""
        looks = dataclasses.asdict(self)
        del looks["source_kind"]             # the source (by its hash) says it: renders made before it was kept stay current
        return hashlib.sha256(json.dumps(looks, sort_keys=True).encode()).hexdigest()[:12]

    def stored(self) -> dict[str, Any]:
        """The draft for its clip row."""
        return dataclasses.asdict(self)

    @classmethod
    def from_stored(cls, values: dict[str, Any]) -> "Draft":
        if "t" in values:                    # a row written before drafts were typed: the cloud's t/tt/sg shape
            values = _from_cloud_shape(values)
        music = values.get("music")
        return cls(source=values["source"], label=values.get("label", "video"),
                   segments=tuple((float(s), float(e)) for s, e in values["segments"]),
                   aspect=values.get("aspect", "9:16"), resolution=int(values.get("resolution", 1080)),
                   captions=bool(values.get("captions", True)), caption_style=values.get("caption_style", "bold"),
                   title=values.get("title") or None, music=Music(**music) if music else None,
                   source_kind="audio" if values.get("source_kind") == "audio" else "video")


def _from_cloud_shape(draft: dict) -> dict:
    meta = draft.get("m", {})
    tracks = draft.get("t", [])
    video = next((t for t in tracks if t.get("tt") == 0), {"sg": []})
    bgm = next((t for t in tracks if t.get("n") == "BGM" and t.get("sg")), None)
    title = next((t["sg"][0].get("text") for t in tracks if t.get("n") == "Title" and t.get("sg")), None)
    music = None
    if bgm is not None:
        sg = bgm["sg"][0]
        music = {"src": sg["src"], "label": sg.get("label", "music"), "volume": sg.get("volume", DEFAULT_MUSIC_VOLUME)}
    return {"source": meta.get("source", {}).get("src", ""), "label": meta.get("source", {}).get("label", "video"),
            "segments": [(sg["in"] / 1000, sg["out"] / 1000) for sg in video["sg"]],
            "aspect": meta.get("aspect", "9:16"), "resolution": meta.get("resolution", 1080),
            "captions": meta.get("captions", True), "caption_style": meta.get("caption_style", "bold"), "music": music,
            "title": title}


def timeline_of(draft: Draft) -> ClipTimeline:
    """The draft's tracks as facts (video, captions, title, music); bot.texts.timeline words them
    (`Timeline (3 tracks): 1. Video: talk.mp4 0:16-0:33 (0-16s) 2. Captions: bold (0-16s) 3. Title: "X" (0-3s)`)."""
    whole = draft.duration
    tracks = [Track(draft.source_kind, draft.label, whole, ranges=draft.segments)]
    if draft.captions:
        tracks.append(Track("captions", draft.caption_style, whole))
    if draft.title:
        tracks.append(Track("title", draft.title, min(TITLE_SECONDS, whole)))
    if draft.music is not None:
        tracks.append(Track("music", draft.music.label, whole, volume=draft.music.volume))
    return ClipTimeline(tuple(tracks))


# ---------------------------------------------------------------- applying edits

@dataclass(frozen=True)
class EditContext:
    duration: float                                      # of the source, seconds
    sentence_starts: tuple[float, ...] = ()              # clip edges snap to these (never mid-word)
    sentence_ends: tuple[float, ...] = ()
    # edges taken only when every other is much further from what was asked: sentence edges the
    # speaker runs straight on from (engine.edges.run_on_edges), phrase edges inside sentences
    second_choice: frozenset[float] = frozenset()
    music: Music | None = None                           # the latest sound upload
    scores: tuple[float, ...] = ()                       # each draft's score: a reel keeps the best first


@dataclass
class EditResult:
    drafts: list[Draft]
    changed: list[int] = field(default_factory=list)     # 0-based indices of drafts to render again
    problem: str | None = None                           # why nothing changed, when it did not
    problem_key: str | None = None                       # the same, for bot.texts.reason in other languages
    problem_values: dict = field(default_factory=dict)
    reel_of: tuple[int, ...] = ()                        # a reel: the 0-based drafts it joins
    landed: list[Landed] = field(default_factory=list)   # length edits that are not the length asked
    moved: list[EdgeMoved] = field(default_factory=list)     # starts and ends not moved as far as asked


def no_such_clip(number: int, count: int) -> tuple[str, str, dict]:
    """Why nothing changed when the clip named is not there: (English, its key, its facts), saying what is."""
    return (f"there is no clip {number} (you have {count} clip{'' if count == 1 else 's'})", "edit_no_clip",
            {"clip": number, "count": count})


def apply_edit(drafts: Sequence[Draft], edit: Edit, ctx: EditContext) -> EditResult:
    """One edit on the drafts it names. `more` needs the engine and is not handled here."""
    drafts = list(drafts)
    if edit.kind == "reel":
        return compile_reel(drafts, edit.seconds, ctx)
    if edit.clip is not None and not 1 <= edit.clip <= len(drafts):
        problem, key, values = no_such_clip(edit.clip, len(drafts))
        return EditResult(drafts, problem=problem, problem_key=key, problem_values=values)
    targets = [edit.clip - 1] if edit.clip is not None else list(range(len(drafts)))
    if edit.kind == "music" and edit.on and ctx.music is None and not any(drafts[i].music for i in targets):
        return EditResult(drafts, problem="send me a song or a sound file first, then say which volume",
                          problem_key="edit_no_music")
    result = EditResult(list(drafts))
    for i in targets:
        new = _edit_one(drafts[i], edit, ctx)
        if new is not None and new.key != drafts[i].key:
            result.drafts[i] = new
            result.changed.append(i)
            landed = _landed(i + 1, drafts[i], new, edit, ctx)
            if landed is not None:
                result.landed.append(landed)
            moved = _edge_moved(i + 1, drafts[i], new, edit, ctx)
            if moved is not None:
                result.moved.append(moved)
    if not result.changed:
        result.problem, result.problem_key, result.problem_values = _unmoved(drafts, targets, edit, ctx)
    return result


def _unmoved(drafts: Sequence[Draft], targets: list[int], edit: Edit, ctx: EditContext) -> tuple[str, str, dict]:
    """Why an edit changed none of its clips: an edge asked to move past the video's own, or
    (when nothing else is known) that the clips are already so."""
    outward = {"start_earlier": 0, "end_later": -1}.get(edit.kind)
    if outward is not None and len(targets) == 1 and drafts[targets[0]].segments:
        clip, edge = targets[0] + 1, drafts[targets[0]].segments[outward][outward]
        if outward == 0 and edge <= EDGE_SECONDS:
            return f"clip {clip} already starts where the video starts", "edit_at_video_start", {"clip": clip}
        if outward == -1 and edge >= ctx.duration - EDGE_SECONDS:
            return f"clip {clip} already ends where the video ends", "edit_at_video_end", {"clip": clip}
    return ALREADY, "edit_already", {}


def _edit_one(draft: Draft, edit: Edit, ctx: EditContext) -> Draft | None:
    kind = edit.kind
    if kind == "captions":
        if not edit.on:
            return dataclasses.replace(draft, captions=False)
        return dataclasses.replace(draft, captions=True, caption_style=edit.value or draft.caption_style)
    if kind == "aspect":
        return dataclasses.replace(draft, aspect=edit.value)
    if kind == "title":
        return dataclasses.replace(draft, title=edit.value if edit.on else None)
    if kind == "music":
        if not edit.on:
            return dataclasses.replace(draft, music=None)
        current = draft.music
        source = ctx.music or current
        volume = edit.volume if edit.volume is not None else (current.volume if current else DEFAULT_MUSIC_VOLUME)
        return dataclasses.replace(draft, music=Music(source.src, source.label, volume))
    segments = list(draft.segments)
    if not segments:
        return None
    if kind == "length":                     # a length to reach: the step there, longer or shorter
        step = (edit.seconds or 0.0) - draft.duration
        if abs(step) < EXACT_ENOUGH_SECONDS / 2:
            return None
        return _edit_one(draft, dataclasses.replace(edit, kind="longer" if step > 0 else "shorter", seconds=abs(step)),
                         ctx)
    step = edit.seconds or DEFAULT_STEP_SECONDS
    first_start, _ = segments[0]
    last_start, last_end = segments[-1]

    def moved(new: list[tuple[float, float]]) -> Draft:
        return dataclasses.replace(draft, segments=tuple(new))

    if kind in ("longer", "end_later"):
        new_end = _later_edge(last_end, step, ctx.sentence_ends, ctx.duration, ctx.second_choice)
        if new_end is None and kind == "longer":
            new_start = _earlier_edge(first_start, step, ctx.sentence_starts, ctx.second_choice)
            return None if new_start is None else moved([(new_start, segments[0][1])] + segments[1:])
        return None if new_end is None else moved(segments[:-1] + [(last_start, new_end)])
    if kind in ("shorter", "end_earlier"):
        new_end = _earlier_end(last_start, last_end, step, ctx.sentence_ends, ctx.second_choice)
        return None if new_end is None else moved(segments[:-1] + [(last_start, new_end)])
    if kind == "start_earlier":
        new_start = _earlier_edge(first_start, step, ctx.sentence_starts, ctx.second_choice)
        return None if new_start is None else moved([(new_start, segments[0][1])] + segments[1:])
    if kind == "start_later":
        new_start = _later_start(first_start, segments[0][1], step, ctx.sentence_starts, ctx.second_choice)
        return None if new_start is None else moved([(new_start, segments[0][1])] + segments[1:])
    return None


def _landed(number: int, old: Draft, new: Draft, edit: Edit, ctx: EditContext) -> Landed | None:
    """The clip's new length when a step in seconds was asked and the edges that keep to sentences
    (or the limits) put it more than EXACT_ENOUGH_SECONDS away from the length asked."""
    if edit.seconds is None or edit.kind not in {"longer", "shorter", "length"}:
        return None
    asked = (edit.seconds if edit.kind == "length"
             else old.duration + (edit.seconds if edit.kind in LENGTHENING else -edit.seconds))
    if abs(new.duration - asked) <= EXACT_ENOUGH_SECONDS:
        return None
    if new.start != old.start:
        edge = "sentence_start" if ctx.sentence_starts else "limit"
    else:
        edge = "sentence_end" if ctx.sentence_ends else "limit"
    return Landed(number, round(asked, 1), round(new.duration, 1), edge)


def _edge_moved(number: int, old: Draft, new: Draft, edit: Edit, ctx: EditContext) -> EdgeMoved | None:
    """Where the start (or end) is now when a step in seconds was asked of it and the edge that keeps
    to sentences (or the limits) moved it more than EXACT_ENOUGH_SECONDS further or less far."""
    if edit.seconds is None or edit.kind not in EDGE_MOVES:
        return None
    edge, way = EDGE_MOVES[edit.kind]
    before, after = (old.start, new.start) if edge == "start" else (old.end, new.end)
    if abs((after - before) - way * edit.seconds) <= EXACT_ENOUGH_SECONDS:
        return None
    sentences = ctx.sentence_starts if edge == "start" else ctx.sentence_ends
    landed_on = ("sentence_start" if edge == "start" else "sentence_end") if sentences else "limit"
    return EdgeMoved(number, edge, round(after, 1), round(after - before, 1), landed_on)


def _closest(candidates: list[float], target: float, second: frozenset[float] = frozenset()) -> float | None:
    """The edge nearest `target`; a second choice (`second`: a sentence edge the speaker runs
    straight on from, or a phrase edge) only when every sentence edge is more than
    PREFER_CLEAN_SECONDS further away: a clip should end on a full stop and a breath, but
    "3 seconds shorter" should not come out 0.2 s shorter for it."""
    if not candidates:
        return None
    nearest = min(candidates, key=lambda c: abs(c - target))
    clean = [c for c in candidates if c not in second]
    if not clean:
        return nearest
    best = min(clean, key=lambda c: abs(c - target))
    return nearest if abs(best - target) - abs(nearest - target) > PREFER_CLEAN_SECONDS else best


def _later_edge(end: float, step: float, ends: tuple[float, ...], duration: float,
                second: frozenset[float] = frozenset()) -> float | None:
    """A later end: the sentence end nearest end + step, or end + step itself when there are no sentences."""
    if end >= duration - 0.05:
        return None
    if ends:
        return _closest([e for e in ends if e > end + 0.05], end + step, second)
    return min(duration, end + step)


def _earlier_end(start: float, end: float, step: float, ends: tuple[float, ...],
                 second: frozenset[float] = frozenset()) -> float | None:
    floor = start + MIN_CLIP_SECONDS
    if ends:
        return _closest([e for e in ends if floor <= e < end - 0.05], end - step, second)
    return max(floor, end - step) if end - step < end - 0.05 and end > floor else None


def _earlier_edge(start: float, step: float, starts: tuple[float, ...],
                  second: frozenset[float] = frozenset()) -> float | None:
    if start <= 0.05:
        return None
    if starts:
        return _closest([s for s in starts if s < start - 0.05], start - step, second)
    return max(0.0, start - step)


def _later_start(start: float, end: float, step: float, starts: tuple[float, ...],
                 second: frozenset[float] = frozenset()) -> float | None:
    ceiling = end - MIN_CLIP_SECONDS
    if starts:
        return _closest([s for s in starts if start + 0.05 < s <= ceiling], start + step, second)
    return min(ceiling, start + step) if start + step <= ceiling else None


def compile_reel(drafts: list[Draft], seconds: float | None, ctx: EditContext) -> EditResult:
    """The clips joined in source order into one reel of at most `seconds` (the best clips kept first)."""
    if len(drafts) < 2:
        return EditResult(drafts, problem="a reel needs at least two clips; ask for more clips first",
                          problem_key="edit_reel_needs_two")
    scores = list(ctx.scores) + [0.0] * (len(drafts) - len(ctx.scores))
    by_score = sorted(range(len(drafts)), key=lambda i: -scores[i])
    kept, total = [], 0.0
    for i in by_score:
        length = sum(e - s for s, e in drafts[i].segments)
        if seconds is not None and kept and total + length > seconds * 1.1:
            continue
        kept.append(i)
        total += length
    pieces = tuple(sorted((seg for i in kept for seg in drafts[i].segments), key=lambda seg: seg[0]))
    reel = dataclasses.replace(drafts[by_score[0]], segments=pieces)
    return EditResult([reel], changed=[0], reel_of=tuple(sorted(kept)))

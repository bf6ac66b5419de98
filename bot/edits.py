"""Drafts in the cloud's shape, their one-line summaries, and what an edit does to them.

A draft is one short as a timeline, the same shape the NemoVideo cloud uses (nemo-api.md):

    {"t": [                                  tracks
        {"tt": 0, "n": "Video", "sg": [...]},    tt: 0 video, 1 audio, 7 text; sg: segments
        {"tt": 7, "n": "Captions", "sg": [...]},
        {"tt": 7, "n": "Title", "sg": [...]},
        {"tt": 1, "n": "BGM", "sg": [...]}],
     "d": 16260,                             duration in ms
     "m": {"title": ..., "width": 1080, "height": 1920, "aspect": "9:16", ...}}

A video segment names its source by content hash (`src`) and its range in the source
(`in`/`out`, ms); every segment has its place on the timeline (`s`/`e`, ms).

`parse_edits(text)` reads what a person asked to change ("make clip 2 shorter by 10
seconds", "remove captions", "把第1个片段加长5秒"); `apply_edit` makes the change on
a list of drafts and says which drafts changed. Both are pure: LocalBackend stores
the drafts and renders the changed ones.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from bot.vocabulary import Edit
from engine.render import crossfade_for, output_size, placements

VIDEO, AUDIO, TEXT = 0, 1, 7
TITLE_SECONDS = 3.0
DEFAULT_STEP_SECONDS = 5.0
DEFAULT_MUSIC_VOLUME = 0.3
MIN_CLIP_SECONDS = 1.0
ALREADY = "that is already how the clips are"          # why an edit changed nothing, when nothing else is known


# ---------------------------------------------------------------- drafts

def make_draft(*, source: str, label: str, segments: list[tuple[float, float]], aspect: str = "9:16",
               resolution: int = 1080, captions: bool = True, caption_style: str = "bold",
               title: str | None = None, music: dict | None = None, meta: dict | None = None) -> dict:
    """A draft for source ranges (seconds); `music` is {"src", "label", "volume"}."""
    width, height = output_size(aspect, resolution)
    draft = {"t": [], "d": 0, "m": {**(meta or {}), "title": title or (meta or {}).get("title", ""),
                                    "aspect": aspect, "resolution": resolution, "width": width, "height": height,
                                    "captions": captions, "caption_style": caption_style}}
    draft["m"]["source"] = {"src": source, "label": label}
    return _rebuild(draft, segments, title=title, music=music)


def _rebuild(draft: dict, segments: list[tuple[float, float]], *, title: str | None, music: dict | None) -> dict:
    """The tracks for the given source ranges, title and music, keeping the draft's look (`m`)."""
    meta = dict(draft["m"])
    fade = crossfade_for(segments)
    placed, total = placements(segments, fade)
    source = meta["source"]
    tracks = [{"tt": VIDEO, "n": "Video", "sg": [
        {"src": source["src"], "label": source["label"], "in": _ms(s), "out": _ms(e), "s": _ms(at), "e": _ms(at + e - s)}
        for s, e, at in placed]}]
    if meta.get("captions"):
        tracks.append({"tt": TEXT, "n": "Captions", "sg": [{"style": meta.get("caption_style", "bold"),
                                                           "s": 0, "e": _ms(total)}]})
    if title:
        tracks.append({"tt": TEXT, "n": "Title", "sg": [{"text": title, "s": 0, "e": _ms(min(TITLE_SECONDS, total))}]})
    if music:
        tracks.append({"tt": AUDIO, "n": "BGM", "sg": [{"src": music["src"], "label": music.get("label", "music"),
                                                       "volume": float(music.get("volume", DEFAULT_MUSIC_VOLUME)),
                                                       "s": 0, "e": _ms(total)}]})
    meta["title"] = title or ""
    return {"t": tracks, "d": _ms(total), "m": meta}


def _ms(seconds: float) -> int:
    return int(round(seconds * 1000))


def _track(draft: dict, name: str) -> dict | None:
    return next((t for t in draft.get("t", []) if t.get("n") == name), None)


def segments_of(draft: dict) -> list[tuple[float, float]]:
    """The draft's source ranges in seconds, in timeline order."""
    video = next((t for t in draft.get("t", []) if t.get("tt") == VIDEO), None)
    return [(sg["in"] / 1000, sg["out"] / 1000) for sg in (video or {}).get("sg", [])]


def title_of(draft: dict) -> str | None:
    track = _track(draft, "Title")
    return track["sg"][0]["text"] if track and track["sg"] else None


def music_of(draft: dict) -> dict | None:
    track = _track(draft, "BGM")
    if not track or not track["sg"]:
        return None
    sg = track["sg"][0]
    return {"src": sg["src"], "label": sg.get("label", "music"), "volume": sg.get("volume", DEFAULT_MUSIC_VOLUME)}


def with_changes(draft: dict, *, segments: list[tuple[float, float]] | None = None, title: str | None | object = ...,
                 music: dict | None | object = ..., **meta) -> dict:
    """A copy with new ranges, title, music or look (aspect, captions, ...); `...` keeps what is there."""
    new = {"t": draft["t"], "d": draft["d"], "m": {**draft["m"], **meta}}
    if "aspect" in meta or "resolution" in meta:
        new["m"]["width"], new["m"]["height"] = output_size(new["m"]["aspect"], new["m"]["resolution"])
    return _rebuild(new, segments if segments is not None else segments_of(draft),
                    title=title_of(draft) if title is ... else title,
                    music=music_of(draft) if music is ... else music)


def ready_to_export(draft: dict) -> bool:
    """As the cloud says: a track with a non-empty segment list (a cloud draft may hold odd entries)."""
    return any(isinstance(t, dict) and t.get("sg") for t in draft.get("t") or [])


def draft_key(draft: dict) -> str:
    """Identifies what a render of this draft looks like: same key, same file."""
    look = {k: draft["m"].get(k) for k in ("aspect", "resolution", "captions", "caption_style")}
    return hashlib.sha256(json.dumps([draft["t"], look], sort_keys=True).encode()).hexdigest()[:12]


def _seconds(ms: int) -> str:
    value = ms / 1000
    return f"{value:.0f}" if abs(value - round(value)) < 0.05 else f"{value:.1f}"


def _span(sg: dict) -> str:
    return f"{_seconds(sg['s'])}-{_seconds(sg['e'])}s"


def summary_line(draft: dict) -> str:
    """`Timeline (3 tracks): 1. Video: talk.mp4 0:16-0:33 (0-16s) 2. BGM: song.mp3 (0-16s, 30%) 3. Title: "X" (0-3s)`"""
    from bot.texts import clock

    parts = []
    tracks = [t for t in draft.get("t", []) if t.get("sg")]
    for i, track in enumerate(tracks, start=1):
        sgs = track["sg"]
        first, last = sgs[0], sgs[-1]
        whole = f"{_seconds(first['s'])}-{_seconds(last['e'])}s"
        if track["tt"] == VIDEO:
            ranges = ", ".join(f"{clock(sg['in'] / 1000)}-{clock(sg['out'] / 1000)}" for sg in sgs)
            parts.append(f"{i}. Video: {first.get('label', 'video')} {ranges} ({whole})")
        elif track["tt"] == AUDIO:
            parts.append(f"{i}. BGM: {first.get('label', 'music')} ({whole}, {round(first.get('volume', 1) * 100)}%)")
        elif track.get("n") == "Title":
            parts.append(f'{i}. Title: "{first.get("text", "")}" ({_span(first)})')
        elif track.get("n") == "Captions":
            parts.append(f"{i}. Captions: {first.get('style', 'bold')} ({whole})")
        else:
            parts.append(f"{i}. {track.get('n', 'Track')}: ({whole})")
    return f"Timeline ({len(tracks)} tracks): " + " ".join(parts)


# ---------------------------------------------------------------- applying edits

@dataclass(frozen=True)
class EditContext:
    duration: float                                      # of the source, seconds
    sentence_starts: tuple[float, ...] = ()              # clip edges snap to these (never mid-word)
    sentence_ends: tuple[float, ...] = ()
    music: dict | None = None                            # the latest sound upload: {"src", "label"}


@dataclass
class EditResult:
    drafts: list[dict]
    changed: list[int] = field(default_factory=list)     # 0-based indices of drafts to render again
    problem: str | None = None                           # why nothing changed, when it did not
    problem_key: str | None = None                       # the same, for bot.texts.reason in other languages
    problem_values: dict = field(default_factory=dict)


def apply_edit(drafts: list[dict], edit: Edit, ctx: EditContext) -> EditResult:
    """One edit on the drafts it names. `more` needs the engine and is not handled here."""
    if edit.kind == "reel":
        return compile_reel(drafts, edit.seconds, ctx)
    if edit.clip is not None and not 1 <= edit.clip <= len(drafts):
        return EditResult(drafts, problem=f"there is no clip {edit.clip} (there are {len(drafts)})",
                          problem_key="edit_no_clip", problem_values={"clip": edit.clip, "count": len(drafts)})
    targets = [edit.clip - 1] if edit.clip is not None else list(range(len(drafts)))
    if edit.kind == "music" and edit.on and ctx.music is None and not any(music_of(drafts[i]) for i in targets):
        return EditResult(drafts, problem="send me a song or a sound file first, then say which volume",
                          problem_key="edit_no_music")
    result = EditResult(list(drafts))
    for i in targets:
        new = _edit_one(drafts[i], edit, ctx)
        if new is not None and draft_key(new) != draft_key(drafts[i]):
            result.drafts[i] = new
            result.changed.append(i)
    if not result.changed:
        result.problem, result.problem_key = ALREADY, "edit_already"
    return result


def _edit_one(draft: dict, edit: Edit, ctx: EditContext) -> dict | None:
    kind = edit.kind
    if kind == "captions":
        return with_changes(draft, captions=edit.on)
    if kind == "aspect":
        return with_changes(draft, aspect=edit.value)
    if kind == "title":
        return with_changes(draft, title=edit.value if edit.on else None)
    if kind == "music":
        if not edit.on:
            return with_changes(draft, music=None)
        current = music_of(draft)
        source = ctx.music or current
        volume = edit.volume if edit.volume is not None else (current or {}).get("volume", DEFAULT_MUSIC_VOLUME)
        return with_changes(draft, music={"src": source["src"], "label": source.get("label", "music"), "volume": volume})
    segments = segments_of(draft)
    if not segments:
        return None
    step = edit.seconds or DEFAULT_STEP_SECONDS
    first_start, _ = segments[0]
    last_start, last_end = segments[-1]
    if kind in ("longer", "end_later"):
        new_end = _later_edge(last_end, step, ctx.sentence_ends, ctx.duration)
        if new_end is None and kind == "longer":
            new_start = _earlier_edge(first_start, step, ctx.sentence_starts)
            return None if new_start is None else with_changes(draft, segments=[(new_start, segments[0][1])] + segments[1:])
        return None if new_end is None else with_changes(draft, segments=segments[:-1] + [(last_start, new_end)])
    if kind in ("shorter", "end_earlier"):
        new_end = _earlier_end(last_start, last_end, step, ctx.sentence_ends)
        return None if new_end is None else with_changes(draft, segments=segments[:-1] + [(last_start, new_end)])
    if kind == "start_earlier":
        new_start = _earlier_edge(first_start, step, ctx.sentence_starts)
        return None if new_start is None else with_changes(draft, segments=[(new_start, segments[0][1])] + segments[1:])
    if kind == "start_later":
        new_start = _later_start(first_start, segments[0][1], step, ctx.sentence_starts)
        return None if new_start is None else with_changes(draft, segments=[(new_start, segments[0][1])] + segments[1:])
    return None


def _closest(candidates: list[float], target: float) -> float | None:
    return min(candidates, key=lambda c: abs(c - target)) if candidates else None


def _later_edge(end: float, step: float, ends: tuple[float, ...], duration: float) -> float | None:
    """A later end: the sentence end nearest end + step, or end + step itself when there are no sentences."""
    if end >= duration - 0.05:
        return None
    if ends:
        return _closest([e for e in ends if e > end + 0.05], end + step)
    return min(duration, end + step)


def _earlier_end(start: float, end: float, step: float, ends: tuple[float, ...]) -> float | None:
    floor = start + MIN_CLIP_SECONDS
    if ends:
        return _closest([e for e in ends if floor <= e < end - 0.05], end - step)
    return max(floor, end - step) if end - step < end - 0.05 and end > floor else None


def _earlier_edge(start: float, step: float, starts: tuple[float, ...]) -> float | None:
    if start <= 0.05:
        return None
    if starts:
        return _closest([s for s in starts if s < start - 0.05], start - step)
    return max(0.0, start - step)


def _later_start(start: float, end: float, step: float, starts: tuple[float, ...]) -> float | None:
    ceiling = end - MIN_CLIP_SECONDS
    if starts:
        return _closest([s for s in starts if start + 0.05 < s <= ceiling], start + step)
    return min(ceiling, start + step) if start + step <= ceiling else None


def compile_reel(drafts: list[dict], seconds: float | None, ctx: EditContext) -> EditResult:
    """The clips joined in source order into one reel of at most `seconds` (the best clips kept first)."""
    if len(drafts) < 2:
        return EditResult(drafts, problem="a reel needs at least two clips; ask for more clips first",
                          problem_key="edit_reel_needs_two")
    by_score = sorted(range(len(drafts)), key=lambda i: -float(drafts[i]["m"].get("score", 0)))
    kept, total = [], 0.0
    for i in by_score:
        length = sum(e - s for s, e in segments_of(drafts[i]))
        if seconds is not None and kept and total + length > seconds * 1.1:
            continue
        kept.append(i)
        total += length
    pieces = sorted((seg for i in kept for seg in segments_of(drafts[i])), key=lambda seg: seg[0])
    best = drafts[by_score[0]]
    scores = [float(drafts[i]["m"].get("score", 0)) for i in kept]
    hashtags = list(dict.fromkeys(tag for i in kept for tag in drafts[i]["m"].get("hashtags", [])))[:5]
    meta = {**best["m"], "rank": 1, "reel": True, "score": round(sum(scores) / len(scores), 1), "hashtags": hashtags,
            "asked_seconds": seconds, "clips": [i + 1 for i in sorted(kept)]}
    reel = with_changes(best, segments=pieces, **meta)
    return EditResult([reel], changed=[0])


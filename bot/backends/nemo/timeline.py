"""The cloud's timeline: drafts in its t/tt/sg shape read as typed tracks (a ClipTimeline, which
bot.texts words in the person's language: in English the documented one-line summary), Clips and Media,
what a silent edit changed (TimelineEdits), and render statuses in either documented shape.
"""
from __future__ import annotations

import dataclasses
import difflib
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


from bot import texts
from bot.backends.base import Clip, ClipTimeline, Media, State, TimelineEdit, Track, TrackChange
from bot.backends.nemo.client import RenderStatus, error_message

log = logging.getLogger(__name__)


# ---------------------------------------------------------------- drafts (the timeline)

@dataclass(frozen=True)
class Timeline:
    """A cloud session's state: its media, its drafts, and the drafts read as Clips."""

    session_id: str
    media: list[Media]
    clips: list[Clip]
    drafts: list[dict] = field(default_factory=list)

    @property
    def summary(self) -> list[ClipTimeline]:
        return [clip.summary for clip in self.clips]

    def state(self, session_row: int | None = None) -> State:
        """What the status reply shows; each clip names its stored session, for the buttons under it."""
        clips = [dataclasses.replace(clip, session=session_row) for clip in self.clips]
        return State(media=list(self.media), clips=clips)


TRACK_KINDS = {0: "video", 1: "music", 7: "title"}
# The segment keys are not documented; these are the spellings accepted for each field.
_LABEL_KEYS = ("n", "name", "title", "text", "tx", "content")
_SOURCE_KEYS = ("src", "url", "source", "file")
_START_KEYS = ("s", "st", "start", "ts")
_END_KEYS = ("e", "et", "end", "te")
_VOLUME_KEYS = ("v", "vol", "volume")


def ready_to_export(draft: dict) -> bool:
    """As the cloud says: a track with a non-empty segment list (a cloud draft may hold odd entries)."""
    return any(isinstance(t, dict) and t.get("sg") for t in draft.get("t") or [])


def _first(mapping: dict, keys: tuple[str, ...]) -> Any:
    for key in keys:
        value = mapping.get(key)
        if value not in (None, ""):
            return value
    return None


def _seconds(ms: Any) -> float:
    """The cloud's milliseconds as seconds, to the tenth the summary shows."""
    return round(float(ms) / 1000.0, 1)


def segment_of(segment: dict, track: dict, kind: str) -> Track:
    """One segment of a cloud track as a Track: its label (else its source's file name, else the track's),
    where it plays on the draft, its volume."""
    label = _first(segment, _LABEL_KEYS)
    if label is None and (source := _first(segment, _SOURCE_KEYS)):
        label = Path(urlsplit(str(source)).path).name or str(source)
    if label is None:
        label = _first(track, _LABEL_KEYS) or ""
    start = _first(segment, _START_KEYS)
    end = _first(segment, _END_KEYS)
    if end is None and start is not None and isinstance(segment.get("d"), (int, float)):
        end = float(start) + segment["d"]
    timed = start is not None and end is not None
    volume = _first(segment, _VOLUME_KEYS)
    if volume is None:
        volume = _first(track, _VOLUME_KEYS)
    percent = round(volume * 100 if volume <= 1 else volume) if isinstance(volume, (int, float)) else None
    return Track(kind, str(label), end=_seconds(end) if timed else None, start=_seconds(start) if timed else None,
                 volume=None if percent is None else percent / 100)


def timeline_of(draft: dict) -> ClipTimeline:
    """A cloud draft's tracks (`t`, each with its kind `tt` and segments `sg`) as typed facts."""
    tracks = []
    for track in draft.get("t") or []:
        if not isinstance(track, dict):
            continue
        kind = TRACK_KINDS.get(track.get("tt"), "other")
        segments = [s for s in track.get("sg") or [] if isinstance(s, dict)]
        tracks.append(Track(kind, pieces=tuple(segment_of(s, track, kind) for s in segments)))
    return ClipTimeline(tuple(tracks))


def draft_summary(draft: dict, lang: str = "en") -> str:
    """`Timeline (3 tracks): 1. Video: city timelapse (0-10s) 2. BGM: Lo-fi (0-10s, 35%) ...`"""
    return texts.timeline(lang, timeline_of(draft))


def timeline_edits(before: list[dict] | None, after: list[dict]) -> tuple[TimelineEdit, ...]:
    """What an edit changed, for a stream that closed without a word: per draft, a diff of its tracks as
    they read in English (the line the cloud's documented summary shows), then its tracks now."""
    edits = []
    for index, draft in enumerate(after):
        old = timeline_of(before[index]).tracks if before and index < len(before) else ()
        new = timeline_of(draft).tracks
        lines = difflib.SequenceMatcher(a=[texts.track_line("en", t) for t in old],
                                        b=[texts.track_line("en", t) for t in new], autojunk=False)
        changes: list[TrackChange] = []
        for op, i1, i2, j1, j2 in lines.get_opcodes():
            if op == "replace":
                pairs = list(zip(old[i1:i2], new[j1:j2]))
                changes += [TrackChange(a, b) for a, b in pairs]
                changes += [TrackChange(after=b) for b in new[j1 + len(pairs):j2]]
                changes += [TrackChange(before=a) for a in old[i1 + len(pairs):i2]]
            elif op == "insert":
                changes += [TrackChange(after=b) for b in new[j1:j2]]
            elif op == "delete":
                changes += [TrackChange(before=a) for a in old[i1:i2]]
        edits.append(TimelineEdit(tuple(changes), ClipTimeline(new)))
    return tuple(edits)


def describe_changes(before: list[dict] | None, after: list[dict], lang: str = "en") -> str:
    """`✅ Done: added Title: "Urban Dreams" (0-3s).` and the summary after it, per draft."""
    return texts.timeline_edits(lang, timeline_edits(before, after))


def read_state(session_id: str, data: Any) -> Timeline:
    """A Timeline from the state endpoint's `data` (`{"state": {"draft": ..., "video_infos": ...}}`)."""
    data = data if isinstance(data, dict) else {}
    inner = data.get("state") if isinstance(data.get("state"), dict) else data
    drafts_value = inner.get("drafts")
    if isinstance(drafts_value, list):
        drafts = [d for d in drafts_value if isinstance(d, dict) and d]
    else:
        draft = inner.get("draft")
        drafts = [draft] if isinstance(draft, dict) and draft else []
    media = [m for key in ("video_infos", "generated_media") for m in inner.get(key) or [] if isinstance(m, dict)]
    return Timeline(session_id=str(data.get("session_id") or session_id), media=[_media_of(m) for m in media],
                 clips=[_clip_of(i, d) for i, d in enumerate(drafts, start=1)], drafts=drafts)


def _media_of(info: dict) -> Media:
    return Media(media_id=str(info.get("hash") or info.get("media_id") or info.get("filename") or ""),
                 filename=str(info.get("filename") or info.get("name") or info.get("media_id") or "file"),
                 kind=str(info.get("file_type") or info.get("kind") or "video"),
                 duration=_number(info.get("duration")), width=int(_number(info.get("width"))),
                 height=int(_number(info.get("height"))), url=info.get("cdn_url") or info.get("url"))


def _clip_of(number: int, draft: dict) -> Clip:
    """A cloud draft as a Clip: what the draft's metadata says of it (the file comes with its export)."""
    meta = draft.get("m") if isinstance(draft.get("m"), dict) else {}
    hashtags = meta.get("hashtags") if isinstance(meta.get("hashtags"), list) else []
    return Clip(number=number, title=str(meta.get("title") or ""), start=_optional_number(meta.get("start")),
                end=_optional_number(meta.get("end")), score=_optional_number(meta.get("score")),
                hashtags=tuple(str(h) for h in hashtags), summary=timeline_of(draft),
                duration=_number(draft.get("d")) / 1000, ready=ready_to_export(draft))


def _optional_number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _number(value: Any) -> float:
    return _optional_number(value) or 0.0


# ---------------------------------------------------------------- render status

_STATUS_WORDS = {
    "pending": "pending", "queued": "pending", "waiting": "pending",
    "processing": "processing", "rendering": "processing", "running": "processing", "in_progress": "processing",
    "completed": "completed", "complete": "completed", "succeeded": "completed", "success": "completed",
    "done": "completed", "finished": "completed",
    "failed": "failed", "failure": "failed", "error": "failed", "errored": "failed", "cancelled": "failed",
    "canceled": "failed", "timeout": "failed", "timed_out": "failed", "timedout": "failed", "aborted": "failed",
    "rejected": "failed", "expired": "failed",
}


def read_render_status(render_id: str, payload: Any) -> RenderStatus:
    """Status and result URL from either documented shape: `data.status` + `data.outputUrl`,
    or a top-level `status` + `output.url`.

    A status word not known here counts as "processing" (the cloud may add words); the word
    itself is kept in `reported`, and the caller's deadline ends a render that never finishes.
    The render id is the one asked about: the answer's own id never names a file."""
    payload = payload if isinstance(payload, dict) else {}
    data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
    word = str(data.get("status") or payload.get("status") or "pending").strip().lower()
    known = _STATUS_WORDS.get(re.sub(r"[\s-]+", "_", word))
    if known is None:
        log.info("render %s: unknown status %r, taken as processing", render_id, word[:40])
    status = known or "processing"
    url = None
    for holder in (data, payload):
        output = holder.get("output") if isinstance(holder.get("output"), dict) else {}
        url = url or holder.get("outputUrl") or holder.get("output_url") or output.get("url")
    progress = data.get("progress", payload.get("progress"))
    progress = float(progress) if isinstance(progress, (int, float)) else (100.0 if status == "completed" else 0.0)
    error = key = None
    if status == "failed":
        error = error_message(data) or error_message(payload)
        if not error:
            error, key = ("cancelled", "backend_render_cancelled") if word.startswith("cancel") \
                else ("failed", "backend_render_failed")
    elif status == "completed" and not url:
        status, error, key = "failed", "The render finished without a download link.", "backend_render_no_link"
    return RenderStatus(render_id=render_id, status=status, progress=progress, url=url, error=error,
                        reported=word, error_key=key)



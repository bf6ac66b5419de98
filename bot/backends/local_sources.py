"""Which of a session's uploads a new cut is made from (and when none can be: `cut_refused`), and
which sound files are background music.

The latest upload that is a video or a sound file is what the next cut is made from, unless that
sound file was chosen as background music ("use this as background music at 30%", before a cut or
as an edit of the clips): then it is music, and the cut goes to the latest other upload. Edits do
not use this choice: they keep the source their clips were cut from.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from bot.backends.base import ChatEvent, Sentence
from bot.edits import Music
from bot.replies import short_source
from bot.texts import clock, say
from engine.models import SHORTEST_CLIP_SECONDS, ClipRequest
from storage.repos import MediaRecord

MUSIC_FILES = "music_files"          # the session state's list of the sound files chosen as music (content hashes)


@dataclass(frozen=True)
class Uploads:
    media: tuple[MediaRecord, ...]           # the session's uploads, the latest last
    music: frozenset[str] = frozenset()      # content hashes of the sound files chosen as background music

    @classmethod
    def of(cls, media: Sequence[MediaRecord], state: dict[str, Any], drafts_music: Sequence[Music | None] = ()) -> "Uploads":
        """From the session's media and state; the clips' music counts too (it was chosen as an edit)."""
        chosen = set(state.get(MUSIC_FILES, ()))
        if state.get("music"):
            chosen.add(state["music"]["src"])
        chosen.update(music.src for music in drafts_music if music is not None)
        return cls(tuple(media), frozenset(chosen))

    def cut_source(self) -> MediaRecord | None:
        """What a new cut is made from: the latest video or sound file that is not background music."""
        for media in reversed(self.media):
            if media.kind == "video" or (media.kind == "audio" and media.sha256 not in self.music):
                return media
        return None

    def music_for(self, source: MediaRecord | None) -> MediaRecord | None:
        """The sound file "use this as background music" means: the latest one that is not `source`,
        what the clips are (or would be) cut from."""
        sounds = [m for m in self.media if m.kind == "audio" and (source is None or m.sha256 != source.sha256)]
        return sounds[-1] if sounds else None

    def music_before_a_cut(self) -> MediaRecord | None:
        """The sound file chosen as music before any cut: the latest one, when something else is
        left to cut from (a sound file alone is what clips are cut from)."""
        latest = self.music_for(None)
        if latest is None:
            return None
        others = Uploads(tuple(m for m in self.media if m.sha256 != latest.sha256), self.music | {latest.sha256})
        return latest if others.cut_source() is not None else None


def with_music_file(state: dict[str, Any], src: str) -> dict[str, Any]:
    """The session state with the sound file `src` (a content hash) remembered as background music."""
    return {**state, MUSIC_FILES: list(dict.fromkeys([*state.get(MUSIC_FILES, ()), src]))}


def without_music_files(state: dict[str, Any]) -> dict[str, Any]:
    """The session state with no sound file remembered as background music ("no background music")."""
    return {k: v for k, v in state.items() if k != MUSIC_FILES}


def music_choice(state: dict[str, Any], media: Sequence[MediaRecord]) -> Music | None:
    """The music chosen before a cut, for the clips it makes, while its file is in the session."""
    music = state.get("music")
    if music and any(m.sha256 == music.get("src") for m in media):
        return Music(**music)
    return None


def cut_refused(source: MediaRecord, request: ClipRequest) -> ChatEvent | None:
    """Why no cut can be made from `source` as asked, before anything is held: a part asked for past
    its end, or a video shorter than a short."""
    if request.range_start is not None and request.range_start >= source.duration > 0:
        english = say("en", "range_past_end", length=clock(source.duration), start=clock(request.range_start))
        return ChatEvent("text", english,
                         sentence=Sentence("range_past_end", seconds=source.duration, start=request.range_start))
    if 0 < source.duration < SHORTEST_CLIP_SECONDS:
        said = Sentence("source_too_short", seconds=source.duration, source=source.display_name or "video")
        return ChatEvent("text", short_source("en", said), sentence=said)
    return None

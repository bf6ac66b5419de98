"""Which language is spoken: a multilingual Whisper model's language token over a few windows.

Windows are spread through the soundtrack (an intro in one language does not decide a video
in another); inside each part of the video the window with the most sound above its quiet
floor is taken, so silence and pauses are not what the model listens to. Each window is a
short stretch (10 s): Whisper's encoder accepts fewer than its 30 s of frames, and the
language token needs no more, which keeps detection to a fraction of a second per window.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

SAMPLE_RATE = 16000
WINDOW_SECONDS = 10.0
WINDOWS = 3
HOP_SECONDS = 0.5
CONFIDENT = 0.5
SILENT_DB = -50.0            # a window quieter than this everywhere holds no speech to judge


@dataclass(frozen=True)
class LanguageGuess:
    language: str                        # ISO 639-1 code as Whisper writes it ("en", "zh", "es", ...)
    probability: float                   # mean over the windows heard
    windows: tuple[tuple[float, str, float], ...] = field(default=())   # (start s, best language, its probability)

    @property
    def mixed(self) -> bool:
        """Confident windows disagree: several languages are spoken (each segment is then detected)."""
        return len({lang for _, lang, p in self.windows if p >= CONFIDENT}) > 1


def frame_levels(audio: np.ndarray, hop: float = HOP_SECONDS, rate: int = SAMPLE_RATE) -> np.ndarray:
    """RMS level in dBFS per hop."""
    size = int(hop * rate)
    count = len(audio) // size
    if count == 0:
        return np.full(1, 20 * np.log10(float(np.sqrt(np.mean(audio ** 2))) + 1e-10) if len(audio) else -120.0)
    frames = audio[: count * size].reshape(count, size).astype(np.float64)
    return 20 * np.log10(np.sqrt(np.mean(frames ** 2, axis=1)) + 1e-10)


def choose_windows(audio: np.ndarray, windows: int = WINDOWS, seconds: float = WINDOW_SECONDS,
                   rate: int = SAMPLE_RATE, hop: float = HOP_SECONDS) -> list[float]:
    """Start times of up to `windows` windows of `seconds`, one per equal part of the audio, each
    where that part has the most frames clearly above the audio's quiet floor; none in silence."""
    levels = frame_levels(audio, hop, rate)
    duration = len(audio) / rate
    if duration <= seconds:
        return [0.0] if levels.max() > SILENT_DB else []
    # Frames near the loud level: the speech of a talk with pauses, and all of a passage read on end.
    active = (levels > max(SILENT_DB, float(np.percentile(levels, 90)) - 20.0)).astype(np.float64)
    span = max(1, int(seconds / hop))
    # active frames in the window starting at each frame
    running = np.convolve(active, np.ones(span), mode="valid") if len(active) >= span else np.array([active.sum()])
    parts = max(1, min(windows, int(duration // seconds)))
    starts = []
    bounds = np.linspace(0, len(running), parts + 1).astype(int)
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        if hi <= lo:
            continue
        best = lo + int(np.argmax(running[lo:hi]))
        if running[best] >= span * 0.2:
            starts.append(round(best * hop, 2))
    return starts


def detect_language(audio: np.ndarray, model, windows: int = WINDOWS, seconds: float = WINDOW_SECONDS,
                    rate: int = SAMPLE_RATE) -> LanguageGuess | None:
    """The spoken language by a multilingual faster-whisper model, or None when nothing is heard."""
    import ctranslate2

    starts = choose_windows(audio, windows, seconds, rate)
    if not starts:
        return None
    totals: dict[str, float] = {}
    heard = []
    for start in starts:
        piece = audio[int(start * rate): int((start + seconds) * rate)]
        features = model.feature_extractor(piece)[:, : int(seconds * 100)]
        encoded = model.model.encode(ctranslate2.StorageView.from_array(np.ascontiguousarray(features[None])),
                                     to_cpu=False)
        ranked = model.model.detect_language(encoded)[0]
        for token, probability in ranked:
            code = token[2:-2]
            totals[code] = totals.get(code, 0.0) + probability
        best_token, best_probability = ranked[0]
        heard.append((start, best_token[2:-2], round(float(best_probability), 3)))
    language = max(totals, key=totals.get)
    return LanguageGuess(language, round(totals[language] / len(starts), 3), tuple(heard))


def segment_languages(audio: np.ndarray, model, segments) -> list[str]:
    """The language of each segment (a VAD chunk, up to 30 s) by the model's language token over its own
    sound: what a recording that mixes languages says where. One encoder pass per segment."""
    import ctranslate2

    found = []
    for segment in segments:
        piece = audio[int(segment.start * SAMPLE_RATE): int(segment.end * SAMPLE_RATE)]
        features = model.feature_extractor(piece)[:, : int(30 * 100)]
        encoded = model.model.encode(ctranslate2.StorageView.from_array(np.ascontiguousarray(features[None])),
                                     to_cpu=False)
        found.append(model.model.detect_language(encoded)[0][0][0][2:-2])
    return found

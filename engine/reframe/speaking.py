"""Who is speaking: audio-visual sync between each face's mouth and the soundtrack.

The mouth of the person speaking opens and closes with the syllables, so the motion of the
lower part of their face rises and falls with the speech energy. A listener who nods, laughs
or turns moves too, but not in step with the voice: the score is the correlation of the two
over a sliding window, not the amount of motion. It counts only where someone speaks: inside
the transcript's words, and where the transcript is silent for a while (a recogniser drops
stretches: crosstalk, accents, a cut between voices) or missing, where the sound is loud and
a voice-activity detector hears a voice in it (music, a jingle, applause are loud too).

Each step is a small function over arrays; `range_audio` is the only one that reads a file.
"""
from __future__ import annotations

import subprocess
from dataclasses import dataclass

import numpy as np

from engine.soundtrack import ONE_TRACK, the_sound

WINDOW_S = 1.5              # correlation window
MAX_LAG_S = 0.25            # the sound may trail the lips by up to this much
AUDIO_RATE = 16000
WORD_PAD_S = 0.15           # speech starts a little before the first word's timestamp and ends after
WORD_GAP_S = 1.0            # a silence of the transcript longer than this may hide speech it missed
LOUD_DB = 25.0              # speech by energy: within this of the loud end of the range
VOICE_PAUSE_S = 0.3         # a voice that stops for less than this is still speaking (between words)


def mouth_regions(boxes: np.ndarray) -> np.ndarray:
    """(n, 4) face boxes -> (n, 4) x0, y0, x1, y1 of the mouth: the lower middle of the box."""
    x, y, w, h = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    return np.stack([x + 0.22 * w, y + 0.6 * h, x + 0.78 * w, y + 1.02 * h], axis=1)


def upper_regions(boxes: np.ndarray) -> np.ndarray:
    """The eyes and brow: moves with the head, hardly with speech."""
    x, y, w, h = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    return np.stack([x + 0.15 * w, y + 0.15 * h, x + 0.85 * w, y + 0.5 * h], axis=1)


def region_motion(motion: np.ndarray, regions: np.ndarray) -> np.ndarray:
    """Mean frame-to-frame change inside each frame's region (fractions); NaN where the
    region is unknown or empty."""
    frames, rows, cols = motion.shape
    out = np.full(frames, np.nan)
    for i in range(min(frames, len(regions))):
        x0, y0, x1, y1 = regions[i]
        if np.isnan(x0):
            continue
        c0, c1 = int(max(0, x0 * cols)), int(min(cols, np.ceil(x1 * cols)))
        r0, r1 = int(max(0, y0 * rows)), int(min(rows, np.ceil(y1 * rows)))
        if c1 > c0 and r1 > r0:
            out[i] = float(motion[i, r0:r1, c0:c1].mean())
    return out


def articulation(motion: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Mouth motion beyond what the whole head's motion explains (a turn or a nod moves the
    mouth region as much as the brow; speaking moves the mouth more)."""
    mouth = region_motion(motion, mouth_regions(boxes))
    upper = region_motion(motion, upper_regions(boxes))
    return np.maximum(mouth - 0.7 * upper, 0.0)


def frame_energy(audio: np.ndarray, rate: int, fps: float, frames: int) -> np.ndarray:
    """Log RMS of the audio in each video frame's span (dB); -100 where there is no audio."""
    hop = rate / fps
    out = np.full(frames, -100.0)
    for i in range(frames):
        piece = audio[int(i * hop):int((i + 1) * hop)]
        if len(piece):
            out[i] = 10 * np.log10(float(np.mean(piece.astype(np.float64) ** 2)) + 1e-10)
    return out


def range_audio(path, start: float, end: float, timeout_s: float = 120.0,
                tracks: tuple[int, ...] = ONE_TRACK) -> np.ndarray:
    """[start, end) of a file's sound (its audio `tracks`, mixed), float32 mono at 16 kHz (empty without one)."""
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-ss", f"{start:.3f}", "-t", f"{end - start:.3f}", "-i", str(path),
           "-filter_complex", f"{the_sound(tracks)}[heard]", "-map", "[heard]",
           "-ac", "1", "-ar", str(AUDIO_RATE), "-f", "s16le", "pipe:1"]
    try:
        raw = subprocess.run(cmd, capture_output=True, timeout=timeout_s).stdout
    except subprocess.TimeoutExpired:
        raw = b""
    return np.frombuffer(raw, np.int16).astype(np.float32) / 32768.0


@dataclass(frozen=True)
class SpeechSound:
    """The sound of a range, frame by frame: `energy` (floored dB) and `voiced`, where a voice is
    heard (None when nothing needed it: the transcript's words cover the whole range)."""

    energy: np.ndarray
    voiced: np.ndarray | None = None


def speech_sound(path, start: float, end: float, times: np.ndarray, fps: float,
                 words: list[tuple[float, float]] | None, timeout_s: float = 120.0,
                 tracks: tuple[int, ...] = ONE_TRACK) -> SpeechSound:
    """The energy of [start, end) at each frame, and where a voice is heard wherever the
    transcript leaves the decision to the sound (`words` and `times` in range time)."""
    audio = range_audio(path, start, end, timeout_s, tracks)
    energy = floored(frame_energy(audio, AUDIO_RATE, fps, len(times)))
    needed = not words or transcript_gaps(times, words).any()
    return SpeechSound(energy, voiced_frames(audio, times) if needed else None)


def voiced_frames(audio: np.ndarray, times: np.ndarray, rate: int = AUDIO_RATE) -> np.ndarray:
    """Frames (at `times`, seconds into `audio`) in which Silero VAD, the voice-activity detector
    faster-whisper ships and the transcriber listens with, hears a voice: speech, not music,
    drums or noise, however loud. Padded as words are, and bridging pauses shorter than
    VOICE_PAUSE_S."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    mask = np.zeros(len(times), bool)
    if not len(audio):
        return mask
    spans = get_speech_timestamps(audio, VadOptions(min_silence_duration_ms=int(VOICE_PAUSE_S * 1000),
                                                    speech_pad_ms=int(WORD_PAD_S * 1000)), sampling_rate=rate)
    for span in spans:
        mask |= (times >= span["start"] / rate) & (times <= span["end"] / rate)
    return mask


def floored(energy: np.ndarray, depth_db: float = 45.0) -> np.ndarray:
    """Energy no lower than `depth_db` under its loud end: digital silence (-100 dB) would
    otherwise outweigh every syllable in a correlation."""
    if not len(energy):
        return energy
    return np.maximum(energy, np.percentile(energy, 98) - depth_db)


def loud(energy: np.ndarray) -> np.ndarray:
    """Frames whose energy is within LOUD_DB of the loud end of the range."""
    if not len(energy):
        return np.zeros(0, bool)
    return energy > np.percentile(energy, 95) - LOUD_DB


def word_mask(times: np.ndarray, words: list[tuple[float, float]]) -> np.ndarray:
    """Frames inside a transcript word, padded a little."""
    mask = np.zeros(len(times), bool)
    for start, end in words:
        mask |= (times >= start - WORD_PAD_S) & (times <= end + WORD_PAD_S)
    return mask


def transcript_gaps(times: np.ndarray, words: list[tuple[float, float]], gap_s: float = WORD_GAP_S) -> np.ndarray:
    """Frames in a stretch without words longer than `gap_s`: before the first word, between
    two words, after the last (a short pause between words is no gap: the words say nobody
    speaks there)."""
    gaps = np.zeros(len(times), bool)
    if not len(times):
        return gaps
    spans = sorted((start - WORD_PAD_S, end + WORD_PAD_S) for start, end in words)
    reached = float(times[0]) - 1e-9
    for start, end in spans + [(float(times[-1]) + 1e-9, np.inf)]:
        if start - reached > gap_s:
            gaps |= (times > reached) & (times < start)
        reached = max(reached, end)
    return gaps


def heard_speech(energy: np.ndarray, voiced: np.ndarray | None) -> np.ndarray:
    """Speech by sound alone: loud, and a voice in it when `voiced` is known (music and noise
    are loud without one)."""
    speech = loud(energy)
    return speech & voiced if voiced is not None and len(voiced) == len(speech) else speech


def speech_mask(times: np.ndarray, words: list[tuple[float, float]] | None, energy: np.ndarray,
                voiced: np.ndarray | None = None) -> np.ndarray:
    """Where someone speaks: inside a transcript word (padded a little), and inside a gap of the
    transcript (or without one) where the sound is loud and voiced. Within the words' reach the
    words decide, so music and noise between sentences do not count as speech; in a gap, the
    voice detector tells a music intro or a jingle from speech the transcript missed."""
    if not words:
        return heard_speech(energy, voiced) if len(energy) else np.zeros(len(times), bool)
    mask = word_mask(times, words)
    if len(energy) == len(times):
        mask |= transcript_gaps(times, words) & heard_speech(energy, voiced)
    return mask


def speech_onsets(times: np.ndarray, words: list[tuple[float, float]] | None, energy: np.ndarray,
                  voiced: np.ndarray | None = None) -> np.ndarray:
    """Where speech starts: each word's start (a cut there never lands mid-word), and where the
    sound's mask turns on inside a gap of the transcript (or without one)."""
    mask = speech_mask(times, words, energy, voiced)
    rising = mask[1:] & ~mask[:-1]
    if words:
        rising &= transcript_gaps(times, words)[1:]
    rises = np.flatnonzero(rising) + 1
    found = set(times[rises].astype(float)) | {float(start) for start, _ in (words or [])}
    return np.array(sorted(found), dtype=float)


def sliding_correlation(a: np.ndarray, b: np.ndarray, window: int) -> np.ndarray:
    """Pearson correlation of a and b over a centred window of `window` samples at each
    sample (0 where either is flat or NaN)."""
    n = len(a)
    out = np.zeros(n)
    if n == 0:
        return out
    valid = ~(np.isnan(a) | np.isnan(b))
    a, b = np.where(valid, a, 0.0), np.where(valid, b, 0.0)
    half = window // 2

    def sums(x):
        c = np.concatenate([[0.0], np.cumsum(x)])
        lo = np.clip(np.arange(n) - half, 0, n)
        hi = np.clip(np.arange(n) + half + 1, 0, n)
        return c[hi] - c[lo]

    count = sums(valid.astype(float))
    sa, sb = sums(a), sums(b)
    saa, sbb, sab = sums(a * a), sums(b * b), sums(a * b)
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = sab - sa * sb / count
        var = (saa - sa * sa / count) * (sbb - sb * sb / count)
        r = cov / np.sqrt(var)
    good = (count >= max(4, window // 2)) & (var > 1e-12)
    out[good] = r[good]
    return out


def shifted(values: np.ndarray, lag: int) -> np.ndarray:
    """values delayed by `lag` samples (NaN where nothing is known)."""
    out = np.full(len(values), np.nan)
    if abs(lag) >= len(values):
        return out
    if lag >= 0:
        out[lag:] = values[:len(values) - lag]
    else:
        out[:lag] = values[-lag:]
    return out


def lag_fits(mouth: np.ndarray, energy: np.ndarray, window: int, max_lag: int) -> np.ndarray:
    """(lags, frames): the positive correlation of the mouth with the sound delayed by each
    delay 0..max_lag samples, window by window."""
    return np.array([np.clip(sliding_correlation(shifted(mouth, lag), energy, window), 0, 1)
                     for lag in range(max_lag + 1)])


def sync_lags(fits: np.ndarray) -> np.ndarray:
    """(faces, lags, frames) lag_fits -> the one delay of the sound behind each mouth that fits
    best over the whole range: lips move a little before the sound they make, and files add
    their own offset. One delay per face for the whole range, not one per window, so that a
    listener cannot find a delay that fits by chance here and there. A delay counts only where
    it fits this mouth better than any other face fits at its own best delay: talk has a
    rhythm, so a second delay a syllable away can fit as well over the range by matching the
    other speakers' voices, which their own mouths already explain."""
    own = fits.mean(axis=2).argmax(axis=1)
    lags = own.copy()
    for k in range(len(fits)):
        others = [fits[j, own[j]] for j in range(len(fits)) if j != k]
        best_other = np.max(others, axis=0) if others else np.zeros(fits.shape[2])
        lags[k] = int(np.argmax(np.maximum(fits[k] - best_other, 0.0).mean(axis=1)))
    return lags


def speaking_scores(articulations: np.ndarray, energy: np.ndarray, speaking: np.ndarray, fps: float,
                    window_s: float = WINDOW_S, max_lag_s: float = MAX_LAG_S) -> np.ndarray:
    """(tracks, frames) articulation -> (tracks, frames) speaking score 0-1: the positive
    correlation of each mouth with the speech energy, zero where nobody speaks or the face
    is not there."""
    window = max(5, int(round(window_s * fps)))
    fits = np.array([lag_fits(mouth, energy, window, int(round(max_lag_s * fps))) for mouth in articulations])
    scores = np.zeros(articulations.shape)
    for k, lag in enumerate(sync_lags(fits) if len(fits) else []):
        scores[k] = np.where(speaking & ~np.isnan(articulations[k]), fits[k, lag], 0.0)
    return scores


def usual_lip_motion(articulations: np.ndarray) -> np.ndarray:
    """(tracks, frames) articulation -> each face's articulation as a multiple of its own
    average over the range (NaN where the face is not there). A listener's lips rest, a
    speaker's move more than usual; a face that moves all the time (a fidget, a bigger face)
    is no more a speaker for it."""
    out = np.full(articulations.shape, np.nan)
    for k, values in enumerate(articulations):
        usual = np.nanmean(values) if np.any(~np.isnan(values)) else np.nan
        if usual > 1e-9:
            out[k] = values / usual
    return out

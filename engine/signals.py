"""What the sound and the picture say, as small pure functions over arrays.

Loudness per hop (0.5 s) from the already decoded 16 kHz soundtrack, how noise-like each
hop sounds (applause and laughter are broadband hiss, a voice is harmonic), bursts that
stand out from their surroundings (applause, laughter, shouting; applause is found even
when it is quieter than the speaker), speech rate from the words, and hard cuts from
ffmpeg's scene score on a 160-pixel decode of the keyframes only, looked at frame by frame
only where two keyframes differ (and before the first keyframe when it comes late: a clip cut
out of a longer video without re-encoding starts in the middle of a group of pictures), and
from a spike of the frame-to-frame change in a decode the reframer already made.
"""
from __future__ import annotations

import logging
import math
import re
import subprocess
import threading
import warnings
from pathlib import Path

import numpy as np

from engine.models import Cancelled, Deadline, Signals, Word

log = logging.getLogger(__name__)

HOP = 0.5
SILENCE_DB = -100.0
# A hop counts as "active" (sound, not room silence) above this level.
ACTIVE_DB = -55.0
BURST_RISE_DB = 6.0                 # how far above the local level a burst must rise
CROWD_RISE_DB = 3.5                 # ... where a crowd roars all along (its swells stay within about 2 dB)
BASELINE_SECONDS = 20.0             # the window of "surroundings" a burst is compared with
MIN_BURST_SECONDS = 1.0
# Spectral flatness (geometric over arithmetic mean of the power spectrum) is ~0.56 for white
# noise and high for other broadband noise (applause, a cheering crowd); for the voices in
# ../shared/media it stays under 0.06 in nine hops out of ten.
FLATNESS_FRAME = 400                # samples: 25 ms at 16 kHz, short enough to see a voice's harmonics
FLATNESS_BAND = (250.0, 7500.0)     # Hz: above the hum and rumble, below what 16 kHz keeps
FLATNESS_CHUNK_HOPS = 240           # hops measured at a time, so memory stays small on long videos
SILENT_FRAME_POWER = 1e-8           # mean square below this (-80 dBFS) is silence, not noise
NOISY_ZCR = 0.2                     # zero crossings per sample from which a sound is fully hiss-like
NOISY = 0.25                        # noisiness from which a hop sounds like applause or laughter
NOISY_RISE = 0.15                   # how much more noise-like than the video's usual sound a reaction is
REACTION_BELOW_DB = 12.0            # a reaction may be this much quieter than its surroundings, not more
SCENE_THRESHOLD = 0.3               # ffmpeg's scene score (0-1) for a hard cut
CANDIDATE_THRESHOLD = 0.2           # keyframes this different get a frame-by-frame look
DENSE_FRAME_SECONDS = 0.5           # first-pass frames this close together are already every frame
SCENE_WIDTH = 160
MIN_SHOT_SECONDS = 1.0
KEYFRAME_SLACK = 0.25               # s: a skip-frame decode may stamp a keyframe a few frames early
CUT_CHANGE = 27.0                   # mean |frame - previous| (0-255) from which a frame is a cut ...
CUT_SPIKE = 3.0                     # ... when it is this many times the change of the frames around it
CUT_AROUND = 6                      # frames either side whose change is the usual one
ENVELOPE_HOP = 0.01                 # the fine loudness that cuts are placed by (engine.edges)


# --- sound -----------------------------------------------------------------

def loudness_db(audio: np.ndarray, sample_rate: int = 16000, hop: float = HOP) -> np.ndarray:
    """RMS level of each `hop` seconds of mono audio, in dBFS (SILENCE_DB for digital silence)."""
    size = int(round(hop * sample_rate))
    if len(audio) == 0:
        return np.zeros(0, dtype=np.float32)
    frames = int(np.ceil(len(audio) / size))
    padded = np.zeros(frames * size, dtype=np.float32)
    padded[: len(audio)] = audio
    blocks = padded.reshape(frames, size)
    counts = np.full(frames, size, dtype=np.float64)
    counts[-1] = len(audio) - (frames - 1) * size       # the last block is only partly filled
    rms = np.sqrt(np.einsum("ij,ij->i", blocks, blocks, dtype=np.float64) / counts)
    with np.errstate(divide="ignore"):
        db = 20.0 * np.log10(rms)
    return np.maximum(db, SILENCE_DB).astype(np.float32)


def rolling_median(values: np.ndarray, window: int, repeat_edges: bool = True) -> np.ndarray:
    """Median of each value's centred neighbourhood of `window` values (edge values repeated,
    or with `repeat_edges` False fewer values near the ends); NaN values are left out, and a
    neighbourhood of only NaN gives NaN."""
    if len(values) == 0:
        return values.copy()
    window = max(1, window | 1)                          # odd, so it centres
    half = window // 2
    padded = np.pad(values.astype(np.float64), half, **({"mode": "edge"} if repeat_edges else {"constant_values": np.nan}))
    windows = np.lib.stride_tricks.sliding_window_view(padded, window)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN neighbourhoods (long silences)
        return np.nanmedian(windows, axis=1).astype(np.float32)


def active_level(loudness: np.ndarray) -> float:
    """The video's own typical level: the median of hops that are not silence."""
    active = loudness[loudness > ACTIVE_DB]
    return float(np.median(active)) if len(active) else SILENCE_DB


def runs_of(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) index pairs of the True runs in a boolean array."""
    if len(mask) == 0:
        return []
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist()))


def find_bursts(loudness: np.ndarray, hop: float = HOP, rise_db: float = BURST_RISE_DB,
                baseline_seconds: float = BASELINE_SECONDS, min_seconds: float = MIN_BURST_SECONDS
                ) -> tuple[tuple[float, float], ...]:
    """Stretches at least `rise_db` louder than their surroundings (a rolling median) and at least
    as loud as the video's typical level, lasting `min_seconds` or more. Gaps of one hop are bridged."""
    if len(loudness) == 0:
        return ()
    # The surroundings are what is heard around a moment: pauses between sentences do not lower them.
    heard = np.where(loudness > ACTIVE_DB, loudness, np.nan)
    baseline = rolling_median(heard, int(round(baseline_seconds / hop)))
    baseline = np.where(np.isnan(baseline), SILENCE_DB, baseline)
    loud = (loudness - baseline >= rise_db) & (loudness >= active_level(loudness))
    bridged = loud.copy()
    bridged[1:-1] |= loud[:-2] & loud[2:]                 # one quieter hop inside a burst does not split it
    bursts = []
    for start, end in runs_of(bridged):
        if (end - start) * hop >= min_seconds:
            bursts.append((round(start * hop, 3), round(end * hop, 3)))
    return tuple(bursts)


def hops_of(span: tuple[float, float], hop: float = HOP) -> slice:
    """The hops a (start, end) span in seconds covers, at least one."""
    first = int(span[0] / hop)
    return slice(first, max(first + 1, int(np.ceil(span[1] / hop))))


def is_reaction(burst: tuple[float, float], rate: np.ndarray, hop: float = HOP,
                noisiness: np.ndarray | None = None) -> bool:
    """A burst of applause or laughter, not a raised voice: (mostly) nobody speaks during it, or
    it sounds like broadband noise (a speech model sometimes hears words in applause)."""
    spoken = rate[hops_of(burst, hop)]
    if len(spoken) > 0 and float(np.mean(spoken > 0)) < 0.5:
        return True
    return noisiness is not None and is_noisy(burst, noisiness, hop)


def is_noisy(span: tuple[float, float], noisiness: np.ndarray, hop: float = HOP) -> bool:
    """Does this stretch sound like applause, laughter or a crowd (broadband noise)?"""
    values = noisiness[hops_of(span, hop)]
    return len(values) > 0 and float(np.median(values)) >= NOISY


def burst_rise(burst: tuple[float, float], loudness: np.ndarray, hop: float = HOP,
               surroundings: float = BASELINE_SECONDS / 2) -> float:
    """How many dB the loudest part of a burst stands above the sound heard in the
    `surroundings` seconds on either side of it (0 when nothing is heard around it)."""
    inside = hops_of(burst, hop)
    if len(loudness[inside]) == 0:
        return 0.0
    peak = float(np.percentile(loudness[inside], 90))
    reach = int(round(surroundings / hop))
    around = np.concatenate([loudness[max(0, inside.start - reach): inside.start], loudness[inside.stop: inside.stop + reach]])
    heard = around[around > ACTIVE_DB]
    if len(heard) == 0:
        return max(0.0, peak - ACTIVE_DB)
    return max(0.0, peak - float(np.median(heard)))


# --- what kind of sound ---------------------------------------------------------

def hop_frames(audio: np.ndarray, size: int, frame: int) -> np.ndarray:
    """Audio as (hops, frames per hop, frame) without copying; a partial last hop is zero-padded."""
    hops = int(np.ceil(len(audio) / size))
    if hops * size != len(audio):
        audio = np.concatenate([audio, np.zeros(hops * size - len(audio), dtype=audio.dtype)])
    per_hop = size // frame
    return np.lib.stride_tricks.as_strided(
        audio, shape=(hops, per_hop, frame), strides=(size * audio.strides[0], frame * audio.strides[0], audio.strides[0]),
        writeable=False)


def spectral_flatness(audio: np.ndarray, sample_rate: int = 16000, hop: float = HOP, frame: int = FLATNESS_FRAME,
                      band: tuple[float, float] = FLATNESS_BAND) -> np.ndarray:
    """Per hop, the median spectral flatness (0-1) of its `frame`-sample frames within `band` Hz;
    frames of silence are left out, and a hop of silence is 0."""
    size = int(round(hop * sample_rate))
    if len(audio) == 0:
        return np.zeros(0, dtype=np.float32)
    frames = hop_frames(np.asarray(audio, dtype=np.float32), size, frame)
    low, high = (int(round(f * frame / sample_rate)) for f in band)
    window = np.hanning(frame).astype(np.float32)
    flatness = np.zeros(len(frames), dtype=np.float32)
    for first in range(0, len(frames), FLATNESS_CHUNK_HOPS):
        chunk = frames[first: first + FLATNESS_CHUNK_HOPS]
        spectrum = np.fft.rfft(chunk * window, axis=-1)[..., low:high]
        power = spectrum.real ** 2 + spectrum.imag ** 2 + 1e-20
        flat = np.exp(np.mean(np.log(power), axis=-1)) / np.mean(power, axis=-1)
        silent = np.mean(chunk * chunk, axis=-1) < SILENT_FRAME_POWER
        flat[silent] = np.nan
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)     # hops that are silent throughout
            flatness[first: first + len(chunk)] = np.nan_to_num(np.nanmedian(flat, axis=-1), nan=0.0)
    return flatness


def zero_crossing_rate(audio: np.ndarray, sample_rate: int = 16000, hop: float = HOP) -> np.ndarray:
    """Per hop, the share of successive samples whose sign differs (about 0.5 for white noise,
    0.05-0.15 for a voice)."""
    size = int(round(hop * sample_rate))
    if len(audio) == 0:
        return np.zeros(0, dtype=np.float32)
    negative = np.signbit(audio)
    changes = np.concatenate([[False], negative[1:] != negative[:-1]])
    hops = int(np.ceil(len(audio) / size))
    counts = np.add.reduceat(changes.astype(np.int32), np.arange(0, hops * size, size)[:hops])
    lengths = np.minimum(size, len(audio) - np.arange(hops) * size)
    return (counts / lengths).astype(np.float32)


def noisiness(flatness: np.ndarray, zero_crossings: np.ndarray) -> np.ndarray:
    """How much each hop sounds like broadband noise (applause, laughter, a crowd), 0-1: a flat
    spectrum that also crosses zero often (a flat band of low rumble does not)."""
    return (flatness * np.clip(zero_crossings / NOISY_ZCR, 0.0, 1.0)).astype(np.float32)


def find_reactions(loudness: np.ndarray, noisy: np.ndarray, hop: float = HOP,
                   baseline_seconds: float = BASELINE_SECONDS, min_seconds: float = MIN_BURST_SECONDS
                   ) -> tuple[tuple[float, float], ...]:
    """Applause or laughter by its sound rather than its level: stretches that are noise-like,
    clearly more so than what is heard around them, and not far quieter than it (room hiss in
    a pause is noise-like too, but faint), lasting `min_seconds` or more."""
    if len(loudness) == 0 or len(noisy) != len(loudness):
        return ()
    window = int(round(baseline_seconds / hop))
    heard = loudness > ACTIVE_DB
    level = rolling_median(np.where(heard, loudness, np.nan), window)
    usual = rolling_median(np.where(heard, noisy, np.nan), window)
    level = np.where(np.isnan(level), SILENCE_DB, level)
    usual = np.where(np.isnan(usual), 0.0, usual)
    reacting = heard & (noisy >= NOISY) & (noisy - usual >= NOISY_RISE) & (loudness >= level - REACTION_BELOW_DB)
    bridged = reacting.copy()
    bridged[1:-1] |= reacting[:-2] & reacting[2:]
    return tuple((round(start * hop, 3), round(end * hop, 3)) for start, end in runs_of(bridged)
                 if (end - start) * hop >= min_seconds)


def crowd_all_along(loudness: np.ndarray, noisy: np.ndarray) -> bool:
    """Is a crowd heard most of the time (a match broadcast: the roar never stops)? Then a
    smaller rise against the local level is already a moment: a goal, a wicket, a big play."""
    heard = loudness > ACTIVE_DB
    return len(noisy) == len(loudness) and bool(heard.any()) and float(np.median(noisy[heard])) >= NOISY


def merge_spans(*groups: tuple[tuple[float, float], ...]) -> tuple[tuple[float, float], ...]:
    """All spans of all groups, in time order, with overlapping or touching ones joined."""
    merged: list[list[float]] = []
    for start, end in sorted(span for group in groups for span in group):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return tuple((start, end) for start, end in merged)


# --- words -----------------------------------------------------------------

def speech_rate(words: list[Word] | tuple[Word, ...], frames: int, hop: float = HOP, window: float = 2.0) -> np.ndarray:
    """Words per second around each hop (a centred `window`), 0 where nobody is speaking."""
    rate = np.zeros(frames, dtype=np.float32)
    if frames == 0 or not words:
        return rate
    centres = np.array([(w.start + w.end) / 2 for w in words])
    hop_centres = (np.arange(frames) + 0.5) * hop
    centres.sort()
    lo = np.searchsorted(centres, hop_centres - window / 2)
    hi = np.searchsorted(centres, hop_centres + window / 2)
    rate[:] = (hi - lo) / window
    speaking = np.zeros(frames, dtype=bool)
    for w in words:
        first = int(w.start // hop)
        last = int(min(frames - 1, max(first, np.ceil(w.end / hop) - 1)))
        speaking[max(0, first): last + 1] = True
    rate[~speaking] = 0.0
    return rate


# --- picture ---------------------------------------------------------------

def scene_scores(path: Path | str, width: int = SCENE_WIDTH, keyframes_only: bool = False,
                 start: float | None = None, duration: float | None = None,
                 cancel: threading.Event | None = None, deadline: Deadline | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """(times, scores): ffmpeg's scene-change score (0-1) between successive decoded frames,
    shrunk to `width` pixels. `keyframes_only` decodes only the keyframes (a few per
    second at most, and the expensive in-between frames never); `start`/`duration` limit the
    decode to a stretch, with times still counted from the start of the file."""
    vf = f"scale={width}:-2:flags=fast_bilinear,select='gte(scene,0)',metadata=print:file=-"
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-skip_loop_filter", "all"]
    if keyframes_only:
        cmd += ["-skip_frame", "nokey"]
    if start is not None:
        cmd += ["-ss", f"{start:.3f}"]
    if duration is not None:
        cmd += ["-t", f"{duration:.3f}"]
    cmd += ["-i", str(path), "-map", "0:v:0", "-an", "-sn", "-dn", "-vf", vf, "-fps_mode", "passthrough",
            "-f", "null", "-"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while True:
        try:
            out, err = proc.communicate(timeout=0.5)
            break
        except subprocess.TimeoutExpired:
            if cancel is not None and cancel.is_set():
                proc.kill()
                proc.communicate()
                raise Cancelled("cancelled")
            if deadline is not None and deadline.passed:
                proc.kill()
                proc.communicate()
                deadline.check()
        except BaseException:               # never leave ffmpeg running behind an error
            proc.kill()
            proc.communicate()
            raise
    if proc.returncode != 0:
        # No scene cuts is a loss, not a failure: clips are still cut on sentences.
        log.warning("scene detection failed for %s: %s", path, err.strip().splitlines()[-1:] or proc.returncode)
        return np.zeros(0), np.zeros(0)
    times, scores = parse_scene_metadata(out)
    return times + (start or 0.0), scores


_FRAME = re.compile(r"pts_time:([0-9.eE+-]+)")
_SCORE = re.compile(r"lavfi\.scene_score=([0-9.eE+-]+)")


def parse_scene_metadata(text: str) -> tuple[np.ndarray, np.ndarray]:
    """The `metadata=print` output (a "frame:N pts:P pts_time:T" line, then key=value lines) -> arrays."""
    times, scores = [], []
    current = None
    for line in text.splitlines():
        frame = _FRAME.search(line)
        if frame:
            current = float(frame.group(1))
            continue
        score = _SCORE.search(line)
        if score and current is not None:
            times.append(current)
            scores.append(float(score.group(1)))
            current = None
    return np.array(times, dtype=np.float64), np.array(scores, dtype=np.float64)


def cuts_from_scores(times: np.ndarray, scores: np.ndarray, threshold: float = SCENE_THRESHOLD,
                     min_shot: float = MIN_SHOT_SECONDS) -> tuple[float, ...]:
    """Times where the score reaches `threshold`, keeping shots at least `min_shot` long
    (a flash or a fast pan gives several high scores in a row: the highest one is the cut)."""
    cuts: list[float] = []
    best: list[float] = []
    for t, s in zip(times.tolist(), scores.tolist()):
        if s < threshold:
            continue
        if cuts and t - cuts[-1] < min_shot:
            if s > best[-1]:
                cuts[-1], best[-1] = round(t, 3), s
            continue
        cuts.append(round(t, 3))
        best.append(s)
    return tuple(cuts)


def cuts_from_change(times: np.ndarray, change: np.ndarray, level: float = CUT_CHANGE, spike: float = CUT_SPIKE,
                     around: int = CUT_AROUND, min_shot: float = MIN_SHOT_SECONDS) -> tuple[float, ...]:
    """Hard cuts from the mean frame-to-frame change of a decode (`change[i]`: frame i against
    frame i-1, 0-255): a frame that changes by at least `level` and `spike` times the usual
    change of the `around` frames either side. A pan or a crowd moving changes every frame
    alike; a cut changes one frame, and the picture is still again on the next."""
    change = np.asarray(change, dtype=float)
    found: list[tuple[float, float]] = []
    for i in np.flatnonzero(change >= level):
        if i == 0:
            continue
        neighbours = np.concatenate([change[max(1, i - around):i], change[i + 1:i + 1 + around]])
        usual = float(np.median(neighbours)) if len(neighbours) else 0.0
        if change[i] >= spike * max(usual, 1.0):
            found.append((float(times[i]), float(change[i])))
    return cuts_from_scores(np.array([t for t, _ in found]), np.array([c for _, c in found]), level, min_shot)


def keyframe_gaps_to_check(times: np.ndarray, scores: np.ndarray, threshold: float = CANDIDATE_THRESHOLD
                           ) -> list[tuple[float, float]]:
    """(previous keyframe, keyframe) pairs whose pictures differ enough that a cut may lie between."""
    return [(float(times[i - 1]), float(times[i])) for i in range(1, len(times)) if scores[i] >= threshold]


def usual_keyframe_interval(times: np.ndarray) -> float:
    """The encoder's regular keyframe spacing (its GOP length): the most common interval."""
    intervals = np.round(np.diff(times), 2)
    if len(intervals) == 0:
        return 0.0
    values, counts = np.unique(intervals, return_counts=True)
    return float(values[np.argmax(counts)])


def placed_by_the_encoder(before: float, keyframe: float, usual: float) -> bool:
    """A keyframe sooner than the regular spacing was put there by the encoder's own scene-change
    detection (x264 and most encoders do this): the cut is the keyframe itself."""
    return keyframe - before < usual - 0.05


def detect_scene_cuts(path: Path | str, duration: float | None = None, threshold: float = SCENE_THRESHOLD,
                      cancel: threading.Event | None = None, deadline: Deadline | None = None) -> tuple[float, ...]:
    """Hard cuts, to the frame, without decoding the whole picture: first the keyframes alone
    (cheap). A differing keyframe the encoder placed early is the cut itself; between two
    regular keyframes that differ, and after the last keyframe (to `duration`), every frame
    is decoded to find where the cut is. When the decoder gives every frame anyway (no
    keyframe skipping), the first pass is final."""
    times, scores = scene_scores(path, keyframes_only=True, cancel=cancel, deadline=deadline)
    if len(times) == 0:
        return ()
    if len(times) > 2 and float(np.median(np.diff(times))) <= DENSE_FRAME_SECONDS:
        return cuts_from_scores(times, scores, threshold)
    # With two keyframes the spacing is unknown: a differing second one may be the encoder's regular one.
    usual = usual_keyframe_interval(times) if len(times) > 2 else 0.0
    stretches = []
    for before, keyframe in keyframe_gaps_to_check(times, scores):
        if placed_by_the_encoder(before, keyframe, usual):
            stretches.append((keyframe, keyframe))
        else:
            stretches.append((before, keyframe))
    if duration is not None and duration - times[-1] > MIN_SHOT_SECONDS:
        stretches.append((float(times[-1]), duration))
    if times[0] > MIN_SHOT_SECONDS:
        # The first keyframe was compared with nothing: the pictures before it come from a group
        # of pictures whose keyframe lies before the start of the file.
        stretches.insert(0, (0.0, float(times[0])))
    cuts: list[float] = []
    for start, end in stretches:
        if start == end:
            cuts.append(round(start, 3))
            continue
        near_times, near_scores = scene_scores(path, start=start, duration=end - start + KEYFRAME_SLACK,
                                               cancel=cancel, deadline=deadline)
        cuts += cuts_from_scores(near_times, near_scores, threshold)
    cuts = sorted(c for c in cuts if 0 < c < (duration if duration is not None else math.inf) - 0.05)
    return tuple(c for i, c in enumerate(cuts) if i == 0 or c - cuts[i - 1] >= MIN_SHOT_SECONDS)


# --- all together ------------------------------------------------------------

def compute_signals(audio: np.ndarray, words: list[Word] | tuple[Word, ...] = (),
                    scene_cuts: tuple[float, ...] = (), sample_rate: int = 16000, hop: float = HOP) -> Signals:
    from engine.signals_commentary import commentary_features

    loudness, noisy, envelope = sound_features(audio, sample_rate, hop)
    pitch, onsets, crowd, voiced = commentary_features(audio, loudness, noisy, sample_rate, hop)
    return signals_from_sound(loudness, noisy, words, scene_cuts, hop, envelope, pitch, onsets, crowd, voiced)


def sound_features(audio: np.ndarray, sample_rate: int = 16000, hop: float = HOP
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(loudness, noisiness) per hop, and the loudness per 10 ms (the envelope). All are local measures, so a long soundtrack can be
    measured a piece at a time (pieces starting on a hop) and the results joined."""
    loudness = loudness_db(audio, sample_rate, hop)
    return (loudness, noisiness(spectral_flatness(audio, sample_rate, hop), zero_crossing_rate(audio, sample_rate, hop)),
            loudness_db(audio, sample_rate, ENVELOPE_HOP))


def signals_from_sound(loudness: np.ndarray, noisy: np.ndarray, words: list[Word] | tuple[Word, ...] = (),
                       scene_cuts: tuple[float, ...] = (), hop: float = HOP,
                       envelope: np.ndarray | None = None, pitch: np.ndarray | None = None,
                       onsets: np.ndarray | None = None, crowd: np.ndarray | None = None,
                       voiced: np.ndarray | None = None) -> Signals:
    """All the signals, from the per-hop measures. engine.signals_commentary's `pitch`, `onsets`
    and `crowd` (the loudness of the crowd's own band) only matter under a crowd heard all
    along, a match broadcast: there the bursts are the crowd's rises in its own band (a
    commentator speaking up over it is not a crowd reaction), his excitement is a peak too, and
    his pitch per frame (`voiced`) tells where he talks (no cut there)."""
    from engine.signals_commentary import find_excitement, find_replays, voice_stretches

    empty = np.zeros(0, dtype=np.float32)
    if not crowd_all_along(loudness, noisy):
        bursts, measured = merge_spans(find_bursts(loudness, hop), find_reactions(loudness, noisy, hop)), False
    else:
        heard = crowd is not None and len(crowd) == len(loudness) and not np.all(np.isnan(crowd))
        crowd_level = np.where(np.isnan(crowd), SILENCE_DB, crowd) if heard else loudness
        bursts = find_bursts(crowd_level, hop, rise_db=CROWD_RISE_DB)
        measured = pitch is not None and onsets is not None and len(pitch) == len(loudness)
    excitement = find_excitement(pitch, onsets, hop) if measured else ()
    return Signals(
        hop=hop,
        loudness_db=loudness,
        bursts=bursts,
        scene_cuts=tuple(scene_cuts),
        speech_rate=speech_rate(words, len(loudness), hop),
        noisiness=noisy,
        envelope_db=envelope if envelope is not None else empty,
        pitch_hz=pitch if measured else empty,
        voice_onsets=onsets if measured else empty,
        excitement=excitement,
        replays=find_replays(tuple(scene_cuts), merge_spans(bursts, excitement)) if measured or bursts else (),
        talking=voice_stretches(voiced) if measured and voiced is not None else (),
    )

"""Commentary excitement and replays: what a match broadcast says besides its crowd.

Under a crowd that roars all along, the commentator's voice tells where the big play is: it
goes up in pitch and speeds up. And the picture cuts away after one, to close-ups and the
replay. Each signal is a small pure function over arrays:

    frame_pitch       the voice's fundamental per 20 ms frame (YIN's cumulative mean normalised
                      difference, de Cheveigne & Kawahara 2002), NaN where nothing is voiced
    voice_features    per hop: the median pitch of its voiced frames and how many voiced runs
                      begin in it (syllable nuclei are voiced: their rate is the pace)
    excitement_curve  per hop: semitones above the commentator's own local pitch, and pace
                      against his own local pace
    find_excitement   the stretches where both rise
    find_replays      after a peak, the picture cutting away (a cut, or a burst of cuts) and
                      back again
"""
from __future__ import annotations

import numpy as np

from engine.signals import HOP, crowd_all_along, hops_of, loudness_db, rolling_median, runs_of

PITCH_STEP = 0.02                  # seconds between pitch frames; a frame is two steps long
VOICE_HZ = (75.0, 400.0)           # a commentator's fundamental, low men to raised voices
VOICED_DIFFERENCE = 0.3            # YIN's threshold: a normalised difference under this is periodic
VOICED_SHARE = 0.15                # a hop needs this share of voiced frames to have a pitch
VOICE_BAND_HZ = 1000.0             # the fundamental and first harmonics; a crowd's hiss above it is left out
CROWD_BAND_HZ = 3000.0             # above this a crowd's roar is heard and a voice (but for its hiss) little
PITCH_RATE = 8000                  # samples per second the pitch is measured at (after the band is kept)
CHUNK_SECONDS = 30.0               # measured this much at a time: the band filters' FFTs stay small
PITCH_CHUNK_FRAMES = 4096          # frames analysed at a time, so memory stays small on long videos
BASELINE_SECONDS = 30.0            # the commentator's own usual pitch and pace: a rolling median this long
PACE_SECONDS = 2.0                 # voiced runs are counted over this centred window
HOLD_SECONDS = 1.0                 # a pitch carries over pauses between words this long
EXCITED_SEMITONES = 2.0            # a rise this big, with a quicker pace, is excitement
EXCITED_PACE = 1.15                # ... quicker by this factor
SHOUTED_SEMITONES = 4.0            # a rise this big is excitement at any pace
MIN_EXCITED_SECONDS = 1.5
STEADY_SEMITONES = 0.3             # a voiced run whose pitch stays within this is a note or a hum, not a syllable
WORD_GAP_SECONDS = 0.35           # a commentator's silence shorter than this is inside his phrase
UNVOICED_EDGES = (0.15, 0.25)      # unvoiced sounds before and after his voiced frames ("s", "t", "-ts")
REPLAY_AFTER_SECONDS = 12.0        # the picture cuts away this soon after a peak ends, or it is not its replay
REPLAY_SHOT_SECONDS = 8.0          # cuts this close together belong to one replay sequence (close-ups, replay, back)


def voice_band(audio: np.ndarray, sample_rate: int = 16000, band: float = VOICE_BAND_HZ,
               rate: int = PITCH_RATE) -> np.ndarray:
    """The audio below `band` Hz, resampled to `rate` (one FFT): a crowd's broadband roar
    drowns a voice's pitch far less there."""
    if len(audio) == 0:
        return np.zeros(0, dtype=np.float32)
    size = fast_length(len(audio))
    spectrum = np.fft.rfft(np.asarray(audio, dtype=np.float32), size)
    length = int(round(size * rate / sample_rate))
    kept = spectrum[: int(band * size / sample_rate) + 1]
    resampled = np.fft.irfft(kept, length) * (length / size)
    return resampled[: int(round(len(audio) * rate / sample_rate))].astype(np.float32)


def fast_length(n: int) -> int:
    """The smallest length >= n with no prime factor over 5, which the FFT does quickest."""
    while True:
        rest = n
        for p in (2, 3, 5):
            while rest % p == 0:
                rest //= p
        if rest == 1:
            return n
        n += 1


def frame_pitch(audio: np.ndarray, sample_rate: int = 16000, step: float = PITCH_STEP,
                voice: tuple[float, float] = VOICE_HZ, threshold: float = VOICED_DIFFERENCE) -> np.ndarray:
    """The fundamental frequency (Hz) of each `step`-second frame of mono audio, NaN where it is
    not voiced (noise, silence, a crowd). Frames start every `step` s and are two steps long."""
    audio, sample_rate = voice_band(audio, sample_rate), PITCH_RATE
    size = int(round(step * sample_rate))
    count = int(np.ceil(len(audio) / size)) if len(audio) else 0
    pitch = np.full(count, np.nan, dtype=np.float32)
    if count == 0:
        return pitch
    padded = np.zeros((count + 1) * size, dtype=np.float32)
    padded[: len(audio)] = audio
    frame = 2 * size
    longest = min(int(sample_rate / voice[0]), frame // 2)
    shortest = max(2, int(sample_rate / voice[1]))
    width = frame - longest                              # samples compared at every lag
    fft_size = fast_length(frame + width)
    frames = np.lib.stride_tricks.sliding_window_view(padded, frame)[::size][:count]
    lags = np.arange(longest + 1)
    for first in range(0, count, PITCH_CHUNK_FRAMES):
        x = frames[first: first + PITCH_CHUNK_FRAMES].astype(np.float64)
        head = np.fft.rfft(x[:, :width], fft_size)
        whole = np.fft.rfft(x, fft_size)
        products = np.fft.irfft(np.conj(head) * whole, fft_size)[:, : longest + 1]
        energy = np.concatenate([np.zeros((len(x), 1)), np.cumsum(x * x, axis=1)], axis=1)
        shifted = energy[:, lags + width] - energy[:, lags]
        difference = np.maximum(shifted[:, :1] + shifted - 2 * products, 0.0)
        running = np.cumsum(difference[:, 1:], axis=1)
        normalised = np.ones_like(difference)
        normalised[:, 1:] = difference[:, 1:] * lags[1:] / np.maximum(running, 1e-12)
        candidates = normalised[:, shortest: longest + 1]
        below = candidates < threshold
        voiced = below.any(axis=1) & (shifted[:, 0] > 1e-7 * width)
        first_dip = np.argmax(below, axis=1)
        # From the first lag under the threshold, on to the bottom of that dip (not a later, deeper
        # one at twice the period: that is the octave below).
        positions = np.arange(candidates.shape[1])
        in_dip = (positions >= first_dip[:, None]) & (positions < (first_dip * 1.5 + 2)[:, None])
        best = np.argmin(np.where(in_dip, candidates, np.inf), axis=1) + shortest
        found = np.where(voiced, sample_rate / best, np.nan)
        pitch[first: first + len(x)] = found
    return pitch


def voice_features(audio: np.ndarray, sample_rate: int = 16000, hop: float = HOP
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(pitch, onsets) per hop: the median pitch (Hz) of its voiced frames (NaN when too few are
    voiced) and the number of voiced runs that begin in it; and the pitch of every PITCH_STEP
    frame (NaN where not voiced). Local, so a long soundtrack can be measured a piece at a time (pieces starting on a
    hop) and the results joined."""
    hops = int(np.ceil(len(audio) / round(hop * sample_rate))) if len(audio) else 0
    per_hop = int(round(hop / PITCH_STEP))
    frames = frame_pitch(audio, sample_rate)
    padded = np.full(hops * per_hop, np.nan, dtype=np.float32)
    padded[: min(len(frames), len(padded))] = frames[: len(padded)]
    grid = padded.reshape(hops, per_hop)
    voiced = ~np.isnan(grid)
    pitch = np.full(hops, np.nan, dtype=np.float32)
    enough = voiced.mean(axis=1) >= VOICED_SHARE if hops else np.zeros(0, dtype=bool)
    if enough.any():
        pitch[enough] = np.nanmedian(grid[enough], axis=1)
    flat = voiced.reshape(-1)
    begins = flat & ~np.concatenate([[False], flat[:-1]])
    return pitch, begins.reshape(hops, per_hop).sum(axis=1).astype(np.float32), padded


def crowd_loudness(audio: np.ndarray, sample_rate: int = 16000, hop: float = HOP,
                   band: float = CROWD_BAND_HZ) -> np.ndarray:
    """Loudness per hop (dBFS) of the sound above `band` Hz: the crowd's own level, which a
    commentator speaking over it hardly moves (his voice is mostly below it)."""
    if len(audio) == 0:
        return np.zeros(0, dtype=np.float32)
    size = fast_length(len(audio))
    spectrum = np.fft.rfft(np.asarray(audio, dtype=np.float32), size)
    spectrum[: int(band * size / sample_rate)] = 0
    return loudness_db(np.fft.irfft(spectrum, size)[: len(audio)].astype(np.float32), sample_rate, hop)


def commentary_features(audio: np.ndarray, loudness: np.ndarray, noisy: np.ndarray, sample_rate: int = 16000,
                        hop: float = HOP) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(pitch, onsets, crowd) per hop and the pitch per frame, where a crowd is heard all along (a
    match broadcast): voice_features() and crowd_loudness(). Elsewhere (a talk, music) NaN, no
    onsets, NaN and NaN, without the cost of measuring them."""
    per_hop = int(round(hop / PITCH_STEP))
    if not crowd_all_along(loudness, noisy):
        nothing = np.full(len(loudness), np.nan, dtype=np.float32)
        return (nothing, np.zeros(len(loudness), dtype=np.float32), nothing.copy(),
                np.full(len(loudness) * per_hop, np.nan, dtype=np.float32))
    chunk = int(round(CHUNK_SECONDS / hop)) * int(round(hop * sample_rate))     # whole hops
    pieces = [audio[i: i + chunk] for i in range(0, len(audio), chunk)]
    parts = [(*voice_features(piece, sample_rate, hop), crowd_loudness(piece, sample_rate, hop)) for piece in pieces]
    pitch, onsets, voiced, crowd = (np.concatenate([part[k] for part in parts]) for k in range(4))
    return pitch[: len(loudness)], onsets[: len(loudness)], crowd[: len(loudness)], voiced[: len(loudness) * per_hop]


def voice_stretches(frames: np.ndarray, step: float = PITCH_STEP, gap: float = WORD_GAP_SECONDS
                    ) -> tuple[tuple[float, float], ...]:
    """Where the commentator is talking, from the pitch per frame (NaN where not voiced): his
    voiced runs, with gaps shorter than `gap` (between the syllables of a word, between words
    said in one breath, unvoiced consonants) bridged, and widened by the unvoiced sounds a word may
    begin or end on. A run whose pitch does not move at all is a held note or a hum
    (a voice's pitch glides within every syllable). A cut outside these does not cut him off
    mid-word."""
    spans: list[list[int]] = []
    for a, b in runs_of(~np.isnan(frames)):
        pitch = frames[a:b]
        if b - a >= 4 and 12 * np.log2(np.percentile(pitch, 90) / np.percentile(pitch, 10)) < STEADY_SEMITONES:
            continue
        if spans and (a - spans[-1][1]) * step < gap:
            spans[-1][1] = b
        else:
            spans.append([a, b])
    return tuple((round(max(0.0, a * step - UNVOICED_EDGES[0]), 3), round((b + 1) * step + UNVOICED_EDGES[1], 3))
                 for a, b in spans)


def hold(values: np.ndarray, hops: int) -> np.ndarray:
    """NaN gaps of up to `hops` values filled with the value before them."""
    held = values.astype(np.float32).copy()
    gap = 0
    for k in range(1, len(held)):
        if np.isnan(held[k]) and not np.isnan(held[k - 1]) and gap < hops:
            held[k] = held[k - 1]
            gap += 1
        elif not np.isnan(held[k]):
            gap = 0
    return held


def excitement_curve(pitch: np.ndarray, onsets: np.ndarray, hop: float = HOP,
                     baseline_seconds: float = BASELINE_SECONDS) -> tuple[np.ndarray, np.ndarray]:
    """(semitones, pace) per hop: how far the voice's pitch is above the commentator's own
    rolling median, and how many times quicker than his usual his pace (voiced runs per second
    over PACE_SECONDS) is; NaN where nobody speaks."""
    if len(pitch) == 0:
        return pitch.copy(), pitch.copy()
    held = hold(pitch, int(round(HOLD_SECONDS / hop)))
    window = int(round(baseline_seconds / hop))
    with np.errstate(invalid="ignore", divide="ignore"):
        semitones = 12 * np.log2(held / rolling_median(held, window))
    reach = int(round(PACE_SECONDS / hop))
    runs = np.convolve(onsets, np.ones(reach), mode="same") / PACE_SECONDS
    runs = np.where(np.isnan(held), np.nan, runs)
    with np.errstate(invalid="ignore", divide="ignore"):
        pace = runs / rolling_median(runs, window)
    return semitones.astype(np.float32), pace.astype(np.float32)


def find_excitement(pitch: np.ndarray, onsets: np.ndarray, hop: float = HOP,
                    min_seconds: float = MIN_EXCITED_SECONDS) -> tuple[tuple[float, float], ...]:
    """Stretches where the commentator's voice rises against his own local level: higher and
    quicker, or much higher; one calmer hop inside does not split them."""
    semitones, pace = excitement_curve(pitch, onsets, hop)
    with np.errstate(invalid="ignore"):
        excited = ((semitones >= EXCITED_SEMITONES) & (pace >= EXCITED_PACE)) | (semitones >= SHOUTED_SEMITONES)
    bridged = excited.copy()
    bridged[1:-1] |= excited[:-2] & excited[2:]
    return tuple((round(a * hop, 3), round(b * hop, 3)) for a, b in runs_of(bridged) if (b - a) * hop >= min_seconds)


def excitement_of(span: tuple[float, float], pitch: np.ndarray, onsets: np.ndarray,
                  hop: float = HOP) -> tuple[float, float]:
    """(semitones, pace) of a stretch: the voice's rise at its height and its pace then."""
    semitones, pace = excitement_curve(pitch, onsets, hop)
    rise, quick = semitones[hops_of(span, hop)], pace[hops_of(span, hop)]
    if len(rise) == 0 or np.all(np.isnan(rise)):
        return 0.0, 1.0
    return float(np.nanpercentile(rise, 75)), float(np.nanmedian(quick)) if not np.all(np.isnan(quick)) else 1.0


def find_replays(scene_cuts: tuple[float, ...], peaks: tuple[tuple[float, float], ...],
                 after: float = REPLAY_AFTER_SECONDS, shot: float = REPLAY_SHOT_SECONDS
                 ) -> tuple[tuple[float, float], ...]:
    """After each peak (a roar, the commentator's excitement), the picture cutting away and
    back: from the first cut within `after` s of the peak's end to the last of the cuts that
    follow it each within `shot` s (close-ups, the replay, back to the play). One cut alone
    is a cut away whose return is not seen: (cut, cut)."""
    cuts = sorted(scene_cuts)
    found: list[tuple[float, float]] = []
    for start, end in peaks:
        following = [c for c in cuts if start < c <= end + after]
        if not following or any(a <= following[0] <= b for a, b in found):
            continue
        last = following[0]
        for c in cuts:
            if last < c <= last + shot:
                last = c
        found.append((following[0], last))
    return tuple(found)

"""What a mouth's voice score reaches by chance, and crops that rest on no more than that.

A voice score is a correlation over 1.5 s (19 frames at 12.5 fps). A listener whose head turns,
whose hand with a microphone passes the chin, or who walks reaches 0.1-0.3 over a few seconds
without saying a word, and a speaker walking with a microphone at the chin can score less: then
two voices pooled over a stretch can differ twice over by chance, and the editor's "twice the
other's voice" crops on a listener while the other person speaks.

What chance gives is measured on the range itself: the same mouths against the same sound
shifted by seconds, far beyond any lip-sync delay, fit it only by chance (`chance_of`: the mean
and the spread of those scores). Pooled over a stretch, a voice that is chance alone stays near
that mean, within the spread over the square root of the separate correlation windows in it. A
crop on one person needs their voice beyond that (`beyond_chance`); otherwise both people are
shown (stacking only adds the other person: the one chosen stays in view).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from engine.reframe.editor import merge_same
from engine.reframe.stretch import Stretch
from engine.reframe.speaking import MAX_LAG_S, WINDOW_S, shifted, speaking_scores

FAR_LAGS_S = (-2.5, -2.0, -1.5, -1.0, 1.0, 1.5, 2.0, 2.5)    # the sound this far off the lips says nothing
CHANCE_Z = 1.5              # a crop's voice must be this many standard deviations beyond chance
MIN_CHANCE_FRAMES = 50      # fewer shifted scores than this say nothing about chance: no crop is doubted


@dataclass(frozen=True)
class Chance:
    """The voice score a mouth gets by chance, frame by frame: its mean and standard deviation."""

    mean: float = 0.0
    spread: float = 0.0

    def bar(self, seconds: float, window_s: float = WINDOW_S, z: float = CHANCE_Z) -> float:
        """The voice pooled over `seconds` that chance stays under: `z` standard deviations of
        the pool (the spread over the square root of the separate windows in it, at least one)
        above the mean."""
        return self.mean + z * self.spread * float(np.sqrt(window_s / max(seconds, window_s)))


def chance_of(articulations: np.ndarray, energy: np.ndarray, speaking: np.ndarray, fps: float,
              window_s: float = WINDOW_S, max_lag_s: float = MAX_LAG_S,
              far_lags_s: tuple[float, ...] = FAR_LAGS_S) -> Chance:
    """(tracks, frames) articulation -> the mean and spread of the voice score these mouths get
    from the speech energy shifted by each of `far_lags_s`, scored by speaking_scores (each
    mouth's delay chosen among the `max_lag_s` after the shift: the choice of the best delay
    lifts a score by chance too), over the frames where the face is there before and after the
    shift; no Chance (0, 0) when too few."""
    values = []
    frames = articulations.shape[-1]
    for far in (int(round(s * fps)) for s in far_lags_s):
        if abs(far) + int(round(max_lag_s * fps)) + 1 >= frames:
            continue                    # a shift beyond the range leaves nothing to correlate
        moved = np.array([shifted(mouth, far) for mouth in articulations])
        there = ~np.isnan(articulations) & ~np.isnan(moved)
        values.append(speaking_scores(moved, energy, speaking, fps, window_s, max_lag_s)[there])
    values = np.concatenate(values) if values else np.zeros(0)
    return Chance(float(np.mean(values)), float(np.std(values))) if len(values) >= MIN_CHANCE_FRAMES else Chance()


def beyond_chance(stretches: list[Stretch], times: np.ndarray, scores: dict[int, np.ndarray],
                  chance: Chance) -> list[Stretch]:
    """Each one-person crop whose person's voice, pooled over the stretch (`scores`: per track
    id, over `times`), stays under what chance reaches over a stretch that long (Chance.bar):
    both shown stacked, that person with the next voice, the reason saying so."""
    out = []
    for s in stretches:
        span = (times >= s.start) & (times < s.end)
        # A crop shorter than one correlation window (a shot's last half second after a cut) holds
        # one window's evidence, pooled over nothing: it is left as the shot made it.
        if (s.layout != "crop" or len(s.tracks) != 1 or len(scores) < 2 or not span.any()
                or s.end - s.start < WINDOW_S or s.tracks[0] not in scores or chance.spread <= 0):
            out.append(s)
            continue
        chosen = s.tracks[0]
        voice = {i: float(np.mean(v[span])) for i, v in scores.items()}
        bar = chance.bar(s.end - s.start)
        if voice[chosen] > bar:
            out.append(s)
            continue
        rival = max((i for i in voice if i != chosen), key=voice.get)
        out.append(replace(s, layout="stacked", tracks=(chosen, rival), parts=(),
                           reason=f"#{chosen}'s voice {voice[chosen]:.2f} (#{rival} {voice[rival]:.2f}) is no more than "
                                  f"a mouth gets by chance over {s.end - s.start:.1f} s ({bar:.2f})"))
    return merge_same(out)

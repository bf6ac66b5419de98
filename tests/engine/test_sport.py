"""Sport: moments chosen by sound on a broadcast where the crowd roars all along."""
from __future__ import annotations

import numpy as np

from engine.highlights.selection import choose_moments
from engine.instructions import parse_instruction
from engine.signals import compute_signals, crowd_all_along
from tests.media import SAMPLE_RATE, crowd_audio, read_wav, speak

ROAR = (35.0, 4.0)          # start, seconds


def broadcast(rise_db: float | None) -> np.ndarray:
    """60 s of a loud crowd (its level swells by about 2 dB), a roar `rise_db` louder at 35-39 s (None: no roar)."""
    roars = [] if rise_db is None else [(ROAR[0], ROAR[1], rise_db)]
    return crowd_audio(60.0, roars, bed_rms=0.15, seed=2)


def test_a_roar_over_a_constant_roar_gives_a_moment_around_it():
    signals = compute_signals(broadcast(4.0), sample_rate=SAMPLE_RATE)
    assert crowd_all_along(signals.loudness_db, signals.noisiness)
    selection = choose_moments([], signals, parse_instruction("cut two 15-second shorts"), 60.0)
    best = selection.moments[0]
    assert best.start <= ROAR[0] - 3 and best.end >= ROAR[0] + ROAR[1]      # the build-up and the whole roar
    assert 13.5 <= best.duration <= 16.5 and not best.weak
    # two were asked for: the second is made up of the rest, does not overlap, and is marked weak
    assert len(selection.moments) == 2
    second = selection.moments[1]
    assert second.weak and (second.end <= best.start or second.start >= best.end)
    assert [n.kind for n in selection.notes] == ["weak"] and selection.notes[0].ranks == (2,)


def test_without_a_roar_nothing_stands_out_and_evenly_spaced_moments_are_offered():
    signals = compute_signals(broadcast(None), sample_rate=SAMPLE_RATE)
    selection = choose_moments([], signals, parse_instruction("cut two 15-second shorts"), 60.0)
    assert [n.kind for n in selection.notes] == ["nothing_stands_out"]
    starts = sorted(m.start for m in selection.moments)
    assert len(starts) == 2 and starts[0] < 20 <= starts[1]


def test_a_voice_is_not_a_crowd(tmp_path):
    """The smaller rise counts only under a crowd: a talk's own ups and downs are not moments."""
    voice = read_wav(speak("The committee met on Tuesday and agreed the budget for next year. " * 4,
                           tmp_path / "talk.wav"))
    signals = compute_signals(voice, sample_rate=SAMPLE_RATE)
    assert not crowd_all_along(signals.loudness_db, signals.noisiness)

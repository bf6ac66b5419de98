"""Edges of moments chosen by their sound (music, a crowd): in the dip before a beat, never on
a loud onset, wherever the 0.5 s loudness hops happen to fall."""
from __future__ import annotations

import numpy as np
import pytest

from engine.highlights.selection import choose_moments
from engine.instructions import parse_instruction
from engine.signals import ENVELOPE_HOP, compute_signals

RATE = 16000                        # the engine's own rate: its 10 ms envelope frames are whole samples
BEAT = 0.6                          # 100 beats a minute: the beats drift across the 0.5 s hops
CHORUS = (24.0, 30.0)               # a louder passage: a burst, so a moment forms around it


def drum_track(seconds: float = 60.0, first_beat: float = 0.13, seed: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """(audio, beat times): a struck, fast-decaying note on every beat over a soft pad, louder
    (+9 dB) through the chorus."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    t = np.arange(n) / RATE
    audio = (0.01 * np.sin(2 * np.pi * 110 * t) + rng.normal(0, 0.002, n)).astype(np.float32)
    beats = np.arange(first_beat, seconds - 0.3, BEAT)
    hit_t = np.arange(int(0.3 * RATE)) / RATE
    hit = (np.sin(2 * np.pi * 180 * hit_t) + 0.5 * rng.normal(0, 1, len(hit_t))) * np.exp(-hit_t / 0.05)
    for b in beats:
        gain = 0.8 if CHORUS[0] <= b < CHORUS[1] else 0.28
        first = int(b * RATE)
        audio[first: first + len(hit)] += (gain * hit[: n - first]).astype(np.float32)
    return audio, beats


@pytest.mark.parametrize("first_beat", [0.0, 0.13, 0.25, 0.41])
def test_no_sound_moment_is_cut_on_a_beat(first_beat):
    audio, beats = drum_track(first_beat=first_beat)
    signals = compute_signals(audio, sample_rate=RATE)
    selection = choose_moments([], signals, parse_instruction("cut three 10-second shorts"), 60.0)
    edges = [t for m in selection.moments for t in (m.start, m.end) if 0.3 < t < 59.7]
    assert len(edges) >= 4
    envelope = signals.envelope_db
    for t in edges:
        since_beat = t - beats[beats <= t + 1e-6].max(initial=-10.0)
        # not on the hit nor in its ring (it falls to the pad's level within about 0.2 s), but in the dip
        assert since_beat >= 0.15, (t, since_beat)
        k = int(t / ENVELOPE_HOP)
        floor = float(np.percentile(envelope[max(0, k - 60): k + 60], 10))
        assert envelope[k] <= floor + 3, (t, envelope[k], floor)

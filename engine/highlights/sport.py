"""Sport: a broadcast's peaks besides its crowd's roar (the commentator's excitement) and the
picture cutting away to the replay after one; windows that end on that cut or hold the
replay, and what those add to a sound moment's scores."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.models import Signals
from engine.signals import merge_spans
from engine.signals_commentary import excitement_of

REPLAY_EDGE_SECONDS = 0.3              # an end this close to a replay's cut ends on it
REPLAY_LEAD_SECONDS = 4.0              # an end this little before it stops for the replay (he talks over the cut)


@dataclass(frozen=True)
class Excitement:
    span: tuple[float, float]
    semitones: float                   # how far the commentator's voice rose above his own usual pitch
    pace: float                        # how many times quicker than his usual he speaks


def excitements(signals: Signals) -> list[Excitement]:
    return [Excitement(span, *excitement_of(span, signals.pitch_hz, signals.voice_onsets, signals.hop))
            for span in signals.excitement]


def peaks(signals: Signals) -> tuple[tuple[float, float], ...]:
    """What a sound moment is built around: the bursts (a roar, applause) and the commentator's
    excitement, overlapping ones joined."""
    return merge_spans(signals.bursts, signals.excitement)


def replay_after(peak: tuple[float, float], signals: Signals) -> tuple[float, float] | None:
    """The replay sequence (first cut, last cut) that follows this peak, if the picture cuts away."""
    return next((r for r in signals.replays if peak[0] < r[0] and (peak[1] <= r[0] or r[0] - peak[0] > 1.0)), None)


def replay_ends(peak: tuple[float, float], signals: Signals) -> list[float]:
    """Where a window around this peak may end for its replay: on the cut away (the replay cut
    off) and, when the picture is seen coming back, on that cut (the replay held)."""
    replay = replay_after(peak, signals)
    if replay is None:
        return []
    return [replay[0]] + ([replay[1]] if replay[1] > replay[0] else [])


def excitement_inside(start: float, end: float, found: list[Excitement]) -> Excitement | None:
    inside = [e for e in found if e.span[0] < end and e.span[1] > start]
    return max(inside, key=lambda e: e.semitones) if inside else None


def excitement_score(e: Excitement) -> float:
    """0-100: four semitones higher and a third quicker is a big moment."""
    return float(np.clip(10 + 12 * e.semitones + 60 * max(0.0, e.pace - 1.0), 0, 100))


def excitement_reason(e: Excitement, clock) -> str:
    quicker = f" and speaks {e.pace:.1f}x quicker" if e.pace >= 1.1 else ""
    return f"the commentator's voice rises {e.semitones:.1f} semitones{quicker} at {clock(e.span[0])}"


def replay_payoff(start: float, end: float, signals: Signals, clock) -> tuple[float, str]:
    """Points and a note for how a window meets the replay after its peak: ending on the cut to
    it (the play whole, the replay left out on purpose), or in the commentator's pause just before
    it when he talks over the cut, or holding it to the cut back."""
    for first, last in signals.replays:
        if abs(end - first) <= REPLAY_EDGE_SECONDS:
            return 25.0, f"ends as the picture cuts away to the replay at {clock(first)}"
        if last > first and start < first and abs(end - last) <= REPLAY_EDGE_SECONDS:
            return 20.0, f"holds the replay ({clock(first)}-{clock(last)}) to the cut back"
        if start < first < end - REPLAY_EDGE_SECONDS:
            return 5.0, f"cuts away to the replay at {clock(first)}"
        if 0 < first - end <= REPLAY_LEAD_SECONDS:
            return 15.0, f"stops just before the replay at {clock(first)}, where the commentator pauses"
    return 0.0, ""

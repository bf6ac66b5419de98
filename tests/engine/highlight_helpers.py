"""Hand-made sentences and signals for the highlight tests: sentences with evenly spaced words,
a script of sentences with pauses, a flat loudness track with loud stretches."""
from __future__ import annotations

import numpy as np

from engine.models import Sentence, Signals, Word


HOP = 0.5


def sentence(start: float, end: float, text: str) -> Sentence:
    parts = text.split(" ")
    step = (end - start) / len(parts)
    words = tuple(Word(round(start + i * step, 3), round(start + (i + 1) * step - 0.02, 3), " " + p)
                  for i, p in enumerate(parts))
    return Sentence(start=words[0].start, end=words[-1].end, text=text, words=words)


def script(texts: list[str], each: float = 4.0, pause: float = 0.6, start: float = 0.5) -> list[Sentence]:
    out, t = [], start
    for text in texts:
        out.append(sentence(t, t + each, text))
        t += each + pause
    return out


def flat_signals(duration: float, level: float = -30.0, loud: list[tuple[float, float, float]] = (),
                 bursts: tuple = (), words_until: float | None = None) -> Signals:
    frames = int(np.ceil(duration / HOP))
    loudness = np.full(frames, level, dtype=np.float32)
    for start, end, db in loud:
        loudness[int(start / HOP): int(end / HOP)] = db
    rate = np.full(frames, 2.5, dtype=np.float32)
    for start, end in bursts:
        rate[int(start / HOP): int(end / HOP)] = 0.0          # nobody talks during applause
    return Signals(hop=HOP, loudness_db=loudness, bursts=tuple(bursts), scene_cuts=(), speech_rate=rate)


DULL = "The meeting room has green chairs and a small table by the door."

"""Windows from a sentence start to a sentence end, as long as asked."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable

from engine.edges import RunOn
from engine.models import ClipRequest, Sentence

END_SHORTFALL = 0.75                   # a window running into the end of the speech may be this share of the shortest
LENGTH_TOLERANCE = 0.10                # an asked length is kept within ±10 %
# What the cuts in the pause add to a span from a first word's start to a last word's end:
# a lead-in and a tail of 0.15-0.3 s each (engine.edges).
EDGE_PADDING = (0.3, 0.6)


@dataclass
class Candidate:
    first: int                        # index of its first sentence (-1 for a moment chosen by its sound)
    last: int                         # index of its last sentence (inclusive)
    start: float
    end: float
    scores: dict[str, float] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
    total: float = 0.0
    kind: str = "speech"              # "speech": on sentence edges; "sound": around bursts, where nobody speaks
    edges: tuple[str, str] = ("", "")  # for a sound moment, what its start and end sit on ("a scene cut", ...)
    filler: bool = False              # evenly spaced, because nothing (or too little) stood out

    @property
    def duration(self) -> float:
        return self.end - self.start


def length_bounds(request: ClipRequest) -> tuple[float, float, float]:
    """(shortest, longest, target) seconds of speech, first word to last, for one clip. An asked
    length is kept within ±10 % once the cuts in the pause have added their lead-in and tail."""
    if request.length:
        low = request.length * (1 - LENGTH_TOLERANCE) - EDGE_PADDING[0]
        high = request.length * (1 + LENGTH_TOLERANCE) - EDGE_PADDING[1]
        return low, max(low, high), request.length - sum(EDGE_PADDING) / 2
    return request.min_length, request.max_length, (request.min_length + request.max_length) / 2


def range_bounds(request: ClipRequest, duration: float) -> tuple[float, float]:
    """The (start, end) seconds asked for, ending at `duration` at the latest (where a video's
    pictures end, when its sound runs on: see engine.probe); infinite when open and unknown."""
    start, end = request.range_start, request.range_end
    if start is not None and start < 0:
        start = max(0.0, duration + start)       # "the last 5 minutes"
    start = start or 0.0
    end = end if end is not None else math.inf
    if duration > 0:
        end = min(end, duration)
    if request.range_start_fraction is not None:
        start = max(start, request.range_start_fraction * duration)    # "the second half"
    if request.range_end_fraction is not None:
        end = min(end, request.range_end_fraction * duration)
    return start, end


def sentences_in_range(sentences: list[Sentence], request: ClipRequest, duration: float) -> list[Sentence]:
    start, end = range_bounds(request, duration)
    return [s for s in sentences if s.start >= start - 0.25 and s.end <= end + 0.25]


def candidate_windows(sentences: list[Sentence], low: float, high: float, target: float,
                      run_on: RunOn | None = None) -> list[Candidate]:
    """Every window from a sentence start to a sentence end lasting low..high seconds. Where the
    sentence ends jump over that span (a long sentence), the end nearest to it is taken instead,
    and near the end of the speech its last sentence end, if not much shorter; when the whole
    speech is shorter than that, one window holds all of it.

    With `run_on` (engine.edges.run_on_sentences), a window neither starts on a sentence the
    speaker ran straight into nor ends on one he ran straight on from: Whisper's full stop there
    is not a pause. Only when no such window lasts low..high are the windows of that length
    that do start or end there added, so that the length asked is kept where the pauses cannot."""
    n = len(sentences)
    if run_on is None:
        found = windows_between(sentences, low, high, range(n), set(range(n)))
    else:
        starts = [i for i in range(n) if not run_on.into[i]]
        ends = {j for j in range(n) if not run_on.on_from[j] or j == n - 1}
        found = windows_between(sentences, low, high, starts, ends)
        if not any(low - 0.05 <= c.duration <= high + 0.05 for c in found):
            taken = {(c.first, c.last) for c in found}
            found += [c for c in windows_between(sentences, low, high, range(n), set(range(n)))
                      if low - 0.05 <= c.duration <= high + 0.05 and (c.first, c.last) not in taken]
        if not found:
            found = windows_between(sentences, low, high, range(n), set(range(n)))
    if not found and sentences:
        found.append(Candidate(0, n - 1, sentences[0].start, sentences[-1].end))
    return found


def windows_between(sentences: list[Sentence], low: float, high: float, starts: Iterable[int],
                    ends: set[int]) -> list[Candidate]:
    """candidate_windows' windows that start on one of the sentences `starts` and end on one of `ends`."""
    found = []
    n = len(sentences)
    for i in starts:
        below = None                          # the last end before the span
        inside = []
        for j in range(i, n):
            if j not in ends:
                continue
            length = sentences[j].end - sentences[i].start
            if length < low:
                below = j
            elif length <= high:
                inside.append(j)
            else:
                if not inside:                # jumped over: the nearer of the two edges around the span
                    above_gap = length - high
                    below_gap = low - (sentences[below].end - sentences[i].start) if below is not None else math.inf
                    inside.append(j if above_gap <= below_gap else below)
                break
        else:
            if not inside and below is not None and sentences[below].end - sentences[i].start >= END_SHORTFALL * low:
                inside.append(below)          # the speech ends before the span: its last sentence is the nearest edge
        found += [Candidate(i, j, sentences[i].start, sentences[j].end) for j in inside]
    return found

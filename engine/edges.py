"""Clip edges in the pause: where exactly a clip starts and ends, found in the sound itself.

Whisper's word times are often a few hundred milliseconds off, so a cut placed on them can
clip the first or last word. Here the cut is moved into the silence next to the word, found
in a 10 ms loudness envelope near Whisper's boundary:

    start: the quiet run (a pause) whose end, where the speech starts again, is nearest to
           the first word's start; the cut goes a short lead-in (0.15-0.3 s) before the
           speech, never further back than the middle of the pause;
    end:   the quiet run whose start, where the speech stops, is nearest to the last word's
           end; the cut goes a short tail after it, never past the middle of the pause.

Where two sentences run together with no pause (no quiet run, or one too short for a
lead-in), the cut is the quietest point between them. Each edge says which of the two it
is, so callers and tests can see why it is where it is.

Whisper also writes full stops where the speaker did not stop (a comedian running straight
on into the punchline). run_on_sentences tells, by the sound, which sentences the speaker
runs straight into or straight on from (no quiet run of SENTENCE_PAUSE between the words),
so that the highlights do not start or end a clip there (engine.highlights.candidates).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.models import Sentence, Signals, Word
from engine.signals import ENVELOPE_HOP, runs_of

SEARCH_SECONDS = 0.6         # how far from Whisper's boundary, towards the pause, the real one may be
INTO_WORD_SECONDS = 0.35     # and how far the other way (Whisper early: the word starts later)
LEAD = 0.25                  # lead-in before the first word / tail after the last, when the pause allows
SHORTEST_LEAD = 0.15         # a pause with room for less than this on both sides is "run together"
SHORTEST_PAUSE = 0.08        # a quiet run shorter than this is a closure inside a word, not a pause
LOCAL_SECONDS = 2.0          # the neighbourhood whose quietest and loudest frames set the threshold
QUIET_SHARE = 0.3            # quiet: below floor + this share of (speech level - floor), in dB
LEAST_CONTRAST_DB = 6.0      # with less between floor and speech, nothing is quiet: take the quietest point
LENGTH_WEIGHT = 0.5          # a longer pause is likelier the real one: seconds of distance forgiven per second
EDGE_FADE = 0.008            # seconds of audio fade at every cut, so that no cut clicks (engine.render)
SENTENCE_PAUSE = 0.15        # quiet this long is a pause between sentences; shorter ones are between words
SWALLOWED_PAUSE = 0.2        # quiet this long inside one word's time is a pause Whisper stretched the word over


@dataclass(frozen=True)
class Edge:
    time: float              # the cut, seconds in the source
    speech: float            # where the speech starts (a start edge) or stops (an end edge), by the sound
    kind: str                # "pause": a lead-in / tail inside a pause; "quietest": no pause, the quietest point
    whisper: float           # the word time it was found from


def quiet_mask(envelope: np.ndarray, first: int, last: int, centre: int) -> np.ndarray | None:
    """Which frames of envelope[first:last] are quiet, judged against the frames within
    LOCAL_SECONDS of `centre`; None when the neighbourhood has no contrast to judge by."""
    reach = int(LOCAL_SECONDS / ENVELOPE_HOP)
    local = envelope[max(0, centre - reach): centre + reach]
    if len(local) == 0:
        return None
    floor, speech = float(np.percentile(local, 10)), float(np.percentile(local, 95))
    if speech - floor < LEAST_CONTRAST_DB:
        return None
    return envelope[first:last] < floor + QUIET_SHARE * (speech - floor)


def quietest(envelope: np.ndarray, first: int, last: int, near: float) -> float:
    """The time of the quietest frame in [first, last), the nearest to `near` among equals."""
    window = envelope[first:last]
    if len(window) == 0:
        return near
    low = float(np.min(window))
    candidates = np.flatnonzero(window <= low + 0.1)
    times = (first + candidates + 0.5) * ENVELOPE_HOP
    return float(times[np.argmin(np.abs(times - near))])


def sentence_like(pauses: list[tuple[int, int, bool]]) -> list[tuple[int, int, bool]]:
    """The pauses long enough to be between sentences (or reaching past the search)."""
    return [p for p in pauses if p[2] or (p[1] - p[0]) * ENVELOPE_HOP >= SENTENCE_PAUSE]


def start_edge(envelope: np.ndarray, word_start: float, earliest: float = 0.0) -> Edge:
    """The cut before a clip's first word (Whisper's start `word_start`), not before `earliest`
    (the middle of the word before it, if any)."""
    lo = max(earliest, word_start - SEARCH_SECONDS, 0.0)
    hi = word_start + INTO_WORD_SECONDS
    first, last = int(lo / ENVELOPE_HOP), min(len(envelope), int(np.ceil(hi / ENVELOPE_HOP)))
    quiet = quiet_mask(envelope, first, last, int(word_start / ENVELOPE_HOP))
    pauses = []
    if quiet is not None:
        for a, b in runs_of(quiet):
            if b >= len(quiet):
                continue                       # still quiet at the end of the search: the speech starts later
            length = (b - a) * ENVELOPE_HOP
            open_before = a == 0               # the pause began before the search window
            if length >= SHORTEST_PAUSE or open_before:
                pauses.append((first + a, first + b, open_before))
    if not pauses:
        cut = quietest(envelope, int(max(lo, word_start - 0.3) / ENVELOPE_HOP), int((word_start + 0.1) / ENVELOPE_HOP) + 1,
                       word_start)
        return Edge(round(cut, 3), round(cut, 3), "quietest", word_start)

    def distance(pause: tuple[int, int, bool]) -> float:
        a, b, open_before = pause
        length = SEARCH_SECONDS if open_before else (b - a) * ENVELOPE_HOP
        return abs(b * ENVELOPE_HOP - word_start) - LENGTH_WEIGHT * min(length, SEARCH_SECONDS)

    a, b, open_before = min(sentence_like(pauses) or pauses, key=distance)
    onset = b * ENVELOPE_HOP
    room = LEAD if open_before else (b - a) * ENVELOPE_HOP / 2
    if room < SHORTEST_LEAD and not open_before:
        cut = quietest(envelope, a, b, (a + b) / 2 * ENVELOPE_HOP)
        return Edge(round(cut, 3), round(onset, 3), "quietest", word_start)
    return Edge(round(max(lo, onset - min(LEAD, room)), 3), round(onset, 3), "pause", word_start)


def end_edge(envelope: np.ndarray, word_end: float, latest: float) -> Edge:
    """The cut after a clip's last word (Whisper's end `word_end`), not after `latest` (the
    middle of the word after it, or the end of the sound)."""
    lo = max(0.0, word_end - INTO_WORD_SECONDS)
    hi = min(latest, word_end + SEARCH_SECONDS)
    first, last = int(lo / ENVELOPE_HOP), min(len(envelope), int(np.ceil(hi / ENVELOPE_HOP)))
    quiet = quiet_mask(envelope, first, last, int(word_end / ENVELOPE_HOP))
    pauses = []
    if quiet is not None:
        for a, b in runs_of(quiet):
            if a == 0:
                continue                       # quiet from the start of the search: the speech stopped earlier
            length = (b - a) * ENVELOPE_HOP
            open_after = b >= len(quiet)
            if length >= SHORTEST_PAUSE or open_after:
                pauses.append((first + a, first + b, open_after))
    if not pauses:
        cut = quietest(envelope, int((word_end - 0.1) / ENVELOPE_HOP), int(min(hi, word_end + 0.3) / ENVELOPE_HOP) + 1,
                       word_end)
        return Edge(round(cut, 3), round(cut, 3), "quietest", word_end)

    def distance(pause: tuple[int, int, bool]) -> float:
        a, b, open_after = pause
        length = SEARCH_SECONDS if open_after else (b - a) * ENVELOPE_HOP
        return abs(a * ENVELOPE_HOP - word_end) - LENGTH_WEIGHT * min(length, SEARCH_SECONDS)

    a, b, open_after = min(sentence_like(pauses) or pauses, key=distance)
    offset = a * ENVELOPE_HOP
    room = (b - a) * ENVELOPE_HOP if open_after else (b - a) * ENVELOPE_HOP / 2
    if room < SHORTEST_LEAD and not open_after:
        cut = quietest(envelope, a, b, (a + b) / 2 * ENVELOPE_HOP)
        return Edge(round(cut, 3), round(offset, 3), "quietest", word_end)
    return Edge(round(min(latest, offset + min(LEAD, room)), 3), round(offset, 3), "pause", word_end)


def heard_span(word: Word, envelope: np.ndarray) -> tuple[float, float]:
    """Whisper's (start, end) of a word without the pause it was stretched over: Whisper often
    lets a sentence's last word run on through the silence after it (or a first word start in
    the silence before it). A quiet run of SWALLOWED_PAUSE or more inside the word's time,
    after (before) its sound, ends (starts) the word there."""
    first, last = int(word.start / ENVELOPE_HOP), min(len(envelope), int(np.ceil(word.end / ENVELOPE_HOP)))
    quiet = quiet_mask(envelope, first, last, (first + last) // 2)
    if quiet is None or last - first < 2:
        return word.start, word.end
    shortest = int(round(SWALLOWED_PAUSE / ENVELOPE_HOP))
    pauses = [(a, b) for a, b in runs_of(quiet) if b - a >= shortest]
    loud = np.flatnonzero(~quiet)
    if not pauses or len(loud) == 0:
        return word.start, word.end
    start, end = word.start, word.end
    after_sound = [a for a, b in pauses if a > loud[0]]
    if after_sound:
        end = (first + after_sound[0]) * ENVELOPE_HOP
    before_sound = [b for a, b in pauses if b <= loud[-1] and (first + b) * ENVELOPE_HOP < end]
    if before_sound:
        start = (first + before_sound[-1]) * ENVELOPE_HOP
    return round(start, 3), round(max(start, end), 3)


def pause_between(envelope: np.ndarray, last: Word, following: Word) -> float | None:
    """Seconds of the longest quiet run between the sound of `last` and of `following` (the
    next word), looked for as far as Whisper's times may be off (INTO_WORD_SECONDS into each
    word, never past its middle); None when the sound there has no contrast to judge by."""
    end, start = heard_span(last, envelope)[1], heard_span(following, envelope)[0]
    lo = max(sum(heard_span(last, envelope)) / 2, end - INTO_WORD_SECONDS)
    hi = min(sum(heard_span(following, envelope)) / 2, start + INTO_WORD_SECONDS)
    hi = max(hi, end + SHORTEST_PAUSE)
    first, stop = int(lo / ENVELOPE_HOP), min(len(envelope), int(np.ceil(hi / ENVELOPE_HOP)))
    if stop <= first:
        return None
    quiet = quiet_mask(envelope, first, stop, int((end + start) / 2 / ENVELOPE_HOP))
    if quiet is None:
        return None
    return max(((b - a) * ENVELOPE_HOP for a, b in runs_of(quiet)), default=0.0)


PHRASE_PAUSE = 0.15       # a pause between two words of a sentence this long ends a phrase (a breath)
PHRASE_MARKS = (",", ";", ":", "，", "、", "；", "：")


@dataclass(frozen=True)
class RunOn:
    """Per sentence (in the order given): does the speaker run straight into it from the word
    before, and straight on from it into the word after, with no pause between? False where
    there is no such word, or the sound cannot tell (no words, no contrast)."""
    into: tuple[bool, ...]
    on_from: tuple[bool, ...]


def run_on_sentences(sentences: list[Sentence], words: list[Word], envelope: np.ndarray) -> RunOn:
    """Which of `sentences` the speaker runs into or on from; `words` are all of the video's, in time order."""
    position = {id(w): k for k, w in enumerate(words)}

    def runs_together(before: int, after: int) -> bool:
        if before < 0 or after >= len(words) or len(envelope) == 0:
            return False
        pause = pause_between(envelope, words[before], words[after])
        return pause is not None and pause < SENTENCE_PAUSE - ENVELOPE_HOP / 2

    into, on_from = [], []
    for s in sentences:
        first, last = (position.get(id(s.words[0])), position.get(id(s.words[-1]))) if s.words else (None, None)
        into.append(first is not None and runs_together(first - 1, first))
        on_from.append(last is not None and runs_together(last, last + 1))
    return RunOn(tuple(into), tuple(on_from))


def run_on_edges(sentences: list[Sentence], envelope: np.ndarray) -> frozenset[float]:
    """The sentence starts the speaker runs straight into and the ends he runs straight on from
    (engine.highlights avoids both; an edit takes one only when a clean edge is much further
    from what was asked: bot.edits)."""
    run_on = run_on_sentences(sentences, [w for s in sentences for w in s.words], envelope)
    return frozenset([s.start for s, into in zip(sentences, run_on.into) if into]
                     + [s.end for s, on in zip(sentences, run_on.on_from) if on])


def phrase_edges(sentences: list[Sentence], envelope: np.ndarray,
                 pause: float = PHRASE_PAUSE) -> tuple[frozenset[float], frozenset[float]]:
    """(starts, ends) of the phrases inside sentences: after a comma, or where the sound pauses
    `pause` seconds between two words (Whisper's word times touch even where the speaker
    breathes). Second choices for an edit when no sentence edge is near."""
    starts, ends = [], []
    for s in sentences:
        for before, after in zip(s.words, s.words[1:]):
            quiet = pause_between(envelope, before, after) if len(envelope) else None
            if before.text.strip().endswith(PHRASE_MARKS) or max(after.start - before.end, quiet or 0.0) >= pause:
                starts.append(after.start)
                ends.append(before.end)
    return frozenset(starts), frozenset(ends)


def edit_edges(sentences: list[Sentence], envelope: np.ndarray
               ) -> tuple[tuple[float, ...], tuple[float, ...], frozenset[float]]:
    """(starts, ends, second choices) an edit snaps a clip's edges to (bot.edits): the sentences'
    edges and the phrases' inside them; the phrase edges and the sentence edges the speaker runs
    straight on from are second choices."""
    phrase_starts, phrase_ends = phrase_edges(sentences, envelope)
    starts = tuple(sorted({s.start for s in sentences} | phrase_starts))
    ends = tuple(sorted({s.end for s in sentences} | phrase_ends))
    return starts, ends, run_on_edges(sentences, envelope) | phrase_starts | phrase_ends


def word_before(words: list[Word], t: float) -> Word | None:
    """The last word ending by `t` (plus a little: Whisper's words may touch)."""
    found = None
    for w in words:
        if w.start >= t - 1e-6:
            break
        found = w
    return found


def word_after(words: list[Word], t: float) -> Word | None:
    for w in words:
        if w.end > t + 1e-6 and w.start >= t - 1e-6:
            return w
    return None


def word_at(words: list[Word], t: float, starting: bool) -> Word | None:
    """The word that starts (or ends) at `t`."""
    return next((w for w in words if abs((w.start if starting else w.end) - t) < 1e-3), None)


def clip_edges(signals: Signals, words: list[Word], start: float, end: float, duration: float) -> tuple[Edge, Edge] | None:
    """The cuts for a clip whose first word starts at `start` and last word ends at `end`
    (Whisper's times); `words` are all of the video's, in time order. None when the sound
    was not measured finely enough to tell. The words at the edges count where they are heard
    (heard_span), and a cut goes no further than the middle of the word before or after."""
    envelope = signals.envelope_db
    if len(envelope) == 0:
        return None
    first, last = word_at(words, start, starting=True), word_at(words, end, starting=False)
    heard_start = heard_span(first, envelope)[0] if first is not None else start
    heard_end = heard_span(last, envelope)[1] if last is not None else end
    before = word_before(words, start)
    after = word_after(words, end)
    earliest = sum(heard_span(before, envelope)) / 2 if before is not None else 0.0
    latest = sum(heard_span(after, envelope)) / 2 if after is not None else min(duration, len(envelope) * ENVELOPE_HOP)
    return start_edge(envelope, heard_start, earliest), end_edge(envelope, heard_end, latest)


def edge_spans(signals: Signals, words: list[Word], segments: list[tuple[float, float]], duration: float,
               only_on_words: bool = False) -> list[tuple[float, float]]:
    """Each (start, end) on word edges moved into the pauses; unchanged where not measured.
    With `only_on_words`, an edge that is not a word's start (or end) stays where it is (a
    reel's piece chosen by its sound is already in a quiet point or on a cut)."""
    moved = []
    for start, end in segments:
        edges = clip_edges(signals, words, start, end, duration)
        if edges is None:
            moved.append((start, end))
            continue
        new_start, new_end = edges[0].time, edges[1].time
        if only_on_words:
            new_start = new_start if any(abs(w.start - start) < 1e-3 for w in words) else start
            new_end = new_end if any(abs(w.end - end) < 1e-3 for w in words) else end
        moved.append((new_start, new_end))
    return moved


def edge_fades(length: float, fade: float = EDGE_FADE) -> str:
    """A fade in and out of a few ms at a segment's cuts, so that no cut clicks."""
    fade = min(fade, length / 4)
    return f"afade=t=in:d={fade:.3f},afade=t=out:st={max(0.0, length - fade):.3f}:d={fade:.3f}"

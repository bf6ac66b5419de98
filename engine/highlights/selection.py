"""Choosing: the best windows spread over the video, or the pieces of a reel; scoring each window."""
from __future__ import annotations

import bisect
import math
from collections import Counter
from dataclasses import replace
from typing import Callable

import numpy as np

from engine.edges import edge_spans, run_on_sentences
from engine.highlights.candidates import (LENGTH_TOLERANCE, Candidate, candidate_windows, length_bounds, range_bounds,
                                          sentences_in_range)
from engine.highlights.scoring import SCORERS, Context, make_context, weights_for
from engine.highlights.sound import SOUND_SCORERS, evenly_spaced, sound_candidates, speech_is_enough
from engine.highlights.titles import hashtags_for, keyword_document_frequency, title_for
from engine.instructions import LONGEST_CLIP_SECONDS
from engine.models import QUALITY_BAR, ClipRequest, Moment, Selection, SelectionNote, Sentence, Signals, is_weak
from engine.joins import crossfade_for, placements

DEFAULT_COUNT = 3                      # evenly spaced moments offered when nothing stands out
MOST_WITHOUT_COUNT = 5                 # without a count: the strong moments, at most as many as a creator would post
DEFAULT_REEL_SECONDS = 60.0
REEL_SHORT_OF = 0.75            # a reel under this share of the length asked says the video had no more
REEL_PIECE_SECONDS = (4.0, 20.0)
NEIGHBOUR_PENALTY = 4.0                # points off for sitting right beside a chosen clip (spread them out)
REEL_TOLERANCE = 0.10                  # a reel lasts its asked total within this share
PIECE_GAP = 1.0                        # seconds kept between two pieces of a reel

# A second opinion on the scored candidates before the best are chosen (engine.judge.Judge):
# (candidates, context, (shortest, longest) seconds) -> the candidates to choose from, re-scored.
Rerank = Callable[[list[Candidate], Context, tuple[float, float]], list[Candidate]]
Dress = Callable[[list[Moment]], list[Moment]]


def score_candidate(c: Candidate, ctx: Context) -> Candidate:
    weights = weights_for(ctx)
    for name, scorer in (SOUND_SCORERS if c.kind == "sound" else SCORERS).items():
        value, reason = scorer(c, ctx)
        c.scores[name] = round(value, 1)
        c.reasons.append(reason)
    total = sum(weights[k] * c.scores[k] for k in weights) / sum(weights.values())
    if ctx.exact_length and ctx.target:
        total -= 10 * abs(c.duration - ctx.target) / ctx.target      # prefer the asked length, gently
    c.total = float(np.clip(total, 0, 100))
    return c



def overlaps(a: tuple[float, float], b: tuple[float, float], gap: float = 0.0) -> bool:
    return a[0] < b[1] + gap and b[0] < a[1] + gap


def choose_spread(candidates: list[Candidate], count: int, duration: float) -> list[Candidate]:
    """The best `count` non-overlapping windows; a window right beside a chosen one loses a few
    points, so that equal moments are taken from different parts of the video."""
    chosen: list[Candidate] = []
    pool = list(candidates)
    while pool and len(chosen) < count:
        def adjusted(c: Candidate) -> float:
            near = any(overlaps((c.start, c.end), (k.start, k.end), gap=max(10.0, duration * 0.02)) for k in chosen)
            return c.total - (NEIGHBOUR_PENALTY if near else 0.0)

        best = max(pool, key=lambda c: (adjusted(c), -c.start))
        chosen.append(best)
        pool = [c for c in pool if not overlaps((c.start, c.end), (best.start, best.end))]
    return chosen


def scored_candidates(sentences: list[Sentence], signals: Signals, request: ClipRequest, duration: float,
                      low: float, high: float, target: float, sound_target: float | None = None,
                      every_sentence: list[Sentence] | None = None,
                      sound_bounds: tuple[float, float] | None = None) -> tuple[list[Candidate], Context]:
    """Every candidate, scored: windows on sentence edges where people speak, windows around
    bursts (or, with no speech at all, lively stretches) where nobody does. `sentences` are
    those inside the asked range, `every_sentence` the whole video's; `sound_target` is the
    sound moments' length, if not `target`."""
    heard = sentences if every_sentence is None else every_sentence
    run_on = run_on_sentences(sentences, [w for s in heard for w in s.words], signals.envelope_db)
    ctx = make_context(sentences, signals, request, target, run_on)
    start, end = range_bounds(request, duration)
    sound_low, sound_high = sound_bounds or (low, high)
    sound = sound_candidates(heard, signals, start, end, sound_low, sound_high, sound_target or target, duration)
    speech = candidate_windows(sentences, low, high, target, run_on)
    if sound and not speech_is_enough(heard, low, start, end):
        speech = []                   # a few stray words are not a clip; the sound has moments
    return [score_candidate(c, ctx) for c in speech + sound], ctx


def select_moments(sentences: list[Sentence], signals: Signals, request: ClipRequest, duration: float,
                   language: str = "en", rerank: Rerank | None = None) -> list[Moment]:
    """The moments to clip, best first (rank 1), or one reel Moment made of several pieces."""
    return choose_moments(sentences, signals, request, duration, language, rerank).moments


def choose_moments(sentences: list[Sentence], signals: Signals, request: ClipRequest, duration: float,
                   language: str = "en", rerank: Rerank | None = None,
                   avoid: list[tuple[float, float]] | None = None, dress: Dress | None = None) -> Selection:
    """The moments to clip, best first (rank 1), or one reel Moment made of several pieces, with
    the facts a person should hear about them (SelectionNote). `language` is the transcript's;
    Chinese and Japanese keywords are cut differently. `rerank`, when given, re-scores the
    candidates before the best are chosen. Cuts on sentence edges are moved into the pauses
    (engine.edges) after `dress` (the reranker's titles, found by the windows' own edges) has
    seen them. No clip overlaps a span in `avoid` (clips already made)."""
    usable = sentences_in_range(sentences, request, duration)
    words = [w for s in sentences for w in s.words]
    if request.reel:
        reel = select_reel(usable, signals, request, language, duration, every_sentence=sentences, rerank=rerank)
        if reel is None:
            return Selection([])
        [reel] = dress([reel]) if dress is not None else [reel]
        reel.segments = edge_spans(signals, words, reel.segments, duration, only_on_words=True)
        reel.start, reel.end = reel.segments[0][0], reel.segments[-1][1]
        asked = request.reel_length or request.length or DEFAULT_REEL_SECONDS
        made = round(placements(reel.segments, crossfade_for(reel.segments))[1], 1)    # as it plays: joins overlap
        fact = "reel" if made >= REEL_SHORT_OF * asked else "reel_short"
        return Selection([reel], [SelectionNote(fact, asked=asked, got=made, kept=len(reel.segments))])
    low, high, target = length_bounds(request)
    sound_bounds = asked_bounds(request)
    sound_target = request.length if request.length else None
    scored, ctx = scored_candidates(usable, signals, request, duration, low, high, target, sound_target,
                                    every_sentence=sentences, sound_bounds=sound_bounds)
    if rerank is not None:
        scored = rerank(scored, ctx, (low, high))
    notes: list[SelectionNote] = []
    if not scored:
        start, end = range_bounds(request, duration)
        low_high = sound_bounds or (low, high)
        scored = [score_candidate(c, ctx) for c in evenly_spaced(sentences, signals, start, end, *low_high,
                                                                 sound_target or target, request.count or DEFAULT_COUNT,
                                                                 duration)]
        if scored:
            notes.append(SelectionNote("nothing_stands_out", kept=len(scored)))
    speechless = not any(c.kind == "speech" for c in scored)
    scored = [c for c in scored if not any(overlaps((c.start, c.end), span) for span in avoid or ())]
    chosen = choose_by_length(scored, request, low, high, target, duration)
    if request.count and len(chosen) < request.count and speechless:
        chosen += evenly_spaced_extra(chosen, avoid or [], sentences, signals, ctx, request, low, high, target,
                                      duration)
    if request.count is None and not any(n.kind == "nothing_stands_out" for n in notes):
        strong = [c for c in chosen if not is_weak(c.total)] or chosen[:1]
        if len(strong) < len(chosen):
            notes.append(SelectionNote("only_strong", kept=len(strong), bar=QUALITY_BAR,
                                       got=round(max(c.total for c in chosen if c not in strong), 1)))
        chosen = strong
    document = keyword_document_frequency(sentences, language)
    moments = [to_moment(rank, c, ctx, document, request, language) for rank, c in enumerate(chosen, start=1)]
    if dress is not None:
        moments = dress(moments)
    for moment, c in zip(moments, chosen):
        if c.kind == "speech":
            [(moment.start, moment.end)] = edge_spans(signals, words, [(c.start, c.end)], duration)
            for before, after in avoid or ():     # a lead-in or tail stops where a clip already made starts
                if after <= c.start:
                    moment.start = max(moment.start, after)
                if before >= c.end:
                    moment.end = min(moment.end, before)
        if c.filler:            # placed evenly because nothing else stood out: not a moment at the bar
            moment.score = min(moment.score, QUALITY_BAR - 1)
        moment.weak = is_weak(moment.score)
    weak = tuple(m.rank for m in moments if m.weak)
    if request.count is not None and weak and not notes:
        notes.append(SelectionNote("weak", ranks=weak, bar=QUALITY_BAR))
    if request.too_long and moments:
        notes.insert(0, SelectionNote("too_long", asked=request.too_long, got=LONGEST_CLIP_SECONDS / 60))
    if request.count is not None and 0 < len(moments) < request.count:
        notes.append(SelectionNote("fewer_than_asked", asked=request.count, kept=len(moments)))
    if request.length:
        notes += [SelectionNote("length_not_found", asked=request.length, got=round(m.duration, 1), rank=m.rank)
                  for m in moments if abs(m.duration - request.length) > LENGTH_TOLERANCE * request.length + 0.05]
    return Selection(moments, notes)


def evenly_spaced_extra(chosen: list[Candidate], avoid: list[tuple[float, float]], sentences: list[Sentence],
                        signals: Signals, ctx: Context,
                        request: ClipRequest, low: float, high: float, target: float, duration: float
                        ) -> list[Candidate]:
    """Where nobody speaks and fewer moments stand out than were asked for: evenly spaced
    windows that overlap none of them (nor a span in `avoid`) make up the number (they come out
    marked weak)."""
    start, end = range_bounds(request, duration)
    shortest, longest = asked_bounds(request) or (low, high)
    spaced = [score_candidate(c, ctx) for c in evenly_spaced(sentences, signals, start, end, shortest, longest,
                                                             request.length or target, request.count * 2, duration)]
    taken = [(k.start, k.end) for k in chosen] + list(avoid)
    free = [c for c in spaced if not any(overlaps((c.start, c.end), span) for span in taken)]
    return choose_spread(free, request.count - len(chosen), duration)


def asked_bounds(request: ClipRequest) -> tuple[float, float] | None:
    """The asked length ±10 %, for windows whose edges are final (moments chosen by their sound)."""
    if not request.length:
        return None
    return request.length * (1 - LENGTH_TOLERANCE), request.length * (1 + LENGTH_TOLERANCE)


def choose_by_length(scored: list[Candidate], request: ClipRequest, low: float, high: float, target: float,
                     duration: float) -> list[Candidate]:
    """The best windows of the asked length, spread over the video (as many as asked, else up to
    MOST_WITHOUT_COUNT); when too few are that long, the windows nearest to it make up the number."""
    wanted = request.count or MOST_WITHOUT_COUNT
    if not request.length:
        return choose_spread(scored, wanted, duration)
    sound_low, sound_high = asked_bounds(request)

    def fits(c: Candidate) -> bool:
        shortest, longest = (sound_low, sound_high) if c.kind == "sound" else (low, high)
        return shortest - 0.05 <= c.duration <= longest + 0.05

    fitting = [c for c in scored if fits(c)]
    chosen = choose_spread(fitting, wanted, duration)
    if request.count and len(chosen) < request.count:
        # the best one first can leave no room for the rest: take the most that fit side by side
        most = most_side_by_side(fitting, request.count)
        if len(most) > len(chosen):
            chosen = sorted(most, key=lambda c: (-c.total, c.start))
    enough = len(chosen) if chosen else (request.count or 1)
    rest = sorted((c for c in scored if c not in fitting), key=lambda c: (round(abs(c.duration - target)), -c.total))
    for c in rest:
        if len(chosen) >= (request.count or enough):
            break
        if not any(overlaps((c.start, c.end), (k.start, k.end)) for k in chosen):
            chosen.append(c)
    return chosen


def most_side_by_side(candidates: list[Candidate], count: int) -> list[Candidate]:
    """As many as `count` windows that do not overlap, as many as there is room for; of the ways
    to have that many, the one whose scores add up highest."""
    ordered = sorted(candidates, key=lambda c: c.end)
    ends = [c.end for c in ordered]
    room_before = [bisect.bisect_right(ends, c.start) for c in ordered]     # windows ending by its start
    # best[k][i]: (score, picks) of the best k windows among the first i; None where k do not fit
    best: list[list[tuple[float, tuple[int, ...]] | None]] = [[(0.0, ())] * (len(ordered) + 1)]
    for k in range(1, count + 1):
        row: list[tuple[float, tuple[int, ...]] | None] = [None]
        for i, c in enumerate(ordered):
            skip, before = row[i], best[k - 1][room_before[i]]
            take = (before[0] + c.total, before[1] + (i,)) if before is not None else None
            row.append(max((o for o in (skip, take) if o is not None), key=lambda o: o[0], default=None))
        if row[-1] is None:
            break
        best.append(row)
    return [ordered[i] for i in best[-1][-1][1]]


def select_reel(sentences: list[Sentence], signals: Signals, request: ClipRequest, language: str = "en",
                duration: float = math.inf, every_sentence: list[Sentence] | None = None,
                rerank: Rerank | None = None) -> Moment | None:
    """The best short pieces, filling the reel's total length, put back in timeline order;
    None when there is nothing to make one of. `sentences` are those in the asked range."""
    total = request.reel_length or request.length or DEFAULT_REEL_SECONDS
    low, high = REEL_PIECE_SECONDS
    target = min(high, max(low, total / 6))
    start, end = range_bounds(request, duration)
    bursts = [b for b in signals.bursts if start <= b[0] and b[1] <= end]
    sound_target = min(high, max(low, total / max(1, min(len(bursts), 6))))     # fewer bursts: longer pieces
    scored, ctx = scored_candidates(sentences, signals, request, duration, low, high, target, sound_target,
                                    every_sentence)
    if rerank is not None and scored:
        scored = rerank(scored, ctx, (low, high))
    if not scored:
        return None
    pool = sorted(scored, key=lambda c: (-c.total, c.start))
    shortest, longest = total * (1 - REEL_TOLERANCE), total * (1 + REEL_TOLERANCE)
    pieces: list[Candidate] = []
    filled = 0.0
    for c in pool:
        if filled >= shortest:
            break
        if filled + c.duration > longest:
            continue
        if any(overlaps((c.start, c.end), (p.start, p.end), gap=PIECE_GAP) for p in pieces):
            continue
        pieces.append(c)
        filled += c.duration
    if not pieces:
        pieces = pool[:1]
    pieces = fit_to_total(pieces, pool, ctx, total)
    filled = sum(p.duration for p in pieces)
    best = max(pieces, key=lambda c: c.total)
    document = keyword_document_frequency(sentences, language)
    text = " ".join(said for said in (text_of(p, ctx) for p in pieces) if said)
    scores = {k: round(float(np.mean([p.scores[k] for p in pieces])), 1) for k in SCORERS}
    return Moment(
        rank=1,
        start=pieces[0].start,
        end=pieces[-1].end,
        score=round(float(np.mean([p.total for p in pieces])), 1),
        scores=scores,
        reasons=[f"{len(pieces)} pieces, {filled:.0f} s of {total:.0f} s asked"] + best.reasons,
        title=title_for(best, ctx),
        hashtags=hashtags_for(text, document, request, language),
        text=text,
        segments=[(p.start, p.end) for p in pieces],
    )


def fit_to_total(pieces: list[Candidate], others: list[Candidate], ctx: Context,
                 total: float) -> list[Candidate]:
    """A reel's pieces, in timeline order, grown or shrunk on sentence edges until together they
    last `total` within REEL_TOLERANCE, where the sentences allow. Each step takes the one change
    that brings the sum nearest to `total`: a neighbouring sentence added to a speech piece, a
    sentence at a piece's edge taken off, a piece swapped for another of the `others` windows, or
    one of them (or a sentence on its own) added as a further piece; no piece runs into another.
    Sound pieces keep their edges."""
    sentences = ctx.sentences
    pieces = list(pieces)
    shortest, longest = total * (1 - REEL_TOLERANCE), total * (1 + REEL_TOLERANCE)

    def free(start: float, end: float, index: int | None) -> bool:
        return not any(overlaps((start, end), (p.start, p.end), gap=PIECE_GAP)
                       for k, p in enumerate(pieces) if k != index)

    def spans(p: Candidate, grow: bool) -> list[tuple[int, int]]:
        if p.kind != "speech" or p.first < 0:
            return []
        if grow:
            return [(p.first - 1, p.last), (p.first, p.last + 1)]
        return [(p.first + 1, p.last), (p.first, p.last - 1)] if p.last > p.first else []

    lone: list[Candidate] | None = None
    while True:
        filled = sum(p.duration for p in pieces)
        if shortest <= filled <= longest:
            break
        grow = filled < shortest
        options: list[tuple[float, int | None, Candidate]] = []     # (seconds after, piece replaced, the piece)
        for index, p in enumerate(pieces):
            for first, last in spans(p, grow):
                if 0 <= first <= last < len(sentences) and free(sentences[first].start, sentences[last].end, index):
                    changed = replace(p, first=first, last=last, start=sentences[first].start,
                                      end=sentences[last].end, scores=dict(p.scores), reasons=list(p.reasons))
                    options.append((filled - p.duration + changed.duration, index, changed))
            for other in others:                  # or swapped for another window of the right length
                if other is not p and free(other.start, other.end, index):
                    options.append((filled - p.duration + other.duration, index, other))
        if grow:
            if lone is None:
                lone = [score_candidate(Candidate(j, j, s.start, s.end), ctx) for j, s in enumerate(sentences)]
            options += [(filled + c.duration, None, c) for c in others + lone if free(c.start, c.end, None)]
        if not options:
            break
        # what reaches the total first; then a piece grown or trimmed before a further piece; then the nearest
        after, index, piece = min(options, key=lambda o: (not shortest <= o[0] <= longest, o[1] is None,
                                                          abs(o[0] - total), -o[2].total))
        if abs(after - total) >= abs(filled - total):
            break                             # the sentences allow no nearer total
        if index is None:
            pieces.append(piece)
        else:
            pieces[index] = piece
    return sorted(pieces, key=lambda c: c.start)


def text_of(c: Candidate, ctx: Context) -> str:
    """What is said in a window: its sentences, or for a sound moment whatever few words fall inside."""
    if c.kind == "sound":
        return " ".join(s.text for s in ctx.sentences if c.start <= s.start and s.end <= c.end)
    return " ".join(s.text for s in ctx.sentences[c.first: c.last + 1])


def to_moment(rank: int, c: Candidate, ctx: Context, document: Counter, request: ClipRequest,
              language: str = "en") -> Moment:
    text = text_of(c, ctx)
    return Moment(
        rank=rank,
        start=c.start,
        end=c.end,
        score=round(c.total, 1),
        scores=dict(c.scores),
        reasons=list(c.reasons),
        title=title_for(c, ctx),
        hashtags=hashtags_for(text, document, request, language),
        text=text,
    )



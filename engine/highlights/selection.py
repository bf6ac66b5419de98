"""Choosing: the best windows spread over the video, or the pieces of a reel; scoring each window."""
from __future__ import annotations

import math
from collections import Counter
from typing import Callable

import numpy as np

from engine.highlights.candidates import Candidate, candidate_windows, length_bounds, range_bounds, sentences_in_range
from engine.highlights.scoring import SCORERS, Context, make_context, weights_for
from engine.highlights.sound import SOUND_SCORERS, sound_candidates, speech_is_enough
from engine.highlights.titles import hashtags_for, keyword_document_frequency, title_for
from engine.models import ClipRequest, Moment, Sentence, Signals

DEFAULT_COUNT = 3
DEFAULT_REEL_SECONDS = 60.0
REEL_PIECE_SECONDS = (4.0, 20.0)
NEIGHBOUR_PENALTY = 4.0                # points off for sitting right beside a chosen clip (spread them out)

# A second opinion on the scored candidates before the best are chosen (engine.judge.Judge):
# (candidates, context, (shortest, longest) seconds) -> the candidates to choose from, re-scored.
Rerank = Callable[[list[Candidate], Context, tuple[float, float]], list[Candidate]]


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
                      every_sentence: list[Sentence] | None = None) -> tuple[list[Candidate], Context]:
    """Every candidate, scored: windows on sentence edges where people speak, windows around
    bursts (or, with no speech at all, lively stretches) where nobody does. `sentences` are
    those inside the asked range, `every_sentence` the whole video's; `sound_target` is the
    sound moments' length, if not `target`."""
    ctx = make_context(sentences, signals, request, target)
    start, end = range_bounds(request, duration)
    heard = sentences if every_sentence is None else every_sentence
    sound = sound_candidates(heard, signals, start, end, low, high, sound_target or target, duration)
    speech = candidate_windows(sentences, low, high, target)
    if sound and not speech_is_enough(heard, low, start, end):
        speech = []                   # a few stray words are not a clip; the sound has moments
    return [score_candidate(c, ctx) for c in speech + sound], ctx


def select_moments(sentences: list[Sentence], signals: Signals, request: ClipRequest, duration: float,
                   language: str = "en", rerank: Rerank | None = None) -> list[Moment]:
    """The moments to clip, best first (rank 1), or one reel Moment made of several pieces.
    `language` is the transcript's; Chinese and Japanese keywords are cut differently.
    `rerank`, when given, re-scores the candidates before the best are chosen."""
    usable = sentences_in_range(sentences, request, duration)
    if request.reel:
        reel = select_reel(usable, signals, request, language, duration, every_sentence=sentences, rerank=rerank)
        return [reel] if reel is not None else []
    low, high, target = length_bounds(request)
    scored, ctx = scored_candidates(usable, signals, request, duration, low, high, target, every_sentence=sentences)
    if rerank is not None:
        scored = rerank(scored, ctx, (low, high))
    chosen = choose_spread(scored, request.count or DEFAULT_COUNT, duration)
    document = keyword_document_frequency(sentences, language)
    return [to_moment(rank, c, ctx, document, request, language) for rank, c in enumerate(chosen, start=1)]


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
    pieces: list[Candidate] = []
    filled = 0.0
    for c in pool:
        if filled >= total * 0.85:
            break
        if filled + c.duration > total * 1.15:
            continue
        if any(overlaps((c.start, c.end), (p.start, p.end), gap=1.0) for p in pieces):
            continue
        pieces.append(c)
        filled += c.duration
    if not pieces:
        pieces = pool[:1]
        filled = pieces[0].duration
    pieces.sort(key=lambda c: c.start)
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



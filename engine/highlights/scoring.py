"""The six named sub-scores of a window where people speak, each with a one-line reason."""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from engine.edges import RunOn
from engine.highlights.candidates import Candidate
from engine.highlights.sport import Excitement, excitements
from engine.highlights.lexicon import (CN_DANGLING, DANGLING_CONJUNCTIONS, STOPWORDS, SentenceFeatures, has_cjk,
                                      sentence_features, stem, tokens)
from engine.models import ClipRequest, Sentence, Signals
from engine.signals import active_level, burst_rise, is_noisy, is_reaction

PAYOFF_BURST_SECONDS = 4.0             # applause or laughter this soon after the end pays the clip off

WEIGHTS = {"hook": 0.26, "payoff": 0.20, "emotion": 0.16, "self_contained": 0.16, "energy": 0.14, "topic": 0.0}
TOPIC_WEIGHT = 0.35                    # when the user named a topic, it matters most


@dataclass
class Context:
    """What every window is compared with: the video's own level, its bursts, the request."""

    sentences: list[Sentence]
    features: list[SentenceFeatures]
    signals: Signals
    level_db: float
    topic_words: list[str]
    target: float
    exact_length: bool
    burst_rises: list[float] = field(default_factory=list)     # dB each burst stands above its surroundings
    burst_noisy: list[bool] = field(default_factory=list)      # does it sound like a crowd (broadband noise)?
    excitements: list[Excitement] = field(default_factory=list)  # the commentator's, how high and how quick
    run_on: RunOn | None = None                                # sentences the speaker runs into / on from, no pause


def make_context(sentences: list[Sentence], signals: Signals, request: ClipRequest, target: float,
                 run_on: RunOn | None = None) -> Context:
    return Context(
        sentences=sentences,
        features=[sentence_features(s) for s in sentences],
        signals=signals,
        level_db=active_level(signals.loudness_db),
        topic_words=topic_words(request.topic),
        target=target,
        exact_length=bool(request.length),
        burst_rises=[burst_rise(b, signals.loudness_db, signals.hop) for b in signals.bursts],
        burst_noisy=[is_noisy(b, signals.noisiness, signals.hop) for b in signals.bursts],
        excitements=excitements(signals),
        run_on=run_on,
    )


def topic_words(topic: str | None) -> list[str]:
    if not topic:
        return []
    if has_cjk(topic):
        return [topic]
    words = [stem(w) for w in tokens(topic) if w not in STOPWORDS]
    return words or [stem(w) for w in tokens(topic)]


def score_hook(c: Candidate, ctx: Context) -> tuple[float, str]:
    f = ctx.features[c.first]
    return f.hook, f"hook {f.hook:.0f}: {f.hook_reason}"


def score_energy(c: Candidate, ctx: Context) -> tuple[float, str]:
    hop = ctx.signals.hop
    loud = ctx.signals.loudness_db[int(c.start / hop): max(int(c.start / hop) + 1, int(math.ceil(c.end / hop)))]
    active = loud[loud > -55.0]
    rise = float(np.mean(active) - ctx.level_db) if len(active) else -20.0
    bursts = [b for b in ctx.signals.bursts if b[0] < c.end and b[1] > c.start]
    score = float(np.clip(50 + 7 * rise + 15 * min(len(bursts), 2), 0, 100))
    where = "louder than" if rise > 1 else "quieter than" if rise < -1 else "as loud as"
    burst_note = f", {len(bursts)} burst{'s' if len(bursts) != 1 else ''} inside" if bursts else ""
    return score, f"energy {score:.0f}: {where} the video's usual level ({rise:+.1f} dB){burst_note}"


def score_emotion(c: Candidate, ctx: Context) -> tuple[float, str]:
    feats = ctx.features[c.first: c.last + 1]
    exclamations = sum(f.exclamations for f in feats)
    strong = sum(f.strong_words for f in feats)
    per_30s = 30.0 / max(c.duration, 10.0)
    score = float(np.clip((35 * exclamations + 15 * strong) * per_30s, 0, 100))
    if exclamations or strong:
        reason = f"{exclamations} exclamation{'s' if exclamations != 1 else ''}, {strong} strong word{'s' if strong != 1 else ''}"
    else:
        reason = "calm, matter-of-fact"
    return score, f"emotion {score:.0f}: {reason}"


def score_self_contained(c: Candidate, ctx: Context) -> tuple[float, str]:
    first, last = ctx.features[c.first], ctx.features[c.last]
    score, notes = 100.0, []
    if first.dangling_start in DANGLING_CONJUNCTIONS or (first.dangling_start and first.dangling_start in CN_DANGLING[:4]):
        score -= 50
        notes.append(f"opens on \"{first.dangling_start}\", leaning on what came before")
    elif first.dangling_start:
        score -= 35
        notes.append(f"opens on \"{first.dangling_start}\" with nothing it refers to")
    if not last.complete:
        score -= 25
        notes.append("the last sentence trails off")
    if ctx.run_on is not None and ctx.run_on.into[c.first]:
        score -= 35
        notes.append("starts where the speaker runs on from the sentence before, with no pause")
    return score, f"self-contained {score:.0f}: " + ("; ".join(notes) if notes else "stands on its own")


def score_payoff(c: Candidate, ctx: Context) -> tuple[float, str]:
    last = ctx.features[c.last]
    score, notes = 20.0, []
    if last.complete and not last.question:
        score += 30
        notes.append("ends on a complete thought")
    elif last.question:
        score += 10
        notes.append("ends on a question")
    if last.exclamations:
        score += 10
        notes.append("with an exclamation")
    if last.concluding:
        score += 20
        notes.append("a conclusion")
    if ctx.run_on is not None and ctx.run_on.on_from[c.last]:
        score -= 30
        notes.append("the speaker runs straight on with no pause (ends mid-thought)")
    after = [b for b in ctx.signals.bursts if c.end - 1.0 <= b[0] <= c.end + PAYOFF_BURST_SECONDS
             and is_reaction(b, ctx.signals.speech_rate, ctx.signals.hop, ctx.signals.noisiness)]
    if after:
        score += 35
        notes.append("applause or laughter right after")
    score = float(np.clip(score, 0, 100))
    return score, f"payoff {score:.0f}: " + (", ".join(notes) if notes else "ends mid-thought")


def score_topic(c: Candidate, ctx: Context) -> tuple[float, str]:
    if not ctx.topic_words:
        return 50.0, "topic: none asked for"
    text = " ".join(ctx.sentences[k].text for k in range(c.first, c.last + 1))
    if has_cjk(ctx.topic_words[0]):
        hits = text.count(ctx.topic_words[0])
        matched = [ctx.topic_words[0]] if hits else []
    else:
        stems = Counter(stem(w) for w in tokens(text))
        matched = [w for w in ctx.topic_words if stems[w]]
        hits = sum(stems[w] for w in ctx.topic_words)
    coverage = len(matched) / len(ctx.topic_words)
    score = float(np.clip(70 * coverage + 10 * min(hits, 3), 0, 100))
    if not matched:
        return 0.0, "topic 0: does not mention " + " / ".join(ctx.topic_words)
    return score, f"topic {score:.0f}: mentions {', '.join(matched)} ({hits}x)"


SCORERS = {
    "hook": score_hook,
    "energy": score_energy,
    "emotion": score_emotion,
    "self_contained": score_self_contained,
    "payoff": score_payoff,
    "topic": score_topic,
}


def weights_for(ctx: Context) -> dict[str, float]:
    weights = dict(WEIGHTS)
    if ctx.topic_words:
        weights["topic"] = TOPIC_WEIGHT
    return weights



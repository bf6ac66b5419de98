"""Sentences + signals + request -> the moments a person would clip, with the reasons why.

1. Candidates: windows that start on a sentence start and end on a sentence end, as long
   as asked (±15 %, or the nearest sentence edge when no edge falls inside).
2. Each is scored 0-100 on six named parts, each with a one-line reason:
   hook (its first sentence), energy (sound against the video's own level), emotion,
   self-contained (no dangling "and..." or "he..." opening), payoff (a complete ending,
   applause or laughter right after) and topic (what the user asked about).
   Loudness alone is worth little: energy is one part of six.
3. The best non-overlapping windows are chosen, spread over the video; each gets a title
   from its hook sentence and 3-5 hashtags from its keywords. For a compiled reel, the
   best short moments fill the asked total length, in timeline order.

Where nobody speaks (a sports game, music, a skate video, or the quiet stretches of a
mixed video), moments come from the sound instead: each burst (a crowd reaction, a loud
moment) gives a window that starts a few seconds before it, so the build-up is in, and
ends a little after it; its edges are moved to a scene cut or the quietest point near
by, never inside a burst or a sentence. With no speech at all, stretches clearly louder
than the video's usual level are candidates too. Those windows get the same six named
scores, read from the signals, and a title such as "Crowd reaction at 12:34".
"""
from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from engine.models import ClipRequest, Moment, Sentence, Signals
from engine.signals import ACTIVE_DB, active_level, burst_rise, hops_of, is_noisy, is_reaction

DEFAULT_COUNT = 3
DEFAULT_REEL_SECONDS = 60.0
REEL_PIECE_SECONDS = (4.0, 20.0)
TITLE_CHARS = 70
END_SHORTFALL = 0.75                   # a window running into the end of the speech may be this share of the shortest
NEIGHBOUR_PENALTY = 4.0                # points off for sitting right beside a chosen clip (spread them out)
PAYOFF_BURST_SECONDS = 4.0             # applause or laughter this soon after the end pays the clip off

# Moments chosen by their sound alone.
SOUND_SPAN_SECONDS = 12.0              # a stretch without speech this long may hold a moment chosen by its sound
SOUND_TAIL_SECONDS = (2.0, 6.0)        # a moment runs on after its burst for 15 % of its length, within these
SNAP_SHARE = 0.12                      # an edge moves at most this share of the length to reach a cut or a quiet point
FILL_RISE_DB = 2.0                     # without a burst, a stretch must be this much louder than usual to be a moment
OPENING_SECONDS = 3.0                  # the opening a viewer judges a clip by
BUILD_UP_SECONDS = 6.0                 # the lead-in to a burst whose rise counts as build-up

WEIGHTS = {"hook": 0.26, "payoff": 0.20, "emotion": 0.16, "self_contained": 0.16, "energy": 0.14, "topic": 0.0}
TOPIC_WEIGHT = 0.35                    # when the user named a topic, it matters most

# --- words that carry meaning ------------------------------------------------------------

BOLD_WORDS = {
    "never", "always", "secret", "secrets", "biggest", "best", "worst", "mistake", "mistakes", "truth", "nobody",
    "everyone", "everybody", "nothing", "everything", "wrong", "lie", "myth", "why", "stop", "must",
    "doubled", "tripled", "million", "billion", "fastest", "impossible", "guaranteed", "shocking", "surprising",
    "insane", "crazy",
}
STRONG_WORDS = {
    "amazing", "incredible", "unbelievable", "insane", "crazy", "love", "loved", "hate", "hated", "terrible",
    "awful", "horrible", "beautiful", "shocking", "shocked", "wow", "huge", "massive", "disaster", "furious",
    "excited", "exciting", "scared", "afraid", "terrified", "angry", "brilliant", "fantastic", "perfect",
    "ridiculous", "absolutely", "completely", "totally", "never", "tripled", "doubled", "exploded", "finally",
    "wrong", "best", "worst", "cried", "laughed", "dream", "nightmare", "fail", "failed", "failure", "win", "won",
}
CN_BOLD = ("为什么", "怎么", "秘密", "最", "从来", "永远", "没有人", "所有人", "错", "真相", "千万", "必须")
CN_STRONG = ("太", "非常", "真的", "简直", "惊人", "疯狂", "可怕", "喜欢", "讨厌", "完美", "崩溃", "哇")
NUMBER_WORDS = {"one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "hundred",
                "thousand", "million", "billion", "dozen", "half", "first", "second", "third", "percent"}
VIEWER_WORDS = {"you", "your", "you're", "yourself", "you've", "you'll"}
OPENER_FILLER = ("welcome", "hello", "hi ", "hey ", "thank you", "thanks", "um", "uh", "okay so", "ok so", "alright")
DANGLING_CONJUNCTIONS = {"and", "but", "so", "or", "because", "then", "also", "which", "that", "though", "although", "plus"}
DANGLING_PRONOUNS = {"he", "she", "it", "they", "this", "these", "those", "him", "her", "them", "its", "their", "his", "it's", "they're"}
CN_DANGLING = ("但是", "所以", "然后", "而且", "因为", "他", "她", "它", "这个", "那个")
CONCLUSION_PHRASES = ("lesson", "that's why", "that is why", "the point", "the key", "the secret", "remember",
                      "in the end", "which is why", "turns out", "the result", "bottom line", "that's how", "that is how",
                      "所以说", "总之", "结果")
STOPWORDS = set("""
a about above after again against all am an and any are aren't as at be because been before being below between both
but by can can't cannot could couldn't did didn't do does doesn't doing don't down during each few for from further had
hadn't has hasn't have haven't having he he'd he'll he's her here here's hers herself him himself his how how's i i'd
i'll i'm i've if in into is isn't it it's its itself let's me more most mustn't my myself no nor not of off on once only
or other ought our ours ourselves out over own same shan't she she'd she'll she's should shouldn't so some such than
that that's the their theirs them themselves then there there's these they they'd they'll they're they've this those
through to too under until up very was wasn't we we'd we'll we're we've were weren't what what's when when's where
where's which while who who's whom why why's with won't would wouldn't you you'd you'll you're you've your yours
yourself yourselves just like really know think going want get got one two three also well yeah okay right thing things
said says say make made much many will shall may might bring brings brought give gives gave take takes took goes went
come comes came started start starts look looks looked tell told thank thanks listening lot lots even still back way time times today now next year years day days people
because every something anything nothing everyone everybody first second last little good great new old come came
""".split())


def tokens(text: str) -> list[str]:
    return re.findall(r"[a-z][a-z']*|\d+(?:[.,]\d+)*%?", text.lower())


def has_cjk(text: str) -> bool:
    return bool(re.search(r"[\u4e00-\u9fff]", text))


# --- per-sentence features ---------------------------------------------------------------------

@dataclass(frozen=True)
class SentenceFeatures:
    hook: float
    hook_reason: str
    exclamations: int
    strong_words: int
    dangling_start: str | None        # the word a sentence leans on what came before with, if any
    complete: bool                    # ends with an end mark
    concluding: bool
    question: bool


def sentence_features(sentence: Sentence) -> SentenceFeatures:
    text = sentence.text.strip()
    lowered = text.lower()
    words = tokens(text)
    reasons = []
    hook = 10.0
    question = text.rstrip("\"'”’)").endswith(("?", "？"))
    if question:
        hook += 35
        reasons.append("opens with a question")
    if re.search(r"[0-9一二三四五六七八九十百千万]", text) or any(w in NUMBER_WORDS for w in words):
        hook += 20
        reasons.append("a number")
    if any(w in VIEWER_WORDS for w in words) or "你" in text:
        hook += 20
        reasons.append("speaks to the viewer")
    bold = [w for w in words if w in BOLD_WORDS] + [w for w in CN_BOLD if w in text]
    if bold:
        hook += 25
        reasons.append(f"a bold claim ({bold[0]})")
    if text.endswith(("!", "！")):
        hook += 10
        reasons.append("exclaimed")
    if 3 <= len(words) <= 14:
        hook += 5
    if lowered.startswith(OPENER_FILLER):
        hook -= 25
        reasons.append("opens with a greeting or filler")
    first = words[0] if words else ""
    dangling = None
    if first in DANGLING_CONJUNCTIONS or first in DANGLING_PRONOUNS:
        dangling = first
    elif text.startswith(CN_DANGLING):
        dangling = next(w for w in CN_DANGLING if text.startswith(w))
    return SentenceFeatures(
        hook=float(np.clip(hook, 0, 100)),
        hook_reason=", ".join(reasons) or "a plain statement",
        exclamations=text.count("!") + text.count("！"),
        strong_words=sum(1 for w in words if w in STRONG_WORDS) + sum(text.count(w) for w in CN_STRONG),
        dangling_start=dangling,
        complete=text.rstrip("\"'”’)").endswith((".", "!", "?", "。", "！", "？", "…")),
        concluding=any(p in lowered for p in CONCLUSION_PHRASES),
        question=question,
    )


# --- candidates -------------------------------------------------------------------------------

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

    @property
    def duration(self) -> float:
        return self.end - self.start


def length_bounds(request: ClipRequest) -> tuple[float, float, float]:
    """(shortest, longest, target) seconds for one clip."""
    if request.length:
        low = min(request.min_length, request.length * 0.85)
        high = max(request.max_length, request.length * 1.15)
        return low, high, request.length
    return request.min_length, request.max_length, (request.min_length + request.max_length) / 2


def range_bounds(request: ClipRequest, duration: float) -> tuple[float, float]:
    """The (start, end) seconds asked for; the end is infinite when open."""
    start, end = request.range_start, request.range_end
    if start is not None and start < 0:
        start = max(0.0, duration + start)       # "the last 5 minutes"
    start = start or 0.0
    end = end if end is not None else math.inf
    if request.range_start_fraction is not None:
        start = max(start, request.range_start_fraction * duration)    # "the second half"
    if request.range_end_fraction is not None:
        end = min(end, request.range_end_fraction * duration)
    return start, end


def sentences_in_range(sentences: list[Sentence], request: ClipRequest, duration: float) -> list[Sentence]:
    start, end = range_bounds(request, duration)
    return [s for s in sentences if s.start >= start - 0.25 and s.end <= end + 0.25]


def candidate_windows(sentences: list[Sentence], low: float, high: float, target: float) -> list[Candidate]:
    """Every window from a sentence start to a sentence end lasting low..high seconds. Where the
    sentence ends jump over that span (a long sentence), the end nearest to it is taken instead,
    and near the end of the speech its last sentence end, if not much shorter; when the whole
    speech is shorter than that, one window holds all of it."""
    found = []
    n = len(sentences)
    for i in range(n):
        below = None                          # the last end before the span
        inside = []
        for j in range(i, n):
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
    if not found and sentences:
        found.append(Candidate(0, n - 1, sentences[0].start, sentences[-1].end))
    return found


# --- scoring ---------------------------------------------------------------------------------

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


def make_context(sentences: list[Sentence], signals: Signals, request: ClipRequest, target: float) -> Context:
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
    )


def topic_words(topic: str | None) -> list[str]:
    if not topic:
        return []
    if has_cjk(topic):
        return [topic]
    words = [stem(w) for w in tokens(topic) if w not in STOPWORDS]
    return words or [stem(w) for w in tokens(topic)]


def stem(word: str) -> str:
    """Crude English stemming, enough to match "price" with "pricing" and "prices"."""
    word = word.lower().removesuffix("'s")
    for suffix in ("ing", "ed", "es", "s", "e"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


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


# --- moments chosen by their sound ---------------------------------------------------------------

def speech_is_enough(sentences: list[Sentence], low: float, start: float = 0.0, end: float = math.inf) -> bool:
    """Is there enough speech within [start, end] to make even one clip of it? (A few words a
    speech model heard in a music video or a game are not.)"""
    spoken = sum(max(0.0, min(s.end, end) - max(s.start, start)) for s in sentences)
    return spoken >= END_SHORTFALL * low


def speechless_spans(sentences: list[Sentence], start: float, end: float, shortest: float) -> list[tuple[float, float]]:
    """The stretches of [start, end] that no sentence touches, `shortest` seconds or longer."""
    spans, cursor = [], start
    for s in sorted(sentences, key=lambda s: s.start):
        if s.start - cursor >= shortest:
            spans.append((cursor, s.start))
        cursor = max(cursor, s.end)
    if end - cursor >= shortest:
        spans.append((cursor, end))
    return spans


@dataclass
class Edges:
    """Where a moment chosen by its sound may start or end: on a scene cut, else at the
    quietest point near by; never inside a burst or a sentence."""

    signals: Signals
    forbidden: list[tuple[float, float]]        # bursts and sentences
    allowed_hops: np.ndarray                    # per hop: its middle is outside all of them

    def allowed(self, t: float) -> bool:
        return not any(a < t < b for a, b in self.forbidden)

    def snap(self, t: float, lo: float, hi: float, hard: tuple[tuple[float, str], ...] = ()) -> tuple[float | None, str]:
        """The best edge in [lo, hi] for an ideal edge at `t`: the nearest scene cut, else the
        quietest allowed point; `hard` edges (time, name), such as the stretch's own ends, count
        like cuts. (None, "") when there is none."""
        if lo > hi:
            return None, ""
        cuts = [(c, "a scene cut") for c in self.signals.scene_cuts] + list(hard)
        cuts = [(c, name) for c, name in cuts if lo <= c <= hi and self.allowed(c)]
        if cuts:
            return min(cuts, key=lambda cut: abs(cut[0] - t))
        hop = self.signals.hop
        first, last = int(math.ceil(lo / hop - 0.5)), int(math.floor(hi / hop - 0.5))
        hops = [k for k in range(max(0, first), min(len(self.allowed_hops) - 1, last) + 1) if self.allowed_hops[k]]
        if not hops:
            return None, ""
        loudness = self.signals.loudness_db
        best = min(hops, key=lambda k: (round(float(loudness[k]), 1), abs((k + 0.5) * hop - t)))
        return round((best + 0.5) * hop, 3), "a quiet point"


def make_edges(sentences: list[Sentence], signals: Signals) -> Edges:
    forbidden = list(signals.bursts) + [(s.start, s.end) for s in sentences]
    middles = (np.arange(len(signals.loudness_db)) + 0.5) * signals.hop
    allowed = np.ones(len(middles), dtype=bool)
    for a, b in forbidden:
        allowed[(middles > a) & (middles < b)] = False
    return Edges(signals, forbidden, allowed)


def sound_window(anchor: tuple[float, float], span: tuple[float, float], low: float, high: float, target: float,
                 edges: Edges, hard: tuple[tuple[float, str], ...] = ()) -> Candidate | None:
    """A moment around one burst: most of it before the burst (the build-up), a little after
    it; the burst whole inside; the edges moved to a cut or a quiet point near by."""
    burst_seconds = anchor[1] - anchor[0]
    length = min(high, max(low, target), span[1] - span[0])
    length = max(length, min(burst_seconds + 2.0, span[1] - span[0]))
    tail = min(float(np.clip(0.15 * length, *SOUND_TAIL_SECONDS)), max(0.0, length - burst_seconds))
    end = min(span[1], anchor[1] + tail)
    start = max(span[0], end - length)
    end = min(span[1], start + length)
    return snapped(start, end, span, low, high, edges, hard, keep=anchor)


def fill_windows(span: tuple[float, float], low: float, high: float, target: float, edges: Edges,
                 hard: tuple[tuple[float, str], ...] = ()) -> list[Candidate]:
    """Windows across a stretch with no burst to go by, every half a length."""
    length = min(high, max(low, target))
    found = []
    start = span[0]
    while start + END_SHORTFALL * low <= span[1]:
        window = snapped(start, min(span[1], start + length), span, low, high, edges, hard)
        if window is not None:
            found.append(window)
        start += length / 2
    return found


def snapped(start: float, end: float, span: tuple[float, float], low: float, high: float, edges: Edges,
            hard: tuple[tuple[float, str], ...] = (), keep: tuple[float, float] | None = None) -> Candidate | None:
    """The window [start, end] with both edges moved to allowed points close by, still
    low..high long (where it can be) and still holding `keep` whole."""
    length = end - start
    longer = min(SNAP_SHARE * length, max(0.0, high - length) / 2)
    shorter = min(SNAP_SHARE * length, max(0.0, length - low) / 2)
    latest_start = min(start + shorter, keep[0] if keep else math.inf)
    earliest_end = max(end - shorter, keep[1] if keep else -math.inf)
    new_start, start_kind = edges.snap(start, max(span[0], start - longer), latest_start, hard)
    new_end, end_kind = edges.snap(end, earliest_end, min(span[1], end + longer), hard)
    if new_start is None or new_end is None or new_end - new_start < min(low, 1.0):
        return None
    return Candidate(-1, -1, new_start, new_end, kind="sound", edges=(start_kind, end_kind))


def sound_candidates(sentences: list[Sentence], signals: Signals, start: float, end: float,
                     low: float, high: float, target: float, duration: float = math.inf) -> list[Candidate]:
    """Moments chosen by their sound where nobody speaks: the whole range when there is too
    little speech for a clip, else the long stretches between sentences (only around bursts
    there: a quiet interlude in a talk is not a moment). `sentences` are all of the video's,
    also those reaching over the range's edges, so that no edge falls inside one."""
    video_end = min(duration, len(signals.loudness_db) * signals.hop)
    end = min(end, video_end)
    if end - start < min(low, 1.0) or active_level(signals.loudness_db) <= ACTIVE_DB:
        return []
    if speech_is_enough(sentences, low, start, end):
        spans, fill = speechless_spans(sentences, start, end, max(SOUND_SPAN_SECONDS, END_SHORTFALL * low)), False
    else:
        spans, fill = [(start, end)], True
    if not spans:
        return []
    edges = make_edges(sentences, signals)
    level = active_level(signals.loudness_db)
    found: dict[tuple[float, float], Candidate] = {}
    for span in spans:
        hard = span_edges(span, sentences, video_end)
        windows = [sound_window(b, span, low, high, target, edges, hard) for b in signals.bursts
                   if span[0] <= b[0] and b[1] <= span[1]]
        if fill:                  # lively stretches with no burst; a burst is better served by its own window
            windows += [w for w in fill_windows(span, low, high, target, edges, hard)
                        if not bursts_inside(w, signals) and mean_rise(w, signals, level) >= FILL_RISE_DB]
        for w in windows:
            if w is not None and (w.start, w.end) not in found:
                found[(w.start, w.end)] = w
    return list(found.values())


def span_edges(span: tuple[float, float], sentences: list[Sentence], video_end: float
               ) -> tuple[tuple[float, str], ...]:
    """A stretch's own two ends, named: they are edges as good as a cut."""
    if any(abs(span[0] - s.end) < 1e-6 for s in sentences):
        first = "where the talking stops"
    else:
        first = "the start of the video" if span[0] <= 0 else "the start of the part asked for"
    if any(abs(span[1] - s.start) < 1e-6 for s in sentences):
        last = "where the talking starts"
    else:
        last = "the end of the video" if span[1] >= video_end - 1e-6 else "the end of the part asked for"
    return (span[0], first), (span[1], last)


def bursts_inside(c: Candidate, signals: Signals) -> list[int]:
    return [i for i, b in enumerate(signals.bursts) if c.start <= b[0] and b[1] <= c.end]


def mean_rise(c: Candidate, signals: Signals, level: float) -> float:
    """dB by which the window's heard sound is above the video's usual level."""
    loud = signals.loudness_db[hops_of((c.start, c.end), signals.hop)]
    heard = loud[loud > ACTIVE_DB]
    return float(np.mean(heard) - level) if len(heard) else -20.0


def strongest_burst(c: Candidate, ctx: Context) -> int | None:
    inside = bursts_inside(c, ctx.signals)
    return max(inside, key=lambda i: ctx.burst_rises[i]) if inside else None


def burst_kind(i: int, ctx: Context) -> str:
    return "a crowd reaction" if ctx.burst_noisy[i] else "a loud burst"


def clock(seconds: float) -> str:
    """12:34, or 1:02:03 past an hour."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def heard_mean(signals: Signals, start: float, end: float) -> float | None:
    loud = signals.loudness_db[hops_of((start, end), signals.hop)]
    heard = loud[loud > ACTIVE_DB]
    return float(np.mean(heard)) if len(heard) else None


def score_sound_hook(c: Candidate, ctx: Context) -> tuple[float, str]:
    """How a sound moment opens: on a cut, not in a dead lull, with time before its burst for
    the play that caused it, and better still with the sound building up toward it."""
    score, notes = 40.0, []
    if c.edges[0] == "a scene cut":
        score += 15
        notes.append("opens on a scene cut")
    opening = heard_mean(ctx.signals, c.start, min(c.end, c.start + OPENING_SECONDS))
    rise = (opening - ctx.level_db) if opening is not None else -20.0
    if rise < -6:
        score -= 15
        notes.append(f"opens quietly ({rise:+.0f} dB against the usual level)")
    strongest = strongest_burst(c, ctx)
    if strongest is None:
        notes.append("no burst to build up to")
    else:
        burst_start = ctx.signals.bursts[strongest][0]
        lead = burst_start - c.start
        if lead < OPENING_SECONDS:
            score -= 10
            notes.append(f"{burst_kind(strongest, ctx)} {lead:.0f} s in: little of what led to it")
        else:
            score += 15
            lead_in = heard_mean(ctx.signals, max(c.start, burst_start - BUILD_UP_SECONDS), burst_start)
            build = lead_in - opening if lead_in is not None and opening is not None else 0.0
            if build > 1:
                score += float(np.clip(6 * build, 0, 30))
                notes.append(f"the sound builds up {build:.1f} dB toward {burst_kind(strongest, ctx)} at {clock(burst_start)}")
            else:
                notes.append(f"{lead:.0f} s lead-in to {burst_kind(strongest, ctx)} at {clock(burst_start)}")
    score = float(np.clip(score, 0, 100))
    return score, f"hook {score:.0f}: " + ", ".join(notes)


def score_sound_emotion(c: Candidate, ctx: Context) -> tuple[float, str]:
    """How strongly the sound reacts: the strongest burst's rise over its surroundings."""
    strongest = strongest_burst(c, ctx)
    if strongest is None:
        return 0.0, "emotion 0: no burst stands out"
    rise = ctx.burst_rises[strongest]
    others = len(bursts_inside(c, ctx.signals)) - 1
    score = float(np.clip(5 * rise - 10 + (10 if ctx.burst_noisy[strongest] else 0), 0, 100))
    more = f", and {others} more" if others else ""
    return score, f"emotion {score:.0f}: {burst_kind(strongest, ctx)} {rise:.0f} dB above its surroundings{more}"


def score_sound_self_contained(c: Candidate, ctx: Context) -> tuple[float, str]:
    """Clean edges: a cut or a real lull, not the middle of a loud stretch."""
    score, notes = 100.0, []
    for which, kind, t in (("starts", c.edges[0], c.start), ("ends", c.edges[1], c.end)):
        if kind == "a quiet point":
            loud = ctx.signals.loudness_db[min(len(ctx.signals.loudness_db) - 1, int(t / ctx.signals.hop))]
            if loud > ctx.level_db + 1:
                score -= 25
                notes.append(f"{which} while the sound is still loud")
                continue
        preposition = "on" if kind == "a scene cut" else "" if kind.startswith("where") else "at"
        notes.append(" ".join(w for w in (which, preposition, kind) if w))
    return score, f"self-contained {score:.0f}: " + ", ".join(notes)


def score_sound_payoff(c: Candidate, ctx: Context) -> tuple[float, str]:
    """Does it end on the reaction: a burst just before the end, then a clean ending."""
    score, notes = 20.0, []
    closing = [i for i in bursts_inside(c, ctx.signals)
               if c.end - ctx.signals.bursts[i][1] <= SOUND_TAIL_SECONDS[1] + PAYOFF_BURST_SECONDS]
    if closing:
        best = max(closing, key=lambda i: ctx.burst_rises[i])
        score += 35 + float(np.clip(2 * ctx.burst_rises[best], 0, 30))
        notes.append(f"ends just after {burst_kind(best, ctx)} ({ctx.burst_rises[best]:.0f} dB)")
    if c.edges[1] in ("a scene cut", "a quiet point"):
        score += 10
        notes.append(f"then {'a cut' if c.edges[1] == 'a scene cut' else 'it settles'}")
    score = float(np.clip(score, 0, 100))
    return score, f"payoff {score:.0f}: " + (", ".join(notes) if notes else "no reaction at the end")


def score_sound_topic(c: Candidate, ctx: Context) -> tuple[float, str]:
    if not ctx.topic_words:
        return 50.0, "topic: none asked for"
    return 0.0, "topic 0: nobody speaks here to mention " + " / ".join(ctx.topic_words)


SOUND_SCORERS = {
    "hook": score_sound_hook,
    "energy": score_energy,
    "emotion": score_sound_emotion,
    "self_contained": score_sound_self_contained,
    "payoff": score_sound_payoff,
    "topic": score_sound_topic,
}


# --- choosing ---------------------------------------------------------------------------------

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
                   language: str = "en") -> list[Moment]:
    """The moments to clip, best first (rank 1), or one reel Moment made of several pieces.
    `language` is the transcript's; Chinese and Japanese keywords are cut differently."""
    usable = sentences_in_range(sentences, request, duration)
    if request.reel:
        reel = select_reel(usable, signals, request, language, duration, every_sentence=sentences)
        return [reel] if reel is not None else []
    low, high, target = length_bounds(request)
    scored, ctx = scored_candidates(usable, signals, request, duration, low, high, target, every_sentence=sentences)
    chosen = choose_spread(scored, request.count or DEFAULT_COUNT, duration)
    document = keyword_document_frequency(sentences, language)
    return [to_moment(rank, c, ctx, document, request, language) for rank, c in enumerate(chosen, start=1)]


def select_reel(sentences: list[Sentence], signals: Signals, request: ClipRequest, language: str = "en",
                duration: float = math.inf, every_sentence: list[Sentence] | None = None) -> Moment | None:
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


# --- titles and hashtags --------------------------------------------------------------------

def title_for(c: Candidate, ctx: Context) -> str:
    """The hook sentence: the first one, or the second when it hooks much better; trimmed.
    A moment chosen by its sound is named by its strongest burst and when it happens."""
    if c.kind == "sound":
        strongest = strongest_burst(c, ctx)
        if strongest is None:
            return f"Moment at {clock(c.start)}"
        kind = "Crowd reaction" if ctx.burst_noisy[strongest] else "Loud moment"
        return f"{kind} at {clock(ctx.signals.bursts[strongest][0])}"
    index = c.first
    if c.last > c.first and ctx.features[c.first + 1].hook >= ctx.features[c.first].hook + 20:
        index = c.first + 1
    return trim_title(ctx.sentences[index].text)


def trim_title(text: str, limit: int = TITLE_CHARS) -> str:
    text = re.sub(r"^(?:and|but|so|or|then|well|okay|ok|now)\b[,\s]*", "", text.strip(), flags=re.I)
    text = text.rstrip(".。 ")
    if len(text) > limit:
        cut = text[:limit].rsplit(" ", 1)[0] if " " in text[:limit] else text[:limit]
        text = cut.rstrip(",;:- ") + "…"
    return text[:1].upper() + text[1:]


CJK_LANGUAGES = {"zh", "ja", "yue"}


def keyword_tokens(text: str, language: str = "en") -> list[str]:
    """Words worth a hashtag: English words that are not stopwords; for Chinese or Japanese
    (no spaces between words), the two-character runs of Han characters."""
    if language in CJK_LANGUAGES or has_cjk(text):
        han = re.findall(r"[\u4e00-\u9fff]+", text)
        return [run[k: k + 2] for run in han for k in range(len(run) - 1)]
    return [w.strip("'") for w in tokens(text) if len(w) >= 4 and w not in STOPWORDS and not w[0].isdigit()]


def keyword_document_frequency(sentences: list[Sentence], language: str = "en") -> Counter:
    """In how many sentences each keyword occurs; the key "" holds the number of sentences."""
    document = Counter({"": len(sentences)})
    for s in sentences:
        document.update(set(keyword_tokens(s.text, language)))
    return document


def hashtags_for(text: str, document: Counter, request: ClipRequest, language: str = "en",
                 most: int = 5, fewest: int = 3) -> list[str]:
    """3-5 hashtags: the topic asked for, the window's most telling words (frequent here, rare
    in the rest of the video), then #shorts, padded with general tags."""
    counts = Counter(keyword_tokens(text, language))
    sentences = max(1, document[""])
    ranked = sorted(counts, key=lambda w: (-counts[w] * math.log(1 + sentences / (1 + document[w])), w))
    tags: list[str] = []
    if request.topic:
        topic = request.topic if has_cjk(request.topic) else request.topic.title()
        tags.append("#" + re.sub(r"\W+", "", topic))
    for word in ranked:
        if len(tags) >= most - 1:
            break
        if "#" + word.lower() not in (t.lower() for t in tags):
            tags.append("#" + word)
    tags.append("#shorts")
    for general in ("#highlights", "#clips"):
        if len(tags) < fewest:
            tags.append(general)
    return tags

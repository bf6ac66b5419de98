"""Moments chosen by their sound where nobody speaks, and their six named sub-scores."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from engine.highlights.candidates import END_SHORTFALL, Candidate
from engine.highlights.scoring import PAYOFF_BURST_SECONDS, Context, score_energy
from engine.highlights.sport import (excitement_inside, excitement_reason, excitement_score, peaks, replay_ends,
                                     replay_payoff)
from engine.models import Sentence, Signals
from engine.signals import ACTIVE_DB, ENVELOPE_HOP, active_level, crowd_all_along, hops_of

# Moments chosen by their sound alone.
SOUND_SPAN_SECONDS = 12.0              # a stretch without speech this long may hold a moment chosen by its sound
SOUND_TAIL_SECONDS = (2.0, 6.0)        # a moment runs on after its burst for 15 % of its length, within these
SNAP_SHARE = 0.12                      # an edge moves at most this share of the length to reach a cut or a quiet point
FILL_RISE_DB = 2.0                     # without a burst, a stretch must be this much louder than usual to be a moment
OPENING_SECONDS = 3.0                  # the opening a viewer judges a clip by
BUILD_UP_SECONDS = 6.0                 # the lead-in to a burst whose rise counts as build-up


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
    quietest point near by; never inside a burst, the commentator's excitement or his talking, or a
    sentence."""

    signals: Signals
    forbidden: list[tuple[float, float]]        # bursts, excitement, the commentator talking and sentences
    allowed_hops: np.ndarray                    # per hop: its middle is outside all of them
    allowed_frames: np.ndarray                  # the same per 10 ms of the envelope (empty when not measured)

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
        if len(self.allowed_frames):
            return self.quiet_frame(t, lo, hi)
        hop = self.signals.hop
        first, last = int(math.ceil(lo / hop - 0.5)), int(math.floor(hi / hop - 0.5))
        hops = [k for k in range(max(0, first), min(len(self.allowed_hops) - 1, last) + 1) if self.allowed_hops[k]]
        if not hops:
            return None, ""
        loudness = self.signals.loudness_db
        best = min(hops, key=lambda k: (round(float(loudness[k]), 1), abs((k + 0.5) * hop - t)))
        return round((best + 0.5) * hop, 3), "a quiet point"

    def free_point(self, lo: float, hi: float, latest: bool = False) -> float | None:
        """The first (or last) point of [lo, hi] an edge may sit on, by the 10 ms frames."""
        first = max(0, int(math.ceil(lo / ENVELOPE_HOP - 0.5)))
        frames = np.arange(first, min(len(self.allowed_frames) - 1, int(math.floor(hi / ENVELOPE_HOP - 0.5))) + 1)
        frames = frames[self.allowed_frames[frames]] if len(frames) else frames
        if len(frames) == 0:
            return None
        return round((float(frames[-1] if latest else frames[0]) + 0.5) * ENVELOPE_HOP, 3)

    def quiet_frame(self, t: float, lo: float, hi: float) -> tuple[float | None, str]:
        """The quietest allowed point in [lo, hi] by the 10 ms envelope: in the quietest hop
        (nearest `t` among equals), the dip of the envelope within a hop of its middle (between
        two beats, just before the next onset; in a gap between the commentator's phrases)."""
        first = max(0, int(math.ceil(lo / ENVELOPE_HOP - 0.5)))
        frames = np.arange(first, min(len(self.allowed_frames) - 1, int(math.floor(hi / ENVELOPE_HOP - 0.5))) + 1)
        frames = frames[self.allowed_frames[frames]] if len(frames) else frames
        if len(frames) == 0:
            return None, ""
        hop, loudness = self.signals.hop, self.signals.loudness_db
        hops = np.minimum(((frames + 0.5) * ENVELOPE_HOP / hop).astype(int), len(loudness) - 1)
        best = min(set(hops.tolist()), key=lambda k: (round(float(loudness[k]), 1), abs((k + 0.5) * hop - t)))
        middle = (best + 0.5) * hop
        near = frames[np.abs((frames + 0.5) * ENVELOPE_HOP - middle) <= hop]
        levels = self.signals.envelope_db[near]
        lowest = near[levels <= float(np.min(levels)) + 0.1]
        chosen = lowest[np.argmin(np.abs((lowest + 0.5) * ENVELOPE_HOP - middle))]
        return round((chosen + 0.5) * ENVELOPE_HOP, 3), "a quiet point"


def make_edges(sentences: list[Sentence], signals: Signals) -> Edges:
    forbidden = list(peaks(signals)) + list(signals.talking) + [(s.start, s.end) for s in sentences]
    return Edges(signals, forbidden, outside(forbidden, len(signals.loudness_db), signals.hop),
                 outside(forbidden, len(signals.envelope_db), ENVELOPE_HOP))


def outside(spans: list[tuple[float, float]], count: int, step: float) -> np.ndarray:
    """Per step of `step` seconds: is its middle outside all the spans?"""
    middles = (np.arange(count) + 0.5) * step
    allowed = np.ones(count, dtype=bool)
    for a, b in spans:
        allowed[(middles > a) & (middles < b)] = False
    return allowed


def sound_window(anchor: tuple[float, float], span: tuple[float, float], low: float, high: float, target: float,
                 edges: Edges, hard: tuple[tuple[float, str], ...] = ()) -> Candidate | None:
    """A moment around one burst: most of it before the burst (the build-up), a little after
    it; the burst whole inside; the edges moved to a cut or a quiet point near by."""
    burst_seconds = anchor[1] - anchor[0]
    length = min(high, max(low, target), span[1] - span[0])
    length = max(length, min(burst_seconds + 2.0, span[1] - span[0]))
    tail = min(float(np.clip(0.15 * length, *SOUND_TAIL_SECONDS)), max(0.0, length - burst_seconds))
    end = min(span[1], anchor[1] + tail)
    if len(edges.allowed_frames) and not edges.allowed(end):      # mid-phrase: the commentator's next pause
        end = edges.free_point(anchor[1], min(span[1], anchor[1] + SOUND_TAIL_SECONDS[1])) or end
    start = max(span[0], end - length)
    end = min(span[1], start + length)
    return (snapped(start, end, span, low, high, edges, hard, keep=anchor)
            or ending_at(end, "a quiet point", anchor, span, low, high, length, edges, hard))


def ending_at(end: float, kind: str, anchor: tuple[float, float], span: tuple[float, float], low: float, high: float,
              length: float, edges: Edges, hard: tuple[tuple[float, str], ...] = ()) -> Candidate | None:
    """A window ending exactly at `end` (an allowed point) whose start is searched over the whole
    low..high range before it: where a commentator talks on, the pauses are few, and both edges
    moving only a little (snapped) rarely find one each."""
    if not edges.allowed(end) or end - anchor[0] > high:
        return None
    start, start_kind = edges.snap(end - length, max(span[0], end - high), min(anchor[0], end - low), hard)
    return None if start is None else Candidate(-1, -1, start, end, kind="sound", edges=(start_kind, kind))


def replay_windows(anchor: tuple[float, float], span: tuple[float, float], low: float, high: float, target: float,
                   edges: Edges, hard: tuple[tuple[float, str], ...] = ()) -> list[Candidate]:
    """Windows around a peak that end where the picture cuts away to its replay, or where it cuts
    back (the replay held), and start far enough back for the build-up."""
    found = []
    for end in replay_ends(anchor, edges.signals):
        length = min(high, max(low, target), end - span[0])
        if not span[0] < end <= span[1] or end - anchor[0] > length:
            continue
        kind = "a scene cut"
        if not edges.allowed(end):         # he is still talking on the cut: end in his last pause before it
            end, kind = edges.free_point(anchor[1], end, latest=True), "a quiet point"
            if end is None:
                continue
        start = end - length
        window = (snapped(start, end, (span[0], end), low, high, edges, hard + ((end, kind),), keep=anchor)
                  or ending_at(end, kind, anchor, span, low, high, length, edges, hard))
        if window is not None:
            found.append(window)
    return found


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
    if crowd_all_along(signals.loudness_db, signals.noisiness):
        spans, fill = [(start, end)], True          # a broadcast: the commentary goes on over the moments
    elif speech_is_enough(sentences, low, start, end):
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
        anchors = [b for b in peaks(signals) if span[0] <= b[0] and b[1] <= span[1]]
        windows = [sound_window(b, span, low, high, target, edges, hard) for b in anchors]
        windows += [w for b in anchors for w in replay_windows(b, span, low, high, target, edges, hard)]
        if fill:                  # lively stretches with no burst; a burst is better served by its own window
            windows += [w for w in fill_windows(span, low, high, target, edges, hard)
                        if not bursts_inside(w, signals) and mean_rise(w, signals, level) >= FILL_RISE_DB]
        for w in windows:
            if w is not None and (w.start, w.end) not in found:
                found[(w.start, w.end)] = w
    return list(found.values())


def evenly_spaced(sentences: list[Sentence], signals: Signals, start: float, end: float, low: float, high: float,
                  target: float, count: int, duration: float = math.inf) -> list[Candidate]:
    """When nothing stands out: `count` windows spread evenly over [start, end], their edges on a
    cut or a quiet point near by; none when there is nothing but silence."""
    end = min(end, duration, len(signals.loudness_db) * signals.hop)
    if end - start < min(low, 1.0) or active_level(signals.loudness_db) <= ACTIVE_DB:
        return []
    length = min(high, max(low, target), end - start)
    count = max(1, min(count, int((end - start) // length)))
    edges = make_edges(sentences, signals)
    hard = span_edges((start, end), sentences, end)
    found = []
    for k in range(count):
        middle = start + (k + 0.5) * (end - start) / count
        first = min(max(start, middle - length / 2), end - length)
        window = snapped(first, first + length, (start, end), min(low, length), max(high, length), edges, hard)
        if window is not None and not any(w.start < window.end and window.start < w.end for w in found):
            window.filler = True
            found.append(window)
    return found


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
    """12:34, or 1:02:03 past an hour; to the nearest second, as the bot says a clip's span (22.6 s is 0:23)."""
    whole = int(round(max(0.0, seconds)))
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def heard_mean(signals: Signals, start: float, end: float) -> float | None:
    loud = signals.loudness_db[hops_of((start, end), signals.hop)]
    heard = loud[loud > ACTIVE_DB]
    return float(np.mean(heard)) if len(heard) else None


def main_peak(c: Candidate, ctx: Context) -> tuple[float, str] | None:
    """(start, what) of the first of the moment's strongest burst and the commentator's
    excitement: what its build-up leads to."""
    found = []
    strongest = strongest_burst(c, ctx)
    if strongest is not None:
        found.append((ctx.signals.bursts[strongest][0], burst_kind(strongest, ctx)))
    excited = excitement_inside(c.start, c.end, ctx.excitements)
    if excited is not None and excited.span[0] >= c.start:
        found.append((excited.span[0], "the commentator's excitement"))
    return min(found) if found else None


def score_sound_hook(c: Candidate, ctx: Context) -> tuple[float, str]:
    """How a sound moment opens: on a cut, not in a dead lull, with time before its peak for
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
    peak = main_peak(c, ctx)
    if peak is None:
        notes.append("no burst to build up to")
    else:
        peak_start, what = peak
        lead = peak_start - c.start
        if lead < OPENING_SECONDS:
            score -= 10
            notes.append(f"{what} {lead:.0f} s in: little of what led to it")
        else:
            score += 15
            lead_in = heard_mean(ctx.signals, max(c.start, peak_start - BUILD_UP_SECONDS), peak_start)
            build = lead_in - opening if lead_in is not None and opening is not None else 0.0
            if build > 1:
                score += float(np.clip(6 * build, 0, 30))
                notes.append(f"the sound builds up {build:.1f} dB toward {what} at {clock(peak_start)}")
            else:
                notes.append(f"{lead:.0f} s lead-in to {what} at {clock(peak_start)}")
    score = float(np.clip(score, 0, 100))
    return score, f"hook {score:.0f}: " + ", ".join(notes)


def score_sound_emotion(c: Candidate, ctx: Context) -> tuple[float, str]:
    """How strongly the sound reacts: the strongest burst's rise over its surroundings, or the
    commentator's voice rising against his own usual pitch and pace, whichever is stronger."""
    found: list[tuple[float, str]] = []
    strongest = strongest_burst(c, ctx)
    if strongest is not None:
        rise = ctx.burst_rises[strongest]
        others = len(bursts_inside(c, ctx.signals)) - 1
        score = float(np.clip(5 * rise - 10 + (10 if ctx.burst_noisy[strongest] else 0), 0, 100))
        more = f", and {others} more" if others else ""
        found.append((score, f"{burst_kind(strongest, ctx)} {rise:.0f} dB above its surroundings{more}"))
    excited = excitement_inside(c.start, c.end, ctx.excitements)
    if excited is not None:
        found.append((excitement_score(excited), excitement_reason(excited, clock)))
    if not found:
        return 0.0, "emotion 0: no burst stands out"
    score = max(value for value, _ in found)
    return score, f"emotion {score:.0f}: " + "; ".join(reason for _, reason in found)


def score_sound_self_contained(c: Candidate, ctx: Context) -> tuple[float, str]:
    """Clean edges: a cut or a real lull, not the middle of a loud stretch. Where the commentator
    is measured (a crowd all along, which never settles), a quiet point is one of his pauses."""
    score, notes = 100.0, []
    for which, kind, t in (("starts", c.edges[0], c.start), ("ends", c.edges[1], c.end)):
        if kind == "a quiet point" and ctx.signals.talking:
            kind = "a pause in the commentary"
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
    replay_points, replay_note = replay_payoff(c.start, c.end, ctx.signals, clock)
    if replay_note:
        score += replay_points
        notes.append(replay_note)
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



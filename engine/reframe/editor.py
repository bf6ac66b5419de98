"""An editor's camera: from speaking scores per frame to stretches of one layout each.

The clip is cut offline, so the camera can do what an editor does with the whole take in
front of them: cut to a person when their turn starts (not when a detector is sure of it),
hold on them through pauses and short interjections, and when two people trade short turns,
show both (the stacked layout) rather than cut back and forth.

    labels  = active_speaker(scores)          who speaks at each frame (-1: nobody clearly)
    turns   = speaker_turns(labels, fps)      runs of one speaker, pauses held
    turns   = who_is_close(turns, ...)        for voices too close to tell apart: between whom
    layouts = plan_stretches(turns, ...)      "crop" on one person, "stacked" for two, "fit"
    cuts    = place_cuts(stretches, ...)      each cut moved back to where the new speaker starts
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from engine.reframe.stretch import Stretch

SCORE_MIN = 0.2             # a score below this is no evidence of speaking
HOLD_GAP_S = 1.2            # a pause shorter than this keeps the turn of who spoke before it
SWITCH_S = 1.5              # another person must speak this long before the camera goes to them
QUICK_TURN_S = 3.5          # turns shorter than this, traded back and forth, give the stacked layout
MIN_STRETCH_S = 1.5         # no layout is shown for less than this
CONFIDENT = 2.0             # a crop on one person: their score over the stretch this many times the next one's
LIPS_CLEAR = 1.5            # ... unless the other's lips move this many times as much (each against their usual)
LIPS_REST = 0.6             # lips moving less than this much of their usual are at rest ...
LIPS_SPEECH = 0.8           # ... and say nobody speaks through them when speech fills this much of the time


@dataclass(frozen=True)
class Turn:
    start: float
    end: float
    speaker: int                 # a track id, or -1 for nobody
    close: tuple[int, ...] = ()  # BOTH: the two whose voices were too close to tell apart (see who_is_close)

    @property
    def length(self) -> float:
        return self.end - self.start


BOTH = -2                   # a label: two people's scores too close to tell apart


def active_speaker(scores: np.ndarray, track_ids: list[int], score_min: float = SCORE_MIN,
                   smooth: int = 9, close: float = 1.4) -> np.ndarray:
    """(tracks, frames) scores -> per frame the id of the clear speaker, BOTH where the two best
    are within `close` times of each other (a quick exchange, or no way to tell), or -1.
    Scores are averaged over `smooth` frames first, so one frame's noise does not name anyone."""
    if scores.size == 0:
        return np.full(scores.shape[1] if scores.ndim == 2 else 0, -1)
    smoothed = smooth_scores(scores, smooth)
    order = np.argsort(smoothed, axis=0)
    columns = np.arange(smoothed.shape[1])
    top = smoothed[order[-1], columns]
    second = smoothed[order[-2], columns] if len(scores) > 1 else np.zeros_like(top)
    labels = np.where(top >= score_min, np.asarray(track_ids)[order[-1]], -1)
    return np.where((top >= score_min) & (second * close >= top), BOTH, labels)


def smooth_scores(scores: np.ndarray, smooth: int = 9) -> np.ndarray:
    """Each track's score averaged over `smooth` frames around each frame."""
    kernel = np.ones(smooth) / smooth
    return np.stack([np.convolve(s, kernel, mode="same") for s in scores]) if len(scores) else scores


def runs(labels: np.ndarray) -> list[tuple[int, int, int]]:
    """(start index, end index exclusive, label) of each run of equal labels."""
    if len(labels) == 0:
        return []
    edges = np.flatnonzero(np.diff(labels)) + 1
    starts = np.concatenate([[0], edges])
    ends = np.concatenate([edges, [len(labels)]])
    return [(int(s), int(e), int(labels[s])) for s, e in zip(starts, ends)]


def speaker_turns(labels: np.ndarray, fps: float, hold_gap_s: float = HOLD_GAP_S) -> list[Turn]:
    """Runs of one speaker in time. A pause (-1) shorter than `hold_gap_s` between turns
    belongs to the turn before it; leading silence belongs to the first speaker."""
    pieces = runs(labels)
    turns: list[Turn] = []
    for s, e, label in pieces:
        start, end = s / fps, e / fps
        if label == -1 and turns and end - start < hold_gap_s:
            label = turns[-1].speaker
        if turns and turns[-1].speaker == label:
            turns[-1] = Turn(turns[-1].start, end, label)
        else:
            turns.append(Turn(start, end, label))
    if len(turns) > 1 and turns[0].speaker == -1:
        turns = [Turn(0.0, turns[1].end, turns[1].speaker)] + turns[2:]
    return turns


def who_is_close(turns: list[Turn], times: np.ndarray, smoothed: dict[int, np.ndarray]) -> list[Turn]:
    """Each BOTH turn with the two it is between: whoever spoke last before it, and the other
    person heard most over it (`smoothed`: per track id, over `times`). With three people the
    two too close to tell apart need not be the last pair stacked."""
    out: list[Turn] = []
    for turn in turns:
        span = (times >= turn.start) & (times < turn.end)
        last = next((t.speaker for t in reversed(out) if t.speaker in smoothed), None)
        if turn.speaker == BOTH and len(smoothed) >= 2 and span.any():
            heard = sorted(smoothed, key=lambda i: -float(np.mean(smoothed[i][span])))
            first = last if last is not None else heard[0]
            turn = replace(turn, close=(first, next(i for i in heard if i != first)))
        out.append(turn)
    return out


def merge_same(stretches: list[Stretch]) -> list[Stretch]:
    """Neighbouring stretches with the same layout and people become one."""
    merged: list[Stretch] = []
    for s in stretches:
        if merged and merged[-1].layout == s.layout and merged[-1].tracks == s.tracks:
            merged[-1] = told(Stretch(merged[-1].start, s.end, s.layout, s.tracks), merged[-1].reasons() + s.reasons())
        else:
            merged.append(s)
    return merged


def told(stretch: Stretch, parts) -> Stretch:
    """`stretch` with these (start, reason) parts, a reason said again straight after itself
    once: its reason is theirs in order ("...; then ...")."""
    kept: list[tuple[float, str]] = []
    for start, reason in parts:
        if reason and not (kept and kept[-1][1] == reason):
            kept.append((start, reason))
    return replace(stretch, reason="; then ".join(r for _, r in kept), parts=tuple(kept) if len(kept) > 1 else ())


def plan_stretches(turns: list[Turn], faces_on_screen: int, quick_turn_s: float = QUICK_TURN_S,
                   switch_s: float = SWITCH_S, min_stretch_s: float = MIN_STRETCH_S,
                   pair: tuple[int, int] | None = None) -> list[Stretch]:
    """Turns -> stretches with a layout each.

    - Two people trading turns shorter than `quick_turn_s` (at least three such turns in a
      row, each by the other person): both of them, stacked. Nobody named for a while in between
      (a doubt shorter than a quick turn) does not end the exchange: under noise a whole quick
      turn can go unnamed, and the crop after it would come early and hide who speaks.
    - Otherwise the camera stays on the speaker; someone who speaks for less than `switch_s`
      does not take it (an interjection), and nobody speaking keeps the last speaker.
    - Two people whose scores are too close to tell apart for `switch_s` or more: `pair`, stacked.
    - Nobody identified at all: `pair`, stacked (the two people who speak most); without a
      pair, with three or more faces, or none, the whole picture (fit).
    """
    if not turns:
        return []
    stretches: list[Stretch] = []
    i = 0
    while i < len(turns):
        j, spoken, last = i, 0, None
        people: set[int] = set()
        while j < len(turns) and turns[j].length < quick_turn_s:
            if turns[j].speaker < 0:
                if j == i:
                    break
                j += 1                      # a doubt no longer than a quick turn does not end the exchange
                continue
            if len(people | {turns[j].speaker}) > 2:
                break
            people.add(turns[j].speaker)
            if turns[j].speaker != last:    # the same person again after a doubt: still their turn
                spoken += 1
            last = turns[j].speaker
            j += 1
        while j > i and turns[j - 1].speaker < 0:
            j -= 1
        if spoken >= 3 and len(people) == 2:
            first = turns[i].speaker
            pair = (first, next(p for p in people if p != first))
            stretches.append(Stretch(turns[i].start, turns[j - 1].end, "stacked", pair,
                                     f"#{pair[0]} and #{pair[1]} trade short turns, {spoken} under {quick_turn_s:g} s"))
            i = j
            continue
        turn = turns[i]
        held = stretches[-1] if stretches else None
        close = turn.close or pair
        if turn.speaker == BOTH and close is not None and turn.length >= switch_s:
            stretches.append(Stretch(turn.start, turn.end, "stacked", close,
                                     f"#{close[0]} and #{close[1]} both speaking, their voices too close to tell apart"))
        elif turn.speaker < 0:
            if held is not None:
                stretches.append(Stretch(turn.start, turn.end, held.layout, held.tracks, held.reason))
            else:
                stretches.append(Stretch(turn.start, turn.end, "fit", (), "nobody identified as speaking"))
        elif turn.length < switch_s and held is not None and held.layout != "fit":
            stretches.append(Stretch(turn.start, turn.end, held.layout, held.tracks, held.reason))
        else:
            stretches.append(Stretch(turn.start, turn.end, "crop", (turn.speaker,),
                                     f"#{turn.speaker} speaks for {turn.length:.1f} s"))
        i += 1
    stretches = merge_same(stretches)
    # A first stretch of nobody, followed by a speaker, shows that speaker from the start.
    if len(stretches) > 1 and stretches[0].layout == "fit" and faces_on_screen < 3 and faces_on_screen > 0:
        stretches = merge_same([Stretch(0.0, stretches[0].end, stretches[1].layout, stretches[1].tracks,
                                        stretches[1].reasons()[0][1])] + stretches[1:])
    # Two people in a wide shot shown whole are two small faces: show them both, larger.
    if pair is not None:
        quiet = f"nobody clearly speaking, no voice score reaches {SCORE_MIN:g}"
        stretches = merge_same([Stretch(s.start, s.end, "stacked", pair, quiet)
                                if s.layout == "fit" else s for s in stretches])
    return absorb_short(stretches, min_stretch_s)


def settle_doubts(stretches: list[Stretch], times: np.ndarray, scores: dict[int, np.ndarray],
                  lips: dict[int, np.ndarray] | None = None, confident: float = CONFIDENT,
                  lips_clear: float = LIPS_CLEAR, lips_window_s: float = SWITCH_S,
                  min_stretch_s: float = MIN_STRETCH_S, speaking: np.ndarray | None = None) -> list[Stretch]:
    """A crop on one person only where the evidence over the whole stretch is clear and does
    not contradict itself: their score, pooled over the stretch, at least `confident` times
    that of the next person (`scores`: per track id, over `times`), and the next person's
    lips not moving `lips_clear` times as much as theirs (`lips`: each face's mouth motion
    against its usual, see usual_lip_motion), neither over the whole stretch nor over any
    `lips_window_s` of it (see lips_against). Otherwise both are shown stacked, there: the
    crop cannot hold both, and a wrong guess hides the speaker for the whole stretch.
    Each stretch's reason says the pooled evidence in words (see crop_reason)."""
    out = []
    for s, following in zip(stretches, stretches[1:] + [None]):
        span = (times >= s.start) & (times < s.end)
        if len(scores) < 2 or not span.any() or not all(i in scores for i in s.tracks):
            out.append(s)
            continue
        if s.layout == "crop" and len(s.tracks) == 1:
            # A cut to another person's crop moves back to where their voice rose (place_cuts):
            # the lips are not asked about the time it may move over.
            handed_over = following is not None and following.layout == "crop" and following.tracks != s.tracks
            s = _settled_crop(s, times, scores, lips, confident, lips_clear)
            out += [_settled_crop(piece, times, scores, lips, confident, lips_clear)
                    for piece in _split_where_lips_object(s, times, scores, lips, lips_clear, lips_window_s,
                                                          min_stretch_s, speaking,
                                                          s.end - SWITCH_S if handed_over else s.end)]
            continue
        if s.layout == "stacked":
            s = told(s, [(start, f"{reason} (voice " + ", ".join(f"#{i} {heard[i]:.2f}" for i in s.tracks) + ")")
                         for start, reason, heard in _pooled_by_part(s, times, scores)])
        out.append(s)
    return merge_same(out)


def _rival(chosen: int, voice: dict[int, float]) -> int:
    return max((i for i in voice if i != chosen), key=voice.get)


def _settled_crop(s: Stretch, times: np.ndarray, scores: dict[int, np.ndarray], lips: dict[int, np.ndarray] | None,
                  confident: float, lips_clear: float) -> Stretch:
    """A crop stretch kept, or both stacked, on the evidence pooled over it (a stacked one is
    already decided: see _split_where_lips_object)."""
    if s.layout != "crop":
        return s
    span = (times >= s.start) & (times < s.end)
    voice = {i: float(np.mean(v[span])) for i, v in scores.items()}
    chosen = s.tracks[0]
    rival = _rival(chosen, voice)
    lips_ratio = lip_ratio(lips, chosen, rival, span) if lips is not None else None
    contradicted = lips_ratio is not None and lips_ratio >= lips_clear
    clear = voice[chosen] >= confident * voice[rival]
    layout, tracks = ("crop", s.tracks) if clear and not contradicted else ("stacked", (chosen, rival))
    return Stretch(s.start, s.end, layout, tracks,
                   crop_reason(chosen, rival, voice[chosen], voice[rival], lips_ratio, clear, contradicted))


def _split_where_lips_object(s: Stretch, times: np.ndarray, scores: dict[int, np.ndarray],
                             lips: dict[int, np.ndarray] | None, lips_clear: float, window_s: float,
                             min_stretch_s: float, speaking: np.ndarray | None, judged_to: float) -> list[Stretch]:
    """A crop stretch -> the same crop, with the parts up to `judged_to` where the chosen one's
    lips rest through speech and the other's move (lips_against; the other: the next voice over
    the stretch) shown stacked; a crop left shorter than `min_stretch_s` beside them is stacked
    too. Pooled over a long stretch, a turn the other took at its end drowns in the chosen one's
    turn before it, and the voice alone may name a still mouth there: on a remote link the
    speaker's lips need not match the sound at any delay, and a listener's twitch can."""
    span = (times >= s.start) & (times < s.end)
    if lips is None or len(times) < 2 or s.layout != "crop":
        return [s]
    chosen = s.tracks[0]
    rival = _rival(chosen, {i: float(np.mean(v[span])) for i, v in scores.items()})
    if chosen not in lips or rival not in lips:
        return [s]
    step = float(np.median(np.diff(times)))
    against, peak = lips_against(lips[chosen], lips[rival], span & (times < judged_to),
                                 max(2, int(round(window_s / step))), lips_clear, speaking)
    if not against.any():
        return [s]
    edges = np.flatnonzero(np.diff(np.concatenate([[False], against, [False]]).astype(int)))
    pieces, at = [], s.start
    for first, last in zip(edges[::2], edges[1::2]):
        begin, end = float(times[first]), min(s.end, float(times[last - 1]) + step)
        voice = {i: float(np.mean(scores[i][first:last])) for i in (chosen, rival)}
        if begin > at:
            pieces.append(replace(s, start=at, end=begin, parts=()))
        pieces.append(Stretch(begin, end, "stacked", (chosen, rival),
                              f"#{chosen}'s lips rested through speech while #{rival}'s moved "
                              f"{voice_ratio(peak[first:last].max(), 1.0)} as much, over {window_s:g} s "
                              f"(voice #{chosen} {voice[chosen]:.2f}, #{rival} {voice[rival]:.2f})"))
        at = end
    if at < s.end:
        pieces.append(replace(s, start=at, parts=()))
    for k, piece in enumerate(pieces):
        if piece.layout == "crop" and piece.end - piece.start < min_stretch_s:
            pieces[k] = replace(pieces[k - 1] if k > 0 else pieces[k + 1], start=piece.start, end=piece.end)
    return merge_same(pieces)


def lips_against(mine: np.ndarray, theirs: np.ndarray, span: np.ndarray, window: int,
                 lips_clear: float = LIPS_CLEAR, speaking: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Two faces' lips (each against its usual, NaN where unseen) -> (frames,) the frames of
    every `window` frames inside `span` over which `mine` rested (LIPS_REST) while someone spoke
    (`speaking` on LIPS_SPEECH of them) and `theirs` moved at least `lips_clear` times as much
    (both seen on at least half of it), and per frame the most that ratio reached over such a
    window. A mouth at rest while the voice goes on is not the one speaking."""
    def window_sums(values: np.ndarray) -> np.ndarray:
        total = np.concatenate([[0.0], np.cumsum(values)])
        return total[window:] - total[:-window]

    def window_means(values: np.ndarray) -> np.ndarray:
        seen = ~np.isnan(values) & span
        count = window_sums(seen.astype(float))
        return np.where(count >= window / 2, window_sums(np.where(seen, values, 0.0)) / np.maximum(count, 1), np.nan)

    heard = np.ones(len(span), bool) if speaking is None else speaking
    whole = (window_sums(span.astype(float)) == window) & (window_sums(heard.astype(float)) >= LIPS_SPEECH * window)
    mine_w, theirs_w = window_means(mine), window_means(theirs)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(mine_w > 0, theirs_w / mine_w, np.where(theirs_w > 0, np.inf, np.nan))
    fired = np.flatnonzero(whole & (ratio >= lips_clear) & (mine_w <= LIPS_REST))
    against, peak = np.zeros(len(span), bool), np.zeros(len(span))
    for i in fired:
        against[i:i + window] = True
        peak[i:i + window] = np.maximum(peak[i:i + window], ratio[i])
    return against, peak


def _pooled_by_part(stretch: Stretch, times: np.ndarray, scores: dict[int, np.ndarray]):
    """(start, reason, voice per track pooled over that part) of each part of a stretch."""
    parts = stretch.reasons()
    for (start, reason), end in zip(parts, [p[0] for p in parts[1:]] + [stretch.end]):
        span = (times >= start) & (times < end)
        span = span if span.any() else (times >= stretch.start) & (times < stretch.end)
        yield start, reason, {i: float(np.mean(v[span])) for i, v in scores.items()}


def times_said(value: float) -> str:
    """A ratio in words, rounded down (so that 1.49 never reads as the 1.5 a rule asks for)."""
    return f"{np.floor(value * 10 + 1e-9) / 10:.1f}x"


def crop_reason(chosen: int, rival: int, mine: float, theirs: float, lips_ratio: float | None,
                clear: bool, contradicted: bool) -> str:
    """What settle_doubts decided about a crop on `chosen`, in words with the pooled numbers:
    `mine`, `theirs` = the two voices over the stretch, `lips_ratio` = the rival's lips over
    chosen's (None: not seen); `clear`: the voice clear enough for a crop, `contradicted`: the
    rival's lips said otherwise."""
    lips_said = "" if lips_ratio is None else (
        f"#{rival}'s lips moved {times_said(lips_ratio)} as much" if lips_ratio >= 1
        else f"#{rival}'s lips moved less ({times_said(lips_ratio)})")
    if contradicted and clear:
        return f"the voice says #{chosen} ({voice_ratio(mine, theirs)} as much as #{rival}), but {lips_said}"
    if mine <= 0 and theirs <= 0:
        voice = f"neither #{chosen} nor #{rival} spoke"
    elif clear and theirs <= 0:
        voice = f"#{chosen} spoke, #{rival} not at all"
    elif clear:
        voice = f"#{chosen} spoke {voice_ratio(mine, theirs)} as much as #{rival}"
    elif theirs > mine * CONFIDENT:
        voice = f"over the whole stretch #{rival} spoke {voice_ratio(theirs, mine)} as much as #{chosen}"
    elif mine >= theirs:
        voice = f"#{chosen} spoke only {voice_ratio(mine, theirs)} as much as #{rival}, too close to tell apart"
    else:
        voice = f"#{rival} spoke only {voice_ratio(theirs, mine)} as much as #{chosen}, too close to tell apart"
    return voice + (f", and {lips_said}" if lips_said else "")


def voice_ratio(mine: float, theirs: float) -> str:
    return times_said(mine / theirs) if theirs > 0 and np.isfinite(mine) else "infinitely"


def absorb_short(stretches: list[Stretch], min_stretch_s: float = MIN_STRETCH_S) -> list[Stretch]:
    """A stretch shorter than `min_stretch_s` takes the layout of the one before it (the
    first one, of the one after it)."""
    changed = True
    while changed and len(stretches) > 1:
        changed = False
        for k, s in enumerate(stretches):
            if s.end - s.start >= min_stretch_s:
                continue
            other = stretches[k - 1] if k > 0 else stretches[k + 1]
            nearest = other.reasons()[-1 if k > 0 else 0][1]
            stretches[k] = Stretch(s.start, s.end, other.layout, other.tracks, nearest)
            stretches = merge_same(stretches)
            changed = True
            break
    return stretches


SNAP_S = 0.3                # a cut moves to a word's start this close to where the voices cross


def place_cuts(stretches: list[Stretch], times: np.ndarray, scores: dict[int, np.ndarray],
               onsets: np.ndarray, look_back_s: float = SWITCH_S, snap_s: float = SNAP_S,
               min_stretch_s: float = MIN_STRETCH_S, fixed: tuple[float, ...] = ()) -> list[Stretch]:
    """Each cut that brings someone into view (a crop on them, or them stacked beside who was
    shown), moved back to where their turn began. The labels that decided the cut lag the turn
    (the scores are averaged over a window, and a turn is named only once one score clearly
    leads), so an editor who has seen the whole take cuts earlier: at the last
    moment before the cut where the new speaker's score was not above the previous stretch's
    people's, then onto the nearest word start (`onsets`) within `snap_s` of it, so a cut never
    lands mid-word. `scores`: smoothed per track id, over `times`. Cuts at `fixed` times (the
    shot changes) stay where they are."""
    out = list(stretches)
    for k in range(1, len(out)):
        before, after = out[k - 1], out[k]
        newcomer = _newcomer(before, after, scores, times)
        if newcomer is None or newcomer not in scores:
            continue
        if any(abs(after.start - f) < 1e-6 for f in fixed):
            continue
        low = max(before.start + min_stretch_s, after.start - look_back_s)
        if low >= after.start:
            continue
        span = (times >= low) & (times <= after.start)
        if not span.any():
            continue
        rivals = [i for i in before.tracks if i in scores and i != newcomer]
        rival = np.max([scores[i] for i in rivals], axis=0) if rivals else np.zeros(len(times))
        lead = (scores[newcomer] - rival)[span]
        behind = np.flatnonzero(lead <= 0)
        crossing = float(times[span][behind[-1]]) if len(behind) else low
        near = onsets[(onsets >= max(low, crossing - snap_s)) & (onsets <= min(after.start, crossing + snap_s))]
        cut = float(near[np.argmin(np.abs(near - crossing))]) if len(near) else crossing
        if cut < after.start:
            where = (f"where #{newcomer}'s voice rose above " + " and ".join(f"#{i}'s" for i in rivals)
                     if len(behind) and rivals else f"as far back as {after.start - low:.1f} s")
            early = after.start - cut
            digits = 1 if early >= 0.1 else 2
            moved = f"cut {early:.{digits}f} s earlier, {where}" + (" (at a word's start)" if len(near) else "")
            out[k - 1] = told(replace(before, end=cut), [p for p in before.reasons() if p[0] < cut])
            (_, first), *rest = after.reasons()
            out[k] = told(replace(after, start=cut), [(cut, "; ".join(filter(None, [first, moved])))] + rest)
    return out


def _newcomer(before: Stretch, after: Stretch, scores: dict[int, np.ndarray], times: np.ndarray) -> int | None:
    """The one person a cut brings into view, whose turn it was: the cropped person, or the one
    of two stacked people who was not on screen before (both new: the one heard more at the
    cut). None when nobody new is shown (an earlier cut would only hide someone)."""
    if after.layout not in ("crop", "stacked") or not after.tracks:
        return None
    new = [i for i in after.tracks if i not in before.tracks]     # a "fit" stretch shows no one in particular
    if after.layout == "crop":
        return after.tracks[0] if before.layout != "stacked" or new else None
    if len(new) == 2 and before.layout in ("crop", "stacked") and all(i in scores for i in new) and len(times):
        at = min(int(np.searchsorted(times, after.start)), len(times) - 1)
        return max(new, key=lambda i: scores[i][at])
    return new[0] if len(new) == 1 else None


def lip_ratio(lips: dict[int, np.ndarray], chosen: int, other: int, span: np.ndarray) -> float | None:
    """Over the span, how many times as much `other`'s lips move as `chosen`'s (each against
    their usual); None when either face is not seen there."""
    if any(i not in lips or np.all(np.isnan(lips[i][span])) for i in (chosen, other)):
        return None
    mine, theirs = (float(np.nanmean(lips[i][span])) for i in (chosen, other))
    if mine > 0:
        return theirs / mine
    return np.inf if theirs > 0 else 1.0

"""When the mouth alone cannot tell two people apart, the whole face may.

The speaking score reads the mouth beyond the head (speaking.articulation): a listener who
nods or turns must not look like a speaker. The price is paid by a speaker whose head moves
with his words, as people's heads do when they talk with their hands: his head's motion
swamps his mouth's, and what is left of it hardly follows the voice. On a real seated
interview (a man talking in profile, his curly hair moving with each phrase; a silent woman
beside him) the mouth beyond the head gave the silent woman 0.23 against his 0.14, and the
two-shot was stacked; the lower face with the head in it followed his voice 0.35 against her
0.13.

So where the voice could not tell two people apart (a stretch the editor stacked), the motion
of the whole lower face is asked: it names one of them only when it is clear (CONFIDENT times
the other, and at least SCORE_MIN where someone speaks), when the other's is ahead of it for
less than SWITCH_S in all (the time another person must speak before the camera goes to them:
two people who really trade turns stay stacked, however unequal their shares), when the other
is not shown alone right beside it, when the mouth beyond the head does not clearly name the
other, and when the lips do not object (the other's lips moving LIPS_CLEAR times as much over
the stretch, or the chosen one's whole face resting through speech while the other's lips move,
over any SWITCH_S of it). A listener who moves a lot, out of step with the voice, gets no such lead. It
only turns a stack into a crop, never moves a crop to someone else.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from engine.reframe.editor import (
    CONFIDENT,
    LIPS_CLEAR,
    SCORE_MIN,
    SWITCH_S,
    Stretch,
    lip_ratio,
    lips_against,
    merge_same,
    smooth_scores,
    told,
    voice_ratio,
)
from engine.reframe.speaking import mouth_regions, region_motion


def lower_face_motion(motion: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """(frames, rows, cols) frame change, (frames, 4) face boxes -> the mean change over the
    mouth and jaw, the head's own motion included (NaN where the face is unknown)."""
    return region_motion(motion, mouth_regions(boxes))


def crops_the_face_settles(stretches: list[Stretch], times: np.ndarray, voice: dict[int, np.ndarray],
                           face_voice: dict[int, np.ndarray], lips: dict[int, np.ndarray],
                           face_moves: dict[int, np.ndarray], speaking: np.ndarray,
                           confident: float = CONFIDENT, lips_clear: float = LIPS_CLEAR,
                           window_s: float = SWITCH_S) -> list[Stretch]:
    """The stacked stretches of two people that the whole face settles, as crops on the one it
    names. `voice`: the speaking score per track id (the mouth beyond the head); `face_voice`:
    the same score of the lower face with the head in it; `lips`, `face_moves`: each against its
    face's usual (speaking.usual_lip_motion); all over `times`, with `speaking` where someone
    speaks."""
    crops = {}
    for k, s in enumerate(stretches):
        span = (times >= s.start) & (times < s.end)
        if s.layout != "stacked" or len(s.tracks) != 2 or not span.any():
            continue
        if not all(i in d for i in s.tracks for d in (voice, face_voice, lips, face_moves)):
            continue
        face = {i: float(np.mean(face_voice[i][span])) for i in s.tracks}
        mouth = {i: float(np.mean(voice[i][span])) for i in s.tracks}
        chosen, other = sorted(s.tracks, key=lambda i: -face[i])
        heard = span & speaking
        if not heard.any() or float(np.mean(face_voice[chosen][heard])) < SCORE_MIN:
            continue
        if face[chosen] < confident * face[other] or mouth[other] >= confident * mouth[chosen]:
            continue
        step = float(np.median(np.diff(times))) if len(times) > 1 else 1.0
        if time_ahead(face_voice[other][span], face_voice[chosen][span]) * step >= window_s:
            continue
        ratio = lip_ratio(lips, chosen, other, span)
        if ratio is not None and ratio >= lips_clear:
            continue
        rested, _ = lips_against(face_moves[chosen], lips[other], span, max(2, int(round(window_s / step))),
                                 lips_clear, speaking)
        if rested.any():
            continue
        mouth_said = f"#{chosen} {mouth[chosen]:.2f}, #{other} {mouth[other]:.2f}"
        crops[k] = Stretch(s.start, s.end, "crop", (chosen,),
                           f"#{chosen}'s face moved with the voice {voice_ratio(face[chosen], face[other])} as "
                           f"much as #{other}'s, head and all (the mouth alone: {mouth_said})")
    # Not right beside a crop on the other one of the pair, the editor's or one of these: a stack
    # next to their own crop is where one hands over to the other, and the cut between two crops
    # would be placed by the voice that could not tell them apart there.
    shown = [crops.get(k, s) for k, s in enumerate(stretches)]
    return [crop for k, crop in crops.items()
            if not any(n.layout == "crop" and n.tracks != crop.tracks and n.tracks[0] in stretches[k].tracks
                       for n in shown[max(0, k - 1):k] + shown[k + 1:k + 2])]


def time_ahead(mine: np.ndarray, theirs: np.ndarray) -> int:
    """The frames over which `mine` is ahead of `theirs`, in all, both smoothed as the editor
    reads a voice (smooth_scores)."""
    smoothed = smooth_scores(np.stack([mine, theirs]))
    return int(np.count_nonzero(smoothed[0] > smoothed[1]))


def overlaid(stretches: list[Stretch], crops: list[Stretch]) -> list[Stretch]:
    """`stretches` with each of `crops` in place of whatever they held over its span."""
    out = list(stretches)
    for crop in crops:
        kept = []
        for s in out:
            if s.end > crop.start and s.start < crop.start:
                kept.append(told(replace(s, end=crop.start), [p for p in s.reasons() if p[0] < crop.start]))
            if s.start < crop.end and s.end > crop.end:
                reasons = s.reasons()
                at = s.part_at(crop.end)
                kept.append(told(replace(s, start=crop.end),
                                 [(crop.end, reasons[at][1])] + [p for p in reasons[at + 1:]]))
            if s.end <= crop.start or s.start >= crop.end:
                kept.append(s)
        out = sorted(kept + [crop], key=lambda s: s.start)
    return merge_same(out)

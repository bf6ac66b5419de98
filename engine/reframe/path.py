"""The window for one subject: where the crop sits, frame by frame, when one face (or two close
together) is followed through a range. Pure functions over detections.

`choose_framing_mode` picks "crop" (follow the subject) or "fit" (the whole picture over a
blurred copy of itself); `follow` smooths the subject's position per shot (dead zone, ease,
maximum pan speed, reset at scene cuts); `plan_framing` composes them into a Framing.

Positions are fractions (0-1) of the picture as displayed (after rotation), along the axis
the window slides on: x when the source is wider than the target, y when it is taller.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine.letterbox import WHOLE, Active
from engine.reframe.detection import Face, FaceSamples
from engine.reframe.stretch import Stretch
from engine.reframe.seams import NO_SPLIT, Split, keep_inside

ASPECTS = {"9:16": 9 / 16, "1:1": 1.0, "4:5": 4 / 5, "16:9": 16 / 9}
KEYFRAME_GAP = 2.5          # keyframes at most this far apart can stand in for DETECT_FPS sampling
SAME_ASPECT_TOLERANCE = 0.04  # closer than this to the target aspect: scale, no window to move

# Following, in units of the crop window's length and seconds.
DEAD_ZONE = 0.12            # the subject may drift this far from the centre before the window moves
MAX_SPEED = 0.3             # at most this many window lengths per second (7 px a frame on 1080p at 25 fps)
EASE_S = 0.5                # time constant of the window closing in on the subject
SMOOTH_S = 0.4              # sigma of the final Gaussian smoothing

HEAD_REACH = 0.15           # a face's centre is this far (of the height) below the top of its hair
FIT_NO_FACE_SHARE = 0.25    # fewer samples than this with a face: fit
FIT_APART_SHARE = 0.15      # at least this share of face samples with two people too far apart: fit


@dataclass(frozen=True)
class Window:
    """The crop window for a source and a target aspect."""

    axis: str                 # "x" or "y": the direction the window slides
    length: float             # along the axis, as a fraction of the picture (1.0: no room to move)
    # across the axis: the share of the picture the window covers, from `top` (a window shrunk
    # inside one picture of a split screen, or above a bar burnt in across the bottom)
    span: float = 1.0
    top: float = 0.0

    @property
    def slides(self) -> bool:
        return self.length < 1.0


@dataclass(frozen=True)
class Framing:
    """How one range of the source becomes the output picture."""

    mode: str                                 # "scale" | "crop" | "fit" | "speakers" (layouts by stretch)
    window: Window
    # (t0, t1, c0, c1): over [t0, t1) the window's centre moves linearly from c0 to c1.
    pieces: tuple[tuple[float, float, float, float], ...] = ()
    reason: str = ""
    sampling: str = ""                        # what the faces were found on: "keyframes" or "N fps"
    centres: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False, compare=False)
    # mode "speakers": the layout of each stretch of the range (crop stretches follow `pieces`).
    stretches: tuple[Stretch, ...] = ()
    trace: object = field(default=None, repr=False, compare=False)   # a SpeakerTrace, for --debug-reframe
    split: Split = NO_SPLIT                   # the seams of a split screen (windows keep inside one picture)
    active: Active = WHOLE                    # the picture inside black bars: what the windows are shares of
    # mode "crop" and "scale": the prominent faces the window was placed on (flickers dropped),
    # where the captions look for room off them (engine.framing.crop_shots)
    faces: FaceSamples | None = field(default=None, repr=False, compare=False)


def crop_window(display_w: int, display_h: int, aspect: str) -> Window:
    """The window of the target aspect inside the source: full height sliding in x for a wider
    source, full width sliding in y for a taller one."""
    target = ASPECTS[aspect]
    source = display_w / display_h
    if abs(source / target - 1.0) <= SAME_ASPECT_TOLERANCE:
        return Window("x", 1.0)
    if source > target:
        return Window("x", target / source)
    return Window("y", source / target)


def drop_flickers(faces: list[list[Face]], reach: int = 2) -> list[list[Face]]:
    """Keep a detection only if a similar one (near, similar size) is found within `reach`
    samples before or after it: one-off false positives vanish, a real face persists."""
    kept: list[list[Face]] = []
    for i, sample in enumerate(faces):
        neighbours = [f for j in range(max(0, i - reach), min(len(faces), i + reach + 1)) if j != i for f in faces[j]]
        kept.append([f for f in sample if any(_same_face(f, g) for g in neighbours)])
    return kept


def _same_face(a: Face, b: Face) -> bool:
    size = max(a.w, b.w)
    return abs(a.cx - b.cx) < size and abs(a.cy - b.cy) < size and 0.5 <= a.area / max(b.area, 1e-9) <= 2.0


def prominent(sample: list[Face], share: float = 0.4) -> list[Face]:
    """The faces at least `share` the area of the largest: people, not the crowd behind them."""
    if not sample:
        return []
    largest = max(f.area for f in sample)
    return [f for f in sample if f.area >= share * largest]


def too_far_apart(sample: list[Face], window: Window) -> bool:
    """Two or more prominent faces that one crop window cannot hold together."""
    people = prominent(sample)
    if len(people) < 2:
        return False
    low = min(f.extent(window.axis)[0] for f in people)
    high = max(f.extent(window.axis)[1] for f in people)
    return high - low > 0.9 * window.length


def subject_positions(faces: list[list[Face]], window: Window) -> np.ndarray:
    """Where the window should centre at each sample (NaN where no face): the middle of the
    prominent faces when they fit together, otherwise the face nearest the previous subject
    among the largest ones, so the window does not flip between two similar faces."""
    positions = np.full(len(faces), np.nan)
    previous = np.nan
    for i, sample in enumerate(faces):
        people = prominent(sample)
        if not people:
            continue
        if len(people) > 1 and not too_far_apart(people, window):
            low = min(f.extent(window.axis)[0] for f in people)
            high = max(f.extent(window.axis)[1] for f in people)
            centre = (low + high) / 2
        else:
            largest = prominent(people, share=0.7)
            if np.isnan(previous):
                chosen = max(largest, key=lambda f: f.area)
            else:
                chosen = min(largest, key=lambda f: abs(f.centre(window.axis) - previous))
            centre = chosen.centre(window.axis)
        if window.axis == "y":
            centre += 0.12 * window.length     # headroom: the face sits above the middle of a tall crop
        positions[i] = centre
        previous = positions[i]
    return positions


def choose_framing_mode(faces: list[list[Face]], window: Window) -> tuple[str, str]:
    """("scale" | "crop" | "fit", why)."""
    if not window.slides:
        return "scale", "the source already has the target shape"
    with_face = [s for s in faces if prominent(s)]
    if not faces or len(with_face) < FIT_NO_FACE_SHARE * len(faces):
        return "fit", "no face found often enough to follow"
    apart = sum(1 for s in with_face if too_far_apart(s, window))
    if apart >= max(2, FIT_APART_SHARE * len(with_face)):
        return "fit", "two people too far apart for one window"
    return "crop", "following the speaker's face"


def fill_gaps(values: np.ndarray, default: float) -> np.ndarray:
    """NaNs take the last known value (a face lost for a moment stays where it was); leading
    NaNs take the first known one; all NaN: `default`."""
    known = ~np.isnan(values)
    if not known.any():
        return np.full(len(values), default)
    index = np.where(known, np.arange(len(values)), -1)
    np.maximum.accumulate(index, out=index)
    index[index < 0] = np.flatnonzero(known)[0]
    return values[index]


def median3(values: np.ndarray) -> np.ndarray:
    """A 3-sample running median: removes single-sample outliers, keeps steps."""
    if len(values) < 3:
        return values.copy()
    padded = np.concatenate([values[:1], values, values[-1:]])
    return np.median(np.lib.stride_tricks.sliding_window_view(padded, 3), axis=1)


def gaussian_smooth(values: np.ndarray, sigma_samples: float) -> np.ndarray:
    if sigma_samples <= 0 or len(values) < 2:
        return values.copy()
    radius = int(np.ceil(3 * sigma_samples))
    kernel = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma_samples) ** 2)
    kernel /= kernel.sum()
    padded = np.pad(values, radius, mode="edge")
    return np.convolve(padded, kernel, mode="valid")


def follow(times: np.ndarray, targets: np.ndarray, window_length: float,
           dead_zone: float = DEAD_ZONE, max_speed: float = MAX_SPEED,
           ease_s: float = EASE_S, smooth_s: float = SMOOTH_S, dead_zone_back: float | None = None,
           start: float | None = None) -> np.ndarray:
    """The window's centre over one shot, following `targets` (NaN: no face).

    A dead zone keeps small head moves from moving the frame; once the subject leaves it the
    window eases towards the subject, never faster than `max_speed`, and settles when close.
    A Gaussian pass then rounds off starts and stops (it cannot raise the speed: it averages).
    Dead zone and speed are in window lengths, so they look the same for every aspect.
    `dead_zone_back`: a narrower (or wider) zone for a subject moving towards 0 (left, or up);
    `start`: where the window begins (default: on the subject at the first sample).
    """
    if len(times) == 0:
        return np.zeros(0)
    half = window_length / 2
    goal = np.clip(median3(fill_gaps(targets, 0.5)), half, 1 - half)
    dt = float(np.median(np.diff(times))) if len(times) > 1 else 1.0
    ahead = dead_zone * window_length
    back = (dead_zone if dead_zone_back is None else dead_zone_back) * window_length
    step_max = max_speed * window_length * dt
    ease = 1.0 - np.exp(-dt / ease_s)
    centres = np.empty(len(goal))
    centre, moving = goal[0] if start is None else float(np.clip(start, half, 1 - half)), False
    for i, target in enumerate(goal):
        gap = target - centre
        zone = back if gap < 0 else ahead
        if not moving and abs(gap) > zone:
            moving = True
        if moving:
            centre += float(np.clip(gap * ease, -step_max, step_max))
            if abs(target - centre) < zone / 4:
                moving = False
        centres[i] = centre
    return np.clip(gaussian_smooth(centres, smooth_s / dt), half, 1 - half)


def follow_planned(times: np.ndarray, targets: np.ndarray, window_length: float, lead_s: float = EASE_S) -> np.ndarray:
    """follow() on where the subject will be `lead_s` later: the whole shot is known before its
    first frame is encoded, so the window sets off as the subject does instead of one easing
    time constant after (a speaker who sways stays inside), without anticipating a move by
    more than that. Samples further apart than `lead_s` (keyframes) are followed as they are:
    the next one may be seconds away."""
    dt = float(np.median(np.diff(times))) if len(times) > 1 else np.inf
    shift = int(round(lead_s / dt)) if dt <= lead_s else 0     # samples seconds apart (keyframes): none
    if shift == 0:
        return follow(times, targets, window_length)
    ahead = np.minimum(np.arange(len(times)) + shift, len(times) - 1)
    return follow(times, targets[ahead], window_length)


def shots(cuts: list[float], duration: float, min_gap: float = 0.3) -> list[tuple[float, float]]:
    """[start, end) of each shot of a range of `duration` seconds, given cut times in range time."""
    inner = sorted(c for c in cuts if min_gap <= c <= duration - min_gap)
    edges = [0.0]
    for c in inner:
        if c - edges[-1] >= min_gap:
            edges.append(c)
    edges.append(duration)
    return list(zip(edges[:-1], edges[1:]))


def simplify(times: np.ndarray, values: np.ndarray, tolerance: float) -> list[int]:
    """Indices of the points a piecewise-linear path needs to stay within `tolerance` of the
    original (Ramer-Douglas-Peucker on a function of time)."""
    n = len(times)
    if n <= 2:
        return list(range(n))
    keep = {0, n - 1}
    stack = [(0, n - 1)]
    while stack:
        a, b = stack.pop()
        if b - a < 2:
            continue
        span = times[a + 1:b]
        line = values[a] + (values[b] - values[a]) * (span - times[a]) / (times[b] - times[a])
        errors = np.abs(values[a + 1:b] - line)
        worst = int(np.argmax(errors))
        if errors[worst] > tolerance:
            keep.add(a + 1 + worst)
            stack += [(a, a + 1 + worst), (a + 1 + worst, b)]
    return sorted(keep)


def keyframes_suffice(glance: FaceSamples, window: Window, duration: float, cuts: list[float] = (),
                     max_gap: float = KEYFRAME_GAP) -> bool:
    """Whether faces found on the keyframes alone settle the framing: in every shot the
    keyframes are close together, and either nobody shows up in any of them (a one-off false
    detection aside) or each shot has one subject, seen in most keyframes, who never moves more
    than the dead zone from one keyframe to the next (a slow drift is followed as well from
    keyframes). Quick moves, two people, or sparse keyframes need the full look."""
    faces = drop_flickers(glance.faces)
    for shot_start, shot_end in shots(list(cuts), duration):
        inside = (glance.times >= shot_start) & (glance.times < shot_end)
        edges = np.concatenate([[shot_start], glance.times[inside], [shot_end]])
        if not inside.any() or np.max(np.diff(edges)) > max_gap:
            return False
        shot_faces = [f for f, keep in zip(faces, inside) if keep]
        if not any(faces):
            continue
        positions = subject_positions(shot_faces, window)
        known = positions[~np.isnan(positions)]
        steps = np.abs(np.diff(known))
        if len(known) < 0.75 * len(shot_faces) or (len(steps) and steps.max() > DEAD_ZONE * window.length):
            return False
        if any(too_far_apart(s, window) for s in shot_faces):
            return False
    return True


def plan_framing(samples: FaceSamples, display_w: int, display_h: int, aspect: str,
                 duration: float, cuts: list[float] = ()) -> Framing:
    """Detections of one range -> its Framing. `cuts` are scene cuts in range time."""
    window = crop_window(display_w, display_h, aspect)
    faces = drop_flickers(samples.faces)
    mode, reason = choose_framing_mode(faces, window)
    reason = with_split(reason, samples.split, window, inside=mode == "crop")
    split = samples.split if window.axis == "x" else NO_SPLIT
    if mode != "crop":
        return Framing(mode=mode, window=window, reason=reason, split=split)
    window = window_inside(window, split, targets=subject_positions(faces, window),
                           heights=np.array([f.cy for sample in faces for f in prominent(sample)]))
    targets = subject_positions(faces, window)
    pixels = display_w if window.axis == "x" else display_h
    pieces: list[tuple[float, float, float, float]] = []
    all_centres = np.full(len(samples.times), 0.5)
    for shot_start, shot_end in shots(list(cuts), duration):
        inside = (samples.times >= shot_start) & (samples.times < shot_end)
        times = samples.times[inside]
        if len(times) == 0:
            centre = _nearest_known(samples.times, targets, (shot_start + shot_end) / 2, window.length)
            centre = float(keep_inside(np.array([centre]), np.array([centre]), window.length, split)[0])
            pieces.append((shot_start, shot_end, centre, centre))
            continue
        centres = keep_inside(follow_planned(times, targets[inside], window.length), targets[inside], window.length,
                              split)
        all_centres[inside] = centres
        knots = simplify(times, centres, tolerance=0.5 / pixels)
        kt, kc = times[knots], centres[knots]
        # The shot holds its first and last positions out to its edges.
        pieces.append((shot_start, float(kt[0]), float(kc[0]), float(kc[0])))
        pieces += [(float(kt[i]), float(kt[i + 1]), float(kc[i]), float(kc[i + 1])) for i in range(len(kt) - 1)]
        pieces.append((float(kt[-1]), shot_end, float(kc[-1]), float(kc[-1])))
    pieces = [p for p in pieces if p[1] > p[0]]
    seen = FaceSamples(samples.times, [prominent(sample) for sample in faces], samples.split)
    return Framing(mode="crop", window=window, pieces=tuple(pieces), reason=reason, centres=all_centres, split=split,
                   faces=seen)


def window_inside(window: Window, split: Split, targets: np.ndarray, heights: np.ndarray) -> Window:
    """The crop window shrunk (its shape kept) to fit between lettering or a bar burnt in across
    the top or the bottom, and inside the narrowest picture of a split screen that holds one of
    its `targets` (centres across), placed around the faces' `heights` (centres down) when it
    need not touch the top. Lettering over the top is kept out only below the faces' heads."""
    if window.axis != "x" or not (split.found or split.banded):
        return window
    ceiling = split.ceiling if not len(heights) or float(np.min(heights)) - HEAD_REACH >= split.ceiling else 0.0
    widths = [right - left for left, right in {split.picture_at(x) for x in targets[~np.isnan(targets)]}]
    span = min([split.floor - ceiling] + [width / window.length for width in widths])
    if span >= 1.0:
        return window
    middle = float(np.median(heights)) if len(heights) else ceiling + span / 2
    # The face a little above the middle, as in a stacked panel.
    top = float(np.clip(middle - 0.42 * span, ceiling, split.floor - span))
    return Window("x", window.length * span, span, top)


def with_split(reason: str, split: Split, window: Window, inside: bool = True) -> str:
    """The reason, saying so when the source is a split screen (and, `inside`, that the windows
    shown keep inside one picture), and when the window keeps clear of lettering burnt in."""
    if window.axis != "x":
        return reason
    if split.found:
        reason = f"{reason}; {split.said()}" + (", each window inside one picture" if inside else "")
    if split.ceiling > 0 or (split.floor < 1 and not split.found):
        reason += "; the window keeps clear of the lettering burnt in across the picture"
    return reason


def _nearest_known(times: np.ndarray, targets: np.ndarray, at: float, window_length: float) -> float:
    known = ~np.isnan(targets)
    if not known.any():
        return 0.5
    i = int(np.argmin(np.where(known, np.abs(times - at), np.inf)))
    return float(np.clip(targets[i], window_length / 2, 1 - window_length / 2))


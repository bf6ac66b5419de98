"""Face tracks: detections of one shot linked into people with stable ids.

A detection joins the track whose last box is nearest (centre distance in face sizes, and a
similar size) and whose colours look alike (a histogram of the face and torso: two people who
cross keep their own ids); one that joins none starts a track, unless it looks like a track of
the shot that was lost (a face found again after a gap keeps its id). A track ends when it has
not been seen for `max_gap_s`, and every shot starts afresh (a cut shows other people, or the
same people elsewhere). Ids count up over the whole range, so an id names one person in one shot.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.reframe.detection import DenseLook, Face, FaceSamples
from engine.signals import cuts_from_change

SAME_CUT_S = 0.3            # a cut seen in the picture this near a given one is that one
MAX_GAP_S = 2.0             # a track not seen for longer than this has ended
MATCH_DISTANCE = 1.0        # in face widths: further than this from a track's last box is someone else
STITCH_DISTANCE = 2.0       # in face widths: a track that starts this near where another ended continues it
MIN_HITS = 2                # fewer detections than this: a false detection, not a person ...
SHORT_SHOT_SAMPLES = 3      # ... except in a shot with this few samples or fewer
LOOK_WEIGHT = 2.0           # face widths of distance that a wholly different look counts as
LOOK_MIN = 0.5              # colours less alike than this (Bhattacharyya coefficient): someone else
REFIND_MIN = 0.8            # a lost track is taken up again by a face at least this alike
LOOK_KEEP = 0.8             # a track's look: this much of the old, the rest from the new detection


@dataclass(frozen=True)
class Track:
    id: int
    shot: int                        # index of the shot it belongs to
    times: np.ndarray                # (n,) seconds from the start of the range, when it was seen
    boxes: np.ndarray                # (n, 4) x, y, w, h as fractions of the picture

    @property
    def first(self) -> float:
        return float(self.times[0])

    @property
    def last(self) -> float:
        return float(self.times[-1])

    @property
    def median_box(self) -> np.ndarray:
        return np.median(self.boxes, axis=0)

    @property
    def area(self) -> float:
        box = self.median_box
        return float(box[2] * box[3])

    def boxes_at(self, times: np.ndarray, reach_s: float = MAX_GAP_S / 2) -> np.ndarray:
        """(len(times), 4): the box interpolated between detections, held up to `reach_s`
        beyond the first and last; NaN where the track is not there."""
        out = np.full((len(times), 4), np.nan)
        inside = (times >= self.first - reach_s) & (times <= self.last + reach_s)
        for k in range(4):
            out[inside, k] = np.interp(times[inside], self.times, self.boxes[:, k])
        return out


def cuts_seen(cuts: list[float], look: DenseLook) -> list[float]:
    """`cuts` (range time) and the hard cuts the dense look's frame-to-frame change shows that
    none of them is near: the scene detector looks at keyframes first and can miss a cut that
    the encoder did not mark (a clip cut out without re-encoding), and a track must not carry
    one person's box over a cut onto the picture of another."""
    if len(look.motion) == 0:
        return sorted(cuts)
    change = look.motion.reshape(len(look.motion), -1).mean(axis=1)
    seen = [c for c in cuts_from_change(look.times, change) if all(abs(c - k) > SAME_CUT_S for k in cuts)]
    return sorted([*cuts, *seen])


def _distance(box: np.ndarray, face: Face) -> float:
    """Centre distance in face widths, or inf when the sizes differ by more than half."""
    if not _similar_size(box, face):
        return np.inf
    size = max(box[2], face.w)
    return float(np.hypot(box[0] + box[2] / 2 - face.cx, box[1] + box[3] / 2 - face.cy) / size)


def _similar_size(box: np.ndarray, face: Face) -> bool:
    return 0.4 <= (face.w * face.h) / max(box[2] * box[3], 1e-9) <= 2.5


def look_similarity(a: np.ndarray | None, b: np.ndarray | None) -> float | None:
    """Bhattacharyya coefficient of two colour histograms, 0 (nothing alike) to 1; None when
    either is unknown."""
    if a is None or b is None:
        return None
    return float(np.sum(np.sqrt(a * b)))


def _cost(track: dict, face: Face) -> float:
    """Distance in face widths, plus a wholly different look counting as LOOK_WEIGHT widths;
    inf when the sizes or the looks say it is someone else."""
    distance = _distance(track["boxes"][-1], face)
    alike = look_similarity(track["look"], face.look)
    if alike is None:
        return distance
    return np.inf if alike < LOOK_MIN else distance + LOOK_WEIGHT * (1.0 - alike)


def _join(track: dict, t: float, face: Face) -> None:
    track["times"].append(t)
    track["boxes"].append(np.array([face.x, face.y, face.w, face.h]))
    if face.look is not None:
        track["look"] = face.look if track["look"] is None else LOOK_KEEP * track["look"] + (1 - LOOK_KEEP) * face.look


def _refound(closed: list[dict], face: Face) -> dict | None:
    """The lost track of this shot that this face looks most like, if alike enough."""
    best, best_alike = None, REFIND_MIN
    for track in closed:
        alike = look_similarity(track["look"], face.look)
        if alike is not None and alike >= best_alike and _similar_size(track["boxes"][-1], face):
            best, best_alike = track, alike
    return best


def stitched(tracks: list[dict], max_gap_s: float = MAX_GAP_S, distance: float = STITCH_DISTANCE) -> list[dict]:
    """Tracks of one shot in order of their start, each that begins after another ended (within
    `max_gap_s`), near where that one was last seen (`distance` face widths) and alike in size
    and colours, joined to it: a person who moved further between two samples than a track
    follows (a face a second apart in the dense look) is one person, not two."""
    joined: list[dict] = []
    for track in sorted(tracks, key=lambda tr: tr["times"][0]):
        first = track["boxes"][0]
        face = Face(*first)
        candidates = []
        for earlier in joined:
            gap = track["times"][0] - earlier["times"][-1]
            alike = look_similarity(earlier["look"], track["look"])
            if 0 < gap <= max_gap_s and _similar_size(earlier["boxes"][-1], face) and (alike is None or alike >= LOOK_MIN):
                last = earlier["boxes"][-1]
                apart = np.hypot(last[0] + last[2] / 2 - face.cx, last[1] + last[3] / 2 - face.cy) / max(last[2], face.w)
                if apart <= distance:
                    candidates.append((apart, id(earlier), earlier))
        if candidates:
            earlier = min(candidates)[2]
            earlier["times"] += track["times"]
            earlier["boxes"] += track["boxes"]
            earlier["look"] = earlier["look"] if track["look"] is None else track["look"]
        else:
            joined.append(track)
    return joined


def link_tracks(samples: FaceSamples, shot_edges: list[tuple[float, float]], max_gap_s: float = MAX_GAP_S,
                match_distance: float = MATCH_DISTANCE, min_hits: int = MIN_HITS) -> list[Track]:
    """Detections -> tracks, shot by shot (`shot_edges` in range time)."""
    tracks: list[Track] = []
    next_id = 1
    for shot, (shot_start, shot_end) in enumerate(shot_edges):
        open_tracks: list[dict] = []
        closed: list[dict] = []
        for t, faces in zip(samples.times, samples.faces):
            if not shot_start <= t < shot_end:
                continue
            for track in [tr for tr in open_tracks if t - tr["times"][-1] > max_gap_s]:
                open_tracks.remove(track)
                closed.append(track)
            pairs = sorted(((_cost(tr, f), i, j) for i, tr in enumerate(open_tracks)
                            for j, f in enumerate(faces)), key=lambda p: p[0])
            used_tracks, used_faces = set(), set()
            for cost, i, j in pairs:
                if (not np.isfinite(cost) or i in used_tracks or j in used_faces
                        or _distance(open_tracks[i]["boxes"][-1], faces[j]) > match_distance):
                    continue
                used_tracks.add(i)
                used_faces.add(j)
                _join(open_tracks[i], t, faces[j])
            for j, face in enumerate(faces):
                if j in used_faces:
                    continue
                track = _refound(closed, face)
                if track is not None:
                    closed.remove(track)
                else:
                    track = {"times": [], "boxes": [], "look": None}
                open_tracks.append(track)
                _join(track, t, face)
        # In a short shot one sighting is a person: the costly passes that find a turned head run
        # on every other sample, so in a shot of 3 samples or fewer (3.4 s after a cut,
        # an interview's last 0.6 s) they may run once.
        samples_in_shot = int(np.sum((samples.times >= shot_start) & (samples.times < shot_end)))
        needed = 1 if samples_in_shot <= SHORT_SHOT_SAMPLES else min_hits
        for track in stitched(closed + open_tracks, max_gap_s):
            if len(track["times"]) >= needed:
                tracks.append(Track(next_id, shot, np.array(track["times"]), np.stack(track["boxes"])))
                next_id += 1
    return tracks


def prominent_tracks(tracks: list[Track], shot_edges: list[tuple[float, float]], detection_times: np.ndarray,
                     min_presence: float = 0.3, min_area_share: float = 0.3) -> list[Track]:
    """The people of each shot: seen in at least `min_presence` of the shot's samples and at
    least `min_area_share` the size of the shot's largest face (not the crowd behind them)."""
    kept: list[Track] = []
    for shot, (shot_start, shot_end) in enumerate(shot_edges):
        in_shot = [t for t in tracks if t.shot == shot]
        count = int(np.sum((detection_times >= shot_start) & (detection_times < shot_end)))
        if not in_shot or count == 0:
            continue
        present = [t for t in in_shot if len(t.times) >= min_presence * count]
        if not present:
            continue
        largest = max(t.area for t in present)
        kept += [t for t in present if t.area >= min_area_share * largest]
    return kept

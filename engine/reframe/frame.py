"""The reframer's one entry point, `frame_range`, and the plan for several people.

    keyframes (costly passes on some) -> how many people, one subject settled?
                                                 plan_framing on the keyframes (almost free)
    two people too far apart for one window?     dense look + tracks + speaking scores:
                                                 plan_speakers (crop / stacked / fit by stretch)
    otherwise                                    plan_framing on 2 samples a second
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from engine.letterbox import WHOLE, Active
from engine.soundtrack import ONE_TRACK
from engine.reframe.chance import beyond_chance, chance_of
from engine.reframe.detection import (
    DETECT_FPS,
    DenseLook,
    Face,
    FaceDetector,
    FaceSamples,
    LookingFor,
    WithRoom,
    dense_look,
    find_faces,
    shared_detector,
)
from engine.reframe.editor import (
    BOTH,
    active_speaker,
    merge_same,
    place_cuts,
    plan_stretches,
    settle_doubts,
    smooth_scores,
    speaker_turns,
    who_is_close,
)
from engine.reframe.expression import centre_at
from engine.reframe.stretch import Stretch
from engine.reframe.others import LookingElsewhere
from engine.reframe.path import (
    ASPECTS,
    KEYFRAME_GAP,
    Framing,
    Window,
    crop_window,
    drop_flickers,
    follow_planned,
    keyframes_suffice,
    plan_framing,
    prominent,
    shots,
    simplify,
    too_far_apart,
    window_inside,
    with_split,
)
from engine.reframe.panels import REACH, panel_path, panel_path_down, stacked_panel
from engine.reframe.seams import NO_SPLIT, Split, keep_inside
from engine.reframe.speaking import (
    articulation,
    speaking_scores,
    speech_mask,
    speech_onsets,
    speech_sound,
    usual_lip_motion,
)
from engine.reframe.tracks import Track, cuts_seen, link_tracks, prominent_tracks
from engine.reframe.whole_face import crops_the_face_settles, lower_face_motion, overlaid

GLANCE_PEOPLE = 2           # the keyframe glance runs the costly passes until it finds this many faces
GLANCE_FIRST = 4            # on this many keyframes first,
GLANCE_EVERY = 4            # then on every this-many-th
GLANCE_SETTLED = 4          # the glance stops when this many first keyframes all show two people apart
LOOK_FURTHER_EVERY = 2      # with several people, every this-many-th sample looks for the missing ones


@dataclass(frozen=True)
class SpeakerTrace:
    """What plan_speakers saw, frame by frame, and the very arrays its decisions used: for
    --debug-reframe and the cost report."""

    times: np.ndarray                 # (frames,) seconds from the start of the range
    track_ids: tuple[int, ...]
    boxes: np.ndarray                 # (tracks, frames, 4) x, y, w, h fractions; NaN where absent
    scores: np.ndarray                # (tracks, frames) speaking score 0-1 (settle_doubts pools it)
    speaking: np.ndarray              # (frames,) someone speaks
    smoothed: np.ndarray              # (tracks, frames) scores over 9 frames (who speaks when; place_cuts)
    lips: np.ndarray                  # (tracks, frames) lip motion against the face's usual, NaN where absent
    named: np.ndarray                 # (frames,) whom the voice names (active_speaker): an id, BOTH or -1
    face: np.ndarray | None = None    # (tracks, frames) the whole lower face's score, head included, smoothed (whole_face)
    seconds: float = 0.0              # spent on the dense look and the scores


def frame_range(path: Path, start: float, end: float, display_w: int, display_h: int, aspect: str,
                cuts: list[float] = (), detector: FaceDetector | None = None,
                cancel: threading.Event | None = None, timeout_s: float = 600.0,
                words: list[tuple[float, float]] | None = None, has_audio: bool = True,
                active: Active = WHOLE, tracks: tuple[int, ...] = ONE_TRACK, drawn_over: bool = True) -> Framing:
    """The Framing of [start, end) of a video (`cuts` and `words` in range time). Looks at the
    keyframes first; decodes more only when they do not settle the question. `active`: the
    picture inside black bars (display_w x display_h), which every decode cuts out first.
    `tracks`: the audio tracks heard (MediaInfo.sound_tracks). `drawn_over`: captions or a title go over
    the picture (a picture already in the target shape is then looked at for faces they keep off)."""
    window = crop_window(display_w, display_h, aspect)
    duration = end - start
    detector = detector or shared_detector()
    if not active.whole:
        detector = WithRoom(detector, active)
    if not window.slides:
        return Framing(mode="scale", window=window, reason="the source already has the target shape",
                       faces=faces_in_place(path, start, end, display_w, display_h, detector, cancel, timeout_s,
                                            active) if drawn_over else None)
    # One person or several? The first keyframes look with every pass (whoever is in the shot,
    # turned or not), then every fourth: a long range has many keyframes.
    # Two people apart from the first keyframes on: the dense look will find them again about
    # once a second, so the rest of the glance would be wasted.
    settled = (lambda faces: apart_from_the_start(faces, window)) if has_audio and window.axis == "x" else None
    glance = find_faces(path, start, end, display_w, display_h, keyframes_only=True,
                        detector=LookingFor(detector, GLANCE_PEOPLE, every=GLANCE_EVERY, first=GLANCE_FIRST),
                        cancel=cancel, timeout_s=timeout_s, enough=settled, active=active)
    steady = drop_flickers(glance.faces)
    several = has_audio and window.axis == "x" and any(too_far_apart(s, window) for s in steady)
    people = max((len(prominent(s)) for s in steady), default=1)
    single = detector
    if people > 1:
        # The denser looks search further only where someone the glance saw is missing, and on
        # every other picture: the tracks bridge the gaps.
        detector = LookingFor(single, people, every=LOOK_FURTHER_EVERY)
    samples = None
    if not several:
        if keyframes_suffice(glance, window, duration, cuts):
            return replace(plan_framing(glance, display_w, display_h, aspect, duration, cuts), sampling="keyframes")
        # One person on the keyframes: a few samples spread over the range search the rest of
        # the picture for a second one (few keyframes may all have caught him turned away).
        looking = (LookingElsewhere(single, window, int(np.ceil(duration * DETECT_FPS)), every=LOOK_FURTHER_EVERY)
                   if people <= 1 and has_audio and window.axis == "x" else detector)
        samples = find_faces(path, start, end, display_w, display_h, detector=looking, cancel=cancel,
                             timeout_s=timeout_s, active=active)
        if isinstance(looking, LookingElsewhere) and looking.people > 1:
            # Two people apart after all: the speakers' plan, from these samples (the second
            # person is seen on every other one, which plan_framing would take for flicker).
            people = looking.people
            detector = LookingFor(single, people, every=LOOK_FURTHER_EVERY)
        else:
            framing = replace(plan_framing(samples, display_w, display_h, aspect, duration, cuts),
                              sampling=f"{DETECT_FPS:g} fps")
            if not (has_audio and window.axis == "x" and framing.mode == "fit" and "apart" in framing.reason):
                return framing
    started = time.perf_counter()
    look = dense_look(path, start, end, display_w, display_h, detector=detector, cancel=cancel, timeout_s=timeout_s,
                      known=samples, active=active)
    sound = speech_sound(path, start, end, look.times, look.fps, words, timeout_s=timeout_s, tracks=tracks)
    return plan_speakers(look, sound.energy, words, display_w, display_h, aspect, duration, cuts,
                         started=started, voiced=sound.voiced)


def faces_in_place(path: Path, start: float, end: float, display_w: int, display_h: int, detector: FaceDetector,
                   cancel: threading.Event | None, timeout_s: float, active: Active) -> FaceSamples:
    """The prominent faces of a picture shown whole, for the captions to keep off: on the
    keyframes when they are close enough together, else on DETECT_FPS samples."""
    samples = find_faces(path, start, end, display_w, display_h, keyframes_only=True, detector=detector,
                         cancel=cancel, timeout_s=timeout_s, active=active)
    edges = np.concatenate([[0.0], samples.times, [end - start]])
    if np.max(np.diff(edges)) > KEYFRAME_GAP:
        samples = find_faces(path, start, end, display_w, display_h, detector=detector, cancel=cancel,
                             timeout_s=timeout_s, active=active)
    return FaceSamples(samples.times, [prominent(sample) for sample in drop_flickers(samples.faces)], samples.split)


def apart_from_the_start(faces: list[list[Face]], window: Window, keyframes: int = GLANCE_SETTLED) -> bool:
    """Whether the first `keyframes` samples all show two people too far apart for one window,
    each face seen again on a neighbouring sample (asked once, when exactly that many are in)."""
    return len(faces) == keyframes and all(too_far_apart(s, window) for s in drop_flickers(faces))


def _fits_in_window(tracks: list[Track], window: Window, split: Split = NO_SPLIT) -> bool:
    low = min(t.median_box[0] for t in tracks)
    high = max(t.median_box[0] + t.median_box[2] for t in tracks)
    pictures = {split.picture_at(t.median_box[0] + t.median_box[2] / 2) for t in tracks}
    return high - low <= 0.9 * window.length and len(pictures) == 1


def plan_speakers(look: DenseLook, energy: np.ndarray, words: list[tuple[float, float]] | None,
                  display_w: int, display_h: int, aspect: str, duration: float, cuts: list[float] = (),
                  started: float | None = None, voiced: np.ndarray | None = None) -> Framing:
    """A dense look at a range with several people -> a Framing whose layout changes by stretch:
    the crop on whoever speaks, both of two people stacked when they trade short turns, the
    whole picture when nobody can be told apart. `voiced`: the frames a voice is heard in
    (speaking.speech_sound), where the sound decides whether someone speaks."""
    window = crop_window(display_w, display_h, aspect)
    split = look.samples.split if window.axis == "x" else NO_SPLIT
    cuts = cuts_seen(list(cuts), look)
    edges = shots(cuts, duration)
    linked = link_tracks(look.samples, edges)
    crop = window
    tracks = prominent_tracks(linked, edges, look.samples.times)
    window, by_shot = _people(tracks, edges, crop, split)
    if not _apart(by_shot, window, split):
        framing = replace(plan_framing(look.samples, display_w, display_h, aspect, duration, cuts),
                          sampling=f"{len(look.samples.times) / max(duration, 1e-6):.2g} fps")
        if framing.mode != "fit" or "apart" not in framing.reason:
            return framing
        # The samples see two people apart, but one of them too seldom for a track of the usual
        # presence (a head the cascades miss most of the time: the debate's Trump, 11 % of
        # samples). Both are shown by the speakers' plan, not shrunk into the whole picture.
        tracks = _seldom_pairs(prominent_tracks(linked, edges, look.samples.times, min_presence=0.0), window, split)
        window, by_shot = _people(tracks, edges, crop, split)
        if not _apart(by_shot, window, split):
            return framing
    times, fps = look.times, look.fps
    boxes = np.stack([t.boxes_at(times) for t in tracks]) if tracks else np.zeros((0, len(times), 4))
    mouths = np.stack([articulation(look.motion, b) for b in boxes]) if tracks else np.zeros((0, len(times)))
    speaking = speech_mask(times, words, energy, voiced)
    scores = speaking_scores(mouths, energy, speaking, fps)
    chance = chance_of(mouths, energy, speaking, fps)
    faces = np.stack([lower_face_motion(look.motion, b) for b in boxes]) if tracks else mouths
    face_scores = speaking_scores(faces, energy, speaking, fps)
    face_moves = usual_lip_motion(faces) if tracks else faces
    ids = [t.id for t in tracks]
    # The decisions below read these arrays from the trace, so the preview draws what they used.
    trace = SpeakerTrace(times, tuple(ids), boxes, scores, speaking, smoothed=smooth_scores(scores),
                         lips=usual_lip_motion(mouths) if tracks else mouths,
                         named=active_speaker(scores, ids) if tracks else np.full(len(times), -1),
                         face=smooth_scores(face_scores))
    lips, labels = trace.lips, trace.named

    stretches: list[Stretch] = []
    for shot, (shot_start, shot_end) in enumerate(edges):
        inside = (times >= shot_start) & (times < shot_end)
        group = by_shot[shot]
        if not group:
            stretches.append(Stretch(shot_start, shot_end, "fit", (), "no face in this shot"))
            continue
        if len(group) == 1 or _fits_in_window(group, window, split):
            shown = tuple(t.id for t in group)
            stretches.append(Stretch(shot_start, shot_end, "crop", shown, f"only #{shown[0]} in this shot" if len(shown) == 1
                                     else "everyone fits in the window"))
            continue
        allowed = np.isin(labels[inside], [t.id for t in group] + [BOTH])
        turns = who_is_close(speaker_turns(np.where(allowed, labels[inside], -1), fps), times[inside] - shot_start,
                             {t.id: trace.smoothed[ids.index(t.id), inside] for t in group})
        ranked = sorted(group, key=lambda t: -float(scores[ids.index(t.id), inside].sum()))
        pair = (ranked[0].id, ranked[1].id)
        planned = plan_stretches(turns, len(group), pair=pair)
        of_group = {t.id: ids.index(t.id) for t in group}
        voice = {i: scores[k, inside] for i, k in of_group.items()}
        group_lips = {i: lips[k, inside] for i, k in of_group.items()}
        # Where the voice stacked two people, the whole face may still name one (whole_face.py).
        settled_by_face = crops_the_face_settles(planned, times[inside] - shot_start, voice,
                                                 {i: face_scores[k, inside] for i, k in of_group.items()},
                                                 group_lips, {i: face_moves[k, inside] for i, k in of_group.items()},
                                                 speaking[inside])
        # The crop commits to one person only on clear evidence over its whole stretch, and not
        # where their lips rest through speech.
        planned = settle_doubts(planned, times[inside] - shot_start, voice, lips=group_lips, speaking=speaking[inside])
        # ... and a voice beyond what a mouth gets by chance over the stretch (chance.py).
        planned = beyond_chance(planned, times[inside] - shot_start, voice, chance)
        planned = overlaid(planned, settled_by_face)
        for s in planned:
            stretches.append(replace(s, start=shot_start + s.start, end=min(shot_end, shot_start + s.end),
                                     parts=tuple((shot_start + at, reason) for at, reason in s.parts)))
    if stretches:
        stretches[-1] = replace(stretches[-1], end=duration)
    track_by_id = {t.id: t for t in tracks}
    # Stacked people keep their places, left one on top, so two stacked stretches in a row are one.
    stretches = merge_same([replace(s, tracks=tuple(sorted(s.tracks, key=lambda i: track_by_id[i].median_box[0])))
                            if s.layout == "stacked" else s for s in stretches])
    smoothed = dict(zip(ids, trace.smoothed))
    stretches = place_cuts(stretches, times, smoothed, speech_onsets(times, words, energy, voiced),
                           fixed=tuple(start for start, _ in edges))
    stretches = [_with_panels(s, track_by_id, display_w, display_h, aspect, times, split) for s in stretches]
    if split.found and stretches:
        stretches[0] = replace(stretches[0], reason=with_split(stretches[0].reason, split, window))
    pieces = _crop_pieces(stretches, track_by_id, window, times, display_w, split)
    trace = replace(trace, seconds=time.perf_counter() - started if started is not None else 0.0)
    layouts = sorted({s.layout for s in stretches})
    return Framing(mode="speakers", window=window, pieces=tuple(pieces), stretches=tuple(stretches),
                   reason=with_split("following whoever speaks (" + ", ".join(layouts) + ")", split, window),
                   sampling=f"{fps:g} fps with speaking scores", trace=trace, split=split)


def _people(tracks: list[Track], edges: list[tuple[float, float]], window: Window, split: Split):
    """The crop window kept inside one picture of a split screen for these tracks, and the tracks
    of each shot."""
    window = window_inside(window, split, targets=np.array([t.median_box[0] + t.median_box[2] / 2 for t in tracks]),
                           heights=np.array([t.median_box[1] + t.median_box[3] / 2 for t in tracks]))
    return window, {shot: [t for t in tracks if t.shot == shot] for shot in range(len(edges))}


def _seldom_pairs(tracks: list[Track], window: Window, split: Split) -> list[Track]:
    """Per shot, the person seen most and the one seen most of those too far from them for one
    window: two people, however seldom the second was found (a head found again after a gap of
    a few seconds may be two tracks, and only one of them is taken)."""
    kept = []
    for shot in sorted({t.shot for t in tracks}):
        group = sorted((t for t in tracks if t.shot == shot), key=lambda t: -len(t.times))
        other = next((t for t in group[1:] if not _fits_in_window([group[0], t], window, split)), None)
        kept += [group[0]] + ([other] if other is not None else [])
    return kept


def _apart(by_shot: dict[int, list[Track]], window: Window, split: Split) -> bool:
    """Whether some shot holds two people one crop window cannot show together."""
    return any(len(group) >= 2 and not _fits_in_window(group, window, split) for group in by_shot.values())


def _centre_x(track: Track, times: np.ndarray) -> np.ndarray:
    box = track.boxes_at(times, reach_s=np.inf)
    return box[:, 0] + box[:, 2] / 2


def _crop_pieces(stretches: list[Stretch], tracks: dict[int, Track], window: Window, times: np.ndarray,
                 display_w: int, split: Split = NO_SPLIT) -> list[tuple[float, float, float, float]]:
    """The crop window's path: within each crop stretch the followed person, smoothed (dead
    zone, speed limit), inside that person's picture of a split screen; between stretches a
    cut. Other stretches hold the last position."""
    pieces: list[tuple[float, float, float, float]] = []
    held = 0.5
    half = window.length / 2
    for s in stretches:
        inside = (times >= s.start) & (times < s.end)
        sample_times = times[inside][::3] if inside.any() else np.array([s.start])
        if s.layout == "crop" and s.tracks:
            group = [tracks[i] for i in s.tracks if i in tracks]
            targets = np.mean([_centre_x(t, sample_times) for t in group], axis=0)
            centres = keep_inside(follow_planned(sample_times, targets, window.length), targets, window.length, split)
            knots = simplify(sample_times, centres, tolerance=0.5 / display_w)
            kt, kc = sample_times[knots], centres[knots]
            pieces.append((s.start, float(kt[0]), float(kc[0]), float(kc[0])))
            pieces += [(float(kt[i]), float(kt[i + 1]), float(kc[i]), float(kc[i + 1])) for i in range(len(kt) - 1)]
            pieces.append((float(kt[-1]), s.end, float(kc[-1]), float(kc[-1])))
            held = float(kc[-1])
        else:
            held = float(np.clip(held, half, 1 - half))
            pieces.append((s.start, s.end, held, held))
    return [p for p in pieces if p[1] > p[0]]


def _with_panels(stretch: Stretch, tracks: dict[int, Track], display_w: int, display_h: int, aspect: str,
                 times: np.ndarray, split: Split = NO_SPLIT) -> Stretch:
    """A stacked stretch with its two panels, each framed on where its face is during the
    stretch (not over the whole range) and following it across and up and down (its `panels`
    hold the median height of the panel's path, where the captions look for its face's rows)."""
    if stretch.layout != "stacked":
        return stretch
    panel_aspect = ASPECTS[aspect] * 2
    inside = times[(times >= stretch.start) & (times < stretch.end)]
    inside = inside if len(inside) else np.array([stretch.start])
    panels, paths, paths_down, faces = [], [], [], []
    for i in stretch.tracks:
        boxes = tracks[i].boxes_at(inside, reach_s=np.inf)
        seen = ~np.isnan(boxes[:, 0])
        box = np.median(boxes[seen], axis=0) if seen.any() else tracks[i].median_box
        centres = boxes[:, 0] + boxes[:, 2] / 2
        reach = tuple(np.percentile(centres[seen], [REACH, 100 - REACH])) if seen.any() else None
        x, y, w, h = stacked_panel(box, display_w, display_h, panel_aspect, split, reach)
        down = panel_path_down(inside, boxes, h, split)
        if down:
            y = float(np.median([centre_at(down, t) for t in inside])) - h / 2
        panels.append((x, y, w, h))
        paths.append(panel_path(inside, centres, w, split))
        paths_down.append(down)
        faces.append(tuple(float(v) for v in box))
    return replace(stretch, panels=tuple(panels), panel_paths=tuple(paths), panel_paths_down=tuple(paths_down),
                   faces=tuple(faces))

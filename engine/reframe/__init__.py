"""Reframing: where the crop window sits, frame by frame, for a new aspect ratio, and which
layout each stretch of a clip gets when several people are on screen.

    detection.py   Haar cascades on a small grey decode of only the range (the only video I/O)
    tracks.py      detections linked into people with stable ids, per shot
    speaking.py    audio-visual sync: mouth motion against speech energy
    editor.py      speaking scores -> turns -> stretches (crop / stacked / fit)
    stretch.py     Stretch: one stretch's layout, people, panels and reasons
    path.py        one subject followed: dead zone, ease, pan speed limit, reset at cuts
    seams.py       split screens: the seams between camera pictures; windows kept inside one
    panels.py      the two windows of a stacked layout: headroom, centring, following across and down
    expression.py  the path as an ffmpeg expression of t
    frame.py       frame_range: the entry point that composes them
    debug.py       the --debug-reframe preview
"""
from engine.reframe.detection import (
    DETECT_FPS,
    DETECT_LONG_SIDE,
    DenseLook,
    Face,
    FaceDetector,
    FaceSamples,
    dense_look,
    detection_size,
    find_faces,
    shared_detector,
)
from engine.reframe.editor import Turn, active_speaker, plan_stretches, speaker_turns
from engine.reframe.stretch import Stretch
from engine.reframe.expression import centre_at, crop_offset_expression
from engine.reframe.frame import SpeakerTrace, frame_range, plan_speakers
from engine.reframe.panels import FaceRows, face_rows, stacked_panel
from engine.reframe.path import (
    ASPECTS,
    DEAD_ZONE,
    EASE_S,
    FIT_APART_SHARE,
    FIT_NO_FACE_SHARE,
    KEYFRAME_GAP,
    MAX_SPEED,
    SMOOTH_S,
    Framing,
    Window,
    choose_framing_mode,
    crop_window,
    drop_flickers,
    fill_gaps,
    follow,
    gaussian_smooth,
    keyframes_suffice,
    median3,
    plan_framing,
    prominent,
    shots,
    simplify,
    subject_positions,
    too_far_apart,
)
from engine.reframe.tracks import Track, link_tracks, prominent_tracks

__all__ = [name for name in dir() if not name.startswith("_")]

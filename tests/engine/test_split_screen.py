"""Split screens (engine/reframe/seams.py): two camera pictures side by side in one frame. The
seams are found on the frames the reframer decodes anyway; every crop window and stacked panel
keeps inside one picture, and a detection astride a seam is no face. A single picture, a door
frame near its side included, has no seam."""
from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest

from engine import reframe
from engine.framing import framing_filters
from engine.reframe.detection import Face, find_faces
from engine.reframe.path import window_inside
from engine.reframe.seams import (
    NO_SPLIT,
    Seam,
    Split,
    astride,
    column_steps,
    find_floor,
    find_seams,
    keep_inside,
    off_the_seams,
    row_steps,
    split_of,
)
from tests.engine.test_speakers import half
from tests.media import LEFT, RIGHT, Camera, make_split_screen, make_two_people, run

W, H = 960, 540


def _scene(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """A picture's brightness: smooth blobs (no hard edge anywhere) and a little grain."""
    coarse = rng.uniform(20, 230, (6, 8)).astype(np.float32)
    return cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC) + rng.normal(0, 2, (height, width))


def _two_pictures(seed: int, width: int = 200, height: int = 112, divider: int = 3, bar: int = 0) -> np.ndarray:
    """A grey frame of two unrelated pictures with a white divider (and a black bar across the
    bottom `bar` rows high)."""
    rng = np.random.default_rng(seed)
    half = (width - divider) // 2
    frame = np.hstack([_scene(rng, half, height), np.full((height, divider), 250.0),
                       _scene(rng, width - divider - half, height)])
    if bar:
        frame[-bar:] = 10.0
    return np.clip(frame, 0, 255).astype(np.uint8)


def _one_picture(seed: int, width: int = 200, height: int = 112, edge_at: float | None = None) -> np.ndarray:
    frame = _scene(np.random.default_rng(seed), width, height)
    if edge_at is not None:
        frame[:, int(edge_at * width):] = 250.0        # a door frame: a hard edge from top to bottom
    return np.clip(frame, 0, 255).astype(np.uint8)


def test_the_seam_of_two_pictures_is_found_and_a_single_picture_has_none():
    frames = [_two_pictures(seed) for seed in range(6)]
    split = split_of([column_steps(f) for f in frames], [row_steps(f) for f in frames])
    assert len(split.seams) == 1, split
    seam = split.seams[0]
    assert 0.48 <= seam.left < seam.right <= 0.52, "both edges of the divider are one seam"
    assert split.said() == "split screen: 2 pictures, seam at 50 %"
    single = [_one_picture(seed) for seed in range(6)]
    assert split_of([column_steps(f) for f in single], [row_steps(f) for f in single]) == NO_SPLIT
    door = [_one_picture(seed, edge_at=0.93) for seed in range(6)]
    assert split_of([column_steps(f) for f in door], [row_steps(f) for f in door]) == NO_SPLIT, \
        "a steady edge near the side of one picture is not a split screen"
    assert split_of([column_steps(f) for f in frames[:2]], [row_steps(f) for f in frames[:2]]) == NO_SPLIT, \
        "two frames say nothing about what stays"


def test_a_seam_must_hold_in_nearly_every_frame():
    steps = np.stack([column_steps(_two_pictures(seed)) for seed in range(10)])
    assert len(find_seams(steps)) == 1
    moved = steps.copy()
    moved[:3] = np.roll(moved[:3], 30, axis=1)          # a camera pan: the edge elsewhere in 3 of 10 frames
    assert find_seams(moved) == ()


def test_a_bar_burnt_in_across_the_bottom_is_the_floor_of_the_pictures():
    frames = [_two_pictures(seed, bar=20) for seed in range(6)]
    split = split_of([column_steps(f) for f in frames], [row_steps(f) for f in frames])
    assert split.found and split.floor == pytest.approx(92 / 112, abs=0.02)
    assert find_floor(np.stack([row_steps(_two_pictures(seed)) for seed in range(6)])) == 1.0


SPLIT = Split((Seam(0.49, 0.51),))


def test_a_face_astride_a_seam_is_dropped_a_face_beside_it_is_kept():
    on_the_line = Face(0.45, 0.2, 0.1, 0.15)
    beside = Face(0.38, 0.2, 0.1, 0.15)
    touching = Face(0.40, 0.2, 0.1, 0.15)               # its box's edge over the divider: still a face
    assert astride(on_the_line, SPLIT) and not astride(beside, SPLIT) and not astride(touching, SPLIT)
    assert off_the_seams([[on_the_line, beside], [touching]], SPLIT) == [[beside], [touching]]
    assert off_the_seams([[on_the_line]], NO_SPLIT) == [[on_the_line]]


def test_a_window_keeps_inside_the_picture_of_its_subject():
    length = 0.3
    centres = np.array([0.42, 0.58, 0.2, 0.45])
    subjects = np.array([0.40, 0.60, 0.2, np.nan])
    kept = keep_inside(centres, subjects, length, SPLIT)
    assert kept[0] == pytest.approx(0.49 - 0.15) and kept[1] == pytest.approx(0.51 + 0.15)
    assert kept[2] == pytest.approx(0.2), "a window already inside stays"
    assert kept[3] == pytest.approx(0.34), "no subject: the picture the window is mostly in"
    narrow = keep_inside(np.array([0.3]), np.array([0.3]), 0.6, SPLIT)
    assert narrow[0] == pytest.approx(0.245), "a picture narrower than the window: centred on it"
    assert keep_inside(centres, subjects, length, NO_SPLIT) is centres


def _inside_one_picture(left: float, right: float, split: Split) -> bool:
    return any(a - 1e-6 <= left and right <= b + 1e-6 for a, b in split.pictures())


TURNS = [(0.0, 2.0, 0), (2.0, 4.0, 1), (4.0, 6.0, 0), (6.0, 8.0, 1), (8.0, 10.0, 0), (10.0, 12.0, 1)]


@pytest.mark.slow
def test_stacked_panels_of_a_split_screen_keep_inside_their_pictures(shared_media, tmp_path):
    path = make_split_screen(tmp_path / "split.mp4", (Camera("talking_obama_20s.mp4"),
                                                       Camera("talking_tedlieu_60s.mp4", skip=2.0)),
                             TURNS, 12.0, media=shared_media, size=f"{W}x{H}")
    framing = reframe.frame_range(path, 0.0, 12.0, W, H, "9:16")
    assert framing.split.found and len(framing.split.seams) == 1, framing.split
    assert 0.48 <= framing.split.seams[0].centre <= 0.52
    assert "split screen" in framing.reason
    assert framing.mode == "speakers" and any(s.layout == "stacked" for s in framing.stretches), framing.stretches
    assert "split screen" in framing.stretches[0].reason, "clips.json's reasons say so"
    for stretch in framing.stretches:
        for x, y, w, h in stretch.panels:
            assert _inside_one_picture(x, x + w, framing.split), (stretch, framing.split)
            assert 0.0 <= y and y + h <= 1.0 + 1e-9
        if stretch.layout == "stacked":
            tops = [x + w / 2 for x, _, w, _ in stretch.panels]
            assert framing.split.picture_at(tops[0]) != framing.split.picture_at(tops[1]), "one picture each"
    half = framing.window.length / 2
    crops = [s for s in framing.stretches if s.layout == "crop"]
    for t0, t1, c0, c1 in framing.pieces:
        if any(t0 < s.end and s.start < t1 for s in crops):     # the window shown, not a held place
            for centre in (c0, c1):
                assert _inside_one_picture(centre - half, centre + half, framing.split)
    # No detection the tracks were built from sits astride the seam.
    samples = find_faces(path, 0.0, 12.0, W, H)
    assert samples.split.found and not any(astride(f, samples.split) for s in samples.faces for f in s)


@pytest.mark.slow
def test_a_one_person_crop_near_the_seam_does_not_show_the_other_picture(shared_media, tmp_path):
    # The face sits close to the divider: a window centred on it would cross into the other picture.
    path = make_split_screen(tmp_path / "near.mp4", (Camera("talking_obama_20s.mp4", face_x=0.72, zoom=1.25),
                                                      Camera("gradients")),
                             [(0.0, 8.0, 0)], 8.0, media=shared_media, size=f"{W}x{H}")
    framing = reframe.frame_range(path, 0.0, 8.0, W, H, "9:16")
    assert framing.mode == "crop" and framing.split.found, framing.reason
    assert "split screen" in framing.reason
    half = framing.window.length / 2
    right = max(max(c0, c1) for _, _, c0, c1 in framing.pieces) + half
    assert right <= framing.split.seams[0].left + 1e-6, "the window ends at the seam"
    assert right >= framing.split.seams[0].left - 0.02, "and follows the face up to it"


@pytest.mark.slow
def test_a_single_picture_finds_no_seam(shared_media, tmp_path):
    two = make_two_people(tmp_path / "two.mp4", [(0.0, 4.0, 0), (4.0, 8.0, 1)], 8.0, people=(half(LEFT), half(RIGHT)),
                          media=shared_media, size=f"{W}x{H}")
    for path, (w, h) in ((two, (W, H)), (shared_media / "talking_obama_20s.mp4", (512, 512)),
                         (shared_media / "faces_street_facenet_1080p.mp4", (1920, 1080))):
        samples = find_faces(path, 0.0, 8.0, w, h)
        assert samples.split == NO_SPLIT, (path.name, samples.split)


def test_a_crop_window_shrinks_into_a_narrow_picture_and_above_a_bar():
    wide = reframe.crop_window(1920, 1080, "1:1")             # 0.5625 of the width: more than half
    window = window_inside(wide, SPLIT, targets=np.array([0.25, 0.26]), heights=np.array([0.3]))
    assert window.length == pytest.approx(0.49) and window.span == pytest.approx(0.49 / 0.5625)
    assert window.top == 0.0, "faces high in the picture: the window from the top"
    low = window_inside(wide, SPLIT, targets=np.array([0.25]), heights=np.array([0.7]))
    assert low.top == pytest.approx(1.0 - low.span), "faces low: down to the bottom"
    split = Split((Seam(0.49, 0.51),), floor=0.85)
    under_bar = window_inside(reframe.crop_window(1920, 1080, "9:16"), split, np.array([0.25]), np.array([0.3]))
    assert under_bar.span == pytest.approx(0.85) and under_bar.top == 0.0, "the bar is left out below"
    assert window_inside(wide, NO_SPLIT, np.array([0.25]), np.array([0.3])) is wide
    framing = reframe.Framing(mode="crop", window=window, pieces=((0.0, 1.0, 0.25, 0.25),))
    crop = framing_filters(framing, 1920, 1080, 720, 720)
    height = int(crop.split("h=")[1].split(":")[0])
    assert height == pytest.approx(0.49 / 0.5625 * 1080, abs=2) and f"y={int(window.top * 1080)}" in crop
    whole = framing_filters(replace(framing, window=wide), 1920, 1080, 720, 720)
    assert "h=1080:" in whole and "y=0" in whole, "a window of one picture is cropped as before"


@pytest.mark.slow
def test_a_face_found_astride_the_seam_is_dropped(shared_media, tmp_path):
    split_screen = make_split_screen(tmp_path / "split.mp4", (Camera("talking_obama_20s.mp4"), Camera("gradients")),
                                     [(0.0, 4.0, 0)], 4.0, media=shared_media, size=f"{W}x{H}")
    # A small face laid over the divider, a third of the height: the seam still runs through the rest.
    path = tmp_path / "astride.mp4"
    run(["ffmpeg", "-v", "error", "-y", "-i", str(split_screen), "-i", str(shared_media / "talking_obama_20s.mp4"),
         "-filter_complex", f"[1:v]scale=180:180[f];[0:v][f]overlay={W // 2 - 90}:{H - 200}:shortest=1",
         "-c:v", "libx264", "-preset", "ultrafast", "-an", str(path)])
    everything = find_faces(path, 0.0, 4.0, W, H)
    assert everything.split.found and len(everything.split.seams) == 1, everything.split
    # Found on every sample without the seams (measured); dropped with them.
    assert not any(abs(f.cx - 0.5) < 0.1 for sample in everything.faces for f in sample), "the face on the seam"
    assert sum(1 for sample in everything.faces if sample) >= 6, "the face of the left picture is kept"

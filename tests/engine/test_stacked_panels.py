"""Stacked layouts as an editor frames them (engine/reframe/panels.py, engine/caption_placement.py):
each panel has the eyes about a third down with room above the head, keeps its face near its
middle even when the face sits near its picture's side or moves about, and the caption band
between the panels leaves both faces clear. The face boxes below were measured on the real
split screens the last pass looked at (a TV interview on a remote link, the 2016 debate)."""
from __future__ import annotations

import dataclasses
import subprocess

import numpy as np
import pytest

from engine import captions, render
from engine.caption_placement import SeamPlace, seam_place
from engine.captions import Line, ass_document, at_the_seam
from engine.models import EngineConfig, RenderSpec, Word
from engine.probe import probe
from engine.reframe import FaceDetector, Stretch
from engine.reframe.expression import centre_at
from engine.reframe.panels import (
    EYES,
    EYES_LOWEST,
    HEAD_ABOVE,
    HEADROOM,
    OFF_CENTRE,
    PANEL_MIN_SHARE,
    PICTURE_EDGE,
    RISE_ZONE,
    STACK_FACE_SPAN,
    TIGHTEST_SPAN,
    face_rows,
    panel_path,
    panel_path_down,
    stacked_panel,
)
from engine.reframe.seams import NO_SPLIT, Seam, Split
from tests.engine.test_captions import render_frame
from tests.media import LEFT, Person, make_two_people

STACKED = 9 / 16 * 2                    # a panel's width / height in a 9:16 short


def _eyes(box, panel) -> float:
    return (box[1] + EYES * box[3] - panel[1]) / panel[3]


def _off_centre(cx: float, panel) -> float:
    return abs((cx - panel[0]) / panel[2] - 0.5)


def test_a_tight_panel_keeps_the_whole_head_and_the_eyes_near_a_third():
    # The interview's guest: a big face in a narrow picture (1280x720, pictures between three seams).
    split = Split((Seam(0.129, 0.134), Seam(0.489, 0.504), Seam(0.866, 0.877)))
    box = np.array([0.61, 0.136, 0.168, 0.301])
    panel = stacked_panel(box, 1280, 720, STACKED, split)
    x, y, w, h = panel
    assert 0.504 - 1e-9 <= x and x + w <= 0.866 + 1e-9, "inside his picture"
    assert box[3] / h > 0.5, "the picture allows no wider panel: tight"
    assert face_rows(box, panel).head >= HEADROOM - 1e-9, "the top of his head is in, with room above"
    assert _eyes(box, panel) <= EYES_LOWEST + 1e-9
    assert _off_centre(box[0] + box[2] / 2, panel) <= OFF_CENTRE


def test_a_roomy_panel_puts_the_eyes_a_third_down_and_the_face_in_the_middle():
    box = np.array([0.45, 0.4, 0.08, 0.14])
    panel = stacked_panel(box, 1920, 1080, STACKED)
    assert _eyes(box, panel) == pytest.approx(1 / 3, abs=0.005)
    assert _off_centre(0.49, panel) == pytest.approx(0.0, abs=1e-6)
    assert panel[3] == pytest.approx(2.6 * 0.14), "a few face heights tall"
    near_the_top = np.array([0.45, 0.03, 0.08, 0.14])
    assert stacked_panel(near_the_top, 1920, 1080, STACKED)[1] == 0.0, "no higher than the picture"


def test_a_face_near_its_pictures_side_gets_a_narrower_panel_centred_on_it():
    # The debate: Clinton near the right side of her picture, a subtitle bar across the bottom.
    split = Split((Seam(0.494, 0.502),), floor=0.816)
    box = np.array([0.76, 0.16, 0.14, 0.25])
    x, y, w, h = panel = stacked_panel(box, 1920, 1080, STACKED, split)
    assert 0.502 - 1e-9 <= x and x + w <= 1.0 + 1e-9 and y + h <= 0.816 + 1e-9
    assert _off_centre(0.83, panel) <= OFF_CENTRE, "centred, not at the panel's edge"
    assert h >= TIGHTEST_SPAN * box[3] - 1e-9, "no tighter than a head and shoulders"
    at_the_side = np.array([0.88, 0.16, 0.14, 0.25])
    x, y, w, h = stacked_panel(at_the_side, 1920, 1080, STACKED, split)
    assert h == pytest.approx(TIGHTEST_SPAN * 0.25) and x + w == pytest.approx(1.0), \
        "closer to the side than that: as tight as allowed, against the side"


def test_a_small_face_near_its_pictures_side_is_not_blown_up_to_centre_it():
    """Centring zooms in by at most what it does on a big face (2.6 -> 2.2 face heights): a
    small face (20 px of 720) beside a seam got a panel of 2.2 face heights, 45 px of the
    source enlarged twentyfold into half the short."""
    split = Split((Seam(0.49, 0.51),))
    small = np.array([0.45, 0.33, 0.015, 0.027])
    x, y, w, h = stacked_panel(small, 1280, 720, STACKED, split)
    assert h >= TIGHTEST_SPAN / STACK_FACE_SPAN * PANEL_MIN_SHARE - 1e-9
    assert x + w <= 0.49 + 1e-9, "still inside its picture"
    big = np.array([0.88, 0.16, 0.14, 0.25])                         # the debate's: unchanged
    assert stacked_panel(big, 1920, 1080, STACKED, Split((Seam(0.494, 0.502),), floor=0.816))[3] == \
        pytest.approx(TIGHTEST_SPAN * 0.25)


def test_a_panel_follows_its_face_as_it_moves_about_its_picture():
    split = Split((Seam(0.494, 0.502),), floor=0.816)
    times = np.arange(0.0, 8.0, 0.1)
    centres = 0.73 + 0.11 * np.sin(2 * np.pi * times / 8.0)          # from the middle of her picture to its side
    box = np.array([0.66, 0.16, 0.14, 0.25])
    x, y, w, h = stacked_panel(box, 1920, 1080, STACKED, split, reach=tuple(np.percentile(centres, [10, 90])))
    path = panel_path(times, centres, w, split)
    shown = np.array([centre_at(path, t) for t in times])
    assert (shown - w / 2 >= 0.502 - 1e-6).all() and (shown + w / 2 <= 1.0 + 1e-6).all(), "inside her picture"
    followed = np.abs(centres - shown) / w
    still = np.abs(centres - np.clip(np.median(centres), 0.502 + w / 2, 1.0 - w / 2)) / w
    assert np.percentile(followed, 90) < 0.2 and np.percentile(followed, 90) < 0.6 * np.percentile(still, 90)
    assert panel_path(times, np.full(len(times), np.nan), w, split) == (), "no face seen: no path"
    assert panel_path(times, np.full(len(times), 0.7), w, NO_SPLIT)[0][2] == pytest.approx(0.7)


def test_a_panel_does_not_jitter_with_its_face_boxes():
    """Face boxes wobble by a few pixels from one detection to the next; the panel must not: it
    holds still on a seated face and, following a moving one, moves a few output pixels a frame."""
    rng = np.random.default_rng(7)
    times = np.arange(0.0, 8.0, 1 / 12.5)
    wobble = rng.normal(0.0, 0.004, len(times))                       # about 8 source pixels at 1920
    box = np.array([0.30, 0.25, 0.10, 0.18])
    _, _, w, _ = stacked_panel(box, 1920, 1080, STACKED)
    frames = np.arange(0.0, 8.0, 1 / 25)

    def steps_px(path) -> np.ndarray:
        shown = np.array([centre_at(path, t) for t in frames])
        return np.abs(np.diff(shown)) / w * 1080                      # output pixels across a 1080-wide panel

    seated = panel_path(times, 0.35 + wobble, w)
    assert steps_px(seated).max() < 0.5, "a seated face's wobbling boxes leave the panel still"
    moving = panel_path(times, 0.35 + 0.06 * np.sin(2 * np.pi * times / 8.0) + wobble, w)
    assert steps_px(moving).max() <= 8.0, "following a face, a few pixels a frame at most"
    assert np.ptp([centre_at(moving, t) for t in frames]) > 0.05, "and it does follow"


def _rising(times: np.ndarray, box: np.ndarray, start: float, end: float, rise: float) -> np.ndarray:
    """Face boxes (x, y, w, h) at `times`: `box`, moved up by `rise` between `start` and `end`."""
    boxes = np.tile(box, (len(times), 1))
    boxes[:, 1] -= rise * np.clip((times - start) / (end - start), 0.0, 1.0)
    return boxes


def test_a_panel_follows_its_face_up_when_it_stands_and_keeps_the_head_in():
    """The TV interview's guest rises in his narrow picture: a panel that held its height cut
    the top of his head; one that follows keeps it in with room above, moving smoothly."""
    split = Split((Seam(0.129, 0.134), Seam(0.489, 0.504), Seam(0.866, 0.877)))
    times = np.arange(0.0, 10.0, 1 / 12.5)
    seated = np.array([0.61, 0.30, 0.168, 0.301])
    boxes = _rising(times, seated, 3.0, 4.5, 0.15)                    # 108 source pixels up in 1.5 s
    still = stacked_panel(seated, 1280, 720, STACKED, split)
    _, y, w, h = still
    down = panel_path_down(times, boxes, h, split)
    frames = np.arange(0.0, 10.0, 1 / 25)
    tops = np.array([centre_at(down, t) - h / 2 for t in frames])
    at = np.interp(frames, times, boxes[:, 1])
    heads = np.array([face_rows(np.array([0.61, b, 0.168, 0.301]), (0.0, top, w, h)).head for b, top in zip(at, tops)])
    eyes = (at + EYES * 0.301 - tops) / h
    assert tops.min() >= PICTURE_EDGE - 1e-9 and (tops + h).max() <= 1.0 + 1e-9, "inside his picture, below its edge"
    assert np.ptp(tops[frames < 2.0]) * 720 < 0.5, "still while he sits"
    assert tops[0] == pytest.approx(y, abs=1 / 720), "where a still panel would be, at first"
    settled = frames >= 6.0
    assert heads[settled].min() >= HEADROOM - 0.01, "standing, his head is in with room above"
    assert (eyes[settled] <= EYES_LOWEST + 0.01).all() and (eyes[settled] >= 0.25).all(), "the eyes near a third down"
    assert heads.min() > -0.05, "while he rises, at most a sliver of hair goes"
    assert face_rows(boxes[-1], still).head < -0.2, "a still panel cuts the top of his head off"
    high = _rising(times, seated, 3.0, 4.5, 0.3)
    top = centre_at(panel_path_down(times, high, h, split), 9.0) - h / 2
    assert PICTURE_EDGE - 1e-9 <= top <= PICTURE_EDGE + RISE_ZONE * h, \
        "risen to the top of the frame, the panel goes up as far as his picture's dark edge"
    assert (np.abs(np.diff(tops)) * 960 / h).max() <= 8.0, "a few output pixels a frame at most"


def test_a_panel_does_not_jitter_up_and_down_with_its_face_boxes():
    """Real face boxes jump up and down by a tenth of their height from one detection to the
    next (the interview's host: 125-178 px of 720 while he sat still), and a track's boxes are
    drawn between its detections, so one stray box lasts several samples. Over ten such seated
    faces the panel never goes to and fro, moves at most a couple of output pixels a frame, and
    mostly holds (a face's height as one box says it would travel about five times as far)."""
    times = np.arange(0.0, 8.0, 1 / 12.5)
    detected = np.arange(0.0, 8.0, 0.25)
    frames = np.arange(0.0, 8.0, 1 / 25)
    box = np.array([0.2, 0.2, 0.17, 0.31])
    _, _, _, h = stacked_panel(box, 1280, 720, STACKED)
    travelled = []
    for seed in range(10):
        rng = np.random.default_rng(seed)
        boxes = np.tile(box, (len(times), 1))
        boxes[:, 1] += np.interp(times, detected, rng.normal(0.0, 0.025, len(detected)))   # 18 px of 720
        boxes[:, 3] += np.interp(times, detected, rng.normal(0.0, 0.008, len(detected)))
        steps = np.diff([centre_at(panel_path_down(times, boxes, h), t) for t in frames]) / h * 960
        moving = np.sign(steps[np.abs(steps) > 0.05])
        assert (moving == moving[:1]).all(), f"seed {seed}: the panel goes to and fro"
        assert np.abs(steps).max() <= 2.0, f"seed {seed}: no visible shake"
        travelled.append(np.abs(steps).sum())
    assert np.mean(travelled) < 15.0, f"the panel mostly holds: {np.round(travelled)} output px over 8 s"
    assert panel_path_down(times, np.full((len(times), 4), np.nan), h) == (), "no face seen: no path"


def test_a_stretch_gives_its_panels_where_they_are_at_a_moment():
    """What the preview draws and the real-footage bench counts as shown: each panel slid along its path."""
    path = ((0.0, 4.0, 0.30, 0.40),)
    stretch = Stretch(0.0, 4.0, "stacked", (1, 2), panels=((0.2, 0.1, 0.2, 0.4), (0.6, 0.1, 0.2, 0.4)),
                      panel_paths=(path, ()))
    top, bottom = stretch.panels_at(2.0)
    assert top == pytest.approx((0.35 - 0.1, 0.1, 0.2, 0.4)) and bottom == (0.6, 0.1, 0.2, 0.4)
    assert Stretch(0.0, 4.0, "stacked", (1, 2), panels=stretch.panels).panels_at(2.0) == stretch.panels
    tilted = dataclasses.replace(stretch, panel_paths_down=((), ((0.0, 4.0, 0.30, 0.20),)))
    assert tilted.panels_at(2.0)[1] == pytest.approx((0.6, 0.25 - 0.2, 0.2, 0.4)), "slid up its path down"


# --- the caption band ---------------------------------------------------------------------------

BAND = 2 * 1.1 * captions.Layout(1080, 1920).font_size / 1920       # two rows of captions
TOP = 0.1                                                            # the top margin


def test_the_caption_stays_on_the_seam_when_both_faces_leave_room():
    faces = [(0.05, 0.12, 0.3, 0.35), (0.6, 0.67, 0.85, 0.9)]
    assert seam_place(faces, BAND, TOP).centre == pytest.approx(0.5)


def test_the_caption_moves_off_a_head_just_below_the_seam():
    faces = [(0.02, 0.1, 0.28, 0.36), (0.52, 0.6, 0.75, 0.8)]
    place = seam_place(faces, BAND, TOP)
    assert place.bottom <= 0.52 + 1e-9 and place.top >= 0.36 - 1e-9
    assert place.bottom == pytest.approx(0.52), "as near the seam as the head allows"


def test_without_room_between_the_heads_the_caption_leaves_the_eyes_and_mouths_clear():
    tight = [(0.0, 0.2, 0.38, 0.45), (0.5, 0.6, 0.9, 0.95)]
    place = seam_place(tight, BAND, TOP)
    assert place.top >= 0.38 - 1e-9 and place.bottom <= 0.6 + 1e-9
    no_room = [(0.0, 0.2, 0.47, 0.5), (0.5, 0.52, 0.7, 0.75)]
    centre = seam_place(no_room, BAND, TOP).centre
    assert not any(brows < centre < mouth for _, brows, mouth, _ in no_room), "at least the middle of the band"


def test_a_seam_line_is_drawn_where_its_place_puts_it(tmp_path):
    line = Line(0.0, 1.0, (Word(0.0, 1.0, " charge"),))
    moved = at_the_seam([line], [(0.0, 1.0, SeamPlace(0.3, 0.5, seam=0.2))])
    assert [(m.at_seam, m.place.centre) for m in moved] == [(True, 0.4)]
    assert at_the_seam([line], [(0.0, 1.0)])[0].place.centre == 0.5, "(start, end) spans: the seam itself"
    layout = captions.Layout(360, 640)
    row = captions.drawn_height(1, layout, captions.look("bold", layout.font_size)) / 640
    # one row: as near the seam (0.2) as the room (0.3-0.5) allows
    on_seam = dataclasses.replace(moved[0], place=SeamPlace(0.5, 0.5))
    for doc_lines, expected in (([moved[0]], 0.3 + row / 2), ([on_seam], 0.5)):
        doc = ass_document(doc_lines, 360, 640, font=captions.caption_font("zh"))
        ink = np.flatnonzero((render_frame(tmp_path, doc) > 128).any(axis=1))
        assert len(ink) and (ink.min() + ink.max()) / 2 / 640 == pytest.approx(expected, abs=0.02)


# --- as rendered ----------------------------------------------------------------------------------

def _gray(path, at: float) -> np.ndarray:
    raw = subprocess.run(["ffmpeg", "-v", "error", "-ss", f"{at}", "-i", str(path), "-frames:v", "1",
                          "-f", "rawvideo", "-pix_fmt", "gray", "pipe:1"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(640, 360)


@pytest.mark.slow
def test_the_caption_over_a_stacked_short_leaves_both_faces_clear(shared_media, tmp_path):
    """Two people trading short turns; the one on the right stands with the top of his head near the
    top of the picture, so his panel cannot move higher. Rendered with real ffmpeg and libass,
    with and without captions: the rows the captions change miss every face the detector finds in
    either panel, from the top of the hair to the chin (the seam's middle crossed his hair)."""
    turns = [(0.0, 2.0, 0), (2.0, 4.0, 1), (4.0, 6.0, 0), (6.0, 8.0, 1), (8.0, 10.0, 0), (10.0, 12.0, 1)]
    people = (Person("talking_tedlieu_60s.mp4", 260, 320, 400, skip=2.0), Person("talking_obama_20s.mp4", 1250, 0, 440))
    source = make_two_people(tmp_path / "two.mp4", turns, 12.0, people=people, media=shared_media)
    words = [Word(0.2 + i * 0.45, 0.6 + i * 0.45, " " + w)
             for i, w in enumerate(("we charge for the value you create " * 5).split())]
    config = EngineConfig(cache_dir=tmp_path / "cache", x264_preset="ultrafast")
    prepared = render.prepare(RenderSpec(media=probe(source), segments=[(0.0, 12.0)], resolution=360, words=words),
                              config)
    stacked = [s for s in prepared.framings[0].stretches if s.layout == "stacked"]
    assert stacked, prepared.framings[0].stretches
    captioned = render.encode(prepared, tmp_path / "with.mp4", config).path
    plain = render.encode(dataclasses.replace(prepared, ass_script=None), tmp_path / "plain.mp4", config).path
    detector = FaceDetector()
    checked = 0
    for stretch in stacked:
        for at in np.linspace(stretch.start + 0.3, stretch.end - 0.3, 3):
            shown, bare = _gray(captioned, at).astype(int), _gray(plain, at)
            ink = np.flatnonzero((np.abs(shown - bare) > 60).sum(axis=1) > 3)
            assert len(ink), f"a caption is shown at {at:.2f} s"
            for top, bottom in ((0, 320), (320, 640)):
                faces = detector.detect(np.ascontiguousarray(bare[top:bottom]))
                assert faces, f"a face in the panel at rows {top}-{bottom}, {at:.2f} s"
                face = max(faces, key=lambda f: f.area)
                head = max(top, top + (face.y - HEAD_ABOVE * face.h) * 320)
                chin = min(bottom, top + (face.y + 1.1 * face.h) * 320)
                assert ink.max() < head or ink.min() > chin, \
                    f"{at:.2f} s: caption rows {ink.min()}-{ink.max()} over a face at rows {head:.0f}-{chin:.0f}"
                checked += 1
    assert checked >= 6


@pytest.mark.slow
def test_a_rendered_panel_follows_a_person_who_stands_up(shared_media, tmp_path):
    """Two people trading short turns; the one on the right rises 200 px (of 1080) in 1.5 s in
    the middle of the stacked stretch. Rendered with real ffmpeg: seated and risen, the face the
    detector finds in his panel has its hair in with room above and its eyes about a third down.
    A panel that held its height (framed on where he is over the stretch) had his eyes at half
    its height while he sat, at a fifth once he had risen, and the top of his head cut."""
    turns = [(0.0, 2.0, 0), (2.0, 4.0, 1), (4.0, 6.0, 0), (6.0, 8.0, 1), (8.0, 10.0, 0), (10.0, 12.0, 1)]
    rising = Person("talking_tedlieu_60s.mp4", 1250, 420, 400, skip=2.0, rise=(5.0, 6.5, 200))
    source = make_two_people(tmp_path / "two.mp4", turns, 12.0, people=(LEFT, rising), media=shared_media)
    config = EngineConfig(cache_dir=tmp_path / "cache", x264_preset="ultrafast")
    prepared = render.prepare(RenderSpec(media=probe(source), segments=[(0.0, 12.0)], resolution=360), config)
    stretch = next((s for s in prepared.framings[0].stretches if s.layout == "stacked" and s.start <= 4.5
                    and s.end >= 9.0), None)
    assert stretch is not None, prepared.framings[0].stretches
    short = render.encode(prepared, tmp_path / "short.mp4", config).path
    detector = FaceDetector()
    for at in (3.0, 4.0, 7.5, 8.0, 8.5, 9.0):
        faces = detector.detect(np.ascontiguousarray(_gray(short, at)[320:640]))
        assert faces, f"his face in the bottom panel at {at} s"
        face = max(faces, key=lambda f: f.area)
        assert face.y - HEAD_ABOVE * face.h >= HEADROOM / 2, f"{at} s: the top of his head is cut ({face})"
        assert 0.25 <= face.y + EYES * face.h <= 0.45, f"{at} s: his eyes are not about a third down ({face})"
    (_, seated, _, h), (_, risen, _, _) = stretch.panels_at(4.0)[1], stretch.panels_at(8.0)[1]
    assert seated - risen > 0.1 * h, "the panel rose with him"


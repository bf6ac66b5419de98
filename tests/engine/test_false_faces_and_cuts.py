"""Issue 12's real seated interview, rebuilt from parts: a window with blinds between two people
that OpenCV's frontal cascade takes for a face twice their size, and a hard cut to a close-up
inside a range where the encoder put no keyframe (a clip cut out without re-encoding)."""
from __future__ import annotations

import subprocess
from dataclasses import replace

import numpy as np
import pytest

from engine import reframe, signals
from engine.reframe.detection import FaceDetector, detection_size
from tests.engine.test_speakers import SRC_H, SRC_W, half, speaker_in_view
from tests.media import LEFT, RIGHT, Person, make_two_people, window_with_blinds


def grey(path, width: int, height: int) -> np.ndarray:
    import cv2

    return cv2.resize(cv2.imread(str(path), cv2.IMREAD_GRAYSCALE), (width, height), interpolation=cv2.INTER_AREA)


def test_blinds_the_frontal_cascade_takes_for_a_face_are_not_a_face(tmp_path, shared_media):
    w, h = detection_size(SRC_W, SRC_H)
    picture = grey(window_with_blinds(tmp_path / "blinds.png", SRC_W, SRC_H), w, h)
    detector = FaceDetector()
    import cv2

    fooled = detector.frontal.detectMultiScale(cv2.createCLAHE(2.0, (8, 8)).apply(picture), scaleFactor=1.15,
                                               minNeighbors=4, minSize=(h // 9, h // 9))
    assert len(fooled) == 1 and fooled[0][2] > 0.25 * w, "the frontal cascade alone sees a large face on the blinds"
    assert detector.detect(picture, wanted=2) == [], "the second look rejects it"
    # A real face, turned a little (his talking clip), is confirmed.
    frame = tmp_path / "face.png"
    subprocess.run(["ffmpeg", "-v", "error", "-ss", "3", "-i", str(shared_media / LEFT.clip), "-frames:v", "1",
                    "-vf", "scale=96:96,pad=448:252:176:78:gray", str(frame)], check=True)
    faces = detector.detect(grey(frame, 448, 252))
    assert len(faces) == 1 and 0.35 < faces[0].cx < 0.65


def test_a_cut_is_a_frame_that_changes_alone():
    times = np.arange(100) / 12.5
    change = np.full(100, 2.0)
    change[40] = 90.0                   # a cut
    change[70:80] = 40.0                # a fast pan: every frame changes alike
    change[20] = 15.0                   # a flash too faint to be a cut
    assert signals.cuts_from_change(times, change) == (3.2,)
    assert signals.cuts_from_change(times, np.full(100, 2.0)) == ()


def test_a_shot_with_one_sample_keeps_its_face():
    """The interview's last shot is 0.6 s long, one detection sample: its face is the person there
    (a track needs two hits only where the shot has two samples)."""
    from engine.reframe.detection import Face, FaceSamples

    times = np.arange(10) * 1.0
    faces = [[Face(0.1, 0.3, 0.1, 0.2), Face(0.7, 0.3, 0.1, 0.2)] for _ in range(9)] + [[Face(0.4, 0.2, 0.2, 0.4)]]
    faces[3].append(Face(0.45, 0.3, 0.1, 0.2))      # a one-off in a long shot is still no track
    tracks = reframe.link_tracks(FaceSamples(times, faces), [(0.0, 8.5), (8.5, 10.0)])
    assert [(t.shot, len(t.times)) for t in tracks] == [(0, 9), (0, 9), (1, 1)]


def test_a_face_that_moved_further_than_a_track_follows_is_still_one_person():
    """The debate's right-hand speaker moved 1.1 face widths between two samples a second apart:
    her track ended and a second began, and the editor weighed her against herself."""
    from engine.reframe.detection import Face, FaceSamples

    times = np.arange(10) * 1.0
    faces = [[Face(0.15 if i < 5 else 0.28, 0.3, 0.1, 0.2), Face(0.75, 0.3, 0.1, 0.2)] for i in range(10)]
    tracks = reframe.link_tracks(FaceSamples(times, faces), [(0.0, 10.0)])
    assert sorted(len(t.times) for t in tracks) == [10, 10]


@pytest.mark.slow
def test_a_cut_before_the_first_keyframe_of_a_copied_clip_is_found(tmp_path):
    """A clip cut out of a longer video without re-encoding starts inside a group of pictures: its
    first keyframe comes seconds in, and a cut before it was compared with nothing."""
    full, clip = tmp_path / "full.mp4", tmp_path / "clip.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=3",
                    "-f", "lavfi", "-i", "mandelbrot=s=320x180:r=25,trim=duration=3",
                    "-f", "lavfi", "-i", "smptebars=s=320x180:r=25:d=2",
                    "-filter_complex", "[0:v][1:v][2:v]concat=n=3:v=1[v]", "-map", "[v]", "-c:v", "libx264",
                    "-preset", "ultrafast", "-g", "1000", "-sc_threshold", "0", "-force_key_frames", "0,4,6",
                    str(full)], check=True)
    subprocess.run(["ffmpeg", "-v", "error", "-ss", "2", "-i", str(full), "-c", "copy", str(clip)], check=True)
    assert signals.detect_scene_cuts(clip, duration=6.0) == (1.0, 4.0)


PAIR = (replace(half(LEFT), x=40), replace(half(RIGHT), x=700))
TURNS = [(0.0, 4.0, 1), (4.0, 8.0, 0), (8.0, 10.0, 1)]


@pytest.mark.slow
def test_two_people_with_a_window_between_them_are_followed_not_the_window(tmp_path, shared_media):
    """Before the second look, the blinds (a box 2.2 times as wide as the faces, on every sample)
    made both people "the crowd behind" it, and the crop followed the window."""
    backdrop = window_with_blinds(tmp_path / "blinds.png", SRC_W, SRC_H)
    path = make_two_people(tmp_path / "blinds.mp4", TURNS, 10.0, people=PAIR, media=shared_media,
                           size=f"{SRC_W}x{SRC_H}", backdrop=backdrop)
    framing = reframe.frame_range(path, 0.0, 10.0, SRC_W, SRC_H, "9:16")
    assert framing.mode == "speakers" and len(framing.trace.track_ids) == 2
    centres = np.nanmedian(framing.trace.boxes[:, :, 0] + framing.trace.boxes[:, :, 2] / 2, axis=1)
    assert sorted(np.round(centres, 1)) == [0.2, 0.8], "one track per person, none on the window"
    assert speaker_in_view(framing, TURNS, PAIR) >= 0.9


@pytest.mark.slow
def test_a_cut_to_a_close_up_that_no_keyframe_marks_starts_new_tracks(tmp_path, shared_media):
    """A two-shot, then (at 6 s, no keyframe there and no cut given) a close-up of one of them:
    in one shot the close-up's face made the two-shot's people "the crowd behind" it."""
    size = f"{SRC_W}x{SRC_H}"
    two = make_two_people(tmp_path / "two.mp4", [(0.0, 3.0, 1), (3.0, 6.0, 0)], 6.0, people=half_pair(),
                          media=shared_media, size=size)
    close = make_two_people(tmp_path / "close.mp4", [(0.0, 4.0, 0)], 4.0, media=shared_media, size=size,
                            people=(Person(RIGHT.clip, 240, 0, 540, skip=RIGHT.skip + 6.0),))
    path = tmp_path / "cut.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(two), "-i", str(close), "-filter_complex",
                    "[0:v][0:a][1:v][1:a]concat=n=2:v=1:a=1[v][a]", "-map", "[v]", "-map", "[a]", "-c:v", "libx264",
                    "-preset", "ultrafast", "-g", "1000", "-sc_threshold", "0", "-c:a", "aac", str(path)], check=True)
    framing = reframe.frame_range(path, 0.0, 10.0, SRC_W, SRC_H, "9:16")
    assert framing.mode == "speakers" and len(framing.trace.track_ids) == 3, "two people, then one"
    assert any(abs(s.start - 6.0) < 0.1 for s in framing.stretches), "a new stretch at the cut"
    assert speaker_in_view(framing, [(0.0, 3.0, 1), (3.0, 6.0, 0)], half_pair()) >= 0.9


def half_pair() -> tuple[Person, Person]:
    return half(LEFT), half(RIGHT)

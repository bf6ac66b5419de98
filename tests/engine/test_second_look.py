"""A second person the keyframes missed (engine/reframe/others.py): a few samples spread over the
range search the rest of the picture, so a short of two people shows both even when the range
has one keyframe and it did not show the second; a one-person clip pays for those few only."""
from __future__ import annotations

from dataclasses import replace

import pytest

from engine import reframe
from engine.reframe.detection import Face, FaceDetector, with_new_faces
from engine.reframe.others import SPREAD_LOOKS, elsewhere, spread
from engine.reframe.path import crop_window
from tests.engine.test_speakers import SRC_H, SRC_W, half, speaker_in_view
from tests.media import LEFT, RIGHT, make_two_people


def test_spread_samples_cover_the_range_evenly():
    assert spread(40) == {3, 10, 16, 23, 30, 36}
    assert spread(3) == {0, 1, 2}
    assert spread(0) == set()


def test_a_second_person_is_searched_for_only_where_one_window_could_not_hold_both():
    wide = crop_window(1920, 1080, "9:16")              # 0.32 of the width
    right = Face(0.70, 0.15, 0.14, 0.25)
    (left_x0, left_x1), (right_x0, right_x1) = elsewhere([right], wide)
    assert left_x0 == 0.0 and left_x1 == pytest.approx(0.70), "left of the face up to it"
    assert right_x0 == pytest.approx(0.84) and right_x1 == 1.0, "right of it: a face at the edge is still too far"
    square = crop_window(450, 450, "9:16")              # 0.56 of the width
    middle = Face(0.35, 0.2, 0.3, 0.3)
    assert elsewhere([middle], square) == [(0.0, 0.35), (pytest.approx(0.65), 1.0)]
    big = Face(0.2, 0.1, 0.6, 0.6)
    assert elsewhere([big], square) == [], "no room beside the face for another one"
    assert elsewhere([], wide) == []


def test_one_face_found_twice_by_one_pass_counts_once():
    head, nested, other = (100, 40, 60, 60), (96, 20, 80, 80), (300, 40, 60, 60)
    assert with_new_faces([], [head, nested, other]) == [head, other], "a nested box of the same head"
    assert with_new_faces([head], [nested, other]) == [head, other], "found again by a later pass"
    assert with_new_faces([head], [(170, 40, 60, 60)]) == [head, (170, 40, 60, 60)], "a neighbour is someone else"


class RecordingDetector(FaceDetector):
    """The real detector, recording the size of each picture it searched and the faces wanted."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[int, int]] = []

    def detect(self, gray, thorough=True, wanted=1, smallest=0):
        self.calls.append((gray.shape[1], wanted))
        return super().detect(gray, thorough, wanted, smallest)


# Only the costlier passes find the right person (turned 25 degrees), and only after the one
# keyframe (0 s): the keyframe glance sees one person, and the frontal pass that the samples run
# to find one face finds the left person every time.
TURNED = (half(LEFT), replace(half(RIGHT), turn=25.0, enter=1.0))
TURNED_TURNS = [(0.0, 4.0, 0), (4.0, 8.0, 1)]
# The same person coming in at 5 s of 12: the spread samples find him twice by 7 s, and only from
# then on do the samples look for both. He is on about a quarter of them, under a track's usual
# presence; the short used to fall back to the whole picture (fit).
LATE = (half(LEFT), replace(half(RIGHT), turn=25.0, enter=5.0))
LATE_TURNS = [(0.0, 6.0, 0), (6.0, 12.0, 1)]


@pytest.mark.slow
@pytest.mark.parametrize("people, turns, duration", [(TURNED, TURNED_TURNS, 8.0), (LATE, LATE_TURNS, 12.0)],
                         ids=["from-1s", "found-late"])
def test_a_person_only_the_costlier_passes_find_after_the_only_keyframe_is_shown(shared_media, tmp_path, people,
                                                                                 turns, duration):
    path = make_two_people(tmp_path / "turned.mp4", turns, duration, people=people, media=shared_media,
                           size=f"{SRC_W}x{SRC_H}", keyframe_every=1000)
    framing = reframe.frame_range(path, 0.0, duration, SRC_W, SRC_H, "9:16")
    assert framing.mode == "speakers" and len(framing.trace.track_ids) == 2, framing.reason
    assert speaker_in_view(framing, turns, people) >= 0.9


@pytest.mark.slow
def test_a_one_person_clip_with_few_keyframes_pays_for_a_few_searches_beside_the_face(shared_media):
    detector = RecordingDetector()
    framing = reframe.frame_range(shared_media / "talking_obama_20s.mp4", 0.0, 20.0, 450, 450, "9:16",
                                  detector=detector)
    assert framing.mode == "crop"
    full = max(width for width, _ in detector.calls)
    beside = [width for width, _ in detector.calls if width < full]
    assert 0 < len(beside) <= 2 * SPREAD_LOOKS, "the strips beside the face, on the spread samples only"
    keyframes = 2                                       # 0 s and 10 s
    assert sum(wanted > 1 for width, wanted in detector.calls if width == full) <= keyframes, \
        "no sample after the glance looks for two people on the whole picture"


"""The real-footage benchmark's parsing and scoring (bench/bench_real_interview.py), on a
hand-made RTTM, face labels and framings: no media, no licensed data."""
from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from engine import reframe

_spec = importlib.util.spec_from_file_location(
    "bench_real_interview", Path(__file__).resolve().parents[2] / "bench" / "bench_real_interview.py")
bench = sys.modules[_spec.name] = importlib.util.module_from_spec(_spec)      # dataclasses look it up
_spec.loader.exec_module(bench)

W, H, FPS = 1000, 500, 10.0
# A speaks 0-2 s, B 2-4 s, A again 3-4 s (both); nobody 4-5 s. A sits at x 0.2, B at x 0.8.
RTTM = """SPEAKER ep 0 0.000 2.000 <NA> <NA> A <NA> <NA>
SPEAKER ep 0 2.000 2.000 <NA> <NA> B <NA> <NA>
SPEAKER ep 0 3.000 1.000 <NA> <NA> A <NA> <NA>
"""
DARKLABEL = "".join(f"{f},face,A,150,100,250,220,0\n{f},face,B,750,100,850,220,0\n" for f in range(50))
WINDOW = reframe.Window("x", 0.3)


def people():
    return bench.parse_darklabel(DARKLABEL, W, H, FPS)


def test_rttm_and_darklabel_are_read_as_turns_and_fractions():
    turns = bench.parse_rttm(RTTM)
    assert [(t.start, t.end, t.who) for t in turns] == [(0.0, 2.0, "A"), (2.0, 4.0, "B"), (3.0, 4.0, "A")]
    labels = people()
    assert sorted(labels) == ["A", "B"]
    assert labels["A"].centre_at(1.0) == pytest.approx(0.2) and labels["B"].centre_at(4.9) == pytest.approx(0.8)
    assert labels["A"].centre_at(7.0) is None                 # past the last label: not known


def test_the_json_format_of_centres_reads_like_the_darklabel_boxes():
    data = {"people": {"A": [[t / 2, 200, 160] for t in range(11)], "B": [[t / 2, 800, 160] for t in range(11)]}}
    labels = bench.parse_faces_json(json.dumps(data), W, H)
    assert labels["A"].centre_at(1.2) == pytest.approx(0.2) and labels["B"].centre_at(3.9) == pytest.approx(0.8)


def test_a_crop_on_one_speaker_counts_only_that_speakers_frames():
    on_a = reframe.Framing(mode="crop", window=WINDOW, pieces=((0.0, 5.0, 0.2, 0.2),))
    score = bench.score(on_a, bench.parse_rttm(RTTM), people(), 0.0, 5.0)
    assert score.speaking == 40                                # 0-4 s at 10 samples a second
    assert (score.per_person_in["A"], score.per_person["A"]) == (30, 30)
    assert (score.per_person_in["B"], score.per_person["B"]) == (0, 20)
    assert score.any_in == 30                                  # 0-2 s and the overlap 3-4 s


def test_stacked_panels_show_both_and_fit_shows_nobody():
    stretches = (reframe.Stretch(0.0, 2.0, "crop", (1,)),
                 reframe.Stretch(2.0, 4.0, "stacked", (1, 2), panels=((0.05, 0.0, 0.3, 0.5), (0.65, 0.0, 0.3, 0.5))),
                 reframe.Stretch(4.0, 5.0, "fit"))
    framing = reframe.Framing(mode="speakers", window=WINDOW, pieces=((0.0, 5.0, 0.2, 0.2),), stretches=stretches)
    assert bench.score(framing, bench.parse_rttm(RTTM), people(), 0.0, 5.0).share == 1.0
    fit = reframe.Framing(mode="fit", window=WINDOW)
    assert bench.score(fit, bench.parse_rttm(RTTM), people(), 0.0, 5.0).share == 0.0
    # a range that starts later: times inside the framing are range times
    late = reframe.Framing(mode="crop", window=WINDOW, pieces=((0.0, 3.0, 0.8, 0.8),))
    late_score = bench.score(late, bench.parse_rttm(RTTM), people(), 2.0, 5.0)
    assert (late_score.per_person_in["B"], late_score.per_person_in["A"], late_score.per_person["A"]) == (20, 0, 10)


def test_the_centre_crop_misses_people_at_the_sides():
    centre = bench.centre_crop(reframe.crop_window(1920, 1080, "9:16"))
    assert bench.score(centre, bench.parse_rttm(RTTM), people(), 0.0, 5.0).share == 0.0


LABELS = Path(__file__).resolve().parents[2] / "bench" / "labels"


@pytest.mark.parametrize("name", ["iianet_debate", "visualvoice_interview", "looking_to_listen_standup"])
def test_the_kept_labels_read_and_cover_every_turn(name):
    """bench/labels: each RTTM's speakers have faces, labelled every 0.2 s inside the picture, and
    every speaking sample of the turns has a face box within the reader's reach."""
    meta = json.loads((LABELS / f"{name}.faces.json").read_text())
    width, height = meta["size_px"]
    turns = bench.parse_rttm((LABELS / f"{name}.rttm").read_text())
    people = bench.parse_faces_json((LABELS / f"{name}.faces.json").read_text(), width, height)
    assert turns and {t.who for t in turns} == set(people)
    assert all(0 <= t.start < t.end <= meta["duration_s"] + 0.1 for t in turns)
    for who, face in people.items():
        assert (face.boxes[:, :2] >= 0).all() and (face.boxes[:, 2:] <= 1).all(), who
        assert (face.boxes[:, 2] > face.boxes[:, 0]).all() and (face.boxes[:, 3] > face.boxes[:, 1]).all(), who
        assert max(abs(d - 0.2) for d in face.times[1:] - face.times[:-1]) < 0.01, who
    for turn in turns:
        for t in (turn.start, (turn.start + turn.end) / 2, turn.end - 0.01):
            assert people[turn.who].box_at(t) is not None, (turn, t)

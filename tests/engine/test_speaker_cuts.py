"""Two people who cross keep their ids (tracks match colours as well as places), a face found
again after a gap keeps its id, and the editor cuts where the new speaker starts, not after
the scores have caught up with them."""
from __future__ import annotations

import subprocess

import numpy as np
import pytest

from engine import reframe
from engine.reframe import Face, FaceSamples, Stretch, editor, speaking
from engine.reframe.tracks import look_similarity


def box(cx: float, look: np.ndarray | None = None, cy: float = 0.4, w: float = 0.1) -> Face:
    return Face(cx - w / 2, cy - w, w, 2 * w, look=look)


def colour(bin_: int) -> np.ndarray:
    look = np.zeros(256)
    look[bin_] = 1.0
    return look


RED, BLUE = colour(10), colour(200)


def test_looks_alike_is_one_and_different_is_zero():
    assert look_similarity(RED, RED) == pytest.approx(1.0)
    assert look_similarity(RED, BLUE) == pytest.approx(0.0)
    assert look_similarity(RED, None) is None


def test_two_people_crossing_keep_their_ids_by_their_colours():
    """They walk towards each other and on: by places alone, the nearest box swaps them."""
    times = np.arange(11.0)
    faces = [[box(0.7 - 0.04 * i, BLUE), box(0.3 + 0.04 * i, RED)] for i in range(11)]
    tracks = reframe.link_tracks(FaceSamples(times, faces), [(0.0, 11.0)])
    assert len(tracks) == 2
    ends = {round(float(t.boxes[0, 0] + 0.05), 2): round(float(t.boxes[-1, 0] + 0.05), 2) for t in tracks}
    assert ends == {0.3: 0.7, 0.7: 0.3}, "each keeps walking the way they went"


def test_a_face_found_again_after_a_gap_elsewhere_keeps_its_id():
    times = np.arange(12.0)
    faces = [[box(0.2, RED), box(0.8, BLUE)] if i < 4 else [box(0.8, BLUE)] if i < 8
             else [box(0.5, RED), box(0.8, BLUE)] for i in range(12)]
    tracks = reframe.link_tracks(FaceSamples(times, faces), [(0.0, 12.0)])
    assert len(tracks) == 2, "the red person back after 4 s at another place is the same track"
    red = next(t for t in tracks if t.boxes[0, 0] < 0.3)
    assert red.times.tolist() == [0, 1, 2, 3, 8, 9, 10, 11]


def test_someone_else_at_a_lost_persons_place_is_a_new_track():
    times = np.arange(12.0)
    faces = [[box(0.2, RED)] if i < 4 else [] if i < 8 else [box(0.2, BLUE)] for i in range(12)]
    assert len(reframe.link_tracks(FaceSamples(times, faces), [(0.0, 12.0)])) == 2


def test_a_cut_moved_back_a_few_hundredths_says_by_how_much():
    fps = 25.0
    times = np.arange(0, 12, 1 / fps)
    first = np.clip(1.0 - (times - 5.0) / 2.0, 0.0, 1.0)
    second = np.clip((times - 5.0) / 2.0, 0.0, 1.0)          # they cross at 6.0 s
    stretches = [Stretch(0.0, 6.04, "crop", (1,)), Stretch(6.04, 12.0, "crop", (2,), "#2 spoke 3.0x as much as #1")]
    placed = editor.place_cuts(stretches, times, {1: first, 2: second}, onsets=np.array([]))
    assert placed[1].start == pytest.approx(6.0, abs=0.02)
    assert "cut 0.04 s earlier" in placed[1].reason, placed[1].reason


def test_the_cut_moves_back_to_where_the_new_speakers_score_overtakes():
    fps = 10.0
    times = np.arange(0, 12, 1 / fps)
    # scores that cross at 6.0 s; the labels named the new turn only at 6.6 s
    first = np.clip(1.0 - (times - 5.0) / 2.0, 0.0, 1.0)
    second = np.clip((times - 5.0) / 2.0, 0.0, 1.0)
    stretches = [Stretch(0.0, 6.6, "crop", (1,)), Stretch(6.6, 12.0, "crop", (2,), "#2 spoke 3.0x as much as #1")]
    placed = editor.place_cuts(stretches, times, {1: first, 2: second}, onsets=np.array([2.0, 5.9, 8.0]))
    assert placed[0].end == placed[1].start == pytest.approx(5.9), "onto the word that starts the turn"
    assert placed[1].reason == ("#2 spoke 3.0x as much as #1; cut 0.7 s earlier, where #2's voice rose above "
                                "#1's (at a word's start)"), "the reason says why the cut is where it is"
    merged = [Stretch(0.0, 6.6, "crop", (1,)), Stretch(6.6, 12.0, "crop", (2,), "a; then b", parts=((6.6, "a"), (9.0, "b")))]
    placed = editor.place_cuts(merged, times, {1: first, 2: second}, onsets=np.array([5.9]))
    assert placed[1].parts == ((5.9, "a; cut 0.7 s earlier, where #2's voice rose above #1's (at a word's start)"),
                               (9.0, "b"))
    placed = editor.place_cuts(stretches, times, {1: first, 2: second}, onsets=np.array([]))
    assert placed[1].start == pytest.approx(6.0, abs=0.11)
    kept = editor.place_cuts(stretches, times, {1: first, 2: second}, onsets=np.array([]), fixed=(6.6,))
    assert kept[1].start == 6.6, "a cut at a shot change stays"
    from_both = [Stretch(0.0, 6.6, "stacked", (1, 2)), Stretch(6.6, 12.0, "crop", (2,))]
    placed = editor.place_cuts(from_both, times, {1: first, 2: second}, onsets=np.array([5.9]))
    assert placed[1].start == 6.6, "from both stacked to one of them: already in view, so no earlier cut"
    to_both = [Stretch(0.0, 6.6, "crop", (1,)), Stretch(6.6, 12.0, "stacked", (1, 2))]
    placed = editor.place_cuts(to_both, times, {1: first, 2: second}, onsets=np.array([5.9]))
    assert placed[1].start == pytest.approx(5.9), "from one to both stacked: the newcomer's turn is shown from its start"
    assert "where #2's voice rose above #1's" in placed[1].reason
    both_from_nobody = [Stretch(0.0, 6.6, "fit", ()), Stretch(6.6, 12.0, "stacked", (1, 2))]
    assert editor.place_cuts(both_from_nobody, times, {1: first, 2: second}, onsets=np.array([5.9]))[1].start == 6.6
    # From one person to two others stacked (three people): the cut follows the one heard at it.
    quiet = np.full(len(times), 0.05)
    two_new = [Stretch(0.0, 6.6, "crop", (1,)), Stretch(6.6, 12.0, "stacked", (3, 2))]
    placed = editor.place_cuts(two_new, times, {1: first, 2: second, 3: quiet}, onsets=np.array([5.9]))
    assert placed[1].start == pytest.approx(5.9) and "where #2's voice rose above #1's" in placed[1].reason


def make_crossing(path, media, seconds: float = 8.0):
    """Two real talking faces in 640x360 walking past each other (one hides the other midway)."""
    graph = (f"color=0x30343a:s=640x360:r=25:d={seconds}[bg];"
             f"[0:v]scale=170:170,setpts=PTS-STARTPTS[a];[1:v]scale=160:160,setpts=PTS-STARTPTS[b];"
             f"[bg][a]overlay=x='30+t/{seconds}*420':y=110:shortest=1[ba];"
             f"[ba][b]overlay=x='450-t/{seconds}*420':y=100:shortest=1,format=yuv420p[v]")
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-stream_loop", "-1", "-i", str(media / "talking_obama_20s.mp4"),
                    "-stream_loop", "-1", "-ss", "2", "-i", str(media / "talking_tedlieu_60s.mp4"),
                    "-filter_complex", graph, "-map", "[v]", "-t", str(seconds), "-c:v", "libx264",
                    "-preset", "ultrafast", str(path)], check=True)
    return path


@pytest.mark.slow
def test_real_faces_crossing_keep_their_ids(shared_media, tmp_path):
    video = make_crossing(tmp_path / "crossing.mp4", shared_media)
    look = reframe.dense_look(video, 0.0, 8.0, 640, 360)
    edges = [(0.0, 8.0)]
    tracks = reframe.prominent_tracks(reframe.link_tracks(look.samples, edges), edges, look.samples.times)
    assert len(tracks) == 2
    for track in tracks:
        first, last = (float(b[0] + b[2] / 2) for b in (track.boxes[0], track.boxes[-1]))
        assert (first < 0.5) != (last < 0.5), "the one who started on the left ends on the right"


def test_words_decide_within_their_reach_and_energy_in_a_gap():
    """Sound before the first word and in a short pause is no speech (music and noise between
    sentences); where the transcript is silent longer than WORD_GAP_S (a recogniser dropped a
    stretch), loud sound is, and where it rises is a place to cut, as without a transcript."""
    times = np.arange(0, 6, 0.25)
    energy = np.full(len(times), -60.0)
    energy[[0, 5, 12, 13, 14]] = -20.0          # at 0 s, in the pause at 1.25 s, and 3.0-3.5 s
    words = [(0.5, 1.0), (1.6, 2.0)]
    assert np.flatnonzero(speaking.speech_mask(times, words, energy)).tolist() == [2, 3, 4, 6, 7, 8, 12, 13, 14]
    assert speaking.speech_onsets(times, words, energy).tolist() == [0.5, 1.6, 3.0]
    assert speaking.speech_onsets(times, None, energy).tolist() == [1.25, 3.0]

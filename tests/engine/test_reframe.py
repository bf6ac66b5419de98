"""Reframing: the smoother on made-up detection sequences, the crop expression in real ffmpeg,
and real face detection on the recordings in ../shared/media."""
from __future__ import annotations

import subprocess

import numpy as np
import pytest

from engine import reframe
from engine.reframe import Face, FaceSamples, Framing, Window
from engine.render import framing_filters

FPS = reframe.DETECT_FPS
SOURCE_W, SOURCE_H = 1920, 1080
WINDOW = reframe.crop_window(SOURCE_W, SOURCE_H, "9:16")      # a 9:16 window of a 16:9 picture


def face_at(cx: float, cy: float = 0.4, size: float = 0.2) -> Face:
    """A face box centred at (cx, cy), `size` of the picture's height tall, square in pixels."""
    w = size * SOURCE_H / SOURCE_W
    return Face(cx - w / 2, cy - size / 2, w, size)


def samples(faces_per_sample: list[list[Face]]) -> FaceSamples:
    return FaceSamples(times=np.arange(len(faces_per_sample)) / FPS, faces=faces_per_sample)


def plan(faces_per_sample, cuts=()):
    duration = len(faces_per_sample) / FPS
    return reframe.plan_framing(samples(faces_per_sample), SOURCE_W, SOURCE_H, "9:16", duration, list(cuts))


def path_of(framing: Framing, times) -> np.ndarray:
    return np.array([reframe.centre_at(framing.pieces, t) for t in times])


def max_speed(framing: Framing, duration: float) -> float:
    """Largest centre movement per second, sampled finely, in window lengths."""
    times = np.arange(0, duration, 0.02)
    path = path_of(framing, times)
    return float(np.max(np.abs(np.diff(path))) / 0.02 / framing.window.length)


# --- the window -------------------------------------------------------------------------------

def test_crop_window_per_aspect():
    assert WINDOW.axis == "x" and WINDOW.length == pytest.approx((9 / 16) / (16 / 9))
    assert reframe.crop_window(1920, 1080, "1:1") == Window("x", pytest.approx(1080 / 1920))
    assert reframe.crop_window(1920, 1080, "16:9").slides is False
    tall = reframe.crop_window(720, 1280, "16:9")          # a phone video made landscape slides vertically
    assert tall.axis == "y" and tall.length == pytest.approx((720 / 1280) / (16 / 9))
    assert reframe.crop_window(720, 1280, "9:16").slides is False


# --- the smoother on detection sequences ------------------------------------------------------

def test_still_face_with_detection_noise_gives_a_still_frame():
    rng = np.random.default_rng(1)
    faces = [[face_at(0.62 + rng.normal(0, 0.006), 0.4 + rng.normal(0, 0.006))] for _ in range(40)]
    framing = plan(faces)
    assert framing.mode == "crop"
    path = path_of(framing, np.arange(0, 20, 0.04))
    assert np.ptp(path) == 0.0, "head jitter inside the dead zone must not move the frame"
    assert abs(path[0] - 0.62) < reframe.DEAD_ZONE * WINDOW.length


def test_face_that_jumps_is_followed_smoothly_within_the_speed_limit():
    faces = [[face_at(0.3)]] * 10 + [[face_at(0.7)]] * 30      # jumps at 5 s, no scene cut
    framing = plan(faces)
    path = path_of(framing, np.arange(0, 20, 0.04))
    # planned half a second ahead (engine.reframe.path.follow_planned), smoothed: nothing 1.5 s before
    assert abs(reframe.centre_at(framing.pieces, 3.5) - 0.3) < 0.01, "the frame must not anticipate by seconds"
    assert reframe.centre_at(framing.pieces, 5.1) < 0.45, "no cut: the frame pans, it does not jump"
    assert max_speed(framing, 20) <= reframe.MAX_SPEED * 1.01
    assert abs(path[-1] - 0.7) <= reframe.DEAD_ZONE * WINDOW.length, "it ends on the face"
    assert np.all(np.diff(path[(np.arange(0, 20, 0.04) > 4.5)]) >= -1e-9), "a pan in one direction, no overshoot back"


def test_a_speaker_who_sways_is_kept_near_the_middle():
    """The whole shot is known before it is encoded: the window sets off as she leans, not an
    easing time after (on the debate, the crop lagged a sway by a second and cut off her head)."""
    times = np.arange(0, 12, 0.08)
    lean = np.clip((times - 4) / 0.6, 0, 1) - np.clip((times - 8) / 0.6, 0, 1)
    xs = 0.5 + 0.13 * lean
    framing = reframe.plan_framing(FaceSamples(times, [[face_at(x)] for x in xs]), SOURCE_W, SOURCE_H, "9:16", 12.0, [])
    off = np.abs(xs - path_of(framing, times))
    assert off.max() < 0.06, f"{off.max():.3f} of the picture off the middle (0.083 following behind)"
    assert max_speed(framing, 12) <= reframe.MAX_SPEED * 1.01


def test_scene_cut_resets_the_frame_at_once():
    faces = [[face_at(0.3)]] * 10 + [[face_at(0.7)]] * 30
    framing = plan(faces, cuts=[5.0])
    assert reframe.centre_at(framing.pieces, 4.98) == pytest.approx(0.3, abs=0.01)
    assert reframe.centre_at(framing.pieces, 5.0) == pytest.approx(0.7, abs=0.01)


def test_face_lost_for_a_second_holds_the_frame():
    faces = [[face_at(0.65)]] * 12 + [[]] * 2 + [[face_at(0.65)]] * 12
    framing = plan(faces)
    path = path_of(framing, np.arange(0, 13, 0.04))
    assert np.ptp(path) == 0.0


def test_face_lost_for_good_stays_where_it_was_last_seen():
    faces = [[face_at(0.7)]] * 12 + [[]] * 6
    framing = plan(faces)
    assert framing.mode == "crop"
    assert reframe.centre_at(framing.pieces, 8.9) == pytest.approx(reframe.centre_at(framing.pieces, 5.0))


def test_two_faces_close_together_share_the_window():
    faces = [[face_at(0.45, size=0.12), face_at(0.55, size=0.12)]] * 20
    framing = plan(faces)
    assert framing.mode == "crop"
    assert reframe.centre_at(framing.pieces, 5.0) == pytest.approx(0.5, abs=0.01)


def test_two_faces_far_apart_fall_back_to_the_blurred_fit():
    faces = [[face_at(0.2), face_at(0.8)]] * 20
    framing = plan(faces)
    assert framing.mode == "fit" and "apart" in framing.reason


def test_a_small_face_in_the_background_does_not_split_the_frame():
    faces = [[face_at(0.3, size=0.3), face_at(0.85, size=0.08)]] * 20
    framing = plan(faces)
    assert framing.mode == "crop"
    assert reframe.centre_at(framing.pieces, 5.0) == pytest.approx(0.3, abs=reframe.DEAD_ZONE * WINDOW.length)


def test_no_face_falls_back_to_the_blurred_fit():
    assert plan([[]] * 20).mode == "fit"


def test_same_shape_source_is_only_scaled():
    framing = reframe.plan_framing(samples([[face_at(0.5)]] * 4), 720, 1280, "9:16", 2.0)
    assert framing.mode == "scale"


def test_one_off_false_detection_is_ignored():
    faces = [[face_at(0.5)]] * 10 + [[face_at(0.5), face_at(0.9, size=0.25)]] + [[face_at(0.5)]] * 10
    framing = plan(faces)
    assert framing.mode == "crop"
    assert np.ptp(path_of(framing, np.arange(0, 10, 0.1))) == 0.0


def test_between_two_similar_faces_the_frame_keeps_its_subject():
    # Two people of the same size, too far apart for one window, in only a few samples (so not
    # "fit"): the frame stays on the one it was following instead of flipping.
    faces = [[face_at(0.3)]] * 16 + [[face_at(0.3), face_at(0.8)]] * 2 + [[face_at(0.3)]] * 16
    framing = plan(faces)
    assert framing.mode == "crop"
    assert np.ptp(path_of(framing, np.arange(0, 17, 0.1))) == 0.0


def test_path_pieces_are_few_when_the_frame_is_still():
    framing = plan([[face_at(0.4)]] * 120)
    assert len(framing.pieces) <= 2


def test_simplify_keeps_the_path_within_tolerance():
    t = np.linspace(0, 10, 101)
    v = np.where(t < 5, 0.3, 0.3 + (t - 5) * 0.05)
    keep = reframe.simplify(t, v, tolerance=1e-4)
    rebuilt = np.interp(t, t[keep], v[keep])
    assert np.max(np.abs(rebuilt - v)) <= 1e-4
    assert len(keep) <= 4


def test_shots_from_cuts():
    assert reframe.shots([], 10.0) == [(0.0, 10.0)]
    assert reframe.shots([0.1, 4.0, 4.1, 9.9, 12.0], 10.0) == [(0.0, 4.0), (4.0, 10.0)]


# --- keyframes first ---------------------------------------------------------------------------

def at_times(times, faces_per_sample) -> FaceSamples:
    return FaceSamples(times=np.array(times, dtype=float), faces=faces_per_sample)


def test_keyframes_settle_a_still_or_slowly_drifting_subject():
    times = [0.0, 2.0, 4.0, 6.0, 8.0]
    assert reframe.keyframes_suffice(at_times(times, [[face_at(0.5)]] * 5), WINDOW, 10.0)
    drifting = [[face_at(0.5 + 0.02 * i)] for i in range(5)]
    assert reframe.keyframes_suffice(at_times(times, drifting), WINDOW, 10.0)


def test_keyframes_do_not_settle_quick_moves_gaps_or_two_people():
    times = [0.0, 2.0, 4.0, 6.0, 8.0]
    jump = [[face_at(0.3)]] * 2 + [[face_at(0.7)]] * 3
    assert not reframe.keyframes_suffice(at_times(times, jump), WINDOW, 10.0)
    assert not reframe.keyframes_suffice(at_times([0.0, 5.0, 9.0], [[face_at(0.5)]] * 3), WINDOW, 10.0)
    pair = [[face_at(0.2), face_at(0.8)]] * 5
    assert not reframe.keyframes_suffice(at_times(times, pair), WINDOW, 10.0)
    lost = [[face_at(0.5)], [], [], [face_at(0.5)], [face_at(0.5)]]
    assert not reframe.keyframes_suffice(at_times(times, lost), WINDOW, 10.0)


def test_keyframes_settle_an_empty_picture_despite_a_one_off_false_face():
    times = [0.0, 2.0, 4.0, 6.0, 8.0]
    assert reframe.keyframes_suffice(at_times(times, [[], [], [face_at(0.4)], [], []]), WINDOW, 10.0)


def test_the_glance_is_settled_by_two_people_apart_on_all_its_first_keyframes():
    from engine.reframe.frame import GLANCE_SETTLED, apart_from_the_start

    pair = [face_at(0.2), face_at(0.8)]
    assert apart_from_the_start([pair] * GLANCE_SETTLED, WINDOW)
    assert not apart_from_the_start([pair] * (GLANCE_SETTLED - 1), WINDOW)
    assert not apart_from_the_start([pair] * (GLANCE_SETTLED + 1), WINDOW)   # asked once only
    one_alone = [pair] * (GLANCE_SETTLED - 1) + [[face_at(0.2)]]
    assert not apart_from_the_start(one_alone, WINDOW)
    flicker = [[face_at(0.2)]] * (GLANCE_SETTLED - 1) + [pair]                 # the second face seen once
    assert not apart_from_the_start(flicker, WINDOW)
    close = [[face_at(0.45), face_at(0.55)]] * GLANCE_SETTLED
    assert not apart_from_the_start(close, WINDOW)


def test_keyframes_are_judged_shot_by_shot():
    times = [0.0, 2.0, 4.0, 5.0, 7.0, 9.0]
    faces = [[face_at(0.3)]] * 3 + [[face_at(0.7)]] * 3
    assert reframe.keyframes_suffice(at_times(times, faces), WINDOW, 10.0, cuts=[5.0])
    assert not reframe.keyframes_suffice(at_times(times, faces), WINDOW, 10.0)
    assert not reframe.keyframes_suffice(at_times([0.0, 2.0, 4.0], [[face_at(0.3)]] * 3), WINDOW, 10.0, cuts=[5.0])


# --- the path as an ffmpeg expression, evaluated by ffmpeg --------------------------------------

def _frames(cmd: list[str], w: int, h: int) -> np.ndarray:
    raw = subprocess.run(cmd, capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, h, w)


def test_crop_expression_moves_the_window_frame_by_frame(tmp_path):
    """A white square glides right over black at 40 px/s and a cut-like jump of the path at
    2 s; cropping with the path that tracks its centre keeps it centred in every frame."""
    src_w, src_h, box = 640, 360, 20
    crop_w = 202                                                      # 9:16 of 360 rows
    start_x = 150

    def box_centre(t):
        return (start_x + 40 * t + box / 2) / src_w

    pieces = ((0.0, 2.0, box_centre(0.0), box_centre(2.0)), (2.0, 4.0, box_centre(2.0), box_centre(4.0)))
    framing = Framing("crop", Window("x", crop_w / src_w), pieces)
    chain = framing_filters(framing, src_w, src_h, crop_w, src_h)
    cmd = ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", f"color=black:s={src_w}x{src_h}:r=25:d=4",
           "-f", "lavfi", "-i", f"color=white:s={box}x{box}:r=25:d=4",
           "-filter_complex", f"[0][1]overlay=x='{start_x}+40*t':y=170,{chain},format=gray",
           "-f", "rawvideo", "pipe:1"]
    frames = _frames(cmd, crop_w, src_h)
    assert len(frames) == 100
    for frame in frames[::5]:
        cols = np.flatnonzero(frame.max(axis=0) > 128)
        assert len(cols) > 0, "the square left the window"
        assert abs((cols[0] + cols[-1]) / 2 - crop_w / 2) <= 2.0


def test_long_paths_stay_valid_expressions():
    pieces = tuple((i * 0.5, (i + 1) * 0.5, 0.3 + 0.001 * i, 0.3 + 0.001 * (i + 1)) for i in range(240))
    expression = reframe.crop_offset_expression(pieces, 1920, 608)
    assert expression.count("gte(t,") == 239
    cmd = ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=black:s=1920x1080:r=5:d=1",
           "-vf", f"crop=w=608:h=1080:x='{expression}':y=0", "-f", "null", "-"]
    subprocess.run(cmd, check=True, capture_output=True)


# --- real detection on real recordings ----------------------------------------------------------

def detect(shared_media, name, start=0.0, end=30.0, fps=FPS):
    from engine.probe import probe

    info = probe(shared_media / name)
    found = reframe.find_faces(info.path, start, min(end, info.duration), info.display_width, info.display_height, fps=fps)
    return info, found


def faces_inside_window(framing: Framing, found: FaceSamples) -> float:
    """Share of the samples with a face where the largest face's centre is inside the window."""
    inside = total = 0
    for t, sample in zip(found.times, found.faces):
        if not sample:
            continue
        face = max(sample, key=lambda f: f.area)
        centre = reframe.centre_at(framing.pieces, t)
        total += 1
        inside += abs(face.centre(framing.window.axis) - centre) <= framing.window.length / 2
    return inside / total


@pytest.fixture(scope="module")
def obama(shared_media):
    return detect(shared_media, "talking_obama_20s.mp4", 0.0, 12.0)


def test_still_talking_head_gets_a_steady_crop_on_the_face(obama):
    info, found = obama
    assert found.share_with_face > 0.9
    framing = reframe.plan_framing(found, info.display_width, info.display_height, "9:16", 12.0)
    assert framing.mode == "crop"
    assert faces_inside_window(framing, found) == 1.0
    assert max_speed(framing, 12.0) <= reframe.MAX_SPEED * 1.01
    path = path_of(framing, np.arange(0, 12, 0.04))
    assert np.sum(np.abs(np.diff(path))) < 0.5 * framing.window.length, "a talking head barely moves the frame"


def test_face_that_turns_and_moves_stays_in_the_window(shared_media):
    info, found = detect(shared_media, "face_moving_liveportrait_d9.mp4")
    assert found.share_with_face > 0.8
    framing = reframe.plan_framing(found, info.display_width, info.display_height, "9:16", info.duration)
    assert framing.mode == "crop"
    assert faces_inside_window(framing, found) >= 0.95


def test_vertical_source_is_scaled_for_9_16_and_cropped_around_the_face_for_16_9(shared_media):
    info, found = detect(shared_media, "face_moving_vertical_liveportrait_d13.mp4", 0.0, 6.0)
    assert found.share_with_face > 0.8
    assert reframe.plan_framing(found, info.display_width, info.display_height, "9:16", 6.0).mode == "scale"
    landscape = reframe.plan_framing(found, info.display_width, info.display_height, "16:9", 6.0)
    assert landscape.mode == "crop" and landscape.window.axis == "y"
    assert faces_inside_window(landscape, found) == 1.0


def test_crowd_of_small_faces_gives_a_window_that_holds_the_faces_it_found(shared_media):
    info, found = detect(shared_media, "faces_street_facenet_1080p.mp4")
    kept = reframe.drop_flickers(found.faces)
    sizes = [f.h for sample in kept for f in sample]
    assert sizes and max(sizes) < 0.25, "street faces are small"
    framing = reframe.plan_framing(found, info.display_width, info.display_height, "9:16", info.duration)
    assert framing.mode == "crop"
    assert faces_inside_window(framing, FaceSamples(found.times, kept)) == 1.0
    assert max_speed(framing, info.duration) <= reframe.MAX_SPEED * 1.01


def test_two_people_in_the_headpose_recording_are_seen_too_far_apart(shared_media):
    # Only in the first moments do both face the camera; then they turn their heads away.
    info, found = detect(shared_media, "headpose_female_and_male_ccby.mp4", 0.0, 0.5, fps=4)
    window = reframe.crop_window(info.display_width, info.display_height, "9:16")
    assert any(reframe.too_far_apart(sample, window) for sample in found.faces)


def test_a_turned_or_leaning_head_beside_a_frontal_face_is_found(shared_media):
    # After the first moments the woman leans her head and turns it away while the man faces
    # the camera, so the first pass finds only him. Both were found in 2 of 14 samples before
    # the detector looked further for the people it was told to expect; now in 9.
    from engine.probe import probe
    from engine.reframe.detection import FaceDetector, LookingFor

    info = probe(shared_media / "headpose_female_and_male_ccby.mp4")
    found = reframe.find_faces(info.path, 0.0, info.duration, info.display_width, info.display_height, fps=3,
                               detector=LookingFor(FaceDetector(), people=2))
    both = [any(f.cx < 0.5 for f in sample) and any(f.cx > 0.5 for f in sample) for sample in found.faces]
    assert len(both) >= 12 and sum(both) >= 0.5 * len(both)


@pytest.fixture(scope="module")
def two_speakers(shared_media, tmp_path_factory):
    """Two real talking heads at the far left and right of one 16:9 picture, 4 s."""
    path = tmp_path_factory.mktemp("two-speakers") / "two.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y",
                    "-t", "4", "-i", str(shared_media / "talking_obama_20s.mp4"),
                    "-t", "4", "-i", str(shared_media / "face_moving_liveportrait_d9.mp4"),
                    "-filter_complex",
                    "color=gray:s=960x540:r=25:d=4[bg];[0:v]scale=-2:300[a];[1:v]scale=-2:300[b];"
                    "[bg][a]overlay=10:120[ab];[ab][b]overlay=W-w-10:120",
                    "-c:v", "libx264", "-preset", "ultrafast", "-an", str(path)], check=True)
    return path


def test_frame_range_looks_at_keyframes_first(shared_media, tmp_path):
    """A still talking head with a keyframe every second: the keyframes are enough. The same
    picture with a keyframe every 10 s needs the 2 fps look. Both crop on the face."""
    from engine.probe import probe

    framings = {}
    for gop in (25, 250):
        path = tmp_path / f"gop{gop}.mp4"
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-t", "8", "-i", str(shared_media / "talking_obama_20s.mp4"),
                        "-vf", "scale=320:320", "-c:v", "libx264", "-preset", "ultrafast", "-g", str(gop),
                        "-sc_threshold", "0", "-an", str(path)], check=True)
        info = probe(path)
        framings[gop] = reframe.frame_range(path, 1.0, 7.0, info.display_width, info.display_height, "9:16")
    assert framings[25].sampling == "keyframes" and framings[250].sampling == "2 fps"
    assert framings[25].mode == framings[250].mode == "crop"
    assert abs(reframe.centre_at(framings[25].pieces, 3.0) - reframe.centre_at(framings[250].pieces, 3.0)) < 0.05


def test_same_shape_source_needs_no_face_finding(tmp_path):
    framing = reframe.frame_range(tmp_path / "never-read.mp4", 0.0, 5.0, 720, 1280, "9:16")
    assert framing.mode == "scale"


def test_two_people_far_apart_get_the_blurred_fit(two_speakers):
    found = reframe.find_faces(two_speakers, 0.0, 4.0, 960, 540)
    assert sum(1 for s in found.faces if len(s) >= 2) >= 2
    framing = reframe.plan_framing(found, 960, 540, "9:16", 4.0)
    assert framing.mode == "fit" and "apart" in framing.reason


def test_find_faces_stops_once_its_samples_are_enough(two_speakers):
    found = reframe.find_faces(two_speakers, 0.0, 4.0, 960, 540, enough=lambda faces: len(faces) == 3)
    assert len(found.faces) == len(found.times) == 3
    assert list(found.times) == [0.0, 0.5, 1.0]


def test_crop_path_moves_a_few_pixels_a_frame_at_most_between_cuts():
    """A face that crosses the picture: on a 1920-wide source at 25 fps the window never moves
    more than about 7 px from one frame to the next; at a scene cut it may jump."""
    faces = [[face_at(0.2 + 0.6 * min(1.0, i / 20))] for i in range(40)]
    framing = plan(faces, cuts=[10.0])
    times = np.arange(0, 20, 1 / 25)
    px = path_of(framing, times) * SOURCE_W
    steps = np.abs(np.diff(px))
    away_from_cut = np.abs(times[1:] - 10.0) > 0.05
    assert steps[away_from_cut].max() <= reframe.MAX_SPEED * WINDOW.length * SOURCE_W / 25 + 0.5 <= 8.0
    assert abs(px[-1] / SOURCE_W - 0.8) <= reframe.DEAD_ZONE * WINDOW.length, "it still gets to the face"


def test_keyframe_samples_seconds_apart_are_not_followed_ahead():
    """Planning half a second ahead must not become a whole keyframe interval ahead."""
    times = np.arange(0, 20, 2.0)
    xs = np.where(times < 10, 0.3, 0.7)
    framing = reframe.plan_framing(FaceSamples(times, [[face_at(x)] for x in xs]), SOURCE_W, SOURCE_H, "9:16", 20.0, [])
    assert abs(reframe.centre_at(framing.pieces, 8.0) - 0.3) < 0.01

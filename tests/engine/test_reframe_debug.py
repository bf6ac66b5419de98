"""The --debug-reframe preview's drawing, on a made-up trace (numpy only, no decode): each face's
box and its two measures as the editor read them, who the camera is on, the shown window, and
the stretch's layout and reason on top."""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from engine.reframe import SpeakerTrace, Stretch, crop_window
from engine.reframe.debug import (
    COLOURS,
    WINDOW_COLOUR,
    draw_frame,
    header_lines,
    moment_line,
    reason_now,
    track_label,
)
from engine.reframe.editor import BOTH
from engine.reframe.path import Framing

W, H = 640, 360
FPS = 12.5
TIMES = np.arange(0, 10, 1 / FPS)
LEFT_BOX, RIGHT_BOX = (0.2, 0.4, 0.12, 0.22), (0.65, 0.4, 0.12, 0.22)
CROP_REASON = "#1 spoke 2.1x as much as #2, and #2's lips moved less (0.5x)"


def made_up_framing() -> Framing:
    """Two faces; 0-5 s the crop on #1 (left), 5-10 s both stacked."""
    n = len(TIMES)
    boxes = np.stack([np.tile(LEFT_BOX, (n, 1)), np.tile(RIGHT_BOX, (n, 1))]).astype(float)
    boxes[1, TIMES >= 8] = np.nan                           # #2 leaves the picture at 8 s
    trace = SpeakerTrace(TIMES, (1, 2), boxes, scores=np.full((2, n), 0.9), speaking=TIMES < 9,
                         smoothed=np.stack([np.full(n, 0.61), np.full(n, 0.2)]),
                         lips=np.stack([np.full(n, 1.5), np.full(n, 0.5)]),
                         named=np.where(TIMES < 5, 1, np.where(TIMES < 9, BOTH, -1)))
    window = crop_window(W, H, "9:16")
    stretches = (Stretch(0.0, 5.0, "crop", (1,), CROP_REASON),
                 Stretch(5.0, 10.0, "stacked", (1, 2), "#1 and #2 too close to tell apart (1.2x)",
                         panels=((0.1, 0.2, 0.35, 0.6), (0.55, 0.2, 0.35, 0.6))))
    return Framing(mode="speakers", window=window, pieces=((0.0, 10.0, 0.26, 0.26),), stretches=stretches,
                   trace=trace)


def drawn(framing: Framing, t: float) -> np.ndarray:
    return draw_frame(np.full((H, W, 3), 90, np.uint8), t, framing)


def has(image: np.ndarray, colour, region=(slice(None), slice(None))) -> np.ndarray:
    return np.all(image[region] == colour, axis=-1)


def label_rows(box) -> slice:
    """The rows just above a face box, where its label sits."""
    y = int(box[1] * H)
    return slice(y - 18, y - 4)


def test_each_face_shows_its_voice_and_lips_and_the_one_on_camera_stands_out():
    framing = made_up_framing()
    image = drawn(framing, 2.0)
    left_columns = slice(int(LEFT_BOX[0] * W), int(LEFT_BOX[0] * W) + 200)
    right_columns = slice(int(RIGHT_BOX[0] * W), int(RIGHT_BOX[0] * W) + 200)
    # The camera is on #1: its label is filled with its colour, #2's is on black; its box is thicker.
    assert has(image, COLOURS[0], (label_rows(LEFT_BOX), left_columns)).mean() > 0.3
    assert has(image, (0, 0, 0), (label_rows(RIGHT_BOX), right_columns)).mean() > 0.3
    left_edge, right_edge = int(LEFT_BOX[0] * W), int(RIGHT_BOX[0] * W)
    middle = int((LEFT_BOX[1] + LEFT_BOX[3] / 2) * H)
    thick = has(image[middle], COLOURS[0])[left_edge - 3:left_edge + 4].sum()
    thin = has(image[middle], COLOURS[1])[right_edge - 3:right_edge + 4].sum()
    assert thick >= 3 and thin == 1

    assert track_label(2, 0.6149, 0.8) == "#2 voice 0.61 lips 0.8"
    assert track_label(2, 0.2, np.nan) == "#2 voice 0.20 lips -"
    assert track_label(2, 0.2, 0.8, face=0.3549) == "#2 voice 0.20 face 0.35 lips 0.8"
    # The label reads the trace's smoothed voice (what the editor used) and its lips, not the raw score.
    region = (label_rows(LEFT_BOX), left_columns)
    trace = framing.trace
    raw_changed = replace(trace, scores=np.zeros_like(trace.scores))
    voice_changed = replace(trace, smoothed=trace.smoothed * 0.5)
    lips_changed = replace(trace, lips=trace.lips * 2)
    assert np.array_equal(drawn(replace(framing, trace=raw_changed), 2.0)[region], image[region])
    assert not np.array_equal(drawn(replace(framing, trace=voice_changed), 2.0)[region], image[region])
    assert not np.array_equal(drawn(replace(framing, trace=lips_changed), 2.0)[region], image[region])

    assert moment_line(True, 1) == "speech | voice now: #1"
    assert moment_line(True, BOTH) == "speech | voice now: two too close to call"
    assert moment_line(False, -1) == "no speech | voice now: nobody"
    bottom = (slice(H - 25, H), slice(0, W // 2))
    assert not np.array_equal(drawn(replace(framing, trace=replace(trace, named=np.full(len(TIMES), 2))), 2.0)[bottom],
                              image[bottom]), "whom the voice names now, from the trace"
    # A face that has left is not drawn.
    gone = drawn(framing, 9.0)
    assert not has(gone, COLOURS[1]).any()


def test_the_shown_window_and_the_stretch_s_layout_and_reason():
    framing = made_up_framing()
    image = drawn(framing, 2.0)
    red = has(image, WINDOW_COLOUR)
    columns = np.flatnonzero(red.sum(axis=0) > H * 0.5)
    centre = (columns.min() + columns.max()) / 2 / W
    assert abs(centre - 0.26) < 0.01 and (columns.max() - columns.min()) / W > 0.25, "the crop window around #1"
    lines = header_lines(2.0, "crop", framing.stretches[0], CROP_REASON)
    assert lines[0] == "  2.0s  crop: camera on #1" and " ".join(lines[1:]) == CROP_REASON
    header = image[:15 * len(lines) + 6]
    assert (header.max(axis=-1) < 100).mean() > 0.8 and has(header, (255, 255, 255)).any(), "white words on a dark band"
    assert (image[200:300, 300:400] == 90).all(), "the picture under it is left alone"

    stacked = drawn(framing, 6.0)
    red = has(stacked, WINDOW_COLOUR)
    for x, y, w, h in framing.stretches[1].panels:
        assert red[int((y + h / 2) * H), int(x * W) - 1:int(x * W) + 2].any(), "each stacked panel drawn"
    assert header_lines(6.0, "stacked", framing.stretches[1], "")[0] == "  6.0s  stacked: camera on #1 (top) and #2 (bottom)"
    assert has(stacked, COLOURS[1], (label_rows(RIGHT_BOX), slice(None))).mean() > 0.05, "both shown: both filled"


def test_a_stretch_of_several_decisions_shows_the_one_that_holds_then():
    stretch = Stretch(0.0, 10.0, "stacked", (1, 2), "close; then lips", parts=((0.0, "close"), (6.0, "lips")))
    assert reason_now(stretch, 2.0) == "1 of 2, from 0.0 s: close"
    assert reason_now(stretch, 7.5) == "2 of 2, from 6.0 s: lips"
    assert reason_now(Stretch(0.0, 5.0, "crop", (1,), CROP_REASON), 2.0) == CROP_REASON
    framing = replace(made_up_framing(), stretches=(stretch,))
    early, late = drawn(framing, 2.0)[:40], drawn(framing, 7.5)[:40]
    assert not np.array_equal(early[16:], late[16:]), "the header's reason line changes with the decision"


def test_a_long_reason_is_wrapped_and_cut_to_four_lines():
    reason = "; then ".join(["#1 and #2 too close to tell apart (1.1x), and #2's lips moved less (0.8x)"] * 5)
    lines = header_lines(1.0, "stacked", None, reason)
    assert len(lines) == 5 and all(len(line) <= 78 for line in lines[1:]) and lines[-1].endswith("...")
    image = draw_frame(np.full((H, W, 3), 90, np.uint8), 1.0,
                       replace(made_up_framing(), stretches=(Stretch(0.0, 10.0, "fit", (), reason),)))
    assert (image[:15 * 5 + 6].max(axis=-1) < 100).mean() > 0.8


def test_one_detector_per_thread_built_once():
    import threading

    from engine import reframe

    first = reframe.shared_detector()
    assert reframe.shared_detector() is first
    other = []
    worker = threading.Thread(target=lambda: other.append(reframe.shared_detector()))
    worker.start()
    worker.join()
    assert other[0] is not first, "a cascade must not be shared between threads"


def test_clip_command_takes_debug_reframe():
    from shortsbot.cli import build_parser

    args = build_parser().parse_args(["clip", "talk.mp4", "--out", "out", "--debug-reframe"])
    assert args.debug_reframe is True

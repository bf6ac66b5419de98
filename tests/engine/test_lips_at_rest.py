"""A mouth at rest while the voice goes on is not the speaker's: the part of a crop where the
chosen person's lips rest through speech and the other's move is shown with both stacked, even
when the voice pooled over the whole stretch names the chosen one. On a real TV interview over
a remote link the guest's lips matched the sound at no delay, the studio host's still mouth
twitched in step with the guest's words, and the crop stayed on the silent host for 2 s."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from engine import reframe
from engine.reframe import Stretch, editor
from tests.engine.test_speakers import PAIR, SRC_H, SRC_W, max_step_px, speaker_in_view
from tests.media import make_two_people

FPS = 10.0


def voice_and_lips(seconds: float, rest_from: float):
    """#1 speaks clearly throughout by the voice; from `rest_from` on, #1's lips rest (0.4 of
    usual) while #2's move as usual."""
    times = np.arange(0, seconds, 1 / FPS)
    later = times >= rest_from
    scores = {1: np.full(len(times), 0.4), 2: np.full(len(times), 0.05)}
    lips = {1: np.where(later, 0.4, 1.5), 2: np.where(later, 1.0, 0.9)}
    return times, scores, lips


def test_where_the_chosen_lips_rest_through_speech_and_the_others_move_both_are_shown():
    times, scores, lips = voice_and_lips(10.0, rest_from=6.0)
    stretches = [Stretch(0, 10, "crop", (1,), "#1 speaks for 10.0 s")]
    assert editor.lip_ratio(lips, 1, 2, np.ones(len(times), bool)) < editor.LIPS_CLEAR, \
        "pooled over the whole stretch, the lips do not contradict the voice"
    settled = editor.settle_doubts(stretches, times, scores, lips=lips, speaking=np.ones(len(times), bool))
    assert [(s.layout, s.tracks) for s in settled] == [("crop", (1,)), ("stacked", (1, 2))]
    assert settled[1].start == pytest.approx(6.0, abs=0.3) and settled[1].end == 10
    assert settled[0].reason.startswith("#1 spoke 8.0x as much as #2"), "the crop's evidence pooled over its own part"
    assert settled[1].reason.startswith("#1's lips rested through speech while #2's moved 2.5x as much, over 1.5 s")


def test_lips_at_rest_in_a_pause_or_beside_lips_at_their_usual_keep_the_crop():
    times, scores, lips = voice_and_lips(10.0, rest_from=6.0)
    stretches = [Stretch(0, 10, "crop", (1,), "#1 speaks for 10.0 s")]
    pauses = np.arange(len(times)) % 10 >= 6              # 0.4 s of every second: nobody speaks through them
    assert [s.layout for s in editor.settle_doubts(stretches, times, scores, lips=lips, speaking=~pauses)] == ["crop"]
    lips[1] = np.where(times >= 6.0, 0.65, 1.5)           # moving less than the other, but not at rest
    assert [s.layout for s in editor.settle_doubts(stretches, times, scores, lips=lips,
                                                   speaking=np.ones(len(times), bool))] == ["crop"]


def test_a_short_crop_left_beside_lips_at_rest_is_stacked_too():
    times, scores, lips = voice_and_lips(10.0, rest_from=1.0)
    lips[1][times < 1.0] = 6.0                            # a burst at the start: pooled, the lips do not contradict
    assert editor.lip_ratio(lips, 1, 2, np.ones(len(times), bool)) < editor.LIPS_CLEAR
    settled = editor.settle_doubts([Stretch(0, 10, "crop", (1,), "")], times, scores, lips=lips,
                                   speaking=np.ones(len(times), bool))
    assert [(s.start, s.end, s.layout) for s in settled] == [(0, 10, "stacked")]
    assert "rested through speech" in settled[0].reason


# The listener turned still when the speaker's turn began; the speaker's picture lags his sound
# by 3 s (a remote link), so his lips match what is heard at no delay the score searches.
REMOTE_TURNS = [(0.0, 8.0, 0), (8.0, 13.0, 1)]
REMOTE_PAIR = (replace(PAIR[0], still_from=8.0), replace(PAIR[1], sound_ahead=3.0))


@pytest.mark.slow
def test_a_speaker_whose_lips_miss_the_sound_beside_a_still_listener_is_shown(shared_media, tmp_path):
    path = make_two_people(tmp_path / "remote.mp4", REMOTE_TURNS, 13.0, people=REMOTE_PAIR, media=shared_media,
                           size=f"{SRC_W}x{SRC_H}")
    framing = reframe.frame_range(path, 0.0, 13.0, SRC_W, SRC_H, "9:16")
    assert framing.mode == "speakers" and len(framing.trace.track_ids) == 2
    assert speaker_in_view(framing, REMOTE_TURNS, REMOTE_PAIR) >= 0.9
    assert framing.stretches[0].layout == "crop" and framing.stretches[0].end >= 7.0, \
        "the first speaker's clear turn is still shown on him alone"
    assert max_step_px(framing, 13.0) <= 8.0

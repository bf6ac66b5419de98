"""Where the voice cannot tell two people apart, the whole face may: a speaker whose head moves
with his words (the mouth beyond the head then hardly follows his voice) beside a listener is
shown alone, not stacked. On a real seated interview the mouth beyond the head gave the silent
listener 0.23 against the speaker's 0.14 and the two-shot was stacked; the lower face with the
head in it followed his voice 0.35 against her 0.13."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from engine import reframe
from engine.reframe import Stretch
from engine.reframe.whole_face import crops_the_face_settles, overlaid
from tests.engine.test_speakers import MOVER, PAIR, SRC_H, SRC_W, max_step_px, speaker_in_view
from tests.media import make_two_people

FPS = 10.0


def evidence(seconds: float = 10.0):
    """#1 speaks throughout; the mouth beyond the head cannot tell (#1 0.14, #2 0.23), the whole
    face can (#1 0.35, #2 0.13); both faces' lips and motion at their usual."""
    times = np.arange(0, seconds, 1 / FPS)
    ones = np.ones(len(times))
    voice = {1: 0.14 * ones, 2: 0.23 * ones}
    face_voice = {1: 0.35 * ones, 2: 0.13 * ones}
    usual = {1: ones.copy(), 2: ones.copy()}
    return times, voice, face_voice, usual, {1: ones.copy(), 2: ones.copy()}, np.ones(len(times), bool)


def settle(stretches, times, voice, face_voice, lips, face_moves, speaking):
    return overlaid(stretches, crops_the_face_settles(stretches, times, voice, face_voice, lips, face_moves, speaking))


def test_a_stack_the_whole_face_names_clearly_becomes_a_crop_on_that_face():
    times, voice, face_voice, lips, face_moves, speaking = evidence()
    stacked = [Stretch(0, 10, "stacked", (2, 1), "#2 and #1 trade short turns, 3 under 3.5 s")]
    settled = settle(stacked, times, voice, face_voice, lips, face_moves, speaking)
    assert [(s.start, s.end, s.layout, s.tracks) for s in settled] == [(0, 10, "crop", (1,))]
    assert settled[0].reason == ("#1's face moved with the voice 2.6x as much as #2's, head and all "
                                 "(the mouth alone: #1 0.14, #2 0.23)")


def test_the_whole_face_only_settles_clear_cases_and_never_moves_a_crop():
    times, voice, face_voice, lips, face_moves, speaking = evidence()
    stacked = [Stretch(0, 10, "stacked", (1, 2), "")]
    layouts = lambda **changed: [s.layout for s in settle(  # noqa: E731
        stacked, times, **{**dict(voice=voice, face_voice=face_voice, lips=lips, face_moves=face_moves,
                                  speaking=speaking), **changed})]
    assert layouts() == ["crop"]
    assert layouts(face_voice={1: face_voice[1], 2: face_voice[2] * 1.4}) == ["stacked"], "1.9x is no clear lead"
    assert layouts(face_voice={1: face_voice[1] * 0.5, 2: face_voice[2] * 0.2}) == ["stacked"], \
        "a lead made of scores under SCORE_MIN is no evidence"
    assert layouts(voice={1: voice[1], 2: voice[1] * 2.0}) == ["stacked"], "the mouth clearly names the other"
    assert layouts(lips={1: lips[1], 2: lips[2] * 1.5}) == ["stacked"], "the other's lips move clearly more"
    assert layouts(speaking=np.zeros(len(times), bool)) == ["stacked"], "nobody speaks"
    # The chosen one's whole face rests through 2 s of speech while the other's lips move.
    resting = np.where((times >= 4) & (times < 6), 0.3, 1.2)
    assert layouts(face_moves={1: resting, 2: face_moves[2]}) == ["stacked"]
    # #2 ahead for 2 s (a turn of their own, however short against #1's share): a real exchange;
    # so too twice 1 s apart. An interjection under 1.5 s in all does not take the camera.
    ahead = lambda *spans: {1: face_voice[1], 2: np.where(  # noqa: E731
        np.any([(times >= a) & (times < b) for a, b in spans], axis=0), 0.6, 0.0)}
    assert layouts(face_voice=ahead((4, 6))) == ["stacked"]
    assert layouts(face_voice=ahead((2, 3), (6, 7))) == ["stacked"]
    assert layouts(face_voice=ahead((4, 5))) == ["crop"]
    # Beside #2's own crop the stack is where one hands over to the other: both stay in view.
    handed = [Stretch(0, 4, "crop", (2,), "#2 speaks for 4.0 s"), Stretch(4, 10, "stacked", (1, 2), "")]
    assert [s.layout for s in settle(handed, times, voice, face_voice, lips, face_moves, speaking)] == [
        "crop", "stacked"]
    # ... and beside a crop on #2 that the whole face itself makes.
    voice[3], lips[3], face_moves[3] = voice[2] * 0.2, lips[2], face_moves[2]
    face_voice[3] = np.where(times < 5, 0.01, 0.35)
    two = [Stretch(0, 5, "stacked", (2, 3), ""), Stretch(5, 10, "stacked", (1, 2), "")]
    face_voice_2 = np.where(times < 5, 0.4, 0.13)
    assert [(s.layout, s.tracks) for s in settle(two, times, voice, {**face_voice, 2: face_voice_2}, lips, face_moves,
                                                 speaking)] == [("crop", (2,)), ("stacked", (1, 2))]
    crop = [Stretch(0, 10, "crop", (2,), "#2 speaks for 10.0 s")]
    assert settle(crop, times, voice, face_voice, lips, face_moves, speaking) == crop, "a crop is the voice's"


def test_a_settled_stack_leaves_the_stretches_around_it_as_they_were():
    times, voice, face_voice, lips, face_moves, speaking = evidence(12.0)
    voice[1] = np.where(times < 4, 0.6, voice[1])
    face_voice[2] = np.where(times >= 8, 0.5, face_voice[2])     # #2 moves with the voice from 8 s on
    stretches = [Stretch(0, 4, "crop", (1,), "#1 speaks for 4.0 s"),
                 Stretch(4, 8, "stacked", (1, 2), "#1 and #2 trade short turns"),
                 Stretch(8, 12, "stacked", (1, 2), "#1 and #2 both speaking")]
    settled = settle(stretches, times, voice, face_voice, lips, face_moves, speaking)
    assert [(s.start, s.end, s.layout, s.tracks) for s in settled] == [
        (0, 8, "crop", (1,)), (8, 12, "stacked", (1, 2))]
    assert settled[0].reasons() == ((0, "#1 speaks for 4.0 s"), (4, settled[0].reasons()[1][1]))
    assert settled[0].reasons()[1][1].startswith("#1's face moved with the voice")


# The speaker talks throughout, nodding as fast as his voice is loud about a point below his
# chin (his brow moves more than his mouth); the silent listener beside him turns and moves a lot.
NODDING = (replace(PAIR[0], nods=5.0), MOVER)
ALONE = [(0.0, 12.0, 0)]


@pytest.mark.slow
def test_a_speaker_who_nods_with_his_words_beside_a_listener_who_moves_is_shown_alone(shared_media, tmp_path):
    path = make_two_people(tmp_path / "nodding.mp4", ALONE, 12.0, people=NODDING, media=shared_media,
                           size=f"{SRC_W}x{SRC_H}")
    framing = reframe.frame_range(path, 0.0, 12.0, SRC_W, SRC_H, "9:16")
    assert framing.mode == "speakers" and len(framing.trace.track_ids) == 2
    speaker = min(framing.trace.track_ids,
                  key=lambda i: abs(np.nanmedian(framing.trace.boxes[framing.trace.track_ids.index(i), :, 0])
                                    - NODDING[0].x / SRC_W))
    alone = sum(s.end - s.start for s in framing.stretches if s.layout == "crop" and s.tracks == (speaker,))
    assert alone >= 0.9 * 12.0, [(s.start, s.end, s.layout, s.reason) for s in framing.stretches]
    assert speaker_in_view(framing, ALONE, NODDING) >= 0.9
    assert max_step_px(framing, 12.0) <= 8.0

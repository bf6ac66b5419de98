"""Moments chosen by their sound where nobody speaks: on hand-made crowd signals, then a "game"
(crowd noise and cheers over a lavfi picture) through the whole pipeline."""
from __future__ import annotations

import json
import re

import numpy as np
import pytest

from engine.highlights import select_moments
from engine.instructions import parse_instruction
from engine.models import ClipRequest, Signals
from tests.engine.highlight_helpers import DULL, HOP, flat_signals, script
from tests.media import crowd_audio, make_video, write_wav


# --- moments chosen by their sound, where nobody speaks --------------------------------------

def crowd_signals(duration: float, bursts: list[tuple[float, float, float]], level: float = -30.0,
                  cuts: tuple = (), dips: tuple = (), speaking: tuple = ()) -> Signals:
    """A game: crowd noise (noise-like throughout) at `level`, each burst (start, end, dB louder),
    scene cuts, quiet dips (time: one hop 10 dB down) and (start, end) stretches where someone talks."""
    frames = int(np.ceil(duration / HOP))
    loudness = np.full(frames, level, dtype=np.float32)
    for start, end, rise in bursts:
        loudness[int(start / HOP): int(end / HOP)] = level + rise
    for t in dips:
        loudness[int(t / HOP)] = level - 10
    rate = np.zeros(frames, dtype=np.float32)
    for start, end in speaking:
        rate[int(start / HOP): int(end / HOP)] = 2.5
    return Signals(hop=HOP, loudness_db=loudness, bursts=tuple((s, e) for s, e, _ in bursts), scene_cuts=tuple(cuts),
                   speech_rate=rate, noisiness=np.full(frames, 0.5, dtype=np.float32))


GAME_BURSTS = [(20.0, 23.0, 8.0), (50.0, 54.0, 18.0), (80.0, 83.0, 12.0), (105.0, 108.0, 15.0)]


def holds_whole(moment, burst) -> bool:
    return moment.start <= burst[0] and burst[1] <= moment.end


def no_edge_inside(spans, bursts) -> bool:
    return not any(s < edge < e for start, end in spans for edge in (start, end) for s, e, *_ in bursts)


def test_without_speech_the_strongest_bursts_are_chosen_whole():
    signals = crowd_signals(120, GAME_BURSTS)
    moments = select_moments([], signals, parse_instruction("2 clips of 15 seconds"), 120)
    assert len(moments) == 2
    strongest, second = GAME_BURSTS[1], GAME_BURSTS[3]
    assert holds_whole(moments[0], strongest) and holds_whole(moments[1], second)
    for m, burst in zip(moments, (strongest, second)):
        assert burst[0] - m.start >= 3.0                     # the build-up before the reaction is in
        assert m.end - burst[1] <= 6.0                       # and it ends soon after
        assert 15 * 0.85 <= m.duration <= 15 * 1.15
        assert set(m.scores) == {"hook", "energy", "emotion", "self_contained", "payoff", "topic"}
        assert len(m.reasons) == 6 and all(re.match(r"[a-z-]+( \d+)?:", r) for r in m.reasons)
        assert m.text == "" and m.segments == []
        assert 3 <= len(m.hashtags) <= 5
    assert moments[0].title == "Crowd reaction at 0:50" and moments[1].title == "Crowd reaction at 1:45"
    assert moments[0].score > moments[1].score
    assert moments[0].scores["emotion"] > moments[1].scores["emotion"]
    assert any("crowd reaction 18 dB" in r for r in moments[0].reasons)
    assert no_edge_inside([(m.start, m.end) for m in moments], GAME_BURSTS)


def test_sound_moment_edges_go_to_scene_cuts_and_quiet_points():
    """For 15 s around a burst at 60-63 s the ideal edges are 50.25 and 65.25: a cut at 49.5
    and a quiet dip at 65.5 (hop 65.5-66.0) are close enough to take."""
    signals = crowd_signals(100, [(60.0, 63.0, 15.0)], cuts=(49.5,), dips=(65.5,))
    [moment] = select_moments([], signals, parse_instruction("1 clip of 15 seconds"), 100)
    assert moment.start == 49.5 and moment.end == 65.75
    assert any("opens on a scene cut" in r for r in moment.reasons)
    assert any("starts on a scene cut, ends at a quiet point" in r for r in moment.reasons)


def test_a_sound_moment_never_ends_inside_another_burst():
    """A weaker burst right where the clip would end: the clip stops before it, or takes it whole."""
    bursts = [(60.0, 63.0, 15.0), (64.5, 70.0, 6.0)]
    signals = crowd_signals(100, bursts)
    moments = select_moments([], signals, parse_instruction("3 clips of 15 seconds"), 100)
    assert moments and holds_whole(moments[0], bursts[0])
    assert no_edge_inside([(m.start, m.end) for m in moments], bursts)


def test_a_mixed_video_uses_sentences_where_people_speak():
    """A minute of talk, then a minute of crowd with one big cheer: a clip of each kind."""
    sentences = script(["Why do most teams lose the final quarter?", DULL, DULL, "You will not believe this!"] * 3)
    talk_end = sentences[-1].end
    cheer = (talk_end + 35.0, talk_end + 39.0, 16.0)
    duration = talk_end + 60.0
    signals = crowd_signals(duration, [cheer], speaking=[(s.start, s.end) for s in sentences])
    moments = select_moments(sentences, signals, parse_instruction("2 clips of 20 seconds"), duration)
    assert len(moments) == 2
    spoken = [m for m in moments if m.text]
    sound = [m for m in moments if not m.text]
    assert len(spoken) == 1 and len(sound) == 1
    assert spoken[0].start in {s.start for s in sentences} and spoken[0].end in {s.end for s in sentences}
    assert sound[0].start >= talk_end and holds_whole(sound[0], cheer)
    assert sound[0].title.startswith("Crowd reaction at ")


def test_a_quiet_stretch_in_a_talk_is_not_a_moment():
    """Speech, 30 s of room sound with nothing happening, more speech: only sentence windows."""
    first = script([DULL] * 8)
    second = script([DULL] * 8, start=first[-1].end + 30.0)
    sentences = first + second
    duration = sentences[-1].end + 1
    moments = select_moments(sentences, flat_signals(duration), parse_instruction("4 clips of 15 seconds"), duration)
    assert moments and all(m.text for m in moments)


def test_a_range_through_the_middle_of_sentences_cuts_no_sentence():
    """Only one sentence lies wholly inside 30-45 s, but people speak all through it (and a raised
    voice is a burst there): that is speech, not a stretch for moments chosen by their sound."""
    sentences = script([DULL] * 20, each=8.0)                 # a sentence every 8.6 s
    duration = sentences[-1].end + 1
    signals = crowd_signals(duration, [(31.0, 33.0, 12.0)], speaking=[(s.start, s.end) for s in sentences])
    request = ClipRequest(length=20, min_length=17, max_length=23, count=2, range_start=30, range_end=45)
    moments = select_moments(sentences, signals, request, duration)
    assert all(m.text for m in moments)
    assert no_edge_inside([(m.start, m.end) for m in moments], [(s.start, s.end) for s in sentences])


def test_a_topic_cannot_be_heard_where_nobody_speaks():
    signals = crowd_signals(120, GAME_BURSTS)
    [moment] = select_moments([], signals, parse_instruction("one 15 second clip about pricing"), 120)
    assert moment.scores["topic"] == 0 and any("nobody speaks here" in r for r in moment.reasons)


def test_a_reel_of_sound_moments_fills_the_length_in_timeline_order():
    signals = crowd_signals(120, GAME_BURSTS)
    [reel] = select_moments([], signals, parse_instruction("compile a 30 second highlight reel"), 120)
    assert len(reel.segments) >= 2
    assert reel.segments == sorted(reel.segments)
    assert all(a[1] <= b[0] for a, b in zip(reel.segments, reel.segments[1:]))
    assert 30 * 0.85 <= reel.duration <= 30 * 1.15
    assert no_edge_inside(reel.segments, GAME_BURSTS)
    assert any(s <= GAME_BURSTS[1][0] and GAME_BURSTS[1][1] <= e for s, e in reel.segments)   # the strongest is in
    assert reel.title.startswith("Crowd reaction at ")


# --- a game with nobody speaking, through the whole pipeline -------------------------------------------

CROWD_BURSTS = [(15.0, 3.0, 8.0), (40.0, 4.0, 18.0), (65.0, 3.0, 12.0), (88.0, 3.0, 15.0)]   # start, length, dB


@pytest.fixture(scope="module")
def crowd_game(tmp_path_factory):
    """A 100 s lavfi video whose sound is crowd noise with four cheers of different strength."""
    folder = tmp_path_factory.mktemp("crowd-game")
    wav = write_wav(crowd_audio(100.0, CROWD_BURSTS), folder / "game.wav")
    return make_video(folder / "game.mp4", wav, duration=100, size="160x90", fps=10)


def cheer_spans(strongest_first: bool = False) -> list[tuple[float, float]]:
    order = sorted(CROWD_BURSTS, key=lambda b: -b[2]) if strongest_first else CROWD_BURSTS
    return [(start, start + length) for start, length, _ in order]


def test_a_game_without_speech_gets_its_strongest_moments(crowd_game, engine_config, tmp_path):
    from engine.pipeline import CLIPS_JSON, clip

    clip_set = clip(crowd_game, "find the 2 best moments, 15-second clips", tmp_path / "clips", engine_config,
                    render=False)
    clips = json.loads((tmp_path / "clips" / CLIPS_JSON).read_text())["clips"]
    assert len(clips) == 2 and len(clip_set.moments) == 2
    strongest = cheer_spans(strongest_first=True)[:2]
    for c, (start, end) in zip(clips, strongest):
        assert c["start"] <= start + 0.25 and end - 0.25 <= c["end"]          # the cheer whole (to a hop)
        title = re.fullmatch(r"Crowd reaction at (\d+):(\d\d)", c["title"])
        assert title and abs(int(title[1]) * 60 + int(title[2]) - start) <= 1, c["title"]
        assert c["reasons"] and c["scores"]["emotion"] > 50
    assert no_edge_inside([(c["start"], c["end"]) for c in clips], cheer_spans())


def test_a_reel_of_a_game_without_speech(crowd_game, engine_config, tmp_path):
    from engine.pipeline import clip

    [reel] = clip(crowd_game, "extract the best moments and compile them into a 30-second highlight reel",
                  tmp_path, engine_config, render=False).moments
    assert reel.segments == sorted(reel.segments) and len(reel.segments) >= 2
    assert all(a[1] <= b[0] for a, b in zip(reel.segments, reel.segments[1:]))
    assert 30 * 0.85 <= reel.duration <= 30 * 1.15
    cheers = cheer_spans()
    assert no_edge_inside(reel.segments, [(s + 0.25, e - 0.25) for s, e in cheers])
    loudest = cheer_spans(strongest_first=True)[0]
    assert any(s <= loudest[0] + 0.25 and loudest[1] - 0.25 <= e for s, e in reel.segments)

"""Sport: moments chosen by sound on a broadcast where the crowd roars all along."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.highlights.selection import choose_moments
from engine.instructions import parse_instruction
from engine.signals import compute_signals, crowd_all_along
from tests.media import SAMPLE_RATE, crowd_audio, read_wav, speak

ROAR = (35.0, 4.0)          # start, seconds


def broadcast(rise_db: float | None) -> np.ndarray:
    """60 s of a loud crowd (its level swells by about 2 dB), a roar `rise_db` louder at 35-39 s (None: no roar)."""
    roars = [] if rise_db is None else [(ROAR[0], ROAR[1], rise_db)]
    return crowd_audio(60.0, roars, bed_rms=0.15, seed=2)


def test_a_roar_over_a_constant_roar_gives_a_moment_around_it():
    signals = compute_signals(broadcast(4.0), sample_rate=SAMPLE_RATE)
    assert crowd_all_along(signals.loudness_db, signals.noisiness)
    selection = choose_moments([], signals, parse_instruction("cut two 15-second shorts"), 60.0)
    best = selection.moments[0]
    assert best.start <= ROAR[0] - 3 and best.end >= ROAR[0] + ROAR[1]      # the build-up and the whole roar
    assert 13.5 <= best.duration <= 16.5 and not best.weak
    # two were asked for: the second is made up of the rest, does not overlap, and is marked weak
    assert len(selection.moments) == 2
    second = selection.moments[1]
    assert second.weak and (second.end <= best.start or second.start >= best.end)
    assert [n.kind for n in selection.notes] == ["weak"] and selection.notes[0].ranks == (2,)


def test_without_a_roar_nothing_stands_out_and_evenly_spaced_moments_are_offered():
    signals = compute_signals(broadcast(None), sample_rate=SAMPLE_RATE)
    selection = choose_moments([], signals, parse_instruction("cut two 15-second shorts"), 60.0)
    assert [n.kind for n in selection.notes] == ["nothing_stands_out"]
    starts = sorted(m.start for m in selection.moments)
    assert len(starts) == 2 and starts[0] < 20 <= starts[1]


def test_a_voice_is_not_a_crowd(tmp_path):
    """The smaller rise counts only under a crowd: a talk's own ups and downs are not moments."""
    voice = read_wav(speak("The committee met on Tuesday and agreed the budget for next year. " * 4,
                           tmp_path / "talk.wav"))
    signals = compute_signals(voice, sample_rate=SAMPLE_RATE)
    assert not crowd_all_along(signals.loudness_db, signals.noisiness)


# A broadcast with a commentator: calm play-by-play, then at EXCITED he shouts higher and
# quicker; the crowd roars the same all along. The picture cuts during the play, then away to
# close-ups and the replay after the moment, and back.
EXCITED = 34.0
PLAY_CUTS = (10.0, 22.0)
REPLAY_CUTS = (40.0, 44.0, 49.0)


def commentary(tmp_path, seconds: float, excited: bool) -> np.ndarray:
    lines = ("He plays it short to the wing and they keep the ball.",
             "Patient build up here from the visitors, moving it across the field.",
             "The full back steps forward, looks for the midfielder, and goes back again.",
             "Both managers are standing on the touchline watching closely.")
    calm_lines = [read_wav(speak(line, tmp_path / f"calm{k}.wav", speed=150, pitch=40)) for k, line in enumerate(lines)]
    shout = read_wav(speak("And he shoots and it's in! What a goal! Unbelievable!", tmp_path / "shout.wav",
                           speed=260, pitch=85))
    voice = np.zeros(int(seconds * SAMPLE_RATE), dtype=np.float32)

    def place(piece: np.ndarray, at: float, until: float) -> float:
        piece = piece[: max(0, int((until - at) * SAMPLE_RATE))]
        voice[int(at * SAMPLE_RATE): int(at * SAMPLE_RATE) + len(piece)] += piece
        return at + len(piece) / SAMPLE_RATE + 0.7

    t, until, said = 1.0, (EXCITED - 0.4 if excited else seconds), 0
    while t < until - 1:
        t, said = place(calm_lines[said % len(calm_lines)], t, until), said + 1   # breaks off for the shout
    if excited:
        t = place(shout, EXCITED, seconds)
        while t < seconds - 1:
            t, said = place(calm_lines[said % len(calm_lines)], t, seconds), said + 1
    heard = voice[np.abs(voice) > 0.01]
    return voice * (0.15 / float(np.sqrt(np.mean(heard ** 2))))       # as loud as the crowd


def cut_picture(path, seconds: float, cuts: tuple[float, ...]):
    """A 160x90 lavfi picture: one colour per shot, cutting at `cuts`."""
    import subprocess

    edges = (0.0, *cuts, seconds)
    colours = ["black", "white", "red", "cyan", "blue", "yellow", "black"]
    inputs = [f"color=c={colours[k % len(colours)]}:s=160x90:r=10:d={edges[k + 1] - edges[k]:.2f}[v{k}]"
              for k in range(len(edges) - 1)]
    graph = ";".join(inputs) + ";" + "".join(f"[v{k}]" for k in range(len(edges) - 1)) + \
        f"concat=n={len(edges) - 1}:v=1:a=0[out]"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-filter_complex", graph, "-map", "[out]", "-c:v", "libx264",
                    "-g", "50", "-pix_fmt", "yuv420p", str(path)], check=True)
    return path


@pytest.fixture(scope="module")
def excited_voice(tmp_path_factory) -> np.ndarray:
    """The commentator's own track, a minute, shouting at EXCITED (arrays are never changed in place)."""
    return commentary(tmp_path_factory.mktemp("excited"), 60.0, excited=True)


@pytest.fixture(scope="module")
def calm_voice(tmp_path_factory) -> np.ndarray:
    return commentary(tmp_path_factory.mktemp("calm"), 60.0, excited=False)


@pytest.fixture(scope="module")
def match_picture(tmp_path_factory) -> Path:
    return cut_picture(tmp_path_factory.mktemp("match") / "picture.mp4", 60.0, PLAY_CUTS + REPLAY_CUTS)


def silent(voice: np.ndarray, t: float, reach: float = 0.05) -> bool:
    """Is the commentator (his own track, before the crowd is mixed in) silent around t?"""
    around = voice[max(0, int((t - reach) * SAMPLE_RATE)): int((t + reach) * SAMPLE_RATE)]
    return float(np.max(np.abs(around), initial=0.0)) < 0.01


def test_a_commentator_getting_excited_over_a_constant_roar_gives_a_moment_with_its_build_up(excited_voice,
                                                                                              match_picture):
    from engine.signals import detect_scene_cuts

    voice = excited_voice
    audio = broadcast(None) + voice
    cuts = detect_scene_cuts(match_picture, duration=60.0)
    assert all(any(abs(c - known) < 0.2 for c in cuts) for known in PLAY_CUTS + REPLAY_CUTS), cuts
    signals = compute_signals(audio, scene_cuts=cuts, sample_rate=SAMPLE_RATE)
    assert crowd_all_along(signals.loudness_db, signals.noisiness) and not signals.bursts
    [(start, end)] = signals.excitement
    assert EXCITED - 1 <= start <= EXCITED + 1.5 and end <= EXCITED + 5
    assert signals.replays and abs(signals.replays[0][0] - REPLAY_CUTS[0]) < 0.2
    selection = choose_moments([], signals, parse_instruction("cut two 15-second shorts"), 60.0)
    best = selection.moments[0]
    assert not best.weak and best.start <= EXCITED - 3 and best.end >= end       # the build-up and the whole shout
    assert 13.5 <= best.duration <= 16.5
    reasons = " ".join(best.reasons)
    assert "commentator's voice rises" in reasons and "replay" in reasons, reasons
    # no clip cuts him off mid-phrase, although nobody transcribed him here
    assert all(silent(voice, t) for m in selection.moments for t in (m.start, m.end) if 0 < t < 60), \
        [(m.start, m.end) for m in selection.moments]


def test_calm_commentary_over_a_constant_roar_gives_evenly_spaced_weak_moments_said_as_such(calm_voice):
    audio = broadcast(None) + calm_voice
    signals = compute_signals(audio, scene_cuts=PLAY_CUTS, sample_rate=SAMPLE_RATE)
    assert not signals.excitement and not signals.bursts and not signals.replays
    selection = choose_moments([], signals, parse_instruction("cut two 15-second shorts"), 60.0)
    assert [n.kind for n in selection.notes] == ["nothing_stands_out"]
    assert len(selection.moments) == 2 and all(m.weak for m in selection.moments)


def test_a_commentator_mixed_loud_over_the_crowd_is_not_a_crowd_reaction_and_the_roar_still_is(calm_voice):
    """Broadcasts mix the commentary ~10 dB over the crowd: each time he starts talking again the
    whole level jumps, but the crowd's own (high) band does not; a roar under him still rises there."""
    voice = 3.0 * calm_voice
    calm = compute_signals(broadcast(None) + voice, sample_rate=SAMPLE_RATE)
    assert crowd_all_along(calm.loudness_db, calm.noisiness)
    assert calm.bursts == () and calm.excitement == ()
    roaring = compute_signals(broadcast(4.0) + voice, sample_rate=SAMPLE_RATE)
    [(start, end)] = roaring.bursts
    assert abs(start - ROAR[0]) <= 1.0 and abs(end - sum(ROAR)) <= 1.0


@pytest.mark.slow
def test_a_broadcast_file_through_the_pipeline_gives_the_excited_moment_cut_between_words(excited_voice, match_picture,
                                                                                          tmp_path, engine_config):
    """The whole way, as a user's upload goes: one decode measures the commentator too, Whisper
    hears the calm commentary, and the moment's edges fall between the words it heard."""
    import subprocess

    from engine.pipeline import analyse, choose_explained
    from tests.media import write_wav

    write_wav(broadcast(None) + excited_voice, tmp_path / "sound.wav")
    match = tmp_path / "match.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(match_picture), "-i",
                    str(tmp_path / "sound.wav"), "-c:v", "copy", "-c:a", "aac", "-shortest", str(match)], check=True)
    analysis = analyse(match, engine_config)
    assert analysis.signals.excitement and analysis.signals.replays
    best = choose_explained(analysis, parse_instruction("cut two 15-second shorts")).moments[0]
    excited = analysis.signals.excitement[0]
    assert best.start <= excited[0] - 3 and best.end >= excited[1] and not best.weak
    assert not any(w.start < edge < w.end for w in analysis.transcript.words for edge in (best.start, best.end))
    assert "commentator's voice rises" in " ".join(best.reasons)


def test_the_picture_cutting_away_after_a_peak_is_its_replay():
    from engine.signals_commentary import find_replays

    cuts = (10.0, 22.0, 40.0, 44.0, 49.0, 70.0)
    assert find_replays(cuts, ((34.0, 37.0),)) == ((40.0, 49.0),)         # away, a close-up, back
    assert find_replays(cuts, ((60.0, 62.0),)) == ((70.0, 70.0),)         # away; the way back is not seen
    assert find_replays(cuts, ((75.0, 77.0),)) == ()                      # no cut after it
    assert find_replays((10.0, 60.0), ((34.0, 37.0),)) == ()              # the next cut is long after

"""engine.signals: each small function on arrays, then the ffmpeg-backed scene cuts on real video."""
from __future__ import annotations

import subprocess

import numpy as np
import pytest

from engine.models import Word
from engine.signals import (
    CANDIDATE_THRESHOLD,
    scene_scores,
    SILENCE_DB,
    active_level,
    burst_rise,
    compute_signals,
    cuts_from_scores,
    detect_scene_cuts,
    find_bursts,
    find_reactions,
    is_noisy,
    is_reaction,
    merge_spans,
    noisiness,
    spectral_flatness,
    zero_crossing_rate,
    keyframe_gaps_to_check,
    placed_by_the_encoder,
    usual_keyframe_interval,
    loudness_db,
    parse_scene_metadata,
    rolling_median,
    runs_of,
    speech_rate,
)
from engine.transcribe import decode_audio
from tests.media import QUIET_APPLAUSE_GAIN, Piece, build_talk_audio, noise_burst, write_wav

RATE = 16000


def sine(seconds: float, amplitude: float, freq: float = 440.0) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


# --- loudness --------------------------------------------------------------------

def test_loudness_of_a_sine_and_of_silence():
    audio = np.concatenate([sine(2.0, 0.5), np.zeros(RATE, dtype=np.float32)])
    db = loudness_db(audio, RATE, hop=0.5)
    assert len(db) == 6
    assert db[:4] == pytest.approx(20 * np.log10(0.5 / np.sqrt(2)), abs=0.05)      # -9.03 dBFS
    assert np.all(db[4:] == SILENCE_DB)


def test_loudness_counts_a_partial_last_hop_by_its_own_length():
    audio = sine(1.25, 0.5)                       # the third hop holds 0.25 s of the same sine
    db = loudness_db(audio, RATE, hop=0.5)
    assert len(db) == 3
    assert db[2] == pytest.approx(db[0], abs=0.1)


def test_loudness_of_nothing():
    assert len(loudness_db(np.zeros(0, dtype=np.float32))) == 0


# --- bursts ------------------------------------------------------------------------

def test_rolling_median_and_runs():
    values = np.array([0, 0, 10, 0, 0, 0], dtype=np.float32)
    assert list(rolling_median(values, 3)) == [0, 0, 0, 0, 0, 0]
    assert runs_of(np.array([False, True, True, False, True])) == [(1, 3), (4, 5)]
    assert runs_of(np.array([], dtype=bool)) == []


def test_a_loud_stretch_stands_out_from_its_surroundings():
    loudness = np.full(120, -30.0, dtype=np.float32)          # one minute at -30 dB ...
    loudness[60:66] = -18.0                                   # ... and 3 s twelve dB louder at 30 s
    assert find_bursts(loudness, hop=0.5) == ((30.0, 33.0),)


def test_loud_throughout_is_not_a_burst():
    """Bursts are relative to the video itself: a uniformly loud recording has none."""
    assert find_bursts(np.full(120, -8.0, dtype=np.float32), hop=0.5) == ()


def test_a_single_loud_hop_is_too_short():
    loudness = np.full(120, -30.0, dtype=np.float32)
    loudness[40] = -10.0
    assert find_bursts(loudness, hop=0.5) == ()


def test_one_quieter_hop_does_not_split_a_burst():
    loudness = np.full(120, -30.0, dtype=np.float32)
    loudness[60:68] = -15.0
    loudness[63] = -25.0
    assert find_bursts(loudness, hop=0.5) == ((30.0, 34.0),)


def test_a_loud_noise_after_quiet_speech_is_found(tmp_path):
    """Applause-like noise after espeak-ng speech, through the same decode the pipeline uses."""
    pieces = [Piece("We opened the shop six years ago.", gain=0.35),
              Piece("Thank you, that is the whole story.", gain=0.35, pause_after=0.3),
              Piece(sound=noise_burst(3.0, level=0.9, seed=3), gain=4.0),
              Piece("Now let us talk about the new shop.", gain=0.35)]
    audio, placed = build_talk_audio(pieces, tmp_path / "pieces")
    wav = write_wav(audio, tmp_path / "talk.wav")
    bursts = find_bursts(loudness_db(decode_audio(wav)))
    applause = placed[2]
    assert any(abs(start - applause.start) <= 0.75 and abs(end - applause.end) <= 0.75 for start, end in bursts), bursts


def test_active_level_ignores_silence():
    loudness = np.array([SILENCE_DB] * 10 + [-20.0] * 5, dtype=np.float32)
    assert active_level(loudness) == -20.0
    assert active_level(np.full(4, SILENCE_DB, dtype=np.float32)) == SILENCE_DB


def test_is_reaction_needs_nobody_speaking():
    rate = np.array([2, 2, 2, 2, 0, 0, 0, 0], dtype=np.float32)
    assert is_reaction((2.0, 4.0), rate, hop=0.5)            # hops 4-7: no words
    assert not is_reaction((0.0, 2.0), rate, hop=0.5)        # hops 0-3: somebody talking loudly


def test_burst_rise_is_against_the_surroundings():
    loudness = np.full(120, -30.0, dtype=np.float32)
    loudness[60:66] = -18.0
    assert burst_rise((30.0, 33.0), loudness, hop=0.5) == pytest.approx(12.0)
    loudness[:] -= 20                                          # the same recording, quieter
    assert burst_rise((30.0, 33.0), loudness, hop=0.5) == pytest.approx(12.0)


# --- what kind of sound: applause and laughter are noise, a voice is harmonic ---------------------

def white_noise(seconds: float, rms: float, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, rms, int(seconds * RATE)).astype(np.float32)


def test_spectral_flatness_of_noise_a_tone_and_silence():
    audio = np.concatenate([white_noise(2.0, 0.1), sine(2.0, 0.5, freq=220.0), np.zeros(RATE, dtype=np.float32)])
    flatness = spectral_flatness(audio, RATE, hop=0.5)
    assert len(flatness) == 10
    assert np.all((flatness[:4] > 0.45) & (flatness[:4] < 0.65))       # white noise: e^-γ ≈ 0.56
    assert np.all(flatness[4:8] < 0.01)
    assert np.all(flatness[8:] == 0)
    assert len(spectral_flatness(np.zeros(0, dtype=np.float32))) == 0
    assert len(spectral_flatness(white_noise(1.2, 0.1), RATE, hop=0.5)) == 3     # a partial last hop counts


def test_flatness_does_not_depend_on_the_level():
    noise = white_noise(2.0, 0.1)
    assert spectral_flatness(noise * 0.05) == pytest.approx(spectral_flatness(noise), abs=1e-3)


def test_zero_crossing_rate():
    tone = sine(1.0, 0.5, freq=400.0)                          # 800 crossings a second
    assert zero_crossing_rate(tone, RATE, hop=0.5) == pytest.approx([0.05, 0.05], abs=0.002)
    assert zero_crossing_rate(white_noise(1.0, 0.1), RATE, hop=0.5) == pytest.approx([0.5, 0.5], abs=0.02)
    assert len(zero_crossing_rate(sine(1.25, 0.5), RATE, hop=0.5)) == 3
    assert len(zero_crossing_rate(np.zeros(0, dtype=np.float32))) == 0


def test_noisiness_needs_a_flat_spectrum_and_frequent_crossings():
    flatness = np.array([0.5, 0.5, 0.02], dtype=np.float32)
    crossings = np.array([0.4, 0.02, 0.4], dtype=np.float32)  # hiss, a flat band of low rumble, a voice
    assert noisiness(flatness, crossings) == pytest.approx([0.5, 0.05, 0.02])


def reaction_arrays(applause_db: float, applause_noisy: float = 0.55):
    """One minute of speech at -22 dB (noisiness 0.02) with 3 s of applause at 30 s."""
    loudness = np.full(120, -22.0, dtype=np.float32)
    noisy = np.full(120, 0.02, dtype=np.float32)
    loudness[60:66], noisy[60:66] = applause_db, applause_noisy
    return loudness, noisy


def test_applause_quieter_than_the_speaker_is_a_reaction():
    loudness, noisy = reaction_arrays(applause_db=-30.0)
    assert find_bursts(loudness, hop=0.5) == ()                # loudness alone cannot see it
    assert find_reactions(loudness, noisy, hop=0.5) == ((30.0, 33.0),)


def test_what_is_not_a_reaction():
    assert find_reactions(*reaction_arrays(applause_db=-45.0), hop=0.5) == ()          # room hiss in a pause: too faint
    assert find_reactions(*reaction_arrays(applause_db=-30.0, applause_noisy=0.1), hop=0.5) == ()   # not noise-like
    everywhere = np.full(120, 0.5, dtype=np.float32)           # a crowd all game long: nothing stands out by its sound
    assert find_reactions(np.full(120, -20.0, dtype=np.float32), everywhere, hop=0.5) == ()
    assert find_reactions(np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.float32)) == ()


def test_merge_spans():
    assert merge_spans(((1.0, 3.0), (10.0, 12.0)), ((2.5, 4.0), (20.0, 21.0))) == ((1.0, 4.0), (10.0, 12.0), (20.0, 21.0))
    assert merge_spans((), ()) == ()


def test_is_noisy_and_a_reaction_with_words_heard_in_it():
    noisy = np.array([0.02] * 4 + [0.5] * 4, dtype=np.float32)
    assert is_noisy((2.0, 4.0), noisy, hop=0.5) and not is_noisy((0.0, 2.0), noisy, hop=0.5)
    talking = np.full(8, 2.0, dtype=np.float32)                # a speech model heard words in the applause
    assert not is_reaction((2.0, 4.0), talking, hop=0.5)
    assert is_reaction((2.0, 4.0), talking, hop=0.5, noisiness=noisy)
    assert not is_reaction((0.0, 2.0), talking, hop=0.5, noisiness=noisy)   # a raised voice


def quiet_applause_audio(tmp_path):
    """espeak-ng speech at full gain, then applause about 8 dB quieter than the voice."""
    pieces = [Piece("We opened the shop six years ago on the main street."),
              Piece("The ovens are cleaned every evening after we close.", pause_after=0.3),
              Piece(sound=noise_burst(3.0, level=0.9, seed=3), gain=QUIET_APPLAUSE_GAIN),
              Piece("Deliveries of flour arrive on Tuesdays and on Fridays.")]
    audio, placed = build_talk_audio(pieces, tmp_path / "pieces")
    return decode_audio(write_wav(audio, tmp_path / "talk.wav")), placed


def test_quiet_applause_after_speech_is_found(tmp_path):
    """Through the same decode the pipeline uses: the applause is quieter than the voice, so only
    its sound gives it away."""
    audio, placed = quiet_applause_audio(tmp_path)
    applause = placed[2]
    loudness = loudness_db(audio)
    hops = slice(int(applause.start / 0.5) + 1, int(applause.end / 0.5) - 1)
    assert float(np.mean(loudness[hops])) < active_level(loudness) - 5          # really quieter than the speech
    assert find_bursts(loudness) == ()
    signals = compute_signals(audio)
    assert len(signals.noisiness) == len(signals.loudness_db)
    found = [b for b in signals.bursts if abs(b[0] - applause.start) <= 0.75 and abs(b[1] - applause.end) <= 0.75]
    assert found, signals.bursts
    assert is_noisy(found[0], signals.noisiness)
    assert len(signals.bursts) == 1                            # and nothing in the speech


@pytest.mark.parametrize("name", ["jfk_11s.flac", "talking_obama_20s.mp4", "talking_tedlieu_60s.mp4",
                                  "multilingual_60s.mp3", "apollo11_89s.mp3"])
def test_real_speech_is_not_a_reaction(shared_media, name):
    audio = decode_audio(shared_media / name)
    noisy = noisiness(spectral_flatness(audio), zero_crossing_rate(audio))
    assert float(np.median(noisy)) < 0.05
    assert find_reactions(loudness_db(audio), noisy) == ()


# --- speech rate -------------------------------------------------------------------

def test_speech_rate():
    # Four words a second for two seconds, then silence.
    words = [Word(i * 0.25, i * 0.25 + 0.2, " w") for i in range(8)]
    rate = speech_rate(words, frames=10, hop=0.5)
    assert rate.shape == (10,)
    assert rate[1] == pytest.approx(4.0, abs=0.6) and rate[2] == pytest.approx(4.0, abs=0.6)
    assert np.all(rate[5:] == 0)
    assert np.all(speech_rate([], frames=4) == 0)


# --- scene cuts ----------------------------------------------------------------------

SCENE_LOG = """frame:0    pts:0       pts_time:0
lavfi.scene_score=0.000000
frame:1    pts:2048    pts_time:0.25
lavfi.scene_score=0.010000
frame:2    pts:4096    pts_time:0.5
lavfi.scene_score=0.820000
frame:3    pts:6144    pts_time:0.75
lavfi.scene_score=0.020000
"""


def test_parse_scene_metadata():
    times, scores = parse_scene_metadata(SCENE_LOG)
    assert list(times) == [0.0, 0.25, 0.5, 0.75]
    assert list(scores) == [0.0, 0.01, 0.82, 0.02]


def test_cuts_from_scores_keep_the_strongest_of_a_cluster():
    times = np.array([1.0, 1.25, 1.5, 5.0, 9.0, 9.25])
    scores = np.array([0.4, 0.9, 0.1, 0.05, 0.5, 0.35])
    assert cuts_from_scores(times, scores, threshold=0.3, min_shot=1.0) == (1.25, 9.0)


def test_scene_cuts_on_a_real_edit(tmp_path):
    """Three lavfi shots joined: cuts at 2 s and 4 s; one continuous shot: none."""
    edit = tmp_path / "edit.mp4"
    subprocess.run(
        ["ffmpeg", "-y", "-nostdin", "-v", "error",
         "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=2",
         "-f", "lavfi", "-i", "smptebars=size=320x180:rate=25:duration=2",
         "-f", "lavfi", "-i", "mandelbrot=size=320x180:rate=25,trim=duration=2",
         "-filter_complex", "[0:v][1:v][2:v]concat=n=3:v=1:a=0,format=yuv420p[v]",
         "-map", "[v]", "-c:v", "libx264", "-preset", "ultrafast", str(edit)],
        check=True)
    cuts = detect_scene_cuts(edit, duration=6.0)
    assert len(cuts) == 2
    assert cuts[0] == pytest.approx(2.0, abs=0.3) and cuts[1] == pytest.approx(4.0, abs=0.3)

    one_shot = tmp_path / "one.mp4"
    subprocess.run(["ffmpeg", "-y", "-nostdin", "-v", "error", "-f", "lavfi",
                    "-i", "testsrc2=size=320x180:rate=25:duration=6", "-c:v", "libx264", "-preset", "ultrafast",
                    "-pix_fmt", "yuv420p", str(one_shot)], check=True)
    assert detect_scene_cuts(one_shot, duration=6.0) == ()


def test_keyframe_rules():
    times = np.array([0.0, 2.0, 4.0, 5.1, 7.1, 9.1])
    scores = np.array([0.0, 0.05, 0.1, 0.7, 0.3, 0.02])
    assert usual_keyframe_interval(times) == 2.0
    assert keyframe_gaps_to_check(times, scores, threshold=0.2) == [(4.0, 5.1), (5.1, 7.1)]
    assert placed_by_the_encoder(4.0, 5.1, usual=2.0)            # early: the encoder saw a new scene
    assert not placed_by_the_encoder(5.1, 7.1, usual=2.0)        # on schedule: the cut may be anywhere before


def two_shots(path, extra: list[str]):
    """testsrc2 for 3 s, then smptebars for 3 s, 25 fps."""
    subprocess.run(
        ["ffmpeg", "-y", "-nostdin", "-v", "error",
         "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=3",
         "-f", "lavfi", "-i", "smptebars=size=320x180:rate=25:duration=3",
         "-filter_complex", "[0:v][1:v]concat=n=2:v=1:a=0,format=yuv420p[v]",
         "-map", "[v]", "-c:v", "libx264", "-preset", "veryfast", *extra, str(path)], check=True)
    return path


@pytest.mark.parametrize("encoder", [["-x264-params", "keyint=50:min-keyint=50:scenecut=0"],   # keyframes every 2 s only
                                     ["-g", "50"],                                               # x264 adds one at the cut
                                     ["-g", "250"]],                 # the one at the cut is the file's only other one
                         ids=["fixed-gop", "scenecut", "two-keyframes"])
def test_the_cut_is_found_to_the_frame_either_way(tmp_path, encoder):
    cuts = detect_scene_cuts(two_shots(tmp_path / "two.mp4", encoder), duration=6.0)
    assert len(cuts) == 1 and cuts[0] == pytest.approx(3.0, abs=0.05)


def test_a_short_file_whose_two_keyframes_differ_without_a_cut_has_no_cut(tmp_path):
    """x264's keyframe every 10 s in a 13 s file: the second keyframe is regular, but with only two
    the regular spacing is unknown. The picture changes slowly between them (a debate's speaker
    who gestures, here a picture that turns in hue and brightens): the frames in between show no cut."""
    video = tmp_path / "slow-change.mp4"
    subprocess.run(["ffmpeg", "-y", "-nostdin", "-v", "error", "-f", "lavfi",
                    "-i", "testsrc2=size=320x180:rate=25:duration=13", "-vf", "hue=h=t*25,eq=brightness='t*0.06-0.4':eval=frame,format=yuv420p",
                    "-c:v", "libx264", "-preset", "veryfast", "-x264-params", "keyint=250:scenecut=0",
                    str(video)], check=True)
    keyframes = subprocess.run(["ffprobe", "-v", "error", "-skip_frame", "nokey", "-select_streams", "v",
                                "-show_entries", "frame=pts_time", "-of", "csv=p=0", str(video)],
                               capture_output=True, text=True, check=True).stdout.split()
    assert len(keyframes) == 2
    times, scores = scene_scores(video, keyframes_only=True)
    assert scores[1] >= CANDIDATE_THRESHOLD                       # the keyframes differ enough to be looked at
    assert detect_scene_cuts(video, duration=13.0) == ()


# --- all together ----------------------------------------------------------------------

def test_compute_signals_lines_everything_up():
    audio = np.concatenate([sine(3.0, 0.05), sine(2.0, 0.8), sine(5.0, 0.05)])
    words = [Word(0.1, 0.4, " hi"), Word(0.5, 0.9, " there.")]
    signals = compute_signals(audio, words, scene_cuts=(4.0,))
    assert signals.hop == 0.5
    assert len(signals.loudness_db) == len(signals.speech_rate) == 20
    assert signals.scene_cuts == (4.0,)
    assert signals.bursts == ((3.0, 5.0),)
    assert signals.speech_rate[0] > 0 and signals.speech_rate[-1] == 0
    assert len(signals.noisiness) == 20 and float(np.max(signals.noisiness)) < 0.05     # a sine is not noise

"""The soundtrack streamed in pieces (bounded memory on long videos), and every ffmpeg or
Whisper step of the analysis ending on cancel or at its time limit, with no ffmpeg left behind."""
from __future__ import annotations

import os
import threading
from contextlib import closing
from pathlib import Path

import numpy as np
import pytest

from engine import soundtrack
from engine.models import Cancelled, Deadline, EngineConfig, StageTimedOut
from engine.signals import detect_scene_cuts, loudness_db, sound_features
from engine.transcribe import decode_audio
from tests.media import noise_burst, run, tone, write_wav


def ffmpeg_children() -> list[int]:
    """ffmpeg processes this test process started that are still there (running or unreaped)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1: stat.rindex(")")]
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        if ppid == os.getpid() and name == "ffmpeg":
            found.append(int(entry.name))
    return found


@pytest.fixture
def varied_wav(tmp_path) -> Path:
    """20 s: tone, noise and two silent stretches, so pieces have somewhere quiet to end."""
    rng_noise = noise_burst(4.0, level=0.4, seed=3)
    parts = [tone(6.0, 220.0), np.zeros(22050 // 2 * 3, np.float32), rng_noise, tone(5.5, 330.0),
             np.zeros(22050, np.float32), tone(3.0, 440.0)]
    return write_wav(np.concatenate(parts), tmp_path / "varied.wav")


class SilentFeed:
    """A named pipe that ffmpeg opens and then waits on: `header` is written, then nothing."""

    def __init__(self, path: Path, header: bytes = b""):
        self.path = path
        os.mkfifo(path)
        self._writer = threading.Thread(target=self._feed, args=(header,), daemon=True)
        self._release = threading.Event()
        self._writer.start()

    def _feed(self, header: bytes) -> None:
        with open(self.path, "wb") as pipe:
            pipe.write(header)
            pipe.flush()
            self._release.wait(120)

    def close(self) -> None:
        self._release.set()
        self._writer.join(5)


def wav_header(seconds: float = 3600.0, rate: int = 16000) -> bytes:
    """The first bytes of a long 16-bit mono WAV whose samples never come."""
    size = int(seconds * rate * 2)
    return (b"RIFF" + (size + 36).to_bytes(4, "little") + b"WAVEfmt " + (16).to_bytes(4, "little")
            + (1).to_bytes(2, "little") + (1).to_bytes(2, "little") + rate.to_bytes(4, "little")
            + (rate * 2).to_bytes(4, "little") + (2).to_bytes(2, "little") + (16).to_bytes(2, "little")
            + b"data" + size.to_bytes(4, "little") + bytes(rate * 2))


def test_pieces_cover_the_soundtrack_exactly_and_start_on_a_hop(varied_wav):
    whole = decode_audio(varied_wav)
    parts = list(soundtrack.pieces(varied_wav, piece_seconds=4.0))
    assert len(parts) >= 4
    assert np.array_equal(np.concatenate([p.samples for p in parts]), whole)
    position = 0
    for piece in parts:
        assert piece.start == position / soundtrack.SAMPLE_RATE
        assert position % soundtrack.HOP_SAMPLES == 0
        position += len(piece.samples)


def test_a_piece_ends_in_the_quietest_half_second_near_its_end():
    rate = soundtrack.SAMPLE_RATE
    samples = np.full(10 * rate, 0.3, dtype=np.float32)
    samples[int(8.5 * rate): 9 * rate] = 0.0                  # the one quiet hop, 1 s before the end
    assert soundtrack.quietest_cut(samples, look_back=3 * rate) == int(8.5 * rate)


def test_sound_measured_piece_by_piece_matches_the_whole(varied_wav):
    whole = decode_audio(varied_wav)
    loudness, noisy, envelope = sound_features(whole)
    parts = [sound_features(p.samples) for p in soundtrack.pieces(varied_wav, piece_seconds=4.0)]
    assert np.allclose(np.concatenate([p[0] for p in parts]), loudness, atol=1e-4)
    assert np.allclose(np.concatenate([p[1] for p in parts]), noisy, atol=0.02)
    assert np.allclose(np.concatenate([p[2] for p in parts]), envelope, atol=1e-3)
    assert len(loudness) == len(loudness_db(whole))


def test_cancel_ends_a_decode_that_is_waiting(tmp_path):
    feed = SilentFeed(tmp_path / "slow.wav", wav_header())
    cancel = threading.Event()
    threading.Timer(0.5, cancel.set).start()
    try:
        with pytest.raises(Cancelled):
            decode_audio(feed.path, cancel=cancel)
    finally:
        feed.close()
    assert ffmpeg_children() == []


def test_a_stalled_decode_is_stopped_and_says_which_step(tmp_path):
    feed = SilentFeed(tmp_path / "stuck.wav", wav_header())
    try:
        with pytest.raises(StageTimedOut) as caught:
            list(soundtrack.read_blocks(feed.path, stall_s=0.5))
    finally:
        feed.close()
    assert caught.value.stage == "decode" and "limit" in str(caught.value)
    assert ffmpeg_children() == []


def test_leaving_the_stream_early_ends_ffmpeg(varied_wav):
    stream = soundtrack.pieces(varied_wav, piece_seconds=2.0)
    with closing(stream):
        first = next(stream)
        assert len(first.samples) > 0
        assert ffmpeg_children() != []                        # still decoding the rest
    assert ffmpeg_children() == []


def test_scene_detection_stops_at_its_time_limit(tmp_path):
    feed = SilentFeed(tmp_path / "stuck.mp4")
    try:
        with pytest.raises(StageTimedOut) as caught:
            detect_scene_cuts(feed.path, deadline=Deadline.after("scene detection", 0.2))
    finally:
        feed.close()
    assert caught.value.stage == "scene detection"
    assert ffmpeg_children() == []


def test_the_time_limit_grows_with_the_length_of_the_video(tmp_path):
    from engine.transcribe import time_limit

    config = EngineConfig(cache_dir=tmp_path)
    assert time_limit(config, 3 * 3600) > time_limit(config, 600) > time_limit(config, 0) > 0


@pytest.mark.slow
def test_a_talk_transcribed_in_pieces_keeps_every_word_once_and_in_order(short_talk, engine_config, tmp_path):
    """Against the same talk transcribed in one piece on this machine (the run's cache), not
    against the script: which words tiny.en hears varies from one CPU to the next."""
    from engine.probe import probe
    from engine.transcribe import Transcriber, transcribe
    from tests.engine.test_transcribe import spoken_words

    video, _ = short_talk
    whole = spoken_words(transcribe(probe(video), engine_config))
    transcriber = Transcriber(EngineConfig(cache_dir=tmp_path), duration=probe(video).duration)
    parts = list(soundtrack.pieces(video, piece_seconds=5.0))
    assert len(parts) >= 3
    for piece in parts:
        transcriber.add(piece)
    transcript = transcriber.result()
    assert len(whole) >= 10 and len(whole & spoken_words(transcript)) >= 0.8 * len(whole)
    starts = [w.start for w in transcript.words]
    assert starts == sorted(starts) and transcript.words[-1].end <= transcript.duration
    texts = [w.text.strip().lower() for w in transcript.words]
    doubled = [a for a, b in zip(texts, texts[1:]) if a == b and len(a) > 3]
    assert doubled == []                                     # nothing heard twice across a join


@pytest.mark.slow
def test_transcription_stops_at_its_time_limit(short_talk, tmp_path):
    from engine.transcribe import Transcriber

    transcriber = Transcriber(EngineConfig(cache_dir=tmp_path), duration=16.0, limit_s=0.0)
    with pytest.raises(StageTimedOut) as caught:
        transcriber.add(next(soundtrack.pieces(short_talk[0])))
    assert caught.value.stage == "transcription"


@pytest.mark.slow
def test_cancel_while_transcribing_stops_the_analysis_and_its_ffmpeg(short_talk, tmp_path):
    from engine.pipeline import analyse

    cancel = threading.Event()
    seen: list[float] = []

    def progress(fraction: float, label: str) -> None:
        seen.append(fraction)
        if label == "transcribing":
            cancel.set()

    with pytest.raises(Cancelled):
        analyse(short_talk[0], EngineConfig(cache_dir=tmp_path / "fresh-cache"), progress=progress, cancel=cancel)
    assert seen and max(seen) < 0.9                           # stopped before the scene cuts were awaited
    assert ffmpeg_children() == []

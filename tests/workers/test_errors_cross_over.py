"""An engine error on a worker reaches the bot as the same error, key and facts: a Chinese speaker
whose video failed on another machine reads the same Chinese sentence as one whose video failed
in the bot's own process. Real errors from real ffmpeg and ffprobe runs; no Redis needed, since
Celery carries the JSON as it is."""
from __future__ import annotations

import json

import pytest

from bot.sentences import error_reply
from engine.model_store import resolve_model
from engine.models import BrokenMedia, Deadline, ModelUnavailable, RenderFailed, StageTimedOut
from engine.render import probe_output
from engine.transcribe import decode_audio
from tests.media import write_undecodable_wav
from workers.codec import error_from_json, error_to_json


def raised(call) -> Exception:
    with pytest.raises(Exception) as caught:
        call()
    return caught.value


def test_engine_errors_cross_to_the_bot_with_their_key_and_facts(tmp_path):
    garbage = tmp_path / "clip.mp4"
    garbage.write_bytes(b"\x00not a video" * 100)
    errors = [
        raised(lambda: decode_audio(write_undecodable_wav(tmp_path / "talk.wav"))),
        raised(lambda: probe_output(garbage)),
        raised(lambda: resolve_model("large-v3", tmp_path)),
        raised(lambda: Deadline("transcription", 90.0, 0.0).check()),
    ]
    assert [type(e) for e in errors] == [BrokenMedia, RenderFailed, ModelUnavailable, StageTimedOut]
    for original in errors:
        back = error_from_json(json.loads(json.dumps(error_to_json(original))))
        assert type(back) is type(original) and str(back) == str(original)
        for lang in ("en", "zh"):
            assert error_reply(back, lang, 100).text == error_reply(original, lang, 100).text
    assert error_reply(errors[0], "zh", 100).text == "无法读取 talk.wav 的声音：文件可能已损坏。"


def test_an_unknown_kind_is_a_render_failure_with_its_words():
    back = error_from_json({"error": "SomethingNew", "message": "the worker broke"})
    assert isinstance(back, RenderFailed) and str(back) == "the worker broke"

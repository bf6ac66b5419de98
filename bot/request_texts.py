"""The bot's sentences about words of a request it cannot act on, in English and Chinese: a clip
number that is not there, a caption size (captions come in one size), words next to an edit that
choose no change, and words in a language the bot does not read (it reads English and Chinese;
engine.spanish_words reads a Spanish request's commonest words). Part of
bot/texts.py's TEXTS (kept here so each module stays short); `texts.say` words them."""
from __future__ import annotations

REQUEST_TEXTS: dict[str, dict[str, str]] = {
    # "/export 4" with one clip: what there is
    "no_such_clip": {"en": "There is no clip {n}: you have {clips}.", "zh": "没有第 {n} 个片段：你现在有 {count} 个片段。"},
    "clip_count": {"en": "{count} clips", "zh": "{count} 个片段"},
    "clip_count_one": {"en": "1 clip", "zh": "1 个片段"},
    "caption_size_fixed": {
        "en": "I cannot change the size of the captions: they come in one size, made to read on a phone. "
              "I can change their style (bold, boxed, karaoke) or turn them off.",
        "zh": "字幕大小改不了：字幕只有一种大小，按手机观看设计。可以换字幕样式（粗体、底框、卡拉OK）或关闭字幕。",
    },
    "words_unused_in_edit": {
        "en": "I did not use \"{reason}\": I changed only what I could read. To choose moments by it, ask for a new cut.",
        "zh": "“{reason}”我没有用上：我只改了能看懂的部分。如果想按它挑选片段，请重新要求剪辑。",
    },
    "unplaced_unread_language": {
        "en": "I read English and Chinese, and I could not read \"{reason}\" from your request. "
              "These are the best moments instead.",
        "zh": "我能读懂英文和中文，请求中的“{reason}”我读不懂。下面是我挑出的最佳片段。",
    },
    "unread_language": {
        "en": "Nothing changed: I read English and Chinese, and I could not read \"{words}\". "
              "Try \"make clip 1 shorter by 5 seconds\", \"remove captions\" or \"more clips\".",
        "zh": "没有任何改变：我能读懂英文和中文，“{words}”我读不懂。可以试试“把第1个片段缩短5秒”、“去掉字幕”或“再来几个”。",
    },
    # engine.models.SelectionNote "nothing_stands_out" with one moment kept ("1 evenly spaced moments" reads wrong)
    "note_nothing_stands_out_one": {
        "en": "Nothing in {this} stands out by its sound or its words, so here is a moment from it instead.",
        "zh": "{this}里没有声音或内容特别突出的地方，所以给你其中的 1 个片段。",
    },
}

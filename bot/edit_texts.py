"""What the bot says about an edit's result, in English and Chinese: where a clip's length, start or end
landed when sentences kept it from the step asked, what "undo" took back and "redo" put back (or why they
could not).
Part of bot/texts.py's TEXTS (kept here so each module stays short); bot/edit_words.py puts them together.
"""
from __future__ import annotations

EDIT_TEXTS: dict[str, dict[str, str]] = {
    # A length edit that landed over a second away from the length asked (bot.backends.base.Landed).
    "landed_sentence_end": {
        "en": "Clip {n} is now {got} s: the nearest sentence end to {asked} s.",
        "zh": "片段 {n} 现在是 {got} 秒：最接近 {asked} 秒的句子结尾。",
    },
    "landed_sentence_start": {
        "en": "Clip {n} is now {got} s: the nearest sentence start to {asked} s.",
        "zh": "片段 {n} 现在是 {got} 秒：最接近 {asked} 秒的句子开头。",
    },
    "landed_limit": {
        "en": "Clip {n} is now {got} s, not {asked} s: the video or the clip ends there.",
        "zh": "片段 {n} 现在是 {got} 秒，而不是 {asked} 秒：视频或片段到此为止。",
    },
    # A start or end moved over a second more or less than asked (bot.backends.base.EdgeMoved):
    # "Clip 1 now starts at 0:14, 6 s earlier: the nearest sentence start."
    "moved_start": {"en": "Clip {n} now starts at {at}, {how_far}: {why}.", "zh": "片段 {n} 现在从 {at} 开始，{how_far}：{why}。"},
    "moved_end": {"en": "Clip {n} now ends at {at}, {how_far}: {why}.", "zh": "片段 {n} 现在在 {at} 结束，{how_far}：{why}。"},
    "moved_earlier": {"en": "{seconds} s earlier", "zh": "提前了 {seconds} 秒"},
    "moved_later": {"en": "{seconds} s later", "zh": "推后了 {seconds} 秒"},
    "moved_on_sentence_start": {"en": "the nearest sentence start", "zh": "最近的句子开头"},
    "moved_on_sentence_end": {"en": "the nearest sentence end", "zh": "最近的句子结尾"},
    "moved_on_video_start": {"en": "the video starts there", "zh": "视频从这里开始"},
    "moved_on_video_end": {"en": "the video ends there", "zh": "视频到这里结束"},
    "moved_on_limit": {"en": "a clip is at least 1 s long", "zh": "片段至少要 1 秒长"},
    # An aspect edit's new shape, said plainly (bot.backends.base.Reshaped): "Clip 1 is now square (1:1)."
    "reshaped_one": {"en": "Clip {ranks} is now {shape}.", "zh": "片段 {ranks} 现在是{shape}。"},
    "reshaped_some": {"en": "Clips {ranks} are now {shape}.", "zh": "片段 {ranks} 现在是{shape}。"},
    "reshaped_every": {"en": "All clips are now {shape}.", "zh": "所有片段现在都是{shape}。"},
    # "undo": what it took back, then the clips as they are again (bot.backends.base.Sentence "undone").
    "undone": {
        "en": "Undone: {what}. The clips are as they were before it:",
        "zh": "已撤销：{what}。片段已恢复到这次修改之前：",
    },
    "undo_which_clip": {"en": "clip {n}", "zh": "片段 {n}"},
    "undo_which_all": {"en": "all clips", "zh": "所有片段"},
    "undo_by": {"en": " by {seconds} s", "zh": " {seconds} 秒"},
    "undo_longer": {"en": "{which} longer{by}", "zh": "{which} 加长{by}"},
    "undo_shorter": {"en": "{which} shorter{by}", "zh": "{which} 缩短{by}"},
    "undo_length": {"en": "{which} set to {seconds} s", "zh": "{which} 改成 {seconds} 秒"},
    "undo_start_earlier": {"en": "{which} starting earlier{by}", "zh": "{which} 提前{by}开始"},
    "undo_start_later": {"en": "{which} starting later{by}", "zh": "{which} 推迟{by}开始"},
    "undo_end_earlier": {"en": "{which} ending earlier{by}", "zh": "{which} 提前{by}结束"},
    "undo_end_later": {"en": "{which} ending later{by}", "zh": "{which} 推迟{by}结束"},
    "undo_captions_style": {"en": "{style} captions on {which}", "zh": "{which} 的字幕改成{style}"},
    "undo_captions_on": {"en": "captions on {which}", "zh": "{which} 加上字幕"},
    "undo_captions_off": {"en": "captions removed from {which}", "zh": "去掉 {which} 的字幕"},
    "undo_aspect": {"en": "{which} made {aspect}", "zh": "{which} 改成{aspect}"},
    "undo_title_on": {"en": "the title \"{title}\" on {which}", "zh": "{which} 的标题改成“{title}”"},
    "undo_title_off": {"en": "the title removed from {which}", "zh": "去掉 {which} 的标题"},
    "undo_music_on": {"en": "background music on {which}", "zh": "{which} 加上背景音乐"},
    "undo_music_off": {"en": "background music removed from {which}", "zh": "去掉 {which} 的背景音乐"},
    "undo_more": {"en": "the extra clips", "zh": "新加的片段"},
    "undo_reel": {"en": "the clips joined into one reel", "zh": "把片段合成一个集锦"},
    "undo_reel_seconds": {"en": "the reel of {seconds} s", "zh": "{seconds} 秒的集锦"},
    "undo_nothing": {
        "en": "Nothing to undo: these clips are as they were cut. Undo takes back the changes you make to the clips "
              "after a cut (length, start and end, captions, title, size, music), the last {steps} of them.",
        "zh": "没有可撤销的修改：这些片段还是剪出来时的样子。撤销可以退回剪辑之后对片段做的修改"
              "（长度、开头和结尾、字幕、标题、尺寸、音乐），最多最近 {steps} 次。",
    },
    "undo_no_more": {
        "en": "Nothing more to undo: I keep only the last {steps} changes, and the clips are as they were before them.",
        "zh": "没有更多可撤销的了：我只保留最近 {steps} 次修改，片段已经回到这些修改之前的样子。",
    },
    "undo_no_clips": {
        "en": "Nothing to undo: there are no clips yet. Tell me what to cut, e.g. {example}",
        "zh": "没有可撤销的：还没有片段。请告诉我要剪什么，例如 {example}",
    },
    # "redo": the change undo took back, put back (Sentence "redone"), or why there is none.
    "redone": {
        "en": "Redone: {what}. The clips are as they were after it:",
        "zh": "已重做：{what}。片段已恢复到这次修改之后：",
    },
    "redo_nothing": {
        "en": "Nothing to redo: redo puts back a change that undo took back, until you make a new change.",
        "zh": "没有可重做的修改：重做只能恢复被撤销的修改，而且要在做新的修改之前。",
    },
    "redo_cloud": {
        "en": "I cannot redo on the cloud service (NemoVideo): it has no undo, so there is nothing to put back; "
              "nothing changed and nothing was charged. Tell me the change you want instead.",
        "zh": "云端服务（NemoVideo）无法重做：它没有撤销功能，所以没有可恢复的修改；什么都没有改变，也没有扣积分。"
              "请直接告诉我你想要的修改。",
    },
    "undo_cloud": {
        "en": "I cannot undo on the cloud service (NemoVideo): it has no way to put the clips back as they were, "
              "so nothing changed and nothing was charged. Tell me the change you want instead, e.g. "
              "\"make clip 1 longer by 5 seconds\".",
        "zh": "云端服务（NemoVideo）无法撤销：它没有把片段恢复原样的功能，所以什么都没有改变，也没有扣积分。"
              "请直接告诉我你想要的修改，例如“把第1个片段加长5秒”。",
    },
}

# The shapes an aspect edit gives, named as a person says them (engine.instructions reads these words).
ASPECT_NAMES: dict[str, dict[str, str]] = {
    "1:1": {"en": "square (1:1)", "zh": "方形（1:1）"},
    "9:16": {"en": "vertical (9:16)", "zh": "竖屏（9:16）"},
    "4:5": {"en": "4:5 (an Instagram post)", "zh": "4:5（Instagram 帖子尺寸）"},
    "16:9": {"en": "landscape (16:9)", "zh": "横屏（16:9）"},
}

"""The bot's sentences about what the person sent, in English and Chinese: a sound file called one
(not "the video"), the languages heard in the clips when more than one is spoken, and an instruction kept from a message whose link or file could not be opened,
for the file sent next. Part of bot/texts.py's TEXTS (kept here so each module stays short);
`texts.say` words them."""
from __future__ import annotations

SOURCE_TEXTS: dict[str, dict[str, str]] = {
    # what a cut was made from, as a note about it names it ("Nothing in this video stands out ...")
    "this_video": {"en": "this video", "zh": "这个视频"},
    "this_audio": {"en": "this sound file", "zh": "这个音频文件"},
    "progress_analyse_sound": {"en": "Listening to the recording", "zh": "正在听写音频"},
    # A clip's caption, when it was cut from a sound file ("0:12-0:41 in the recording · score 87/100").
    "clip_span_sound": {"en": "{start}-{end} in the recording", "zh": "原音频 {start}-{end}"},
    # "Language heard: English." is texts.py's language_heard; these when clips hold more than one language
    "languages_heard": {"en": "Languages heard: {languages}.", "zh": "识别到的语言：{languages}。"},
    "languages_in_clip": {"en": "{languages} in clip {n}", "zh": "第 {n} 个片段为{languages}"},
    "source_too_short": {
        "en": "{name} is only {length} s long, and a short needs at least {least} s of it, so I cut nothing and "
              "charged nothing. Send me a longer video or sound file.",
        "zh": "{name} 只有 {length} 秒，而一个短视频至少需要 {least} 秒，所以我没有剪，也没有扣积分。请发一个更长的视频或音频文件。",
    },
    "instruction_kept": {
        "en": "I kept what you asked (\"{instruction}\"): send the video and I will do that with it.",
        "zh": "你的要求（“{instruction}”）我记下了：发来视频后，我就照这个做。",
    },
    "instruction_from_before": {
        "en": "Doing what you asked before: \"{instruction}\".",
        "zh": "按你之前的要求来做：“{instruction}”。",
    },
}

"""The bot's sentences about what the person sent, in English and Chinese: a sound file called one
(not "the video"). Part of bot/texts.py's TEXTS (kept here so each module stays short); `texts.say` words them."""
from __future__ import annotations

SOURCE_TEXTS: dict[str, dict[str, str]] = {
    "progress_analyse_sound": {"en": "Listening to the recording", "zh": "正在听写音频"},
    # A clip's caption, when it was cut from a sound file ("0:12-0:41 in the recording · score 87/100").
    "clip_span_sound": {"en": "{start}-{end} in the recording", "zh": "原音频 {start}-{end}"},
}

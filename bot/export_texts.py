"""What the bot says about an export, in English and Chinese, beyond the files it sends: a clip already
made is the file it sent before (the local service renders only what is not made yet). Part of
bot/texts.py's TEXTS (kept here so each module stays short); `texts.say` words them."""
from __future__ import annotations

EXPORT_TEXTS: dict[str, dict[str, str]] = {
    # bot.backends.base.Sentence "export_again": the clips asked for that were made already, sent again.
    "export_again_one": {
        "en": "Clip {ranks} was already made: this is the same file I sent before. "
              "/export makes only the clips that are not made yet.",
        "zh": "片段 {ranks} 已经做好了：这是之前发过的同一个文件。/export 只会制作还没做好的片段。",
    },
    "export_again_some": {
        "en": "Clips {ranks} were already made: these are the same files I sent before. "
              "/export makes only the clips that are not made yet.",
        "zh": "片段 {ranks} 已经做好了：这些是之前发过的同样的文件。/export 只会制作还没做好的片段。",
    },
}

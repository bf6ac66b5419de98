"""What the bot says when a highlight reel's moments were chosen again at a new length, in English and
Chinese. Part of bot/texts.py's TEXTS (kept here so each module stays short). The reasons an edit cannot
apply to a reel have their English in bot/reel_edits.py and their Chinese in bot/translations.py."""
from __future__ import annotations

REEL_TEXTS: dict[str, dict[str, str]] = {
    "reel_remade": {
        "en": "The reel now joins {moments}, {got} s in all, in the order they happen (you asked for {asked} s).",
        "zh": "集锦现在由 {moments}组成，共 {got} 秒，按发生顺序排列（你要的是 {asked} 秒）。",
    },
    "reel_remade_one": {
        "en": "The reel is now one moment, {got} s (you asked for {asked} s).",
        "zh": "集锦现在只有 1 个片段，共 {got} 秒（你要的是 {asked} 秒）。",
    },
    "reel_remade_short": {
        "en": "The reel now joins {moments}, {got} s in all: this video has no more worth showing for a {asked} s reel.",
        "zh": "集锦现在由 {moments}组成，共 {got} 秒：这个视频没有更多值得放进 {asked} 秒集锦的内容。",
    },
    "reel_moments": {"en": "{kept} moments", "zh": "{kept} 个片段"},
    "reel_moment_one": {"en": "one moment", "zh": "1 个片段"},
}


def reel_remade(lang: str, fact) -> str:
    """One bot.backends.base.ReelRemade: how many moments the reel joins now and its length."""
    from bot.texts import say              # bot.texts gathers these sentences into its TEXTS

    moments = say(lang, "reel_moment_one" if fact.kept == 1 else "reel_moments", kept=fact.kept)
    key = "reel_remade_short" if fact.short else "reel_remade_one" if fact.kept == 1 else "reel_remade"
    return say(lang, key, moments=moments,
               got=f"{fact.got:g}", asked=f"{fact.asked:g}")

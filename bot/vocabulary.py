"""Words -> what to do: one vocabulary, English and Chinese, for new cuts and for edits.

`understand(text, has_clips)` is the one place that decides what a chat message asks of the
clips: a new cut (a `ClipRequest`, read by engine.instructions), edits of the clips on screen
(`Edit`s), background music to remember, or nothing it can act on. The words for a clip's look
(aspect: "square", "make it an instagram post"; captions off: "skip captions", "no subtitles"; their
style: "karaoke captions", "字幕改成底框") are read by the same readers for both, so a phrase means the
same before and after a cut.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from engine.instructions import LEN, asks_caption_size, parse_instruction, read_aspect, read_caption_style, read_captions, take_durations
from engine.numbers import CN_NUMERAL, chinese_number, normalise
from engine.models import ClipRequest

@dataclass(frozen=True)
class Edit:
    kind: str                      # longer shorter start_earlier start_later end_earlier end_later
                                   # captions aspect more title music reel; undo: the last change taken back;
                                   # redo: the last change undo took back, put back again
    clip: int | None = None        # 1-based; None: every clip
    seconds: float | None = None   # a step, or a reel's length
    value: str | None = None       # aspect "1:1"; title text; captions: a style of engine.captions.STYLES
    on: bool = True                # captions/title/music on or off
    count: int | None = None       # how many more clips
    volume: float | None = None    # music volume 0-1

    @property
    def structural(self) -> bool:
        """Changes what is in the clips, not only how they look."""
        return self.kind not in ("captions", "aspect")


_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
             "eighth": 8, "ninth": 9, "tenth": 10}
_CN_CLIP = r"(?:片段|短视频|短片|视频)"
_CN_NUMBER = rf"(\d{{1,2}}|[{CN_NUMERAL}]{{1,3}})"
# 一 after the noun starts a word as often as it counts: 视频一起 (the videos together), 一律, 一直, 一开始
_CN_WORD_WITH_ONE = "起律共直开半样下些点遍次会切块并同边"
_CN_AFTER_NOUN = rf"{_CN_CLIP}\s*(\d{{1,2}}|(?!一[{_CN_WORD_WITH_ONE}])[{CN_NUMERAL}]{{1,3}})(?![\d.{CN_NUMERAL}]|\s*(?:秒|分|小时|个|段|条|s\b|sec|min))"
# 片段2, 片段二, 2号片段, 第2个片段: Chinese words sit next to the number with no word boundary between
# them. A number right after the noun that is a length or a count (片段30秒, 视频2个) names no clip.
_CLIP_REF = re.compile(
    r"(?:\b(?:clip|short|video|part|#)\s*#?\s*(\d{1,2})\b|#(\d{1,2})\b"
    r"|\b(" + "|".join(_ORDINALS) + r")\s+(?:clip|short|video|one)\b"
    rf"|第\s*{_CN_NUMBER}\s*(?:个|段|条)?"
    rf"|{_CN_AFTER_NOUN}"
    rf"|(?<![\d.月{CN_NUMERAL}]){_CN_NUMBER}\s*号)")
_QUOTED = re.compile(r"[\"“”'‘’「『《]([^\"“”'‘’「」『』《》]{1,80})[\"“”'‘’」』》]")
_PERCENT = re.compile(r"(\d{1,3})\s*(?:%|percent|per\s*cent)|百分之\s*(\d{1,3})")

_LONGER = re.compile(r"\b(?:longer|lengthen|extend|expand)\b|加长|延长|长一点|长一些|更长|拉长")
# "make clip 1 30 seconds", "set it to 20 s", "把片段1改成30秒": a length to reach, not a step
_TO_LENGTH = re.compile(r"\b(?:make|set|change|turn|cut|trim)\b|改成|改为|变成|剪成|调成|设为")
_SHORTER = re.compile(r"\b(?:shorter|shorten|trim|tighten|cut\s+down)\b|缩短|剪短|短一点|短一些|更短")
# "shorten it to 30 seconds", "缩短到30秒": longer or shorter to a length, not by a step
_TO = re.compile(rf"\b(?:to|into)\s+(?:about\s+|around\s+|roughly\s+|just\s+|only\s+)?{LEN}|(?:到|至){LEN}")
_START = r"(?:start|begin|open|beginning)\w*"
_END = r"(?:end|finish|stop|ending|close)\w*"
_EARLIER = r"(?:earlier|sooner|before)"
_LATER = r"(?:later|after)"
_CN_STEP = "(?:\\s*\u2063len\u2063\\s*)?"     # "提前2秒开始": the step (taken out as a placeholder) in the middle
_START_EARLIER = re.compile(rf"\b{_START}\b.*\b{_EARLIER}\b|(?:提前|早点|早一点|往前|早){_CN_STEP}开始|开头{_CN_STEP}提前")
_START_LATER = re.compile(rf"\b{_START}\b.*\b{_LATER}\b|(?:晚点|晚一点|推迟|推后|晚){_CN_STEP}开始|开头{_CN_STEP}(?:往后|推后|推迟)")
_END_EARLIER = re.compile(rf"\b{_END}\b.*\b{_EARLIER}\b|(?:提前|早点|早一点|早){_CN_STEP}结束|结尾{_CN_STEP}提前")
_END_LATER = re.compile(rf"\b{_END}\b.*\b{_LATER}\b|(?:晚点|晚一点|推迟|推后|晚){_CN_STEP}结束|结尾{_CN_STEP}(?:往后|推后|推迟)")
_CAPTIONS = r"(?:captions?|subtitles?|subs)"
_NEAR = r"(?:\s+[\w'-]+){0,3}?\s+"            # at most three words in between: "remove the burned-in captions"
_CAPTIONS_WORD = re.compile(rf"\b{_CAPTIONS}\b|字幕")
_CAPTIONS_OFF = re.compile(
    rf"\b(?:remove|no|without|drop|delete|hide|disable|turn\s+off|get\s+rid\s+of|lose){_NEAR}{_CAPTIONS}\b"
    rf"|\b{_CAPTIONS}\s+off\b|去掉字幕|删除字幕|删掉字幕|不要字幕|关闭字幕|去字幕|取消字幕|无字幕")
_CAPTIONS_ON = re.compile(
    rf"\b(?:add|with|show|enable|turn\s+on|put|burn|bring\s+back){_NEAR}{_CAPTIONS}\b|\b{_CAPTIONS}\s+on\b"
    r"|加字幕|添加字幕|加上字幕|打开字幕|显示字幕|恢复字幕")
_MORE = re.compile(r"\bmore\b(?:\s+\w+){0,2}\s+(?:clips?|shorts?|moments?|highlights?|ones?)\b|\bmore\s+like\s+(?:this|that|it|clip)"
                   r"|\banother\s+(?:clip|short|one|moment)\b|\b(\d+)\s+more\b|再来|再多|多几个|更多片段|更多类似|再剪")
_MORE_OF = re.compile(r"\b(?:shorts|reels|tiktoks|stories)\b")
_TITLE = re.compile(r"\btitle\b|标题")
_TITLE_OFF = re.compile(rf"\b(?:remove|no|without|drop|delete|hide){_NEAR}title\b|去掉标题|删除标题|不要标题")
_MUSIC = re.compile(r"\b(?:background\s+music|bgm|music|soundtrack|song)\b|背景音乐|配乐|音乐|bgm")
_MUSIC_OFF = re.compile(rf"\b(?:remove|no|without|drop|delete|mute|stop){_NEAR}(?:music|bgm|soundtrack|song)\b"
                        r"|去掉(?:背景)?音乐|删除(?:背景)?音乐|不要(?:背景)?音乐|关闭(?:背景)?音乐")
_REEL = re.compile(r"\b(?:compile|combine|merge|join|stitch)\b|\bhighlight\s+reel\b|\breel\b|\bmontage\b|\bsupercut\b"
                   r"|合成|合并|拼接|集锦|混剪")


# "undo", "undo that", "go back", "revert", "撤销", "撤回", "恢复上一步": the last change taken back. Only in a
# short message that asks nothing else (no number, no other change, no cut): "go back to bold captions" is an edit.
_UNDO = re.compile(r"\b(?:undo|revert|roll\s*back|go\s+back|take\s+(?:that|it)\s+back|put\s+(?:it|them)\s+back"
                   r"|ctrl\s*\+?\s*z)\b|撤销|撤消|撤回|回退|还原|上一步")
# "redo", "undo the undo", "重做", "恢复撤销": the change undo took back, put back. Read before undo ("恢复撤销"
# has 撤销 in it), on the same terms.
_REDO = re.compile(r"\b(?:re-?do|undo\s+(?:the\s+|that\s+|my\s+)?undo|ctrl\s*\+?\s*(?:y|shift\s*\+?\s*z))\b"
                   r"|重做|恢复撤销|撤销撤销|取消撤销|反撤销")
_UNDO_WORDS_AT_MOST = 8


def parse_edits(text: str) -> list[Edit]:
    """The changes a message asks for; [] when it asks for none."""
    if not text or not text.strip():
        return []
    if _asks_alone(_REDO, text):
        return [Edit("redo")]
    if _asks_alone(_UNDO, text):
        return [Edit("undo")]
    return _parse_changes(text)


def _asks_alone(words_for: re.Pattern, text: str) -> bool:
    """A short message that asks this (undo, redo) and nothing else."""
    lowered = text.lower()
    counted = _CLIP_REF.sub(" ", lowered.replace("上一步", " "))     # "revert clip 1": the last change, which says its clip
    if not words_for.search(lowered) or re.search(rf"\d|[{CN_NUMERAL}]\s*(?:秒|步|次|个)", counted):
        return False
    words = len(re.findall(r"[a-z']+", lowered)) + len(re.findall(r"[\u4e00-\u9fff]", lowered)) / 3
    return (words <= _UNDO_WORDS_AT_MOST and not _CUT_WORDS.search(lowered)
            and not _parse_changes(words_for.sub(" ", lowered)))


def _parse_changes(text: str) -> list[Edit]:
    quoted = _QUOTED.search(text)
    text = normalise(_QUOTED.sub(" ", text))         # a title's words are not instructions
    clip = _clip_number(text)
    rest, durations = take_durations(text)
    seconds = durations[0][1] if durations else None
    edits: list[Edit] = []

    if _MUSIC_OFF.search(rest):
        edits.append(Edit("music", clip=clip, on=False))
    elif _MUSIC.search(rest) and not _TITLE.search(rest):
        edits.append(Edit("music", clip=clip, volume=_volume(rest)))
    if _TITLE.search(rest) and quoted:
        edits.append(Edit("title", clip=clip, value=quoted.group(1).strip()))
    elif _TITLE_OFF.search(rest):
        edits.append(Edit("title", clip=clip, on=False))
    style = _caption_style(rest)
    if _CAPTIONS_OFF.search(rest) or read_captions(rest) is False:
        edits.append(Edit("captions", clip=clip, on=False))
    elif style is not None:
        edits.append(Edit("captions", clip=clip, value=style))
    elif _CAPTIONS_ON.search(rest):
        edits.append(Edit("captions", clip=clip, on=True))
    more = _MORE.search(rest)
    # "3 more shorts" asks for clips, not for the 9:16 look the word "shorts" means in a request
    aspect = read_aspect(_MORE_OF.sub(" ", rest) if more else rest)
    if aspect is not None:
        edits.append(Edit("aspect", clip=clip, value=aspect))
    if more:
        count = int(more.group(1)) if more.group(1) else None
        edits.append(Edit("more", clip=clip, count=count))
        return edits
    step = _step_edit(rest, text, clip, seconds)
    if _REEL.search(rest):
        # "make the reel shorter", "集锦加长10秒": the word names the reel; else it asks for one (of a length)
        reel = Edit("reel", seconds=max((s for _, s in durations), default=None))
        return [step if step is not None and step.kind != "length" else reel] + edits
    return edits + ([step] if step is not None else [])


def _step_edit(rest: str, text: str, clip: int | None, seconds: float | None) -> Edit | None:
    """A change of a clip's edges or length: "start clip 1 earlier", "make it shorter by 5 s", "make clip 2
    30 seconds", "缩短到30秒"."""
    for kind, pattern in (("start_earlier", _START_EARLIER), ("start_later", _START_LATER),
                          ("end_earlier", _END_EARLIER), ("end_later", _END_LATER)):
        if pattern.search(rest):
            return Edit(kind, clip=clip, seconds=seconds)
    stepping = _LONGER.search(rest) or _SHORTER.search(rest)
    if stepping and seconds is not None and _TO.search(rest):
        return Edit("length", clip=clip, seconds=seconds)
    if stepping:
        return Edit("longer" if _LONGER.search(rest) else "shorter", clip=clip, seconds=seconds)
    if seconds is not None and _TO_LENGTH.search(rest) and not looks_like_cut(text):
        return Edit("length", clip=clip, seconds=seconds)
    return None


def _clip_number(text: str) -> int | None:
    m = _CLIP_REF.search(text)
    if not m:
        return None
    if m.group(3):
        return _ORDINALS[m.group(3)]
    number = next(g for g in m.group(1, 2, 4, 5, 6) if g)
    return int(number) if number.isdigit() else chinese_number(number)


def _caption_style(text: str) -> str | None:
    """The caption style the words name; "bold" and "boxed" only beside a word for captions ("make the
    title bold", "put the title in a box" are not it)."""
    style = read_caption_style(text)
    if style in ("bold", "boxed") and not _CAPTIONS_WORD.search(text):
        return None
    return style


def _volume(text: str) -> float | None:
    m = _PERCENT.search(text)
    if not m:
        return None
    return max(0.0, min(1.0, int(m.group(1) or m.group(2)) / 100))


# ---------------------------------------------------------------- cut or edit

# A message asks for a (new) cut when it says so; anything else with clips present is an edit or nothing.
_CUT_WORDS = re.compile(
    r"\b(?:cut|find|extract|pick|split|chop|clip\s+(?:it|this|the)|give\s+me|make\s+me|create|generate)\b"
    r"|\bbest\s+(?:moments?|parts?|bits?)\b|\bhighlights?\b"
    r"|剪成|剪辑|剪出|找出|切成|精彩|高光|生成")
# "all the clips", "第2个片段": the clips on screen named, not new ones asked for
_CLIPS_NAMED = re.compile(r"\b(?:all|every|each|both)\s+(?:of\s+)?(?:the\s+|my\s+|these\s+)?"
                          r"(?:clips|shorts|videos)\b|(?:所有|全部|每个)的?片段|第\s*\d{1,2}\s*(?:个|段|条)?\s*片段"
                          rf"|{_CN_AFTER_NOUN}|{_CN_NUMBER}\s*号\s*{_CN_CLIP}")
_CLIPS_WANTED = re.compile(r"\b(?:shorts|clips|highlights|moments|reels|tiktoks|videos)\b|短视频|片段")
LENGTH_EDITS = frozenset({"length", "longer", "shorter", "start_earlier", "start_later", "end_earlier", "end_later", "title"})


def looks_like_cut(text: str) -> bool:
    """True when the message asks for clips to be cut (as opposed to changing the current ones):
    a cutting verb, clips in the plural, or a count, topic, reel or time range."""
    lowered = text.lower()
    unnamed = _CLIPS_NAMED.sub(" ", lowered)
    if _CUT_WORDS.search(lowered) or _CLIPS_WANTED.search(unnamed):
        return True
    request = parse_instruction(unnamed)
    return bool(request.count or request.topic or request.reel or request.exact
                or request.range_start is not None or request.range_end is not None)


@dataclass(frozen=True)
class Understood:
    """What a chat message asks of a session's clips."""

    kind: Literal["cut", "edit", "music", "no_clips_yet", "not_understood"]
    request: ClipRequest | None = None            # kind "cut"
    edits: tuple[Edit, ...] = field(default=())   # kind "edit"; kind "music": the one music edit
    caption_size: bool = False                    # asked for bigger or smaller captions, which come in one size
    unused: str | None = None                     # kind "edit": words beside a change of look that ask for none


# Words of a change of look ("switch it to square", "add the captions back"): the rest of the message
# ("with the funniest bit") is what no reader used.
_LOOK_WORDS = re.compile(r"\b(?:change[sd]?|switch|swap|turn|add|remove|back|instead|now|again|put|bring|show|hide|set"
                         r"|style|look|version|format|all|every|both|on|off|as|well|too)\b|改成|换成|改为|变成|都|全部")


def unused_words(text: str, edits: tuple[Edit, ...]) -> str | None:
    """The words of a message that only changes the clips' look (aspect, captions) that no reader used."""
    if any(e.structural for e in edits):
        return None
    lowered = _CLIP_REF.sub(" ", _CAPTIONS_ON.sub(" ", _CAPTIONS_OFF.sub(" ", normalise(_QUOTED.sub(" ", text)))))
    return parse_instruction(_LOOK_WORDS.sub(" ", lowered)).unplaced


def understand(text: str, has_clips: bool) -> Understood:
    edits = tuple(parse_edits(text))
    if edits and edits[0].kind in ("undo", "redo"):     # with clips or not: "nothing to undo" is the service's to say
        return Understood("edit", edits=edits)
    cut_asked = looks_like_cut(text)
    size = asks_caption_size(text)
    if has_clips and edits and (any(e.structural for e in edits) or not cut_asked):
        return Understood("edit", edits=edits, caption_size=size, unused=unused_words(text, edits))
    if has_clips and not cut_asked:
        return Understood("not_understood", caption_size=size)
    if not has_clips and edits and all(e.kind == "music" for e in edits):
        return Understood("music", edits=edits[:1])
    if not has_clips and any(e.kind in LENGTH_EDITS for e in edits) and not cut_asked:
        return Understood("no_clips_yet")
    return Understood("cut", request=parse_instruction(text), caption_size=size)

"""Free text (English or Chinese; a Spanish request's commonest words, engine.spanish_words) -> ClipRequest.

"find the best moments and cut them into 60-second vertical shorts", "top 5 clips about
pricing, square, no captions", "from 5:00 to 20:00", "the second half", "compile a 2-minute
highlight reel", "剪成三个60秒的竖屏短视频", "导出1080p". Words the parser does not know are ignored; when
the text says nothing about something, the ClipRequest default stands (vertical 9:16,
captions on, 3 clips of 30-60 s, separate).

The text is normalised first (lower case, number words and Chinese numerals to digits),
then each aspect is read by its own small function, in an order where the more specific
readings (time ranges, length bounds) take their words out before the general ones run.
"""
from __future__ import annotations

import re

from engine.models import ClipRequest
from engine.numbers import normalise
from engine.spanish_words import in_english, other_language, reads_as_spanish

LENGTH_TOLERANCE = 0.15                 # "60-second" accepts 51-69 s, so clips can end on a sentence
LONGEST_CLIP_SECONDS = 600.0            # a longer duration describes the source ("a 45-minute podcast")
HIGHEST_RESOLUTION = 1080
A_FEW = 3

# --- durations ---------------------------------------------------------------------

_NUM = r"(\d+(?:\.\d+)?)"
_SECONDS = r"(?:s|sec|secs|second|seconds|秒钟|秒)"
_MINUTES = r"(?:m|min|mins|minute|minutes|分钟|分)"
_HOURS = r"(?:h|hr|hrs|hour|hours|小时)"
_DURATION = re.compile(
    rf"{_NUM}\s*-?\s*(?:(?P<s>{_SECONDS})|(?P<m>{_MINUTES})(?:\s*(?:and\s+)?(?:a\s+)?(?P<half>half|半))?|(?P<h>{_HOURS}))"
    rf"(?![a-z])")
_SPECIAL_DURATIONS = [
    (re.compile(r"\b(?:a|1)\s+minute\s+and\s+a\s+half\b|\b1\s+and\s+a\s+half\s+minutes?\b"), 90.0),
    (re.compile(r"\bhalf\s*(?:a\s*|-\s*)?minute\b|半分钟"), 30.0),
    (re.compile(r"\b(?:a|an)\s+minute\b"), 60.0),
    (re.compile(r"\b(?:a|an)\s+hour\b"), 3600.0),
]
# "1:30 long", "clips of 1:30": a clock time that is a length rather than a point in the video
# (those were taken out before, by take_range). 9:16 is an aspect ratio, not nine minutes.
_M_SS = r"(?<![\d:])(?!9:16\b)(\d{1,2}):([0-5]\d)(?![\d:])"
_CLOCK_LENGTHS = [
    re.compile(_M_SS + r"(?=\s*-?\s*(?:long|each|in\s+length|clips?|shorts?|videos?|reels?|highlights?|recap|montage|audiograms?)\b)"),
    re.compile(r"\b(?:clips?|shorts?|videos?|reels?|length|duration|lasting)\s*(?:of|:|is)?\s*" + _M_SS),
]
LEN = "\u2063len\u2063"                    # marks where a duration was taken out of the text


def _duration_seconds(m: re.Match) -> float:
    value = float(m.group(1))
    if m.group("s"):
        return value
    if m.group("m"):
        return value * 60 + (30 if m.group("half") else 0)
    return value * 3600


def take_durations(text: str) -> tuple[str, list[tuple[int, float]]]:
    """Durations in reading order as (position, seconds); each is replaced in the text by a marker."""
    found: list[tuple[int, float]] = []
    for pattern, seconds in _SPECIAL_DURATIONS:
        while (m := pattern.search(text)):
            found.append((m.start(), seconds))
            text = text[: m.start()] + LEN + text[m.end():]
    for pattern in _CLOCK_LENGTHS:
        while (m := pattern.search(text)):
            found.append((m.start(1), int(m.group(1)) * 60 + float(m.group(2))))
            text = text[: m.start(1)] + LEN + text[m.end(2):]
    while (m := _DURATION.search(text)):
        found.append((m.start(), _duration_seconds(m)))
        text = text[: m.start()] + LEN + text[m.end():]
    found.sort()
    return text, found


# --- time ranges -----------------------------------------------------------------

_CLOCK = r"(\d{1,2}(?::\d{2}){1,2})"
_POINT = rf"(?:{_CLOCK}|(?:minute|min)\s*(\d+(?:\.\d+)?)|第?\s*(\d+(?:\.\d+)?)\s*(?:分钟|分|minutes?|mins?|m)(?![a-z])|(\d+(?:\.\d+)?)\s*(?:秒|seconds?|secs?|s)(?![a-z]))"


def clock_seconds(clock: str) -> float:
    seconds = 0.0
    for part in clock.split(":"):
        seconds = seconds * 60 + float(part)
    return seconds


def _point_seconds(groups: tuple) -> float:
    clock, minute_word, minutes, seconds = groups
    if clock:
        return clock_seconds(clock)
    if minute_word:
        return float(minute_word) * 60
    if minutes:
        return float(minutes) * 60
    return float(seconds)


RANGE_FROM_TO = re.compile(rf"(?:from|between|从)\s*(?:the\s+)?{_POINT}\s*(?:to|until|till|and|through|-|~|到|至)\s*{_POINT}(?:\s*(?:mark|之间))?")
RANGE_BARE = re.compile(rf"{_CLOCK}\s*(?:-|~|to|到|至)\s*{_CLOCK}")
_HALF_OF = r"(?P<half>half\s*(?:an?\s+)?)?"             # "the first half hour", "the last half minute"
_FIRST = re.compile(rf"\b(?:in\s+|within\s+)?(?:the\s+)?first\s+(?:{_NUM}\s*)?{_HALF_OF}(?P<unit>{_MINUTES}|{_SECONDS}|{_HOURS})(?![a-z])|前\s*{_NUM}\s*(?P<cnunit>分钟|分|秒)")
_LAST = re.compile(rf"\b(?:in\s+|within\s+)?(?:the\s+)?(?:last|final)\s+(?:{_NUM}\s*)?{_HALF_OF}(?P<unit>{_MINUTES}|{_SECONDS}|{_HOURS})(?![a-z])|(?:最后|后)\s*{_NUM}\s*(?P<cnunit>分钟|分|秒)")
_AFTER = re.compile(rf"(?:\bafter|\bstarting\s+(?:at|from)|\bfrom)\s+(?:the\s+)?{_POINT}(?:\s*mark)?(?:\s+on(?:wards?)?)?|{_POINT}\s*(?:之后|以后)")
_BEFORE = re.compile(rf"(?:\bbefore|\buntil|\bup\s+to|\btill)\s+(?:the\s+)?{_CLOCK}|{_CLOCK}\s*(?:之前|以前)")


def take_range(text: str) -> tuple[str, float | None, float | None]:
    """(text without the range, start, end). A negative start counts back from the end of the video."""
    m = RANGE_FROM_TO.search(text)
    if m:
        start, end = _point_seconds(m.groups()[0:4]), _point_seconds(m.groups()[4:8])
        return _cut(text, m), min(start, end), max(start, end)
    m = RANGE_BARE.search(text)
    if m:
        start, end = clock_seconds(m.group(1)), clock_seconds(m.group(2))
        return _cut(text, m), min(start, end), max(start, end)
    m = _FIRST.search(text)
    if m:
        return _cut(text, m), 0.0, _first_last_seconds(m)
    m = _LAST.search(text)
    if m:
        return _cut(text, m), -_first_last_seconds(m), None
    m = _AFTER.search(text)
    if m:
        groups = m.groups()
        point = groups[0:4] if any(groups[0:4]) else groups[4:8]
        return _cut(text, m), _point_seconds(point), None
    m = _BEFORE.search(text)
    if m:
        return _cut(text, m), None, clock_seconds(m.group(1) or m.group(2))
    return text, None, None


def _first_last_seconds(m: re.Match) -> float:
    number = next((g for g in m.groups() if g and re.fullmatch(r"\d+(?:\.\d+)?", g)), None)
    unit = m.group("unit") or m.group("cnunit") or ""
    value = (float(number) if number else 1.0) * (0.5 if m.group("half") else 1.0)
    if re.fullmatch(_HOURS, unit):
        return value * 3600
    return value * 60 if re.fullmatch(_MINUTES, unit) else value


# "the second half", "the first third of the game", "the 4th quarter", "下半场": a part of the
# video by its share of the length, read before the time ranges (whose "first" it shares).
PARTS = {"half": 2, "third": 3, "quarter": 4}
ORDINALS = {"first": 0, "1st": 0, "opening": 0, "former": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2,
            "fourth": 3, "4th": 3, "last": -1, "final": -1, "latter": -1, "closing": -1}
_PART = re.compile(
    r"\b(?:in\s+|during\s+|within\s+|from\s+|of\s+)?(?:the\s+)?(?P<which>" + "|".join(ORDINALS) + r")\s+"
    r"(?P<part>half|third|quarter)\b(?!\s*(?:an?\s+)?(?:minutes?|mins?|hours?|hrs?|seconds?|secs?)\b)"
    r"(?:\s+of\s+(?:the\s+|this\s+|my\s+)?(?:video|game|match|stream|talk|podcast|recording|episode|show|film|movie|it))?"
    r"|(?P<cn>前半段|前半部分|前半场|上半场|上半部分|后半段|后半部分|后半场|下半场|下半部分)")


def take_part(text: str) -> tuple[str, float | None, float | None]:
    """(text without it, start share, end share) of "the second half" and the like; Nones when none."""
    m = _PART.search(text)
    if not m:
        return text, None, None
    if m.group("cn"):
        first = m.group("cn").startswith(("前", "上"))
        return _cut(text, m), (0.0 if first else 0.5), (0.5 if first else 1.0)
    parts, index = PARTS[m.group("part")], ORDINALS[m.group("which")]
    if index >= parts:
        return text, None, None              # "the fourth half" is no part of anything
    index %= parts                           # -1, "the last", is the final part
    return _cut(text, m), round(index / parts, 4), round((index + 1) / parts, 4)


def _cut(text: str, m: re.Match) -> str:
    return text[: m.start()] + " " + text[m.end():]


# --- the rest, one reader each ---------------------------------------------------------

_REEL = re.compile(r"\b(?:compil(?:e|ed|ing|ation)|montage|supercut|highlight\s+reel|(?<!instagram )reel\b(?!s)|"
                   r"stitch(?:ed)?|combine[sd]?|merge[sd]?|one\s+video|single\s+video|recap)\b|合集|集锦|混剪|拼接|合成一个|串起来")
_SEPARATE = re.compile(r"\bseparate\b|\bindividual\b|分别|单独")

_CLIP_NOUN = r"(?:clips?|shorts?|videos?|highlights?|moments?|parts?|segments?|pieces?|snippets?|cuts?|reels?|tiktoks?|audiograms?)"
# A number that is half of an aspect ratio ("9:16 clips") is not a count.
_COUNT = re.compile(rf"(?<![:\d])\b(\d+)\s+(?:(?:[^\s\d,.;]+|\d+:\d+)\s+){{0,4}}?{_CLIP_NOUN}\b")
_OF_THEM = re.compile(r"\b(\d+)\s+of\s+(?:them|those|these)\b")
_TOP = re.compile(r"\b(?:top|best|first)\s+(\d+)\b")
_CN_COUNT = re.compile(r"(\d+)\s*(?:个|段|条|支|部|份)")
_FEW = re.compile(r"\ba\s+few\b|\bsome\b|几个|几段|几条")
_COUPLE = re.compile(r"\ba\s+couple\b|\bcouple\s+of\b|\bpair\s+of\b")
_SEVERAL = re.compile(r"\bseveral\b|\bmultiple\b")
_SINGLE = re.compile(r"\b(?:a|an|one|single|1)\s+(?:[^\s\d,.;]+\s+){0,3}?(?:clip|short|video|highlight|moment|snippet|cut|tiktok|audiogram)\b(?!s)")

_ASPECTS = [
    ("1:1", re.compile(r"\b1:1\b|\bsquare\b|正方形|方形|方屏")),
    ("4:5", re.compile(r"\b4:5\b|\binstagram\s+(?:post|feed)\b|\bportrait\s+post\b")),
    ("16:9", re.compile(r"\b16:9\b|\blandscape\b|\bhorizontal\b|\bwide\s*screen\b|横屏|横版|横向")),
    ("9:16", re.compile(r"\b9:16\b|\bvertical\b|\bportrait\b|\btik\s*tok\b|\bshorts\b|\breels\b|\bstor(?:y|ies)\b|竖屏|竖版|竖向|竖")),
]
_RESOLUTION = re.compile(r"(?<![0-9a-z])(\d{3,4})\s*p(?![0-9a-z])|(?<![0-9a-z])([24])k(?![0-9a-z])")

_NO_CAPTIONS = re.compile(
    r"\b(?:no|without|w/o|remove|skip|disable|drop)\s+(?:the\s+|any\s+)?(?:captions?|subtitles?|subs|text)\b|"
    r"\b(?:captions?|subtitles?|subs)\s+off\b|\bturn\s+off\s+(?:the\s+)?(?:captions?|subtitles?)\b|"
    r"\bdon'?t\s+(?:add|burn|include|put)\s+(?:any\s+)?(?:captions?|subtitles?)\b|"
    r"无字幕|不要字幕|不加字幕|不带字幕|去掉字幕|去字幕|关闭字幕|没有字幕")
_STYLES = [("karaoke", re.compile(r"\bkaraoke\b|卡拉\s*ok|逐字")), ("boxed", re.compile(r"\bbox(?:ed)?\b|背景框|底框")),
           ("bold", re.compile(r"\bbold\b|粗体"))]

# --- the spoken language, when the user names it ------------------------------------

LANGUAGE_NAMES = {
    "english": "en", "chinese": "zh", "mandarin": "zh", "cantonese": "yue", "spanish": "es", "french": "fr",
    "german": "de", "italian": "it", "portuguese": "pt", "russian": "ru", "japanese": "ja", "korean": "ko",
    "arabic": "ar", "hebrew": "he", "persian": "fa", "farsi": "fa", "hindi": "hi", "urdu": "ur", "turkish": "tr",
    "dutch": "nl", "polish": "pl", "swedish": "sv", "ukrainian": "uk", "vietnamese": "vi", "thai": "th",
    "indonesian": "id", "malay": "ms", "greek": "el", "czech": "cs", "romanian": "ro", "hungarian": "hu",
    "danish": "da", "finnish": "fi", "norwegian": "no", "catalan": "ca", "tagalog": "tl", "bengali": "bn",
}
CN_LANGUAGE_NAMES = {
    "中文": "zh", "汉语": "zh", "普通话": "zh", "国语": "zh", "华语": "zh", "粤语": "yue", "广东话": "yue",
    "英语": "en", "英文": "en", "西班牙语": "es", "西语": "es", "法语": "fr", "德语": "de", "意大利语": "it",
    "葡萄牙语": "pt", "俄语": "ru", "日语": "ja", "日文": "ja", "韩语": "ko", "韩文": "ko", "阿拉伯语": "ar",
    "越南语": "vi", "泰语": "th", "印地语": "hi", "土耳其语": "tr",
}
_NAMES = "|".join(sorted(LANGUAGE_NAMES, key=len, reverse=True))
_CN_NAMES = "|".join(sorted(CN_LANGUAGE_NAMES, key=len, reverse=True))
_LANGUAGE = re.compile(
    rf"\b(?:(?:it|this|that|the\s+(?:video|audio|talk))(?:'s|\s+is|\s+was)\s+)?"
    rf"(?:in|spoken\s+in|speaks?|speaking|talks?\s+in|language:?|language\s+is)\s+(?P<a>{_NAMES})\b(?!\s+(?:captions|subtitles))"
    rf"|\b(?P<b>{_NAMES})\s+(?:video|audio|speech|talk|podcast|interview|recording|speaker)s?\b")
_CN_LANGUAGE = re.compile(rf"(?P<c>{_CN_NAMES})(?!字幕|翻译)")


def take_language(text: str) -> tuple[str, str | None]:
    """The spoken language the user named ("this is in Spanish", "中文视频", "说的是法语"), as Whisper's
    code, and the text without those words. Captions "in" a language are not the spoken one."""
    for m in _LANGUAGE.finditer(text):
        if not text[: m.start()].rstrip().endswith(("caption", "captions", "subtitles", "subtitle", "titles", "title")):
            return _cut(text, m), LANGUAGE_NAMES[m.group("a") or m.group("b")]
    m = _CN_LANGUAGE.search(text)
    if m:
        return _cut(text, m), CN_LANGUAGE_NAMES[m.group("c")]
    return text, None


_TOPIC = re.compile(
    r"\b(?:about|regarding|on\s+the\s+(?:topic|subject)\s+of|related\s+to|focus(?:ed|ing)?\s+on|mentions?\s+of|"
    r"where\s+(?:they|he|she|i|we|you)\s+(?:talk|talks|speak|speaks|discuss|discusses)\s+(?:about\s+)?|topic:?)\s+"
    r"(?P<topic>[^,.;!?\u2063]+)")
_TOPIC_STOP = re.compile(
    r"\s+(?:and|in|into|from|with|without|for|as|at|on|then|but|please|vertical|square|landscape|horizontal|"
    r"no|only|each|every|clips?|shorts?|videos?|reels?)\b.*$")
_CN_TOPIC = re.compile(r"(?:关于|有关|讲|谈|聊)(?P<topic>[^，。,.!！?？的\s]{1,12})(?:的|方面|相关)?")
_NOT_A_TOPIC = {"it", "this", "that", "them", "the video", "the best", "me", "us", "what", "how", "something", "anything"}


def read_reel(text: str) -> bool:
    return bool(_REEL.search(text)) and not _SEPARATE.search(text)


def read_count(text: str) -> int | None:
    for pattern in (_TOP, _CN_COUNT, _COUNT, _OF_THEM):
        m = pattern.search(text)
        if m and 0 < int(m.group(1)) <= 50:
            return int(m.group(1))
    if _COUPLE.search(text):
        return 2
    if _SEVERAL.search(text):
        return 4
    if _FEW.search(text):
        return A_FEW
    if _SINGLE.search(text):
        return 1
    return None


def read_aspect(text: str) -> str | None:
    for aspect, pattern in _ASPECTS:
        if pattern.search(text):
            return aspect
    return None


def read_resolution(text: str) -> int | None:
    m = _RESOLUTION.search(text)
    if not m:
        return None
    if m.group(2):
        return HIGHEST_RESOLUTION
    value = int(m.group(1))
    if value not in (360, 480, 540, 720, 1080, 1440, 2160):
        return None
    return min(value, HIGHEST_RESOLUTION)


def read_captions(text: str) -> bool | None:
    return False if _NO_CAPTIONS.search(text) else None


def read_caption_style(text: str) -> str | None:
    for style, pattern in _STYLES:
        if pattern.search(text):
            return style
    return None


def read_topic(text: str) -> str | None:
    m = _TOPIC.search(text)
    if m:
        topic = _TOPIC_STOP.sub("", m.group("topic")).strip(" '\"“”")
        topic = re.sub(r"^(?:the|a|an|our|their|his|her|my)\s+", "", topic)
        if topic and topic not in _NOT_A_TOPIC and not topic[0].isdigit():
            return topic
    m = _CN_TOPIC.search(text)
    if m:
        return m.group("topic")
    return None


# --- what is left: the words no reader placed ------------------------------------------------

# Words that every request for clips uses ("find the best moments and cut them into shorts"),
# and words about the medium or the platform: none of them says which moments to take.
GENERIC_WORDS = set("""
a an the this that these those it its them they their my our your me us i we you him her he she
and or of from for into to in on at with as by up out then so just only also please pls thanks
find cut make give get create generate generating extract pick split chop clip export render save convert
turn do show send keep want need would like could can will let lets me put split take use try post
each every all some any most more best top good great nice key main interesting engaging viral short long
shareable favourite favorite cool awesome highlight highlights moment moments clip clips shorts videos video
audiogram audiograms waveform waveforms
part parts segment segments piece pieces snippet snippets bit bits cuts reel reels tiktoks tiktok youtube
instagram facebook twitter x format mp4 file files footage raw recording recordings podcast podcasts
podcasters content creators long-form longform single one vertical teasers teaser captions subtitles
anything something everything stuff what is are about how
""".split())
CN_GENERIC = re.compile(r"帮我|给我|请|把|这个|这段|那个|短视频|音频波形|波形|视频|剪成|剪出|剪辑|剪|切成|切|找出|找|做成|做|生成|导出|"
                        r"一下|一些|的|个|段|条|最|精彩|高光|片段|时刻|部分|里|中|出|成|要|我|想|几|吧|呢|啊")
_LEADING = {"and", "or", "then", "please", "pls", "just", "only", "also", "find", "cut", "make", "give", "get",
            "me", "us", "i", "want", "need", "would", "like", "could", "can", "you", "show", "pick", "extract",
            "create", "generate", "take", "so", "but", "it", "them", "this"}
_TRAILING = {"please", "pls", "thanks", "and", "or", "then", "for", "me", "us", "them", "it", "into", "to", "in", "of",
             "from", "with", "as", "at", "on", "by"}
# "every time he talks about pricing": the topic is placed, the way of saying it is not a criterion
_TALKS = re.compile(r"\b(?:(?:the\s+)?(?:parts?|bits?|moments?|times?)\s+)?(?:every\s*time|whenever|when|where)\s+"
                    r"(?:they|he|she|i|we|you|people|someone)\s+(?:talks?|speaks?|discuss(?:es)?|mentions?|says?)\b")
# What every short gets anyway, asked for all the same ("follow whoever is talking", "auto reframe",
# "with subtitles", "for TikTok", "跟随说话人", "自动构图"): understood, nothing to choose moments by.
_ALWAYS_DONE = re.compile(
    r"\b(?:follow(?:s|ing)?|track(?:s|ing)?|focus(?:ed|ing)?\s+on|stay(?:s|ing)?\s+on|stick\s+to|keep(?:ing)?\s+(?:the\s+camera\s+)?on"
    r"|cent(?:er|re)(?:ed|ing)?\s+on|frame|zoom\s+(?:in\s+)?on)\s+"
    r"(?:(?:whoever|whomever|who)(?:'s|\s+is)?\s+(?:talking|speaking)"
    r"|(?:the\s+|each\s+|every\s+)?(?:current\s+|active\s+|main\s+)?(?:speakers?|talkers?|faces?|persons?|people|subjects?"
    r"|guests?|host|one|guy|man|woman)(?:\s+(?:who(?:'s|\s+is|\s+are)?|that(?:'s|\s+is)?)?\s*(?:talking|speaking))?)\b"
    r"|\b(?:keep(?:ing)?\s+)?(?:the\s+)?(?:speakers?|faces?|person|people|subjects?)\s+(?:in\s+(?:the\s+)?(?:frame|view|shot|picture"
    r"|middle|cent(?:er|re))|cent(?:ered|red)|framed|visible)\b"
    r"|\b(?:auto(?:matic(?:ally)?)?|smart|intelligent|ai)[\s-]*(?:re[\s-]?)?(?:fram(?:e|ed|ing)|crop(?:ped|ping)?)\b"
    r"|\bre[\s-]?fram(?:e|ed|ing)\b|\b(?:speaker|face|active[\s-]speaker)[\s-]*(?:tracking|detection|follow(?:ing)?|focus|framing)\b"
    r"|\b(?:with\s+)?(?:auto(?:matic)?[\s-]*|burn(?:ed|t)?[\s-]*in\s+|animated\s+|(?:english|chinese)\s+)?(?:captions?|subtitles?|subs)\b"
    r"|\b(?:for|on)\s+(?:mobile|phones?|social(?:\s+media)?|socials|yt|ig)\b"
    r"|(?:跟随|跟着|跟踪|追踪|对准|聚焦|锁定)(?:正在)?(?:说话|讲话|发言)?的?(?:人|者|人物|人脸)|说话(?:的)?人|人脸(?:跟踪|追踪|识别)"
    r"|(?:说话人|人物|人脸|主播|嘉宾)(?:始终)?(?:居中|在画面中)|(?:自动|智能)(?:构图|裁剪|剪裁|跟踪|追踪|对焦|居中)"
    r"|(?:带|加|配|有|自动)字幕|(?:适合|发|发到|用于|给)?(?:抖音|快手|视频号|小红书|b站)")
# "bigger captions", "captions big", "大字幕": captions come in one size, which the bot says
CAPTION_SIZE = re.compile(
    r"\b(?:big|bigger|large|larger|huge|giant|small|smaller|tiny)\s+(?:captions?|subtitles?|subs|text|font|letters)\b"
    r"|\b(?:captions?|subtitles?|subs|font|text|letters)\s+(?:size\b|(?:(?:much|way|a\s+bit|a\s+little|a\s+lot)\s+)?"
    r"(?:big|bigger|large|larger|huge|small|smaller|tiny)\b)|\b(?:enlarge|shrink)\s+(?:the\s+)?(?:captions?|subtitles?|subs)\b"
    r"|大字幕|小字幕|字幕(?:再)?(?:大|小)(?:一)?(?:点|些)|字幕(?:放大|缩小|加大|变大|变小|大小|字号)|(?:放大|加大|缩小)字幕|字号")


def asks_caption_size(text: str) -> bool:
    return bool(CAPTION_SIZE.search(normalise(text)))


_PLACED_SPANS = [_TALKS, _REEL, _SEPARATE, _OF_THEM, _TOP, _CN_COUNT, _FEW, _COUPLE, _SEVERAL, _NO_CAPTIONS, _TOPIC,
                 _CN_TOPIC, *(pattern for _, pattern in _ASPECTS), *(pattern for _, pattern in _STYLES),
                 CAPTION_SIZE, _ALWAYS_DONE]
_FRAGMENT_BREAK = re.compile(r"[,.;:!?。，；！？、()\[\]\u2063|]+")


def read_unplaced(text: str) -> str | None:
    """The request's words that no reader placed and that are not the usual way of asking
    for clips ("the funniest bits" of "give me the funniest bits, 30 s each"), as written;
    None when nothing is left."""
    for pattern in (_UNDER, _OVER, _BETWEEN):
        text = pattern.sub("|", text)
    text = text.replace(LEN, "|")
    for pattern in _PLACED_SPANS:
        text = pattern.sub("|", text)
    text = _COUNT.sub(lambda m: text_without_number(m), text)
    kept = []
    for fragment in _FRAGMENT_BREAK.split(text):
        words = fragment.split()
        while words and words[0] in _LEADING:
            words.pop(0)
        while words and words[-1] in _TRAILING:
            words.pop()
        phrase = " ".join(words)
        if has_content(phrase):
            kept.append(phrase)
    return ", ".join(kept) or None


def text_without_number(m: re.Match) -> str:
    return m.group(0)[m.end(1) - m.start(0):]


def has_content(phrase: str) -> bool:
    """Does the phrase hold a word that could say which moments to take?"""
    if re.search(r"[\u4e00-\u9fff]", phrase):
        return len(re.findall(r"[\u4e00-\u9fff]", CN_GENERIC.sub("", phrase))) >= 2
    words = [w.strip("'\"“”") for w in re.findall(r"[a-z][a-z'\-]*", phrase)]
    return any(len(w) >= 3 and w not in GENERIC_WORDS for w in words)


# --- lengths -------------------------------------------------------------------------

# "a 3-hour short": a length of one short (longer than any can be), where "a 3-hour video" or
# "podcast" is the source
_NAMES_A_SHORT = re.compile(r"\s*-?\s*(?:long\s+)?(?:vertical\s+|square\s+)?(?:shorts?|clips?|reels?|tiktoks?|highlights?)\b"
                            r"|的?(?:短视频|短片|片段)")
_UNDER = re.compile(rf"(?:\b(?:under|below|less\s+than|at\s+most|max(?:imum)?|no\s+(?:more|longer)\s+than|up\s+to|within|shorter\s+than)\s*{LEN})|(?:{LEN}\s*(?:以内|以下|之内|内))")
_OVER = re.compile(rf"\b(?:over|above|more\s+than|at\s+least|min(?:imum)?|longer\s+than)\s*{LEN}|{LEN}\s*以上")
_BETWEEN = re.compile(rf"(?:between\s+)?(\d+(?:\.\d+)?)\s*(?:-|to|and|~|到|至)\s*{LEN}")


def apply_lengths(request: ClipRequest, text: str, durations: list[tuple[int, float]]) -> None:
    """Clip length and reel length from the durations found, by the words around them."""
    markers = [m.start() for m in re.finditer(LEN, text)]
    request.too_long = next((seconds for pos, (_, seconds) in zip(markers, durations)
                             if seconds > LONGEST_CLIP_SECONDS and _NAMES_A_SHORT.match(text, pos + len(LEN))), None)
    lengths = [seconds for _, seconds in durations if seconds <= LONGEST_CLIP_SECONDS]
    if not lengths:
        return
    kept = [(pos, seconds) for pos, (_, seconds) in zip(markers, durations) if seconds <= LONGEST_CLIP_SECONDS]
    if request.reel:
        request.reel_length = max(lengths)
        shorter = [s for s in lengths if s < request.reel_length]
        if shorter:
            set_length(request, shorter[0])
        return
    pos, seconds = kept[0]
    around = text[max(0, pos - 30): pos + len(LEN) + 8]
    between = _BETWEEN.search(around)
    if between and float(between.group(1)) < seconds:
        low = float(between.group(1))
        if low <= seconds:
            request.length, request.min_length, request.max_length = None, low, seconds
            return
    if _UNDER.search(around):
        request.length, request.min_length, request.max_length = None, min(request.min_length, seconds / 2), seconds
        return
    if _OVER.search(around):
        request.length, request.min_length, request.max_length = None, seconds, max(request.max_length, seconds * 1.5)
        return
    set_length(request, seconds)


def set_length(request: ClipRequest, seconds: float) -> None:
    request.length = seconds
    request.min_length = round(seconds * (1 - LENGTH_TOLERANCE), 2)
    request.max_length = round(seconds * (1 + LENGTH_TOLERANCE), 2)


# --- the whole -------------------------------------------------------------------------

def parse_instruction(text: str | None) -> ClipRequest:
    """What the user asked for; defaults for whatever the text does not say."""
    request = ClipRequest()
    if not text or not text.strip():
        return request
    written, text = text, normalise(in_english(text))
    said = text
    text, request.range_start_fraction, request.range_end_fraction = take_part(text)
    text, request.range_start, request.range_end = take_range(text)
    request.reel = read_reel(text)
    if (resolution := read_resolution(text)) is not None:
        request.resolution = resolution
    text = _RESOLUTION.sub(" ", text)
    text, durations = take_durations(text)
    apply_lengths(request, text, durations)
    if not request.reel:
        request.count = read_count(text)
    request.aspect = read_aspect(text) or request.aspect
    captions = read_captions(text)
    if captions is not None:
        request.captions = captions
    request.caption_style = read_caption_style(text) or request.caption_style
    text, request.language = take_language(text)
    request.topic = read_topic(text)
    request.unplaced = read_unplaced(text)
    request.unplaced_unread = bool(request.unplaced) and (reads_as_spanish(written) or other_language(request.unplaced))
    from engine.exact_cut import read_exact          # it reads this module's ranges

    read_exact(said, request)
    return request

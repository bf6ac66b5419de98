"""Titles from the hook sentence, hashtags from the telling keywords."""
from __future__ import annotations

import functools
import math
import re
from collections import Counter

from engine.chinese_text import is_chinese_text, jieba_words, word_ends
from engine.highlights.candidates import Candidate
from engine.highlights.lexicon import STOPWORDS, has_cjk, tokens
from engine.highlights.scoring import Context
from engine.highlights.sound import clock, strongest_burst
from engine.highlights.sport import excitement_inside
from engine.models import ClipRequest, Sentence

TITLE_CHARS = 70
CJK_TITLE_CHARS = 16            # a Chinese or Japanese title: as many characters as fit one title line
SOUND_TITLES = {
    "en": ("Crowd reaction at {at}", "Loud moment at {at}", "Moment at {at}"),
    "zh": ("{at} 观众反应", "{at} 高能时刻", "{at} 精彩瞬间"),
}
# The plain form names a moment only by when it happens: the chat calls the clip by it, but it is
# not drawn over the picture, where it would say nothing the viewer wants to read.
_AT = r"\d+(?::\d{2}){1,2}"
PLACEHOLDER_TITLE = re.compile("|".join(re.escape(forms[2]).replace(re.escape("{at}"), _AT)
                                        for forms in SOUND_TITLES.values()))
GENERAL_TAGS = {"en": ("#highlights", "#clips"), "zh": ("#精彩瞬间", "#短视频")}
CN_OPENER_FILLER = ("嗯", "啊", "那么", "然后", "所以", "就是", "其实", "好的", "好")
CN_STOPWORDS = set("""
我们 你们 他们 她们 它们 这个 那个 这些 那些 这样 那样 这里 那里 什么 怎么 为什么 因为 所以 但是 然后 而且 如果 就是 还是 或者
那么 这么 已经 可以 没有 不是 一个 一些 自己 时候 现在 知道 觉得 真的 非常 特别 一下 一直 一样 还有 起来 出来 大家 今天 东西 事情
""".split())


def drawn_title(title: str | None) -> str | None:
    """The title to draw over the clip: None for none, or for a placeholder ("Moment at 0:00")."""
    if not title or not title.strip() or PLACEHOLDER_TITLE.fullmatch(title.strip()):
        return None
    return title


def placeholder_in(title: str, lang: str) -> str:
    """A title named by when it happens said in the chat's language ("Moment at 0:12" in a Chinese chat:
    "0:12 精彩瞬间"); any other title as it is."""
    if not title or lang not in SOUND_TITLES:
        return title
    for forms in SOUND_TITLES.values():
        for form, said in zip(forms, SOUND_TITLES[lang]):
            if re.fullmatch(re.escape(form).replace(re.escape("{at}"), _AT), title.strip()):
                return said.format(at=re.search(_AT, title).group())
    return title


def title_for(c: Candidate, ctx: Context) -> str:
    """The hook sentence: the first one, or the second when it hooks much better; trimmed.
    A moment chosen by its sound is named by its strongest burst and when it happens, in
    Chinese when the video's speech is Chinese."""
    if c.kind == "sound":
        crowd, loud, plain = SOUND_TITLES["zh" if any(has_cjk(s.text) for s in ctx.sentences) else "en"]
        strongest = strongest_burst(c, ctx)
        if strongest is None:
            excited = excitement_inside(c.start, c.end, ctx.excitements)
            return (loud if excited else plain).format(at=clock(excited.span[0] if excited else c.start))
        kind = crowd if ctx.burst_noisy[strongest] else loud
        return kind.format(at=clock(ctx.signals.bursts[strongest][0]))
    index = c.first
    if c.last > c.first and ctx.features[c.first + 1].hook >= ctx.features[c.first].hook + 20:
        index = c.first + 1
    return trim_title(ctx.sentences[index].text)


# Words that start an English sentence far more often than they are capitalised inside one.
# Whisper sometimes leaves out the full stop between two sentences but still capitalises the
# second one ("...rewards it even more When people know..."): a title stops there.
SENTENCE_OPENERS = set("""
and but so when what how why if because there they he she we you it it's that's this that the these those
my our your his her their now then here well yeah yes no not just let's don't do does is are was were
""".split())
WORD = re.compile(r"\S+")


def first_sentence(text: str, fewest_words: int = 4) -> str:
    """The text up to where a new sentence starts without a full stop before it: a word from
    SENTENCE_OPENERS written with a capital right after a word ending in a small letter or a
    digit. A first part shorter than `fewest_words` gives way to the next part."""
    starts = [0]
    tokens = list(WORD.finditer(text))
    for before, word in zip(tokens, tokens[1:]):
        bare = word.group().strip("\"'“‘(")
        if (bare[:1].isupper() and not bare[1:2].isupper() and bare.lower().rstrip(",.?!") in SENTENCE_OPENERS
                and re.search(r"[a-z0-9]$", before.group())):
            starts.append(word.start())
    parts = [text[a:b].strip() for a, b in zip(starts, starts[1:] + [len(text)])]
    return next((p for p in parts if len(p.split()) >= fewest_words), max(parts, key=len))


def trim_title(text: str, limit: int = TITLE_CHARS) -> str:
    if not has_cjk(text):
        text = first_sentence(text.strip())
    text = re.sub(r"^(?:and|but|so|or|then|well|okay|ok|now)\b[,\s]*", "", text.strip(), flags=re.I)
    text = text.rstrip(".。 ")
    if has_cjk(text):
        return trim_cjk_title(text, min(limit, CJK_TITLE_CHARS))
    if len(text) > limit:
        cut = text[:limit].rsplit(" ", 1)[0] if " " in text[:limit] else text[:limit]
        text = cut.rstrip(",;:- ") + "…"
    return text[:1].upper() + text[1:]


def trim_cjk_title(text: str, limit: int) -> str:
    """A Chinese title: filler openers gone, cut at the last pause mark or space within `limit`
    characters, or else (there are no spaces between words to cut at) where jieba's last word
    within them ends. Japanese, which jieba does not know, is cut between characters."""
    chinese = is_chinese_text(text)
    for filler in CN_OPENER_FILLER:
        whole = not chinese or jieba_words(text)[0] == filler       # not the 好 of 好多
        if text.startswith(filler) and len(text) > len(filler) + 4 and whole:
            text = text[len(filler):].lstrip("，, ")
            break
    if len(text) <= limit:
        return text.rstrip("，,、 ")
    head = text[:limit]
    cut = max(head.rfind(mark) for mark in "，,、；; ")
    if cut < limit // 2 and chinese:
        cut = max((end for end in word_ends(text) if end <= limit), default=0)
    head = head[:cut] if cut >= limit // 2 else head
    return head.rstrip("，,、；; ") + "…"


CJK_LANGUAGES = {"zh", "ja", "yue"}


def chinese_words(text: str) -> list[str]:
    """Chinese text cut into words by jieba, Han words only."""
    return [w for w in jieba_words(text) if re.fullmatch(r"[\u4e00-\u9fff]+", w)]


def chinese_idf() -> dict[str, float]:
    """How rare each word is in general Chinese text (jieba's IDF table), relative to the median:
    a short clip's own counts cannot tell 下来 ("down") from 银杏 ("ginkgo")."""
    import jieba.analyse

    table = jieba.analyse.default_tfidf
    return _RelativeIdf(table.idf_freq, table.median_idf)


class _RelativeIdf(dict):
    def __init__(self, idf: dict[str, float], median: float):
        super().__init__()
        self.idf, self.median = idf, median

    def get(self, word: str, default: float = 1.0) -> float:
        return self.idf.get(word, self.median) / self.median


def keyword_tokens(text: str, language: str = "en") -> list[str]:
    """Words worth a hashtag: words of four letters or more that are not stopwords (in any
    alphabet; words that run through the whole video are discounted by the caller); for
    Chinese, jieba's words of two characters or more that are not function words; for
    Japanese (no segmenter here), the two-character runs of Han characters."""
    if language in ("zh", "yue") or (has_cjk(text) and language not in CJK_LANGUAGES):
        return [w for w in chinese_words(text) if len(w) >= 2 and w not in CN_STOPWORDS]
    if language in CJK_LANGUAGES:
        han = re.findall(r"[\u4e00-\u9fff]+", text)
        return [run[k: k + 2] for run in han for k in range(len(run) - 1)]
    stopwords = stopwords_of(language)
    return [w.strip("'’") for w in tokens(text) if len(w) >= 4 and w not in stopwords and not w[0].isdigit()]


@functools.lru_cache(maxsize=None)
def stopwords_of(language: str) -> frozenset[str]:
    """English's stop words, and the language's own where the stop-words package has a list (about
    30 languages): a Spanish clip's hashtags were #estará and #tres."""
    from stop_words import StopWordError, get_stop_words

    try:
        own = get_stop_words(language) if language and language != "en" else []
    except StopWordError:
        own = []
    return frozenset(STOPWORDS | {w.lower() for w in own})


def keyword_document_frequency(sentences: list[Sentence], language: str = "en") -> Counter:
    """In how many sentences each keyword occurs; the key "" holds the number of sentences."""
    document = Counter({"": len(sentences)})
    for s in sentences:
        document.update(set(keyword_tokens(s.text, language)))
    return document


def hashtags_for(text: str, document: Counter, request: ClipRequest, language: str = "en",
                 most: int = 5, fewest: int = 3) -> list[str]:
    """3-5 hashtags: the topic asked for, the window's most telling words (frequent here, rare
    in the rest of the video), then #shorts, padded with general tags."""
    counts = Counter(keyword_tokens(text, language))
    sentences = max(1, document[""])
    chinese = language in ("zh", "yue")
    general = chinese_idf() if chinese else {}
    if chinese:          # a word jieba's table does not know is more likely misheard than telling
        counts = Counter({w: n for w, n in counts.items() if w in general.idf})
    ranked = sorted(counts, key=lambda w: (-counts[w] * math.log(1 + sentences / (1 + document[w]))
                                           * general.get(w, 1.0), w))
    tags: list[str] = []
    if request.topic:
        topic = request.topic if has_cjk(request.topic) else request.topic.title()
        tags.append("#" + re.sub(r"\W+", "", topic))
    for word in ranked:
        if len(tags) >= most - 1:
            break
        if "#" + word.lower() not in (t.lower() for t in tags):
            tags.append("#" + word)
    tags.append("#shorts")
    for general in GENERAL_TAGS["zh" if language in ("zh", "yue") else "en"]:
        if len(tags) < fewest:
            tags.append(general)
    return tags

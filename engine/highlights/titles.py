"""Titles from the hook sentence, hashtags from the telling keywords."""
from __future__ import annotations

import math
import re
from collections import Counter

from engine.highlights.candidates import Candidate
from engine.highlights.lexicon import STOPWORDS, has_cjk, tokens
from engine.highlights.scoring import Context
from engine.highlights.sound import clock, strongest_burst
from engine.models import ClipRequest, Sentence

TITLE_CHARS = 70


def title_for(c: Candidate, ctx: Context) -> str:
    """The hook sentence: the first one, or the second when it hooks much better; trimmed.
    A moment chosen by its sound is named by its strongest burst and when it happens."""
    if c.kind == "sound":
        strongest = strongest_burst(c, ctx)
        if strongest is None:
            return f"Moment at {clock(c.start)}"
        kind = "Crowd reaction" if ctx.burst_noisy[strongest] else "Loud moment"
        return f"{kind} at {clock(ctx.signals.bursts[strongest][0])}"
    index = c.first
    if c.last > c.first and ctx.features[c.first + 1].hook >= ctx.features[c.first].hook + 20:
        index = c.first + 1
    return trim_title(ctx.sentences[index].text)


def trim_title(text: str, limit: int = TITLE_CHARS) -> str:
    text = re.sub(r"^(?:and|but|so|or|then|well|okay|ok|now)\b[,\s]*", "", text.strip(), flags=re.I)
    text = text.rstrip(".。 ")
    if len(text) > limit:
        cut = text[:limit].rsplit(" ", 1)[0] if " " in text[:limit] else text[:limit]
        text = cut.rstrip(",;:- ") + "…"
    return text[:1].upper() + text[1:]


CJK_LANGUAGES = {"zh", "ja", "yue"}


def keyword_tokens(text: str, language: str = "en") -> list[str]:
    """Words worth a hashtag: English words that are not stopwords; for Chinese or Japanese
    (no spaces between words), the two-character runs of Han characters."""
    if language in CJK_LANGUAGES or has_cjk(text):
        han = re.findall(r"[\u4e00-\u9fff]+", text)
        return [run[k: k + 2] for run in han for k in range(len(run) - 1)]
    return [w.strip("'") for w in tokens(text) if len(w) >= 4 and w not in STOPWORDS and not w[0].isdigit()]


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
    ranked = sorted(counts, key=lambda w: (-counts[w] * math.log(1 + sentences / (1 + document[w])), w))
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
    for general in ("#highlights", "#clips"):
        if len(tags) < fewest:
            tags.append(general)
    return tags

"""Words that carry meaning (English and Chinese) and what one sentence offers as a hook."""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from engine.models import Sentence

# --- words that carry meaning ------------------------------------------------------------

BOLD_WORDS = {
    "never", "always", "secret", "secrets", "biggest", "best", "worst", "mistake", "mistakes", "truth", "nobody",
    "everyone", "everybody", "nothing", "everything", "wrong", "lie", "myth", "why", "stop", "must",
    "doubled", "tripled", "million", "billion", "fastest", "impossible", "guaranteed", "shocking", "surprising",
    "insane", "crazy",
}
STRONG_WORDS = {
    "amazing", "incredible", "unbelievable", "insane", "crazy", "love", "loved", "hate", "hated", "terrible",
    "awful", "horrible", "beautiful", "shocking", "shocked", "wow", "huge", "massive", "disaster", "furious",
    "excited", "exciting", "scared", "afraid", "terrified", "angry", "brilliant", "fantastic", "perfect",
    "ridiculous", "absolutely", "completely", "totally", "never", "tripled", "doubled", "exploded", "finally",
    "wrong", "best", "worst", "cried", "laughed", "dream", "nightmare", "fail", "failed", "failure", "win", "won",
}
CN_BOLD = ("为什么", "怎么", "秘密", "最", "从来", "永远", "没有人", "所有人", "错", "真相", "千万", "必须")
CN_STRONG = ("太", "非常", "真的", "简直", "惊人", "疯狂", "可怕", "喜欢", "讨厌", "完美", "崩溃", "哇")
NUMBER_WORDS = {"one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "hundred",
                "thousand", "million", "billion", "dozen", "half", "first", "second", "third", "percent"}
VIEWER_WORDS = {"you", "your", "you're", "yourself", "you've", "you'll"}
OPENER_FILLER = ("welcome", "hello", "hi ", "hey ", "thank you", "thanks", "um", "uh", "okay so", "ok so", "alright")
DANGLING_CONJUNCTIONS = {"and", "but", "so", "or", "because", "then", "also", "which", "that", "though", "although", "plus"}
DANGLING_PRONOUNS = {"he", "she", "it", "they", "this", "these", "those", "him", "her", "them", "its", "their", "his", "it's", "they're"}
CN_DANGLING = ("但是", "所以", "然后", "而且", "因为", "他", "她", "它", "这个", "那个")
CONCLUSION_PHRASES = ("lesson", "that's why", "that is why", "the point", "the key", "the secret", "remember",
                      "in the end", "which is why", "turns out", "the result", "bottom line", "that's how", "that is how",
                      "所以说", "总之", "结果")
STOPWORDS = set("""
a about above after again against all am an and any are aren't as at be because been before being below between both
but by can can't cannot could couldn't did didn't do does doesn't doing don't down during each few for from further had
hadn't has hasn't have haven't having he he'd he'll he's her here here's hers herself him himself his how how's i i'd
i'll i'm i've if in into is isn't it it's its itself let's me more most mustn't my myself no nor not of off on once only
or other ought our ours ourselves out over own same shan't she she'd she'll she's should shouldn't so some such than
that that's the their theirs them themselves then there there's these they they'd they'll they're they've this those
through to too under until up very was wasn't we we'd we'll we're we've were weren't what what's when when's where
where's which while who who's whom why why's with won't would wouldn't you you'd you'll you're you've your yours
yourself yourselves just like really know think going want get got one two three also well yeah okay right thing things
said says say make made much many will shall may might bring brings brought give gives gave take takes took goes went
come comes came started start starts look looks looked tell told thank thanks listening lot lots even still back way time times today now next year years day days people
because every something anything nothing everyone everybody first second last little good great new old come came
""".split())


CN_QUESTION_ENDINGS = ("吗", "呢", "么", "吧")
CN_QUESTION_WORDS = ("为什么", "怎么", "什么样", "哪", "谁", "多少", "是不是", "有没有")

# Function words of a few more languages (four letters or more: shorter words never become hashtags).
STOPWORDS |= set("""
pues mucho mucha muchos muchas como cómo cuando donde dónde esta este esto estas estos está están estaba estar
tiene tienen tener todo toda todos todas para pero porque sobre entre desde hasta también bueno bien aquí allí ahora
entonces nada algo alguien siempre nunca solo sólo otro otra otros otras mismo misma muy más menos hacer hace hecho
vamos vale sido eres somos son tengo tenemos cosa cosas creo dice decir puede pueden quiero
avec dans pour mais donc alors aussi comme tout toute tous toutes cette ceux celle elle elles nous vous sont être
avoir fait faire très bien plus moins encore même autre autres quand quoi voilà parce depuis chez leur leurs
aber auch dass denn dies diese dieser dieses doch eine einen einem einer haben hatte wird werden wurde sein sind
nicht noch oder schon sehr über unter wenn weil wieder alle alles etwas immer jetzt kann können muss mehr
para com como mais muito muita isso isto esse essa este esta também quando onde porque ainda então você vocês
sono della delle degli anche come questo questa quello quella perché quando molto tutto tutti sempre ancora
""".split())


def tokens(text: str) -> list[str]:
    """Lower-case words in any alphabet (accents and all: "qué", "größte"), and numbers."""
    return re.findall(r"[^\W\d_][\w'’]*|\d+(?:[.,]\d+)*%?", text.lower())


def has_cjk(text: str) -> bool:
    return bool(re.search(r"[\u4e00-\u9fff]", text))


def is_question(text: str) -> bool:
    """A question mark in any script, a Spanish opening ¿, or (Whisper often leaves Chinese
    unpunctuated) a Chinese question particle or question word."""
    bare = text.strip().rstrip("\"'”’)」』。.")
    if bare.endswith(("?", "？", "؟")) or "¿" in bare:
        return True
    return has_cjk(bare) and (bare.endswith(CN_QUESTION_ENDINGS) or any(w in bare for w in CN_QUESTION_WORDS))


def word_count(text: str) -> int:
    """Words, counting two Han characters as one (Chinese is written without spaces)."""
    return len(tokens(re.sub(r"[\u4e00-\u9fff]", " ", text))) + len(re.findall(r"[\u4e00-\u9fff]", text)) // 2



def stem(word: str) -> str:
    """Crude English stemming, enough to match "price" with "pricing" and "prices"."""
    word = word.lower().removesuffix("'s")
    for suffix in ("ing", "ed", "es", "s", "e"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word



# --- per-sentence features ---------------------------------------------------------------------

@dataclass(frozen=True)
class SentenceFeatures:
    hook: float
    hook_reason: str
    exclamations: int
    strong_words: int
    dangling_start: str | None        # the word a sentence leans on what came before with, if any
    complete: bool                    # ends with an end mark
    concluding: bool
    question: bool


def sentence_features(sentence: Sentence) -> SentenceFeatures:
    text = sentence.text.strip()
    lowered = text.lower()
    words = tokens(text)
    reasons = []
    hook = 10.0
    question = is_question(text)
    if question:
        hook += 35
        reasons.append("opens with a question")
    if re.search(r"[0-9一二三四五六七八九十百千万]", text) or any(w in NUMBER_WORDS for w in words):
        hook += 20
        reasons.append("a number")
    if any(w in VIEWER_WORDS for w in words) or "你" in text:
        hook += 20
        reasons.append("speaks to the viewer")
    bold = [w for w in words if w in BOLD_WORDS] + [w for w in CN_BOLD if w in text]
    if bold:
        hook += 25
        reasons.append(f"a bold claim ({bold[0]})")
    if text.endswith(("!", "！", "¡")) or text.startswith("¡"):
        hook += 10
        reasons.append("exclaimed")
    if 3 <= word_count(text) <= 14:
        hook += 5
    if lowered.startswith(OPENER_FILLER):
        hook -= 25
        reasons.append("opens with a greeting or filler")
    first = words[0] if words else ""
    dangling = None
    if first in DANGLING_CONJUNCTIONS or first in DANGLING_PRONOUNS:
        dangling = first
    elif text.startswith(CN_DANGLING):
        dangling = next(w for w in CN_DANGLING if text.startswith(w))
    return SentenceFeatures(
        hook=float(np.clip(hook, 0, 100)),
        hook_reason=", ".join(reasons) or "a plain statement",
        exclamations=text.count("!") + text.count("！") + text.count("¡"),
        strong_words=sum(1 for w in words if w in STRONG_WORDS) + sum(text.count(w) for w in CN_STRONG),
        dangling_start=dangling,
        complete=text.rstrip("\"'”’)").endswith((".", "!", "?", "。", "！", "？", "…")),
        concluding=any(p in lowered for p in CONCLUSION_PHRASES),
        question=question,
    )



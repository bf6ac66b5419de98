"""An exact cut: the stretch of the video the person named ("cut 0:10 to 0:40", "the whole video"),
as it is, reframed and captioned, instead of a search for the best moments inside it.

The rule (read_exact, called by engine.instructions.parse_instruction). A request is an EXACT cut when

  1. it asks to cut a range named by both ends ("cut / clip / trim / give me / make / export 0:10 to 0:40",
     "把0:10到0:40剪出来", "剪0:10-0:40"; a range alone, "from 5:00 to 20:00", is where to look), or it
     names the whole video ("the whole / entire / full video", "all of it", "整个视频", "完整视频",
     "全部做成竖屏"); and
  2. it says nothing only a search needs: no count over one ("3 clips"), no length ("30-second
     clips"), no reel, no topic, no plural of clips ("clips from 2:00 to 5:00"), no word of choosing
     ("find", "best", "moments", "highlights", "between", "精彩", "找"), and no other words the
     parser could not place ("cut the funny part from 0:10 to 0:40" looks for the funny part).

One end or a share ("in the first 5 minutes",
"after 10:00", "the second half") says where to look: a search. A range longer than a short can be
(LONGEST_CLIP_SECONDS) stays a search, with too_long set so the person is told why (the best moments
in that range are what one short of it can hold); the whole of a video longer than that is the same,
decided where the video's length is known (exact_too_long).

The edges (exact_moment): a cut never splits a word. An asked start inside a word (its heard span,
engine.edges.heard_span) moves to the pause before that word, an asked end inside one to the pause
after it; an asked point between words stays where it is.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Callable

from engine.edges import SEARCH_SECONDS, Edge, end_edge, heard_span, quiet_mask, quietest, start_edge
from engine.highlights.titles import SOUND_TITLES, hashtags_for, keyword_document_frequency, trim_title
from engine.instructions import LONGEST_CLIP_SECONDS, RANGE_BARE, RANGE_FROM_TO, has_content
from engine.models import ClipRequest, ExactSpan, Moment, Sentence, Word
from engine.signals import ENVELOPE_HOP

if TYPE_CHECKING:
    from engine.pipeline import Analysis

NEAR_SECONDS = 0.2          # an asked point in a gap Whisper left, but loud, moves this far at most to the quietest

_WHOLE = re.compile(
    r"\b(?:the\s+|this\s+|my\s+)?(?:whole|entire|full|complete)\s+(?:video|thing|clip|recording|film|footage|file"
    r"|talk|episode|movie|length)\b|\ball\s+of\s+it\b|\bthe\s+whole\s+(?:of\s+)?it\b|\bfrom\s+start\s+to\s+(?:finish|end)\b"
    r"|整个视频|整段视频|完整视频|完整的视频|全片|整部|从头到尾|全部(?=做成|转成|变成|改成|剪成|弄成)|整个(?=做成|转成|变成|改成|剪成|弄成)")
_SEARCH = re.compile(
    r"\b(?:find|search|look\s+for|best|top|moments?|highlights?|between|clips|videos|segments|parts|pieces|snippets"
    r"|interesting|engaging|viral|funn\w*|key|main)\b|精彩|高光|找|最|几个|几段")
_CUT_A_RANGE = re.compile(r"\b(?:cut|clip|trim|crop|give\s+me|make|export|render|extract|turn|convert|keep)\b"
                          r"|剪|截|做成|导出|转成|给我")
# verbs of an exact cut the parser does not place by itself ("trim 0:05-0:20", "把...剪出来")
_CUT_VERBS = re.compile(r"\b(?:trim|crop|cut\s+out|clip\s+out)\b|剪出来|剪下来|截取|截出|截下来|剪出|剪下|剪")


def read_exact(said: str, request: ClipRequest) -> None:
    """Marks `request` exact when `said` (the normalised request) asks for an exact cut by the rule
    above; its unplaced words were the cut's own ("the whole video") and are cleared. A range too long
    for one short stays a search with too_long set."""
    both_ends = bool(RANGE_FROM_TO.search(said) or RANGE_BARE.search(said)) and bool(_CUT_A_RANGE.search(said))
    whole = _WHOLE.search(said)
    if not (both_ends or whole) or _asks_a_search(said, request):
        return
    if both_ends:
        if request.range_start is None or request.range_end is None:
            return
        if request.range_end - request.range_start > LONGEST_CLIP_SECONDS:
            request.too_long = request.range_end - request.range_start
            return
    elif request.range_start is not None or request.range_end is not None:
        return                               # "the first 5 minutes of the whole video": a part, to search
    request.exact, request.count, request.unplaced = True, 1, None


def _asks_a_search(said: str, request: ClipRequest) -> bool:
    defaults = ClipRequest()
    length_asked = request.length is not None or (request.min_length, request.max_length) != (
        defaults.min_length, defaults.max_length)
    if (request.count or 1) > 1 or length_asked or request.reel or request.topic or request.too_long:
        return True
    if request.range_start_fraction is not None or request.range_end_fraction is not None:
        return True
    if _SEARCH.search(said):
        return True
    left = request.unplaced or ""
    for pattern in (_WHOLE, _CUT_VERBS, re.compile(r"做成|转成|变成|弄成|改成")):
        left = pattern.sub(" ", left)
    return has_content(left)


def exact_too_long(request: ClipRequest, duration: float) -> bool:
    """An exact cut of the whole of a video longer than a short can be: it is searched instead
    (request made a search, too_long said)."""
    if not request.exact or request.range_end is not None or duration <= LONGEST_CLIP_SECONDS:
        return False
    request.exact, request.count, request.too_long = False, None, duration
    return True


def exact_span(request: ClipRequest, words: list[Word], envelope, duration: float) -> ExactSpan:
    """The cut for an exact request on a video of `duration` seconds, its edges out of any word."""
    asked_start = max(0.0, request.range_start or 0.0)
    asked_end = min(duration, request.range_end) if request.range_end is not None else duration
    start, end = asked_start, asked_end
    starting = _word_around(words, envelope, asked_start) if asked_start > 0 else None
    if starting is not None:
        index, heard_start = starting[0], starting[1][0]
        start = heard_start
        if len(envelope):
            before = sum(heard_span(words[index - 1], envelope)) / 2 if index > 0 else 0.0
            start = _in_a_pause(envelope, start_edge(envelope, heard_start, before),
                                lambda: start_edge(envelope, heard_start, heard_start - SEARCH_SECONDS))
    elif asked_start > 0:
        start = _quiet_near(envelope, asked_start)
    ending = _word_around(words, envelope, asked_end) if asked_end < duration else None
    if ending is not None:
        index, heard_end = ending[0], ending[1][1]
        end = heard_end
        if len(envelope):
            after = sum(heard_span(words[index + 1], envelope)) / 2 if index + 1 < len(words) else duration
            end = min(duration, _in_a_pause(envelope, end_edge(envelope, heard_end, min(after, duration)),
                                            lambda: end_edge(envelope, heard_end, min(duration, heard_end + SEARCH_SECONDS))))
    elif asked_end < duration:
        end = _quiet_near(envelope, asked_end)
    spoken = any(start <= (w.start + w.end) / 2 <= end for w in words)
    return ExactSpan(asked_start, asked_end, round(start, 3), round(end, 3), starting is not None,
                     ending is not None, request.range_start is None and request.range_end is None, spoken)


def _in_a_pause(envelope, edge: Edge, further: Callable[[], Edge]) -> float:
    """The cut found within the word's neighbours (engine.edges' rule for every clip) when it is quiet
    there; else (fluent speech, where Whisper's word edges are often a syllable off and the cut on them
    took the first sound of the next word: "should ev-") the one found up to SEARCH_SECONDS past the word."""
    return edge.time if _quiet_at(envelope, edge.time) else further().time


def _quiet_at(envelope, t: float) -> bool:
    at = int(t / ENVELOPE_HOP)
    if not 0 <= at < len(envelope):
        return True
    quiet = quiet_mask(envelope, at, at + 1, at)
    return quiet is None or bool(quiet[0])


def _quiet_near(envelope, t: float) -> float:
    """`t` when it is quiet there (a pause); else, Whisper having left a gap where a word is heard, the
    quietest point within NEAR_SECONDS of it."""
    if _quiet_at(envelope, t):
        return t
    at, reach = int(t / ENVELOPE_HOP), int(NEAR_SECONDS / ENVELOPE_HOP)
    return round(quietest(envelope, max(0, at - reach), at + reach + 1, t), 3)


def _word_around(words: list[Word], envelope, t: float) -> tuple[int, tuple[float, float]] | None:
    """(index, heard span) of the word whose sound `t` falls inside, if any."""
    for i, word in enumerate(words):
        if word.end < t - 1.0:
            continue
        if word.start > t + 1.0:
            break
        span = heard_span(word, envelope) if len(envelope) else (word.start, word.end)
        if span[0] < t < span[1]:
            return i, span
    return None


def exact_moment(span: ExactSpan, words: list[Word], language: str, sentences: list[Sentence] = (),
                 request: ClipRequest | None = None) -> Moment:
    """The span as the one moment of the cut: no score (the person chose it, nothing was weighed), its
    words as its text. Named and tagged as any short is (its first whole sentence, the telling words)
    when something is said in it; else by when it starts (a name that is not drawn on the short)."""
    from engine.highlights.sound import clock

    text = " ".join(w.text.strip() for w in words if span.start <= (w.start + w.end) / 2 <= span.end)
    inside = [s for s in sentences if s.start >= span.start - 0.25 and s.end <= span.end + 0.25 and s.text.strip()]
    if inside:
        title = trim_title(inside[0].text)
        tags = hashtags_for(text, keyword_document_frequency(list(sentences), language), request or ClipRequest(), language)
    else:
        title, tags = SOUND_TITLES["zh" if language in ("zh", "yue") else "en"][2].format(at=clock(span.start)), []
    return Moment(rank=1, start=span.start, end=span.end, score=0.0, title=title, hashtags=tags, text=text, asked=True)


def cut_exactly(analysis: "Analysis", request: ClipRequest) -> tuple[Moment, ExactSpan]:
    """The one moment of an exact request on an analysed video, and where its edges are and why."""
    from engine.pipeline import withheld_reason

    words = analysis.transcript.words
    span = exact_span(request, words, analysis.signals.envelope_db, analysis.media.duration)
    moment = exact_moment(span, words, analysis.transcript.language, analysis.sentences, request)
    moment.captions_withheld = withheld_reason(analysis.transcript, moment)
    return moment, span

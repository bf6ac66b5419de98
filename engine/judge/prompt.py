"""What the model reads: a shortlist of candidates, in chunks that fit its context, as chat messages.

Only transcript text goes out: numbered sentences with their times, and each candidate as
a range of those sentences (so overlapping candidates do not repeat their words).

The shortlist covers the whole video (a window every half window-length, so whatever the
request asks for lies inside one) plus the engine's own best windows. Long videos are sent
in chunks of consecutive candidates whose sentences fit half the model's context; each
chunk repeats the last candidates of the one before, so border moments are judged with
the context on both sides and their two verdicts averaged.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from engine.highlights.candidates import Candidate
from engine.models import Sentence

ENGINE_BEST = 10                       # the engine's best windows always on the shortlist
CHUNK_OVERLAP = 2                      # candidates a chunk shares with the one before
PROMPT_SHARE = 0.5                     # of the context; the rest is left for the answer
ANSWER_TOKENS_PER_CANDIDATE = 70

LANGUAGE_NAMES = {"en": "English", "zh": "Chinese", "ja": "Japanese", "ko": "Korean", "es": "Spanish",
                  "fr": "French", "de": "German", "pt": "Portuguese", "it": "Italian", "ru": "Russian",
                  "yue": "Cantonese"}

SYSTEM = """You choose moments of a video to cut into short vertical clips (TikTok, Reels, Shorts).
You get the creator's request, numbered transcript sentences with their times in seconds, and candidate clips, each a range of those sentences.
For EVERY candidate give:
- "id": the candidate's number
- "matches": true when it fits the request, false when it does not
- "score": 0-100, how well it works as a standalone short: a hook in its first seconds, a payoff at its end, clear without the rest of the video
- "reason": one short line saying why
- "title": a catchy title of at most 60 characters, in {language}
- "hashtags": 3 to 5 hashtags, in {language}
- optionally "start" and "end": tighter edges in seconds, a sentence start and a sentence end inside the candidate, only when that makes a better clip
Answer with one JSON object and nothing else: {{"candidates": [{{"id": 1, "matches": true, "score": 80, "reason": "...", "title": "...", "hashtags": ["#..."]}}]}}"""


@dataclass
class Chunk:
    candidates: list[tuple[int, Candidate]]    # (id shown to the model, candidate)
    first_sentence: int
    last_sentence: int


def estimate_tokens(text: str) -> int:
    """About four bytes of UTF-8 a token (a Chinese character is about one)."""
    return math.ceil(len(text.encode("utf-8")) / 4)


def shortlist(candidates: list[Candidate], target: float) -> list[Candidate]:
    """Windows covering the whole speech, half overlapping, plus the engine's best; in time order."""
    speech = [c for c in candidates if c.kind == "speech"]
    nearest_target: dict[int, Candidate] = {}
    for c in speech:
        best = nearest_target.get(c.first)
        if best is None or abs(c.duration - target) < abs(best.duration - target):
            nearest_target[c.first] = c
    chosen: dict[int, Candidate] = {}
    next_start = -math.inf
    for first in sorted(nearest_target):
        c = nearest_target[first]
        if c.start >= next_start:
            chosen[id(c)] = c
            next_start = c.start + c.duration / 2
    if speech:                                       # the walk can stop short of the talk's last words
        ending = max(speech, key=lambda c: (c.end, c.duration))
        if ending.end > max(c.end for c in chosen.values()):
            chosen[id(ending)] = ending
    for c in sorted(speech, key=lambda c: (-c.total, c.start))[:ENGINE_BEST]:
        chosen[id(c)] = c
    return sorted(chosen.values(), key=lambda c: (c.start, c.end))


def sentence_line(index: int, s: Sentence) -> str:
    return f"[{index}] {s.start:.1f}-{s.end:.1f} {s.text.strip()}"


def candidate_line(number: int, c: Candidate) -> str:
    return f"c{number}: sentences {c.first}-{c.last}, {c.start:.1f}-{c.end:.1f} s ({c.duration:.0f} s)"


def chunks(shortlisted: list[Candidate], sentences: list[Sentence], context_tokens: int) -> list[Chunk]:
    """Consecutive candidates whose sentences and answers fit the prompt budget, overlapping."""
    budget = max(512, int(context_tokens * PROMPT_SHARE))
    sentence_tokens = [estimate_tokens(sentence_line(i, s)) + 1 for i, s in enumerate(sentences)]
    numbered = list(enumerate(shortlisted, start=1))
    found: list[Chunk] = []
    i = 0
    while i < len(numbered):
        members = [numbered[i]]
        j = i + 1
        while j < len(numbered):
            trial = members + [numbered[j]]
            if _cost(trial, sentence_tokens) > budget:
                break
            members = trial
            j += 1
        found.append(Chunk(members, min(c.first for _, c in members), max(c.last for _, c in members)))
        if j >= len(numbered):
            break
        i = max(i + 1, j - CHUNK_OVERLAP)
    return found


def _cost(members: list[tuple[int, Candidate]], sentence_tokens: list[int]) -> int:
    first = min(c.first for _, c in members)
    last = max(c.last for _, c in members)
    return (estimate_tokens(SYSTEM) + sum(sentence_tokens[first: last + 1])
            + len(members) * (12 + ANSWER_TOKENS_PER_CANDIDATE))


def criterion(unplaced: str | None, topic: str | None) -> str:
    """The request in words the model reads."""
    parts = [p for p in (unplaced, f"about {topic}" if topic else None) if p]
    return "; ".join(parts) if parts else "the best moments: whatever works best as a standalone short"


def messages(chunk: Chunk, sentences: list[Sentence], request_text: str, language: str) -> list[dict]:
    name = LANGUAGE_NAMES.get(language, language or "the video's language")
    transcript = "\n".join(sentence_line(k, sentences[k]) for k in range(chunk.first_sentence, chunk.last_sentence + 1))
    listed = "\n".join(candidate_line(number, c) for number, c in chunk.candidates)
    user = (f"Request: {request_text}\nVideo language: {name}\n\nTranscript:\n{transcript}\n\n"
            f"Candidates:\n{listed}")
    return [{"role": "system", "content": SYSTEM.format(language=name)}, {"role": "user", "content": user}]

"""Sentences + signals + request -> the moments a person would clip, with the reasons why.

1. Candidates: windows that start on a sentence start and end on a sentence end, as long
   as asked (±15 %, or the nearest sentence edge when no edge falls inside).
2. Each is scored 0-100 on six named parts, each with a one-line reason:
   hook (its first sentence), energy (sound against the video's own level), emotion,
   self-contained (no dangling "and..." or "he..." opening), payoff (a complete ending,
   applause or laughter right after) and topic (what the user asked about).
   Loudness alone is worth little: energy is one part of six.
3. The best non-overlapping windows are chosen, spread over the video; each gets a title
   from its hook sentence and 3-5 hashtags from its keywords. For a compiled reel, the
   best short moments fill the asked total length (within 10%, on sentence edges), in timeline order.

Where nobody speaks (a sports game, music, a skate video, or the quiet stretches of a
mixed video), moments come from the sound instead: each burst (a crowd reaction, a loud
moment) gives a window that starts a few seconds before it, so the build-up is in, and
ends a little after it; its edges are moved to a scene cut or the quietest point near
by, never inside a burst or a sentence. With no speech at all, stretches clearly louder
than the video's usual level are candidates too. Those windows get the same six named
scores, read from the signals, and a title such as "Crowd reaction at 12:34".
"""
from __future__ import annotations

from engine.highlights.candidates import (Candidate, candidate_windows, length_bounds, range_bounds,
                                          sentences_in_range)
from engine.highlights.lexicon import SentenceFeatures, has_cjk, sentence_features, stem, tokens
from engine.highlights.scoring import SCORERS, Context, make_context, topic_words
from engine.highlights.selection import (DEFAULT_COUNT, DEFAULT_REEL_SECONDS, choose_spread, score_candidate,
                                         scored_candidates, select_moments, select_reel)
from engine.highlights.sound import SOUND_SCORERS, sound_candidates
from engine.highlights.titles import hashtags_for, keyword_document_frequency, keyword_tokens, title_for, trim_title

__all__ = [
    "Candidate",
    "Context",
    "DEFAULT_COUNT",
    "DEFAULT_REEL_SECONDS",
    "SCORERS",
    "SOUND_SCORERS",
    "SentenceFeatures",
    "candidate_windows",
    "choose_spread",
    "has_cjk",
    "hashtags_for",
    "keyword_document_frequency",
    "keyword_tokens",
    "length_bounds",
    "make_context",
    "range_bounds",
    "score_candidate",
    "scored_candidates",
    "select_moments",
    "select_reel",
    "sentence_features",
    "sentences_in_range",
    "sound_candidates",
    "stem",
    "title_for",
    "tokens",
    "topic_words",
    "trim_title",
]

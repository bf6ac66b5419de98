"""Which transcribed stretches to believe: Whisper loops and invents text on music, noise and
speech it hears badly. Each check is a small pure function over one segment's text, word
probabilities or sound; `distrust_reason` combines them. A distrusted segment is kept aside
(not captioned, not used for sentences or titles) with the reason.
"""
from __future__ import annotations

import re
import zlib
from dataclasses import replace
from difflib import SequenceMatcher

import numpy as np

from engine.models import Segment, Word

COMPRESSION_LIMIT = 2.4            # Whisper's own threshold for a looping decode
REPEATED_SHARE_LIMIT = 0.5         # half the n-grams of a segment being repeats of earlier ones
MIN_NGRAMS = 6
LOW_PROBABILITY = 0.4              # mean word probability under this: the model was guessing
SURE_READING = 0.75                # a second reading whose words average this is judged as a first one is ...
READINGS_AGREE = 0.55              # ... else readings without its prompt must repeat this share of it
NO_SPEECH_PROBABILITY = 0.6
LOW_LOGPROB = -1.0
SILENCE_DB = -50.0                 # words over sound quieter than this are not speech ...
ABOVE_FLOOR_DB = 12.0              # ... unless this far above the recording's quietest (a voice recorded too low)
DIGITAL_SILENCE_DB = -100.0        # half seconds quieter than this are not counted in the floor
FLOOR_PERCENTILE = 5               # the quietest: this percentile of the half seconds' levels (room tone, pauses)
RECENT_SEGMENTS = 3                # a segment equal to one of the last few is a loop
LOOP_PHRASE_WORDS = 8              # a loop repeats a phrase of up to this many words ...
LOOP_REPEATS = 4                   # ... this many times in a row (a single word: LOOP_REPEATS + 1)
HELD_LETTER = re.compile(r"([^\W\d_])\1{3,}")      # one letter four times running: "Zzzz", "哈哈哈哈"
DIGIT_LOOP = re.compile(r"(\d)\1{12,}")           # one digit more times running than a trillion has zeros

_WIDE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def units(text: str) -> list[str]:
    """The units repetition is counted in: characters for scripts without spaces, else words."""
    if _WIDE.search(text):
        return [ch for ch in text if ch.strip() and (ch.isalnum() or _WIDE.match(ch))]
    return re.findall(r"\w+", text.lower())


def compression_ratio(text: str) -> float:
    data = text.encode("utf-8")
    return len(data) / max(1, len(zlib.compress(data)))


def repeated_share(items: list[str], n: int) -> float:
    """Share of the n-grams that already occurred earlier in the same list."""
    grams = [tuple(items[i: i + n]) for i in range(len(items) - n + 1)]
    if len(grams) < MIN_NGRAMS:
        return 0.0
    seen: set[tuple[str, ...]] = set()
    repeats = 0
    for g in grams:
        repeats += g in seen
        seen.add(g)
    return repeats / len(grams)


def mean_probability(segment: Segment) -> float:
    if not segment.words:
        return 1.0
    return float(np.mean([w.probability for w in segment.words]))


def level_db(audio: np.ndarray, start: float, end: float, rate: int) -> float:
    piece = audio[int(start * rate): max(int(start * rate) + 1, int(end * rate))]
    if len(piece) == 0:
        return -120.0
    return float(20 * np.log10(np.sqrt(np.mean(piece.astype(np.float64) ** 2)) + 1e-10))


def sound_floor(audio: np.ndarray, rate: int, hop: float = 0.5) -> float:
    """The level of a recording's quietest stretches (room tone, the pauses between words), dBFS."""
    size = max(1, int(hop * rate))
    count = len(audio) // size
    if count == 0:
        return -120.0
    blocks = audio[:count * size].reshape(count, size).astype(np.float64)
    levels = 20 * np.log10(np.sqrt(np.mean(blocks ** 2, axis=1)) + 1e-10)
    heard = levels[levels > DIGITAL_SILENCE_DB]          # zeros (padding, a muted intro) are no room tone
    return float(np.percentile(heard, FLOOR_PERCENTILE)) if len(heard) else -120.0


def over_silence(segment: Segment, audio: np.ndarray, rate: int, floor_db: float | None = None) -> bool:
    """Most of the segment's words sit on sound quieter than speech can be: under SILENCE_DB, and
    not ABOVE_FLOOR_DB over the recording's `floor_db`. Words Whisper invents over the room tone
    of a silent video sit on the floor; a voice recorded 35 dB too low stands well above it."""
    words = segment.words or ()
    if not words or audio is None or len(audio) == 0:
        return False
    quiet_under = SILENCE_DB if floor_db is None else min(SILENCE_DB, floor_db + ABOVE_FLOOR_DB)
    quiet = sum(level_db(audio, w.start, w.end, rate) < quiet_under for w in words)
    return quiet > len(words) / 2


def stuck_sound(items: list[str], wide: bool) -> bool:
    """A sound held on ("Zzzzz", "哈哈哈哈哈") or a digit looping ("8,41957777777777777..."). A number
    is no stuck sound: Whisper writes "10,000" as 10000. Spaced scripts are looked at word by word
    ("Well, Lloyd" is two words, not four l's); scripts without spaces as one run of characters."""
    runs = ["".join(items)] if wide else items
    return any(HELD_LETTER.search(run) or DIGIT_LOOP.search(run) for run in runs)


def normalised(text: str) -> str:
    return "".join(units(text))


def distrust_reason(segment: Segment, recent: list[str], audio: np.ndarray | None = None, rate: int = 16000,
                    avg_logprob: float = 0.0, no_speech_prob: float = 0.0, floor_db: float | None = None) -> str:
    """Why this segment is not believed, or "" when it is."""
    text = segment.text.strip()
    items = units(text)
    if not items:
        return "no words"
    if len(text) >= 12 and compression_ratio(text) > COMPRESSION_LIMIT:
        return "repeats itself (compresses too well)"
    wide = bool(_WIDE.search(text))
    for n in ((2, 4) if wide else (1, 2, 3)):
        limit = REPEATED_SHARE_LIMIT if n > 1 or not wide else 0.7
        if n == 1 and not wide:
            continue                       # single words repeat in any normal sentence
        if repeated_share(items, n) > limit:
            return f"a phrase repeated over and over ({n}-grams)"
    if stuck_sound(items, wide):
        return "one sound repeated"
    if normalised(text) and normalised(text) in recent:
        return "the same line again"
    if no_speech_prob > NO_SPEECH_PROBABILITY and avg_logprob < LOW_LOGPROB:
        return "probably not speech"
    if mean_probability(segment) < LOW_PROBABILITY:
        return f"the model was unsure (mean word probability {mean_probability(segment):.2f})"
    if audio is not None and over_silence(segment, audio, rate, floor_db):
        return "text over silence"
    return ""


def mean_word_probability(reading: list[Segment]) -> float:
    """Over all the words of several segments (1.0 without words)."""
    chances = [w.probability for segment in reading for w in segment.words]
    return float(np.mean(chances)) if chances else 1.0


def sure_of_itself(reading: list[Segment]) -> bool:
    """A second reading of a stretch the first left empty, sure enough to be judged as a first one
    is; one less sure is checked against readings of the same sound without its prompt."""
    return mean_word_probability(reading) >= SURE_READING


def agreement(first: str, second: str) -> float:
    """How alike two readings of the same sound are, 0-1: the share of their words (characters
    for scripts without spaces) that match in order (difflib's ratio)."""
    a, b = units(first), units(second)
    if not a and not b:
        return 1.0
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


def second_reading_reason(reading: list[Segment], checks: list[str] | None = None) -> str:
    """Why a second reading of a stretch is not believed, or "" when it may be judged as any text
    is. The first reading heard that stretch and wrote nothing, and the second is prompted with
    the text before it, which a decoder can follow rather than the sound. So a second reading
    unsure of its words (not sure_of_itself) is believed only when `checks`, the texts of the same
    sound read without the prompt (after other silences), say much the same: the sound decides what a voice
    the model can read says, and readings of it agree (0.70-1.0 of the words, measured on speech
    the batched decode dropped after a change of voice); a guess changes with what it was given
    (0.35 on apollo11's radio, whose prompted reading averaged 0.53 of word probability, as the
    first readings of that radio do)."""
    if sure_of_itself(reading) or not checks:
        return ""
    text = "".join(segment.text for segment in reading)
    alike = float(np.mean([agreement(text, check) for check in checks]))
    if alike < READINGS_AGREE:
        return (f"read a second time unsure (mean word probability {mean_word_probability(reading):.2f}), "
                f"and read differently without the text before it ({alike:.2f} alike)")
    return ""


def word_key(word: Word) -> str:
    return "".join(units(word.text))


def loop_runs(words: tuple[Word, ...]) -> list[tuple[int, int]]:
    """[start, end) word index ranges where a phrase repeats itself over and over, back to back:
    Whisper's decoding loops ("We're still here. We're still here. ..." over noisy radio
    speech), whose times often pile up on one instant. "No, no, no, no" and "we will, we
    will, we will" are speech; five of one word or four of a phrase running are not."""
    keys = [word_key(w) for w in words]
    runs, i = [], 0
    while i < len(keys):
        found = None
        for n in range(1, LOOP_PHRASE_WORDS + 1):
            phrase, repeats = keys[i: i + n], 1
            if len(phrase) < n or not any(phrase):
                break
            while keys[i + repeats * n: i + (repeats + 1) * n] == phrase:
                repeats += 1
            if repeats >= LOOP_REPEATS + (n == 1):
                found = (i, i + repeats * n)
                break
        if found:
            runs.append(found)
            i = found[1]
        else:
            i += 1
    return runs


def without_loops(segment: Segment) -> list[tuple[Segment, bool]]:
    """The segment cut into its looping stretches (True) and the speech between them (False),
    each a segment of its own; the segment whole when it does not loop."""
    words = segment.words
    runs = loop_runs(words)
    if not runs:
        return [(segment, False)]
    pieces, cursor = [], 0
    for start, end in runs + [(len(words), len(words))]:
        for first, last, looping in ((cursor, start, False), (start, end, True)):
            if last > first:
                part = words[first:last]
                pieces.append((Segment(part[0].start, part[-1].end, "".join(w.text for w in part), part), looping))
        cursor = end
    return pieces


def split_trusted(segments: list[Segment], audio: np.ndarray | None, rate: int = 16000,
                  scores: list[tuple[float, float]] | None = None) -> tuple[list[Segment], list[Segment]]:
    """(trusted, distrusted with their reason). `scores` are (avg_logprob, no_speech_prob) per segment."""
    trusted: list[Segment] = []
    distrusted: list[Segment] = []
    recent: list[str] = []
    floor_db = sound_floor(audio, rate) if audio is not None else None
    for i, whole in enumerate(segments):
        avg_logprob, no_speech = scores[i] if scores else (0.0, 0.0)
        for segment, looping in without_loops(whole):
            reason = ("a phrase repeated over and over (a loop)" if looping
                      else distrust_reason(segment, recent, audio, rate, avg_logprob, no_speech, floor_db))
            if reason:
                distrusted.append(replace(segment, distrust=reason))
            else:
                trusted.append(segment)
            recent = (recent + [normalised(segment.text)])[-RECENT_SEGMENTS:]
    return trusted, distrusted

"""engine.sentences: words grouped on end punctuation and pauses."""
from __future__ import annotations

from engine.models import Word
from engine.sentences import ends_sentence, split_sentences


def words_from(spec: str, start: float = 0.0, step: float = 0.3, gaps: dict[int, float] | None = None) -> list[Word]:
    """' Hello world. How are' -> Words 0.25 s long, 0.05 s apart; gaps[i] adds a pause before word i."""
    words, t = [], start
    for i, text in enumerate(spec.split(" ")):
        t += (gaps or {}).get(i, 0.0)
        words.append(Word(round(t, 3), round(t + step - 0.05, 3), " " + text))
        t += step
    return words


def test_splits_on_end_punctuation_with_exact_edges():
    words = words_from("Hello there. How are you? Fine!")
    sentences = split_sentences(words)
    assert [s.text for s in sentences] == ["Hello there.", "How are you?", "Fine!"]
    assert sentences[0].start == words[0].start and sentences[0].end == words[1].end
    assert sentences[1].start == words[2].start and sentences[1].end == words[4].end
    assert sentences[2].words == (words[5],)


def test_a_long_pause_ends_a_sentence_without_punctuation():
    words = words_from("so we went home and then it rained", gaps={5: 1.5})
    sentences = split_sentences(words)
    assert [s.text for s in sentences] == ["so we went home and", "then it rained"]


def test_a_short_pause_does_not():
    words = words_from("so we went home and then it rained", gaps={5: 0.4})
    assert len(split_sentences(words)) == 1


def test_abbreviations_and_numbers_do_not_end_sentences():
    words = words_from("Dr. Smith paid 3.5 dollars, e.g. for bread. Done.")
    assert [s.text for s in split_sentences(words)] == ["Dr. Smith paid 3.5 dollars, e.g. for bread.", "Done."]


def test_letters_with_full_stops_end_a_sentence_only_before_a_capital():
    words = words_from("on your toy to see a lamb E .E .A. zone. Okay, we are in the U.K. Then home.")
    assert [s.text for s in split_sentences(words)] == ["on your toy to see a lamb E .E .A. zone.",
                                                         "Okay, we are in the U.K.", "Then home."]


def test_closing_quotes_and_brackets_after_the_mark():
    assert ends_sentence(' "Stop."')
    assert ends_sentence(" it!)")
    assert not ends_sentence(" Mr.")
    assert not ends_sentence(" well,")


def test_chinese_punctuation():
    words = [Word(0.0, 0.4, "我们"), Word(0.4, 0.8, "开始。"), Word(0.9, 1.2, "真的"), Word(1.2, 1.5, "吗？")]
    sentences = split_sentences(words)
    assert [s.text for s in sentences] == ["我们开始。", "真的吗？"]


def test_a_very_long_run_is_split_at_its_longest_pause():
    # 80 words without a full stop, 0.3 s each: 24 s; the biggest gap (0.9 s) is before word 50.
    words = words_from(" ".join(["word"] * 80), gaps={20: 0.5, 50: 0.9})
    sentences = split_sentences(words, longest=20.0)
    assert len(sentences) == 2
    assert sentences[1].words[0] == words[50]
    assert all(s.end - s.start <= 20.0 for s in sentences)


def test_empty_and_blank_words():
    assert split_sentences([]) == []
    sentences = split_sentences([Word(0, 0.2, " "), Word(0.3, 0.6, " Yes.")])
    assert [s.text for s in sentences] == ["Yes."]
    assert sentences[0].start == 0.3


def test_trailing_words_without_punctuation_form_a_sentence():
    sentences = split_sentences(words_from("One. and then"))
    assert [s.text for s in sentences] == ["One.", "and then"]


def test_on_a_real_transcript(talk_analysis):
    """Every sentence of the espeak-ng talk starts at its first word and ends at its last word."""
    sentences = talk_analysis.sentences
    assert len(sentences) >= 8
    for s in sentences:
        assert s.start == s.words[0].start and s.end == s.words[-1].end
    assert [w for s in sentences for w in s.words] == [w for w in talk_analysis.transcript.words if w.text.strip()]

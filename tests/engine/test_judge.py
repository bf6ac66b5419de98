"""engine.judge: the optional language model, against a fake OpenAI-compatible server on
loopback (tests/fake_llm.py) that the real `openai` client talks to. Transcripts are built
directly as Sentence objects, so nothing here depends on what Whisper hears."""
from __future__ import annotations

import asyncio
import json
import logging
import socket
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from bot.settings import Settings
from engine.instructions import parse_instruction
from engine.judge import Judge
from engine.judge.prompt import CHUNK_OVERLAP, estimate_tokens, shortlist
from engine.models import EngineConfig, JudgeSettings, MediaInfo, Sentence, Signals, Transcript, Word
from engine.pipeline import Analysis, choose
from tests.fake_llm import FakeLLM, PromptCandidate, prefer, verdicts

HOP = 0.5
SECRET = "sk-test-0123456789-do-not-log-me"

DULL = [
    "The meeting room has green chairs and a small table by the door.",
    "Our office is on the second floor of the old post building.",
    "The printer is next to the kitchen and it prints in black and white.",
    "We order paper every month from the same supplier.",
    "The parking spaces are numbered from one to twenty.",
]
HOOK = [  # what the engine alone loves: a question with a number, an exclamation, a conclusion, applause
    "Do you want to know the secret that doubled our sales?",
    "We gave free bread to every child, and the parents loved it!",
    "That is the lesson.",
    "Generosity brings customers back.",
]
STORY = [  # the planted story, told calmly: the engine finds little in it
    "My grandfather kept the lighthouse on the island for forty years.",
    "Every night he climbed the stairs with a lamp in his hand.",
    "One winter the lamp went out during a storm.",
    "He held a candle at the window until the fishing boat came home.",
]
JOKE = [
    "A banana walked into the bakery and asked for a loaf of bread.",
    "The baker said we do not serve fruit in here.",
    "The banana said that is fine, I am only here for the bread.",
]


def sentence(start: float, end: float, text: str) -> Sentence:
    parts = text.split(" ")
    step = (end - start) / len(parts)
    words = tuple(Word(round(start + i * step, 3), round(start + (i + 1) * step - 0.02, 3), " " + p)
                  for i, p in enumerate(parts))
    return Sentence(start=words[0].start, end=words[-1].end, text=text, words=words)


def talk(texts: list[str], each: float = 4.0, pause: float = 0.6) -> list[Sentence]:
    out, t = [], 0.5
    for text in texts:
        out.append(sentence(t, t + each, text))
        t += each + pause
    return out


def analysis_of(sentences: list[Sentence], applause_after: str | None = HOOK[-1]) -> Analysis:
    duration = sentences[-1].end + 3.0
    frames = int(np.ceil(duration / HOP))
    loudness = np.full(frames, -30.0, dtype=np.float32)
    rate = np.full(frames, 2.5, dtype=np.float32)
    bursts = []
    for s in sentences:
        if s.text == applause_after:
            burst = (s.end + 0.2, s.end + 3.0)
            bursts.append(burst)
            loudness[int(burst[0] / HOP): int(burst[1] / HOP)] = -12.0
            rate[int(burst[0] / HOP): int(burst[1] / HOP)] = 0.0
    signals = Signals(hop=HOP, loudness_db=loudness, bursts=tuple(bursts), scene_cuts=(), speech_rate=rate,
                      noisiness=np.full(frames, 0.05, dtype=np.float32))
    media = MediaInfo(path=Path("talk.mp4"), kind="video", container="mov,mp4", extension="mp4", duration=duration,
                      size_bytes=1, has_video=True, has_audio=True, width=320, height=180, fps=25.0)
    transcript = Transcript(language="en", duration=duration)
    return Analysis(media=media, transcript=transcript, sentences=sentences, signals=signals)


def office_talk() -> Analysis:
    """~2.5 minutes: dull, the hook passage (with applause), dull, the planted story, a joke, dull."""
    return analysis_of(talk(DULL * 2 + HOOK + DULL + STORY + DULL + JOKE + DULL))


def config_for(fake: FakeLLM | None = None, url: str | None = None, **judge) -> EngineConfig:
    settings = JudgeSettings(url=url or fake.base_url, model="fake-judge", api_key=SECRET, **judge)
    return EngineConfig(cache_dir=Path("unused"), judge=settings)


def picks(moments) -> list[tuple]:
    return [(m.start, m.end, m.score, m.title) for m in moments]


@pytest.fixture
async def fake_llm():
    async with FakeLLM() as server:
        yield server


# --- the model changes what is chosen ------------------------------------------------------

async def test_a_model_that_prefers_the_planted_story_changes_the_ranking(fake_llm):
    analysis = office_talk()
    request = parse_instruction("two 30-second clips")
    alone = choose(analysis, request)
    assert "secret that doubled" in alone[0].text and "lighthouse" not in alone[0].text

    fake_llm.reply = prefer(("lighthouse",))
    judge = Judge(config_for(fake_llm).judge, request, analysis.media.duration)
    judged = await asyncio.to_thread(choose, analysis, request, None, judge)

    top = judged[0]
    assert "lighthouse" in top.text
    assert top.scores["model"] == 96 and "hook" in top.scores          # the engine's sub-scores are still there
    assert top.reasons[0].startswith("score ") and "model 96" in top.reasons[0] and "engine" in top.reasons[0]
    assert any(r.startswith("model 96: tells the story") for r in top.reasons)
    assert any(r.startswith("hook ") for r in top.reasons)
    assert top.title == "The planted story" and top.hashtags[:3] == ["#story", "#planted", "#test"]
    assert "title and hashtags from the model" in top.reasons
    assert judge.report.fallback is None and judge.report.calls == len(fake_llm.requests) == 1
    prompt = fake_llm.prompts[0]
    assert prompt.request.startswith("the best moments") and prompt.language == "English"
    assert "English" in prompt.system


async def test_a_request_only_the_model_can_read_selects_what_it_says(fake_llm):
    analysis = office_talk()
    request = parse_instruction("give me the funniest bits")
    assert request.unplaced == "the funniest bits"
    alone = choose(analysis, request)
    assert not all("banana" in m.text for m in alone)

    fake_llm.reply = prefer(("banana",), title="A banana walks into a bakery")
    judged = await asyncio.to_thread(choose, analysis, request, config_for(fake_llm))

    assert judged and all("banana" in m.text for m in judged)
    assert judged[0].title == "A banana walks into a bakery"
    assert all(p.request == "the funniest bits" for p in fake_llm.prompts)


async def test_in_a_range_and_in_a_reel_the_model_reads_the_same_sentences_the_engine_cut(fake_llm):
    analysis = office_talk()
    fake_llm.reply = prefer(("banana",))
    ranged = parse_instruction("the funniest bits from 1:50 to 2:40, 15-second clips")
    judged = await asyncio.to_thread(choose, analysis, ranged, config_for(fake_llm))
    assert judged and all("banana" in m.text and 110 <= m.start and m.end <= 160 for m in judged)
    assert all(p.candidates[0].start >= 110 for p in fake_llm.prompts)

    reel = parse_instruction("compile a 20-second reel of the funniest bits")
    [moment] = await asyncio.to_thread(choose, analysis, reel, config_for(fake_llm))
    banana = [s for s in analysis.sentences if "banana" in s.text]
    assert moment.segments and all(any(start <= b.start and b.end <= end for b in banana)
                                   for start, end in moment.segments)        # every piece is one the model chose


async def test_no_match_keeps_every_candidate_and_says_so(fake_llm):
    analysis = office_talk()
    request = parse_instruction("where they sing opera")
    fake_llm.reply = lambda prompt: verdicts(prompt, lambda c: {"matches": False, "score": 50})
    judged = await asyncio.to_thread(choose, analysis, request, config_for(fake_llm))
    assert 3 <= len(judged) <= 5             # no count asked: the strong ones, at most five
    assert all(any("does not match the request" in r for r in m.reasons) for m in judged)
    assert all(m.title and m.hashtags and "title and hashtags from the engine" in m.reasons for m in judged)


async def test_the_model_is_asked_for_titles_in_the_videos_language(fake_llm):
    analysis = office_talk()
    analysis = replace(analysis, transcript=Transcript(language="zh", duration=analysis.media.duration))
    fake_llm.reply = prefer(("lighthouse",), title="灯塔的故事", hashtags=("#灯塔", "#故事", "#爷爷"))
    [moment] = await asyncio.to_thread(choose, analysis, parse_instruction("one clip"), config_for(fake_llm))
    [prompt] = fake_llm.prompts
    assert prompt.language == "Chinese" and "in Chinese" in prompt.system
    assert moment.title == "灯塔的故事" and moment.hashtags == ["#灯塔", "#故事", "#爷爷", "#shorts"]


async def test_tighter_edges_on_sentence_edges_are_used_and_others_are_not(fake_llm):
    analysis = office_talk()
    story = [s for s in analysis.sentences if s.text in STORY]
    request = parse_instruction("one clip between 10 and 60 seconds")

    def tighten(prompt, start, end):
        return verdicts(prompt, lambda c: ({"matches": True, "score": 99, "start": start, "end": end}
                                           if c.start <= story[0].start and story[-1].end <= c.end else {}))

    fake_llm.reply = lambda prompt: tighten(prompt, story[0].start, story[-1].end)
    [moment] = await asyncio.to_thread(choose, analysis, request, config_for(fake_llm))
    assert (moment.start, moment.end) == (story[0].start, story[-1].end)
    assert any("edges tightened by the model" in r for r in moment.reasons)

    fake_llm.reply = lambda prompt: tighten(prompt, story[0].start + 2.0, story[-1].end - 2.0)    # mid-sentence
    [moment] = await asyncio.to_thread(choose, analysis, request, config_for(fake_llm))
    assert moment.start <= story[0].start and story[-1].end <= moment.end
    assert (moment.start, moment.end) != (story[0].start, story[-1].end)
    assert any("edges" in r and "not used" in r for r in moment.reasons)


# --- never worse than without it ----------------------------------------------------------

def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


FAILURES = {
    "malformed JSON": ("reply", lambda prompt: "Sure! The second candidate is the best one.", "not the JSON asked for"),
    "wrong JSON shape": ("reply", lambda prompt: {"candidates": [{"id": 1, "score": "very good"}]},
                         "not the JSON asked for"),
    "a 500": ("status", 500, "the server answered 500"),
    "a timeout": ("hang", None, "no answer within 0.3 s"),
    "a refusal": ("refuse", None, "the model refused"),
    "an answer cut off": ("cut off", None, "the answer was cut off"),
    "times outside the video": ("reply", lambda prompt: verdicts(prompt, lambda c: {
        "score": 99, "start": c.start, "end": c.end + 900.0}), "times outside the video"),
    "an unreachable URL": ("unreachable", None, "could not reach http://127.0.0.1:"),
}


@pytest.mark.parametrize("failure", list(FAILURES))
async def test_every_failure_falls_back_to_the_engines_ranking_with_one_log_line(fake_llm, caplog, failure):
    how, value, reason = FAILURES[failure]
    analysis = office_talk()
    request = parse_instruction("give me the funniest bits, 30 s each")
    alone = choose(analysis, request)
    url = None
    if how == "reply":
        fake_llm.reply = value
    elif how == "unreachable":
        url = f"http://127.0.0.1:{closed_port()}/v1"
    else:
        fake_llm.fail(how, value)
    config = config_for(fake_llm, url=url, timeout_s=0.3)
    judge = Judge(config.judge, request, analysis.media.duration)

    with caplog.at_level(logging.WARNING):
        judged = await asyncio.to_thread(choose, analysis, request, None, judge)

    assert picks(judged) == picks(alone)
    assert [m.reasons for m in judged] == [m.reasons for m in alone]
    assert reason in judge.report.fallback
    lines = [r for r in caplog.records if r.name.startswith("engine.judge")]
    assert len(lines) == 1 and reason in lines[0].getMessage() and "engine's ranking stands" in lines[0].getMessage()
    assert SECRET not in caplog.text


async def test_the_api_key_is_sent_but_never_logged(fake_llm, caplog):
    analysis = office_talk()
    request = parse_instruction("the funniest bits")
    fake_llm.reply = prefer(("banana",))
    with caplog.at_level(logging.DEBUG):
        await asyncio.to_thread(choose, analysis, request, config_for(fake_llm))
        fake_llm.fail("status", 401)
        await asyncio.to_thread(choose, analysis, request, config_for(fake_llm))
        await asyncio.to_thread(choose, analysis, request, config_for(url=f"http://127.0.0.1:{closed_port()}/v1"))
    assert all(r.headers["Authorization"] == f"Bearer {SECRET}" for r in fake_llm.requests)
    assert caplog.records and SECRET not in caplog.text
    assert SECRET not in repr(config_for(fake_llm)) and SECRET not in repr(Settings(_env_file=None, llm_api_key=SECRET))


def test_settings_make_the_judge_only_with_a_url_and_a_model():
    assert Settings(_env_file=None).engine_config().judge is None
    assert Settings(_env_file=None, llm_url="http://localhost:11434/v1").engine_config().judge is None
    judge = Settings(_env_file=None, llm_url="http://localhost:11434/v1", llm_model="qwen2.5", llm_api_key=SECRET,
                     llm_timeout_s=5, llm_weight=0.3).engine_config().judge
    assert (judge.url, judge.model, judge.api_key, judge.timeout_s, judge.weight) == (
        "http://localhost:11434/v1", "qwen2.5", SECRET, 5.0, 0.3)


# --- long videos in chunks -------------------------------------------------------------------

async def test_a_long_video_goes_in_overlapping_chunks_that_fit_the_context(fake_llm):
    texts = DULL * 30 + STORY + DULL * 10            # ~13 minutes, the story near the end
    analysis = analysis_of(talk(texts), applause_after=None)
    request = parse_instruction("one 30-second clip")
    fake_llm.reply = prefer(("lighthouse",))
    judge = Judge(config_for(fake_llm, context_tokens=2048).judge, request, analysis.media.duration)

    [moment] = await asyncio.to_thread(choose, analysis, request, None, judge)

    assert "lighthouse" in moment.text
    prompts = fake_llm.prompts
    assert judge.report.calls == len(prompts) >= 3
    for record in fake_llm.requests:
        assert sum(estimate_tokens(m["content"]) for m in record.body["messages"]) <= 1024
    for before, after in zip(prompts, prompts[1:]):
        shared = {(c.start, c.end) for c in before.candidates} & {(c.start, c.end) for c in after.candidates}
        assert len(shared) == CHUNK_OVERLAP
    sent = {(c.start, c.end) for p in prompts for c in p.candidates}
    speech_end = analysis.sentences[-1].end
    covered = np.zeros(int(speech_end) + 1, dtype=bool)
    for start, end in sent:
        covered[int(start) + 1: int(end)] = True
    assert covered[2: int(speech_end) - 1].all()             # every stretch of the talk was shown to the model


def test_the_shortlist_holds_the_engines_best_and_covers_the_talk():
    from engine.highlights import length_bounds, scored_candidates

    analysis = office_talk()
    request = parse_instruction("30-second clips")
    low, high, target = length_bounds(request)
    scored, _ = scored_candidates(analysis.sentences, analysis.signals, request, analysis.media.duration,
                                  low, high, target)
    chosen = shortlist(scored, target)
    best = max(scored, key=lambda c: c.total)
    assert best in chosen and len(chosen) < len(scored)
    for a, b in zip(chosen, chosen[1:]):
        assert b.start <= a.end                       # no gap between consecutive windows


# --- end to end on a spoken talk -------------------------------------------------------------

@pytest.mark.slow
async def test_clip_with_a_model_on_a_spoken_talk(fake_llm, highlight_talk, engine_config, tmp_path):
    """The pipeline on the bakery talk (espeak-ng, Whisper): the fake picks the candidate that
    starts last, whatever words were heard; clips.json shows the model's choice and reasons."""
    from engine.pipeline import clip

    def latest(prompt):
        last = max(prompt.candidates, key=lambda c: c.start)
        return verdicts(prompt, lambda c: {"score": 97, "title": "Ending"} if c is last else {"score": 5})

    fake_llm.reply = latest
    config = replace(engine_config, judge=config_for(fake_llm).judge)
    clip_set = await asyncio.to_thread(clip, highlight_talk[0], "one 15-second clip", tmp_path, config, False)
    offered = max((c for p in fake_llm.prompts for c in p.candidates), key=lambda c: c.start)
    data = json.loads((tmp_path / "clips.json").read_text())
    [chosen] = data["clips"]
    # the offered window, its cuts moved into the pauses around it (engine.edges)
    assert abs(chosen["start"] - offered.start) < 0.65 and abs(chosen["end"] - offered.end) < 0.65
    assert chosen["title"] == "Ending" and chosen["scores"]["model"] == 97
    assert any(r.startswith("model 97") for r in chosen["reasons"])
    assert clip_set.moments[0].title == "Ending"

"""An optional language model that reads the request and judges the candidate moments.

Off unless EngineConfig.judge is set (LLM_URL, LLM_MODEL in the bot's settings): then
engine.pipeline.choose hands a Judge to engine.highlights.select_moments, which lets it
re-rank the scored candidates before the best are chosen. Only transcript text is sent.

    client.py    one chat completion through the `openai` library; failures as JudgeUnavailable
    prompt.py    the shortlist, chunks that fit the context (overlapping), the messages
    schema.py    the answer as pydantic models; MalformedAnswer
    ranking.py   Judge: ask, check, combine with the engine's sub-scores, titles and hashtags
"""
from engine.judge.client import JudgeUnavailable
from engine.judge.ranking import Judge, JudgeReport
from engine.judge.schema import Answer, MalformedAnswer, Verdict, parse_answer

__all__ = ["Answer", "Judge", "JudgeReport", "JudgeUnavailable", "MalformedAnswer", "Verdict", "parse_answer"]

"""A fake OpenAI-compatible chat-completions server on loopback (aiohttp, port 0).

It speaks the documented protocol (POST {base}/chat/completions with a bearer key; a
`chat.completion` object with choices, message, finish_reason and usage; errors as
`{"error": {...}}` with a status code), so the real `openai` client is exercised.

What it answers is scripted per test with `fake.reply = fn(prompt) -> str | dict`:
`prompt` is the request parsed back (the request line, the transcript sentences, the
candidates as sentence ranges), so a scripted "model" reads the candidates as a real one
would. `fake.fail(...)` makes the next calls answer a status code, hang past the
client's timeout, or refuse. Every request is recorded with its headers.
"""
from __future__ import annotations

import asyncio
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from aiohttp import web

_SENTENCE = re.compile(r"^\[(\d+)\] ([\d.]+)-([\d.]+) (.*)$", re.M)
_CANDIDATE = re.compile(r"^c(\d+): sentences (\d+)-(\d+), ([\d.]+)-([\d.]+) s", re.M)


@dataclass
class PromptCandidate:
    id: int
    start: float
    end: float
    sentence_ids: list[int]
    text: str                                    # its sentences, joined


@dataclass
class Prompt:
    request: str
    language: str
    system: str
    sentences: dict[int, tuple[float, float, str]]
    candidates: list[PromptCandidate]


def read_prompt(body: dict) -> Prompt:
    system = next(m["content"] for m in body["messages"] if m["role"] == "system")
    user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    sentences = {int(i): (float(s), float(e), text) for i, s, e, text in _SENTENCE.findall(user)}
    candidates = []
    for cid, first, last, start, end in _CANDIDATE.findall(user):
        ids = list(range(int(first), int(last) + 1))
        candidates.append(PromptCandidate(int(cid), float(start), float(end), ids,
                                          " ".join(sentences[k][2] for k in ids if k in sentences)))
    request = re.search(r"^Request: (.*)$", user, re.M).group(1)
    language = re.search(r"^Video language: (.*)$", user, re.M).group(1)
    return Prompt(request, language, system, sentences, candidates)


def verdicts(prompt: Prompt, judge: Callable[[PromptCandidate], dict]) -> str:
    """A JSON answer with `judge(candidate)` merged over a plain verdict, for every candidate."""
    out = []
    for c in prompt.candidates:
        verdict = {"id": c.id, "matches": False, "score": 30, "reason": "nothing special",
                   "title": None, "hashtags": []}
        verdict.update(judge(c))
        out.append(verdict)
    return json.dumps({"candidates": out})


def prefer(words: tuple[str, ...], title: str = "The planted story", hashtags=("#story", "#planted", "#test")
           ) -> Callable[[Prompt], str]:
    """A model that loves candidates mentioning any of `words` and finds the rest dull."""
    def reply(prompt: Prompt) -> str:
        def judge(c: PromptCandidate) -> dict:
            hit = any(w in c.text.lower() for w in words)
            return ({"matches": True, "score": 96, "reason": f"tells the story ({words[0]})", "title": title,
                     "hashtags": list(hashtags)} if hit else {"matches": False, "score": 12, "reason": "dull"})
        return verdicts(prompt, judge)
    return reply


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class FakeLLM:
    reply: Callable[[Prompt], str | dict] = field(default=lambda prompt: verdicts(prompt, lambda c: {}))
    requests: list[Recorded] = field(default_factory=list)
    base_url: str = ""
    _fault: tuple[str, Any] | None = None
    _runner: web.AppRunner | None = None
    _release: asyncio.Event | None = None

    def fail(self, how: str, value: Any = None) -> None:
        """'status' (value: the code), 'hang' (never answer until the server stops), 'refuse',
        'cut off' (half an answer, finish_reason "length")."""
        self._fault = (how, value)

    @property
    def prompts(self) -> list[Prompt]:
        return [read_prompt(r.body) for r in self.requests]

    async def __aenter__(self) -> "FakeLLM":
        self._release = asyncio.Event()
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._completions)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}/v1"
        return self

    async def __aexit__(self, *exc) -> None:
        self._release.set()
        await self._runner.cleanup()

    async def _completions(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(Recorded(request.path, dict(request.headers), body))
        if self._fault is not None:
            how, value = self._fault
            if how == "status":
                return web.json_response({"error": {"message": "the model crashed", "type": "server_error",
                                                    "code": None}}, status=value)
            if how == "hang":
                await self._release.wait()
                return web.json_response({"error": {"message": "gone"}}, status=503)
            if how == "refuse":
                return web.json_response(_completion(body, None, refusal="I can't help with that."))
            if how == "cut off":
                return web.json_response(_completion(body, '{"candidates": [{"id": 1, "sco', finish_reason="length"))
        content = self.reply(read_prompt(body))
        if isinstance(content, dict):
            content = json.dumps(content)
        return web.json_response(_completion(body, content))


def _completion(body: dict, content: str | None, refusal: str | None = None, finish_reason: str = "stop") -> dict:
    prompt_tokens = sum(len(m["content"].encode()) // 4 for m in body["messages"])
    completion_tokens = len((content or "").encode()) // 4
    return {
        "id": f"chatcmpl-{time.monotonic_ns()}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body["model"],
        "choices": [{"index": 0, "finish_reason": finish_reason, "logprobs": None,
                     "message": {"role": "assistant", "content": content, "refusal": refusal}}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "total_tokens": prompt_tokens + completion_tokens},
    }

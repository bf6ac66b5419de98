"""One chat completion from any OpenAI-compatible endpoint, through the `openai` client library.

The library knows the protocol every such server speaks (OpenAI, Ollama, llama.cpp's server,
vLLM, LM Studio): paths, the bearer key, usage counts, refusals, and typed errors for a
timeout, a refused connection or a status code, which become one JudgeUnavailable with a
short reason. The engine runs in worker threads, so the synchronous client is enough.
Retries are off: a failed call means this cut keeps the engine's own ranking.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from engine.models import JudgeSettings

if TYPE_CHECKING:
    import openai

logging.getLogger("openai").setLevel(logging.WARNING)     # older versions logged whole requests at DEBUG


class JudgeUnavailable(Exception):
    """The model gave no usable answer; str() says why in a few words (never the key)."""


@dataclass(frozen=True)
class Completion:
    text: str
    prompt_tokens: int | None               # as the server counted them, when it says
    completion_tokens: int | None


def endpoint(url: str) -> str:
    """The URL without any user:password part, for log lines."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return f"{parts.scheme}://{host}{parts.path}"


def make_client(settings: JudgeSettings) -> openai.OpenAI:
    # Imported here, not above: the library takes about a second of CPU to import, and every bot
    # and worker process imports the engine while few of them ever have a judge configured.
    import openai

    return openai.OpenAI(base_url=settings.url, api_key=settings.api_key or "none",
                         timeout=settings.timeout_s, max_retries=0)


def complete(client: openai.OpenAI, settings: JudgeSettings, messages: list[dict]) -> Completion:
    import openai

    try:
        response = client.chat.completions.create(model=settings.model, messages=messages, temperature=0)
    except openai.APITimeoutError:
        raise JudgeUnavailable(f"no answer within {settings.timeout_s:g} s") from None
    except openai.APIConnectionError:
        raise JudgeUnavailable(f"could not reach {endpoint(settings.url)}") from None
    except openai.APIStatusError as exc:
        raise JudgeUnavailable(f"the server answered {exc.status_code}") from None
    except openai.APIError as exc:
        raise JudgeUnavailable(f"the answer could not be read ({type(exc).__name__})") from None
    if not response.choices:
        raise JudgeUnavailable("the answer had no choices")
    choice = response.choices[0]
    refusal = getattr(choice.message, "refusal", None)
    if refusal or choice.finish_reason == "content_filter":
        raise JudgeUnavailable("the model refused")
    if choice.finish_reason == "length":
        raise JudgeUnavailable("the answer was cut off at the model's length limit (is LLM_CONTEXT_TOKENS "
                               "larger than the server's context?)")
    usage = response.usage
    return Completion(text=choice.message.content or "",
                      prompt_tokens=usage.prompt_tokens if usage else None,
                      completion_tokens=usage.completion_tokens if usage else None)

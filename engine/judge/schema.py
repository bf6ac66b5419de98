"""The model's answer, as validated JSON: one verdict per candidate moment."""
from __future__ import annotations

import json
import re

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

REASON_CHARS = 200
TITLE_CHARS = 70


class Verdict(BaseModel):
    """What the model says about one candidate."""

    model_config = ConfigDict(extra="ignore")

    id: int
    matches: bool = True                      # does it fit the request?
    score: float = Field(ge=0, le=100)        # how well it works as a standalone short
    reason: str = ""
    title: str | None = None
    hashtags: list[str] = Field(default_factory=list)
    start: float | None = None                # optional tighter edges, seconds in the source
    end: float | None = None

    @field_validator("id", mode="before")
    @classmethod
    def _plain_id(cls, value):
        """Models often echo the label they were shown ("c3") rather than the number."""
        if isinstance(value, str):
            return value.strip().lstrip("cC#")
        return value

    @field_validator("reason", mode="before")
    @classmethod
    def _one_line(cls, value):
        return " ".join(str(value or "").split())[:REASON_CHARS]

    @field_validator("title", mode="before")
    @classmethod
    def _title(cls, value):
        text = " ".join(str(value or "").split()).strip("\"'“”")
        return text[:TITLE_CHARS] or None

    @field_validator("hashtags", mode="before")
    @classmethod
    def _tags(cls, value):
        if isinstance(value, str):
            value = value.replace(",", " ").split()
        tags = ["#" + re.sub(r"[\s#]+", "", str(t)) for t in value or []]
        return [t for t in tags if len(t) > 1][:5]


class Answer(BaseModel):
    model_config = ConfigDict(extra="ignore")

    candidates: list[Verdict]


class MalformedAnswer(ValueError):
    """The reply is not the JSON asked for; str() says how, in a few words."""


def parse_answer(text: str) -> Answer:
    """The JSON object in a reply, tolerating a code fence or a sentence around it."""
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        raise MalformedAnswer(f"no JSON object in the reply ({_preview(text)})")
    try:
        return Answer.model_validate(json.loads(text[start: end + 1]))
    except json.JSONDecodeError as exc:
        raise MalformedAnswer(f"invalid JSON: {exc.msg} at character {exc.pos}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ()))
        raise MalformedAnswer(f"{where or 'answer'}: {first['msg']}") from None


def _preview(text: str, limit: int = 60) -> str:
    flat = " ".join(text.split())
    return repr(flat[:limit] + ("…" if len(flat) > limit else ""))

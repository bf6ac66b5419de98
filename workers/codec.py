"""The engine's dataclasses as JSON and back, guided by their type hints.

Celery messages carry JSON (never pickle: a worker must not run what a message says), and an
analysis travels through the media store as JSON. One generic pair of functions covers every
dataclass in engine.models and engine.pipeline.Analysis, so nothing is described twice.
"""
from __future__ import annotations

import dataclasses
import types
import typing
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np


def to_json(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, np.ndarray):
        return {"dtype": str(value.dtype), "values": value.tolist()}
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    return value


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def from_json(kind: Any, data: Any) -> Any:
    """`data` (from to_json) as a value of type `kind`."""
    if data is None:
        return None
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(kind) if a is not type(None)]
        return from_json(options[0], data)
    if dataclasses.is_dataclass(kind):
        hints = _hints(kind)
        return kind(**{f.name: from_json(hints[f.name], data[f.name])
                       for f in dataclasses.fields(kind) if f.init and f.name in data})
    if kind is np.ndarray:
        return np.asarray(data["values"], dtype=data["dtype"])
    if kind is Path:
        return Path(data)
    args = typing.get_args(kind)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(from_json(args[0], v) for v in data)
        return tuple(from_json(a, v) for a, v in zip(args, data)) if args else tuple(data)
    if origin is list:
        return [from_json(args[0], v) for v in data] if args else list(data)
    if origin is dict:
        return {k: from_json(args[1], v) for k, v in data.items()} if args else dict(data)
    return data


# ---------------------------------------------------------------------------
# Engine errors: their kind, English and facts cross to the bot, which words them in the person's
# language just as it would an error raised in its own process.


def error_to_json(exc: Exception) -> dict:
    from engine.models import StageTimedOut

    value = {"error": type(exc).__name__, "message": str(exc)}
    if isinstance(exc, StageTimedOut):
        value.update(stage=exc.stage, limit_s=exc.limit_s)
    else:
        value.update(key=getattr(exc, "key", None), facts=to_json(getattr(exc, "facts", None) or {}))
    return value


def error_from_json(value: dict) -> Exception:
    """The error error_to_json described; an unknown kind is RenderFailed with its English."""
    from engine import model_store, models

    kind = getattr(models, value["error"], None) or getattr(model_store, value["error"], None)
    if kind is models.StageTimedOut:
        return models.StageTimedOut(value["stage"], value["limit_s"])
    if isinstance(kind, type) and issubclass(kind, (models.EngineError, models.RenderFailed)):
        return kind(value["message"], value.get("key"), **(value.get("facts") or {}))
    if isinstance(kind, type) and issubclass(kind, Exception):
        return kind(value["message"])
    return models.RenderFailed(value["message"])

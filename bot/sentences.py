"""Failures -> sentences: one table, every sentence from bot/texts.py in the person's language.

Each entry words one kind of failure from the facts it carries (`details`, `reason_key`, the
clip number); a kind not in the table is found through its base classes, and anything unknown
is logged with its traceback and said as "something went wrong". Nobody ever reads a traceback.
"""
from __future__ import annotations

import logging
from typing import Any, Callable

from bot import texts
from bot.backends.base import (
    ACCEPTED_TYPES,
    BackendError,
    BackendUnavailable,
    ExportBlocked,
    FileTooLarge,
    MissingClientId,
    NothingUploaded,
    OutOfCredits,
    RateLimited,
    SessionMissing,
    TokenInvalid,
    UnsupportedFile,
    VideoTooLong,
)
from bot.fetch import FetchError
from bot.jobs import Undelivered
from bot.messages import ErrorReply
from bot.texts import say
from engine.models import EngineError, RenderFailed, StageTimedOut

log = logging.getLogger(__name__)

# (the failure, the language, the upload limit in MB) -> the sentence
Wording = Callable[[Any, str, int], str]


def _details(exc: BaseException) -> dict[str, Any]:
    return getattr(exc, "details", {}) or {}


def _unsupported(exc: UnsupportedFile, lang: str, limit_mb: int) -> str:
    details = _details(exc)
    accepted = ", ".join(details.get("accepted") or ACCEPTED_TYPES)
    if details.get("broken") and lang == "en" and "accepted" in details.get("facts", {}):
        return str(exc)                 # the engine's sentence says what is accepted already
    if details.get("broken"):
        english = str(exc) + " "
        worded = texts.reason(lang, details.get("engine_key"), english, **details.get("facts", {}))
        reason = worded if lang == "en" or worded != english else say(lang, "reason_broken_file")
    else:
        reason = say(lang, "reason_unsupported_type")
    return say(lang, "err_unsupported", reason=reason, accepted=accepted)


def _too_large(exc: FileTooLarge, lang: str, limit_mb: int) -> str:
    details = _details(exc)
    size, limit = details.get("size_mb"), details.get("limit_mb") or limit_mb
    if not isinstance(size, (int, float)):
        return say(lang, "err_too_large_unknown", limit=limit)
    return say(lang, "err_too_large", size=f"{size:.0f} MB", limit=limit)


def _too_long(exc: VideoTooLong, lang: str, limit_mb: int) -> str:
    details = _details(exc)
    return say(lang, "err_too_long", minutes=f"{details.get('minutes', 0):.0f}", limit=f"{details.get('limit_minutes'):g}")


def _too_slow(exc: StageTimedOut, lang: str, limit_mb: int) -> str:
    return say(lang, "err_too_slow", step=texts.step_name(lang, exc.stage), limit=texts.duration(lang, exc.limit_s))


def _out_of_credits(exc: OutOfCredits, lang: str, limit_mb: int) -> str:
    details = _details(exc)
    if details.get("register_url"):
        how = say(lang, "how_register", url=details["register_url"])
    elif details.get("ask_admin"):
        how = say(lang, "how_admin")
    else:
        how = say(lang, "how_top_up")
    return say(lang, "err_out_of_credits", available=details.get("available", 0),
               needed=details.get("needed", say(lang, "needed_more")), how=how)


def _backend(exc: BackendError, lang: str, limit_mb: int) -> str:
    details = _details(exc)
    values = {k: v for k, v in details.items() if k != "reason_key"}
    return say(lang, "err_backend", reason=texts.reason(lang, details.get("reason_key"), str(exc), **values))


def _unavailable(exc: BackendUnavailable, lang: str, limit_mb: int) -> str:
    """What went wrong, when the service said (an edit past its time limit, a dropped stream), else
    that it is not answering."""
    key = _details(exc).get("reason_key")
    return texts.reason(lang, key, str(exc)) if key else say(lang, "err_unavailable")


def _fetch(exc: FetchError, lang: str, limit_mb: int) -> str:
    return say(lang, "err_fetch", reason=texts.reason(lang, getattr(exc, "key", None), str(exc),
                                                      **(getattr(exc, "values", None) or {})))


def _undelivered(exc: Undelivered, lang: str, limit_mb: int) -> str:
    what = say(lang, "undelivered_clip", n=exc.number) if exc.number is not None else say(lang, "undelivered_result")
    return say(lang, "err_undelivered", what=what, reason=exc.reason)


def _fixed(key: str) -> Wording:
    return lambda exc, lang, limit_mb: say(lang, key)


SENTENCES: dict[type[BaseException], Wording] = {
    UnsupportedFile: _unsupported,
    FileTooLarge: _too_large,
    VideoTooLong: _too_long,
    OutOfCredits: _out_of_credits,
    NothingUploaded: _fixed("err_nothing_uploaded"),
    ExportBlocked: _fixed("err_export_blocked"),
    RateLimited: _fixed("err_rate_limited"),
    TokenInvalid: _fixed("err_token"),
    MissingClientId: _fixed("err_token"),
    SessionMissing: _fixed("err_session"),
    BackendUnavailable: _unavailable,
    BackendError: _backend,
    FetchError: _fetch,
    Undelivered: _undelivered,
    StageTimedOut: _too_slow,
    EngineError: lambda exc, lang, limit_mb: texts.reason(lang, exc.key, str(exc), **exc.facts),
    RenderFailed: lambda exc, lang, limit_mb: say(lang, "err_render",
                                                  reason=texts.reason(lang, exc.key, str(exc), **exc.facts)),
}


def error_reply(exc: BaseException, lang: str, max_upload_mb: int) -> ErrorReply:
    """The sentence for a failure, in the person's language."""
    wording = next((SENTENCES[kind] for kind in type(exc).__mro__ if kind in SENTENCES), None)
    if wording is None:
        log.error("unexpected error", exc_info=exc)
        return ErrorReply(say(lang, "err_internal"), code=getattr(exc, "code", None))
    return ErrorReply(wording(exc, lang, max_upload_mb), code=getattr(exc, "code", None))

"""The chat stream: SSE events (documented and Google ADK shapes) and the cloud's GUI talk
turned into what a chat person can do ("click Export" -> say "export").
"""
from __future__ import annotations

import json
import logging
import re
from typing import Any, NamedTuple


from bot.backends.base import ChatEvent
from bot.backends.nemo.client import error_message

log = logging.getLogger(__name__)


# ---------------------------------------------------------------- GUI translation

class Translation(NamedTuple):
    text: str
    actions: tuple[str, ...]          # what the bot can do for the user: "export", "status"


_Q_OPEN, _Q_CLOSE = "[\"'“「]", "[\"'”」]"

# (pattern, replacement, action). Order matters: the specific phrases come before the generic "click X".
GUI_PHRASES: tuple[tuple[re.Pattern[str], str, str | None], ...] = (
    (re.compile(rf"\b(?:click|tap|press|hit|use)(?:\s+on)?\s+(?:the\s+)?{_Q_OPEN}?export{_Q_CLOSE}?(?:\s+button)?",
                re.I), 'say "export"', "export"),
    (re.compile(r"\bthe\s+export\s+button\b", re.I), '"export"', "export"),
    (re.compile(rf"[点单]击\s*{_Q_OPEN}?导出{_Q_CLOSE}?(?:按钮)?"), "发送“导出”", "export"),
    (re.compile(r"\bpreview(?:\s+(?:it|this|them|the\s+\w+))?\s+in\s+(?:the\s+)?timeline\b", re.I),
     'say "status" to see the tracks', "status"),
    (re.compile(r"在时间线(?:上|中)?预览"), "发送“状态”查看轨道", "status"),
    (re.compile(r"\bopen\s+(?:the\s+)?(?:[\w-]+\s+){0,2}(?:panel|tab|sidebar|menu|window|view|timeline)\b", re.I),
     'say "status"', "status"),
    (re.compile(r"打开\s*(?:[^\s，。,.!！；;]{0,12}?)(?:面板|窗口|标签页|菜单|时间线)"), "发送“状态”", "status"),
    (re.compile(r"\bdrag(?:\s*(?:and|&|/)\s*drop)?(?:\s+and\s+drop)?\b", re.I), "tell me to move", None),
    (re.compile(r"拖拽|拖动"), "告诉我移动", None),
    (re.compile(rf"\b(?:click|tap|press)(?:\s+on)?\s+(?:the\s+)?{_Q_OPEN}([^\"'”」]+){_Q_CLOSE}(?:\s+button)?", re.I),
     r'say "\1"', None),
    (re.compile(r"\b(?:click|tap|press)(?:\s+on)?\s+(?:the\s+)?([\w-]+(?:\s[\w-]+)?)\s+button\b", re.I),
     r'say "\1"', None),
    (re.compile(r"\bclick(?:\s+on)?\s+(?:the\s+)?([\w-]+)", re.I), r'say "\1"', None),
    (re.compile(rf"[点单]击\s*{_Q_OPEN}([^\"'”」]+){_Q_CLOSE}(?:按钮)?"), r"发送“\1”", None),
    (re.compile(r"[点单]击\s*([^\s，。,.!！；;“”\"]{1,10}?)(?:按钮|键)"), r"发送“\1”", None),
    (re.compile(r"[点单]击"), "发送", None),
)


def translate_gui(text: str) -> Translation:
    """Rewrites the cloud's GUI talk ("click Export", "打开面板", "drag") for a chat user.

    What the bot can do itself is returned as actions, so the conversation can offer
    a button or run it.
    """
    actions: list[str] = []
    for pattern, replacement, action in GUI_PHRASES:
        def substitute(match: re.Match[str], replacement: str = replacement) -> str:
            out = match.expand(replacement)
            first = match.group(0)[:1]
            return out[:1].upper() + out[1:] if first.isupper() else out

        text, count = pattern.subn(substitute, text)
        if count and action and action not in actions:
            actions.append(action)
    return Translation(text, tuple(actions))


# ---------------------------------------------------------------- SSE events

class StreamItem(NamedTuple):
    kind: str                         # "heartbeat" | "text" | "tool_call" | "tool_result" | "error" | "ignored"
    text: str = ""
    partial: bool = False             # an ADK streaming chunk: the final event repeats the whole text
    name: str = ""
    code: int = 0


def parse_event(data: str) -> list[StreamItem]:
    """One `data:` payload -> what it means. Both the documented `{"type": ...}` events and
    Google ADK events (`{"content": {"parts": [...]}, "partial": ...}`) are understood."""
    if not data.strip():
        return [StreamItem("heartbeat")]
    try:
        event = json.loads(data)
    except ValueError:
        return [StreamItem("ignored", text=data)]
    if not isinstance(event, dict):
        return [StreamItem("ignored")]
    kind = event.get("type")
    if isinstance(kind, str):
        kind = kind.lower()
        if kind in ("heartbeat", "ping", "keepalive", "keep_alive"):
            return [StreamItem("heartbeat")]
        if kind in ("text", "message", "text_delta"):
            content = event.get("content", event.get("text", ""))
            return [StreamItem("text", text=content if isinstance(content, str) else "",
                               partial=bool(event.get("partial")) or kind == "text_delta")]
        if kind in ("tool_call", "tool_result"):
            return [StreamItem(kind, name=str(event.get("name") or ""))]
        if kind == "error":
            return [StreamItem("error", text=error_message(event), code=_int(event.get("code")))]
        return [StreamItem("ignored")]
    if event.get("errorCode") or event.get("error_code"):
        code = _int(event.get("errorCode") or event.get("error_code"))
        return [StreamItem("error", text=error_message(event) or str(event.get("errorCode", "")), code=code)]
    content = event.get("content")
    if isinstance(content, dict) and isinstance(content.get("parts"), list):
        items = []
        for part in content["parts"]:
            if not isinstance(part, dict) or part.get("thought"):
                continue
            if isinstance(part.get("text"), str):
                items.append(StreamItem("text", text=part["text"], partial=bool(event.get("partial"))))
            call = part.get("functionCall") or part.get("function_call")
            if isinstance(call, dict):
                items.append(StreamItem("tool_call", name=str(call.get("name") or "")))
            response = part.get("functionResponse") or part.get("function_response")
            if isinstance(response, dict):
                items.append(StreamItem("tool_result", name=str(response.get("name") or "")))
        return items or [StreamItem("ignored")]
    code = _int(event.get("code"))
    if code not in (0, 200):
        return [StreamItem("error", text=error_message(event), code=code)]
    return [StreamItem("ignored")]


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _text_event(text: str) -> ChatEvent | None:
    if not text or not text.strip():
        return None
    translated = translate_gui(text.strip())
    return ChatEvent("text", translated.text, actions=translated.actions)


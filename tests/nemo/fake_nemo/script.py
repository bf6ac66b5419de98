"""What the fake agent says in a chat: the steps of a script (text, heartbeats, tool calls and
results in both SSE shapes, errors, pauses, edits of the timeline) and the default script."""
from __future__ import annotations

from typing import Any, Callable

from tests.nemo.fake_nemo.records import FakeSession


# ---------------------------------------------------------------- chat script steps

Step = dict[str, Any]


def text(content: str) -> Step:
    return {"data": {"type": "text", "content": content}}


def heartbeat() -> Step:
    return {"data": {"type": "heartbeat"}}


def empty_data() -> Step:
    return {"raw": "data: \n\n"}


def tool_call(name: str, **args: Any) -> Step:
    return {"data": {"type": "tool_call", "name": name, "args": args}}


def tool_result(name: str, **result: Any) -> Step:
    return {"data": {"type": "tool_result", "name": name, "result": result}}


def adk_text(content: str, partial: bool = False, author: str = "nemo_agent") -> Step:
    return {"data": {"content": {"role": "model", "parts": [{"text": content}]}, "author": author,
                     "partial": partial, "invocationId": "e-1"}}


def adk_call(name: str, **args: Any) -> Step:
    return {"data": {"content": {"role": "model", "parts": [{"functionCall": {"name": name, "args": args}}]},
                     "author": "nemo_agent"}}


def adk_result(name: str, **response: Any) -> Step:
    return {"data": {"content": {"role": "user", "parts": [{"functionResponse": {"name": name, "response": response}}]},
                     "author": "nemo_agent"}}


def error_event(code: int, message: str) -> Step:
    return {"data": {"type": "error", "code": code, "message": message}}


def sleep(seconds: float) -> Step:
    return {"sleep": seconds}


def apply(edit: Callable[["FakeSession"], None]) -> Step:
    return {"apply": edit}


# ---------------------------------------------------------------- timeline edits

def cut_short(seconds: float = 10.0) -> Callable[["FakeSession"], None]:
    def edit(session: "FakeSession") -> None:
        name = session.video_infos[0]["filename"] if session.video_infos else "clip"
        session.draft = {"t": [{"tt": 0, "sg": [{"n": name, "s": 0, "e": int(seconds * 1000)}]}],
                         "d": int(seconds * 1000), "m": {"title": "Short", "width": 1080, "height": 1920}}
    return edit


def add_title(title: str, seconds: float = 3.0) -> Callable[["FakeSession"], None]:
    def edit(session: "FakeSession") -> None:
        session.draft.setdefault("t", []).append({"tt": 7, "sg": [{"text": title, "s": 0, "e": int(seconds * 1000)}]})
    return edit


def set_bgm(name: str, volume: float, seconds: float = 10.0) -> Callable[["FakeSession"], None]:
    def edit(session: "FakeSession") -> None:
        tracks = [t for t in session.draft.setdefault("t", []) if t.get("tt") != 1]
        tracks.insert(1, {"tt": 1, "sg": [{"n": name, "s": 0, "e": int(seconds * 1000), "v": volume}]})
        session.draft["t"] = tracks
    return edit


def default_script() -> list[Step]:
    return [heartbeat(), text("Got it, cutting your video now..."), tool_call("edit_multitrack", op="cut"),
            apply(cut_short()), tool_result("edit_multitrack", ok=True),
            text("Done! I made a 10-second vertical short. Click the Export button to download it, "
                 "or preview in timeline.")]

"""A fake NemoVideo cloud on loopback (aiohttp, port 0), speaking the contract in
../shared/nemo-api.md so that the real httpx / httpx-sse client code is exercised.

It keeps tokens, sessions, uploads (with the bytes received), drafts, credits and
renders in memory; records every request with its headers; and can be told to fail:
`fake.fail("state", 1002)` answers the next state call with code 1002, once.

Chat replies follow a script (`fake.script(...)` for the next chat); without one the
agent answers with text, a tool call that cuts the first upload into a 10 s short, and
a sentence that talks as if there were a GUI.
"""
from tests.nemo.fake_nemo.records import (
    ATTRIBUTION, ENDPOINTS, FAULT, HTTP_STATUS_FOR_CODE, FakeSession, Fault, Recorded, Render, TokenInfo, Upload,
)
from tests.nemo.fake_nemo.script import (
    Step, add_title, adk_call, adk_result, adk_text, apply, cut_short, default_script, empty_data, error_event,
    heartbeat, set_bgm, sleep, text, tool_call, tool_result,
)
from tests.nemo.fake_nemo.server import FakeNemo

__all__ = [
    "ATTRIBUTION", "ENDPOINTS", "FAULT", "HTTP_STATUS_FOR_CODE", "FakeNemo", "FakeSession", "Fault", "Recorded",
    "Render", "Step", "TokenInfo", "Upload", "add_title", "adk_call", "adk_result", "adk_text", "apply", "cut_short",
    "default_script", "empty_data", "error_event", "heartbeat", "set_bgm", "sleep", "text", "tool_call", "tool_result",
]

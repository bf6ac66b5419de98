"""The NemoVideo cloud as a clip service: its tokens, sessions, drafts and polling stay in here.

    client.py    paths, envelopes, error codes; the HTTP requests with retries
    accounts.py  anonymous or shared tokens, kept in storage
    stream.py    the /run_sse chat stream and the cloud's GUI talk, translated
    timeline.py  drafts (t/tt/sg) as summaries, Clips and Media; render statuses
    backend.py   NemoBackend: sessions, upload, chat, state, credits, export, cancel
"""
from bot.backends.nemo.backend import NemoBackend
from bot.backends.nemo.client import STILL_WORKING, DuplicateRenderId, unwrap
from bot.backends.nemo.stream import parse_event, translate_gui
from bot.backends.nemo.timeline import describe_changes, draft_summary, read_render_status, read_state

__all__ = ["NemoBackend", "STILL_WORKING", "DuplicateRenderId", "unwrap", "parse_event", "translate_gui",
           "describe_changes", "draft_summary", "read_render_status", "read_state"]

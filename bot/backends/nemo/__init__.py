"""The NemoVideo cloud as a clip service: its tokens, sessions, drafts and polling stay in here.

    service.py   NemoBackend, the clip service: who -> account and session, the one-time
                 recovery from 1001/1002/429, edits as chat words, exports polled and downloaded
    cloud.py     NemoCloud, the API in its own words: sessions, upload, chat, state, renders
    client.py    paths, envelopes, error codes; the HTTP requests with retries; the cloud's handles
    accounts.py  anonymous or shared tokens, kept in storage
    stream.py    the /run_sse chat stream and the cloud's GUI talk, translated
    timeline.py  drafts (t/tt/sg) as summaries, Clips and Media; render statuses
"""
from bot.backends.nemo.client import STILL_WORKING, Account, DuplicateRenderId, RenderRef, SessionRef, unwrap
from bot.backends.nemo.cloud import NemoCloud
from bot.backends.nemo.service import NemoBackend, in_words
from bot.backends.nemo.stream import parse_event, translate_gui
from bot.backends.nemo.timeline import describe_changes, draft_summary, read_render_status, read_state

__all__ = ["NemoBackend", "NemoCloud", "STILL_WORKING", "Account", "DuplicateRenderId", "RenderRef", "SessionRef",
           "unwrap", "in_words", "parse_event", "translate_gui", "describe_changes", "draft_summary",
           "read_render_status", "read_state"]

"""A fake Discord on loopback: the REST API (v10) and a gateway websocket, as discord.py calls them.

https://discord.com/developers/docs: REST calls are `{Route.BASE}/...` with `Authorization: Bot
<token>`; JSON bodies, or multipart/form-data with a `payload_json` part and `files[n]` parts when
files are uploaded; errors are `{"code": n, "message": "..."}` with the HTTP status; 429 carries
`retry_after` (seconds). The gateway sends HELLO (op 10), takes IDENTIFY (op 2), answers with
READY and one GUILD_CREATE per guild, acknowledges heartbeats (op 1 -> op 11) and then
dispatches events (op 0) that the test pushes with `dispatch()`.

The fake keeps a small world (users, guilds, channels, threads, messages, interactions) so that
what the bot does behaves as on Discord:
- a deferred interaction (callback type 5) creates a "thinking" message in the channel, which
  the original-response webhook edits; followups are new messages in the channel;
- an interaction is answered once (a second callback is 400 / 40060), the callback must come
  within 3 s of the dispatch, and webhook calls with a token older than 15 minutes (or one the
  test expired) fail with 401 / 50027;
- a thread started from a message takes the message's id; a second thread on the same message
  is 400 / 160004; no threads in DMs or inside threads (400 / 50024);
- uploads over the channel's limit (the guild's premium tier, 10 MiB elsewhere) are 413 / 40005;
- attachment URLs the fake hands out (`host_file`) are served from disk, and downloads recorded.

Every call is recorded (method, route, JSON body, uploaded files saved to disk, time).
Payload builders follow the documented gateway shapes (Message Create, Interaction Create).
"""
from tests.discord.fake_discord.model import (
    DM, GUILD_TEXT, LOADING_FLAG, MESSAGE_CONTENT_INTENT, PUBLIC_THREAD, Call, Failure, Interaction, UploadedFile,
    snowflake_at, snowflake_time,
)
from tests.discord.fake_discord.server import FakeDiscord


__all__ = ["FakeDiscord", "Call", "Failure", "Interaction", "UploadedFile", "DM", "GUILD_TEXT", "PUBLIC_THREAD",
           "LOADING_FLAG", "MESSAGE_CONTENT_INTENT", "snowflake_at", "snowflake_time"]

"""The gateway websocket: HELLO, IDENTIFY, READY with one GUILD_CREATE per guild, heartbeats, and
the events a test dispatches."""
from __future__ import annotations

import json
import time

from aiohttp import WSMsgType, web

from tests.discord.fake_discord.model import Interaction, MESSAGE_CONTENT_INTENT


class Gateway:
    """Methods of FakeDiscord (server.py); they use its state."""

    async def dispatch(self, event: str, data: dict) -> None:
        if event == "INTERACTION_CREATE":
            self.interactions[data["token"]] = Interaction(data, time.monotonic(), int(data["channel_id"]))
        if event == "MESSAGE_CREATE":
            self.messages[int(data["id"])] = data
        if not self._sockets:
            raise RuntimeError("no bot is connected to the fake gateway")
        for ws in self._sockets:
            await ws.send_json({"op": 0, "t": event, "s": next(self._seq), "d": data})

    async def wait_connected(self, timeout: float = 180.0) -> None:
        await self.wait_for(lambda: bool(self._sockets) and bool(self.identify), timeout, "a gateway IDENTIFY")

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json({"op": 10, "d": {"heartbeat_interval": 41250}, "s": None, "t": None})
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                frame = json.loads(msg.data)
                if frame["op"] == 1:
                    await ws.send_json({"op": 11, "d": None})
                elif frame["op"] == 2:
                    if frame["d"]["token"] != self.token:
                        await ws.close(code=4004, message=b"Authentication failed.")
                        break
                    if frame["d"].get("intents", 0) & MESSAGE_CONTENT_INTENT and not self.message_content_enabled:
                        self.identify.append(frame["d"])
                        await ws.close(code=4014, message=b"Disallowed intent(s).")
                        break
                    self.identify.append(frame["d"])
                    self._sockets.append(ws)
                    await self._send_ready(ws)
                    self._notify()
        finally:
            if ws in self._sockets:
                self._sockets.remove(ws)
        return ws

    async def _send_ready(self, ws: web.WebSocketResponse) -> None:
        ready = {"v": 10, "user": self.bot, "session_id": "fake-session", "resume_gateway_url": self.gateway_url,
                 "guilds": [{"id": g["id"], "unavailable": True} for g in self.guilds.values()],
                 "application": {"id": str(self.app_id), "flags": 0}, "private_channels": [], "presences": []}
        await ws.send_json({"op": 0, "t": "READY", "s": next(self._seq), "d": ready})
        for guild in self.guilds.values():
            await ws.send_json({"op": 0, "t": "GUILD_CREATE", "s": next(self._seq), "d": guild})

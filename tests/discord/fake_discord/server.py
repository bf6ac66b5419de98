"""The fake Discord server: its state, the aiohttp app serving the REST API (routed in model.py to
the route mixins), the gateway and hosted files, failures a test injects, and waiting for calls."""
from __future__ import annotations

import asyncio
import itertools
import json
import time
from pathlib import Path
from typing import Any, Callable

from aiohttp import web

from tests.discord.fake_discord.model import (
    Call, Failure, Interaction, PUBLIC_THREAD, UploadedFile, match_route, route_key, snowflake_at,
)
from tests.discord.fake_discord.world import WorldBuilding
from tests.discord.fake_discord.gateway import Gateway
from tests.discord.fake_discord.messages import MessageRoutes
from tests.discord.fake_discord.interactions import InteractionRoutes


class FakeDiscord(WorldBuilding, Gateway, MessageRoutes, InteractionRoutes):
    def __init__(self, workdir: Path, token: str = "fake-token"):
        self.workdir = workdir
        self.token = token
        self._ids = itertools.count(1)
        self.calls: list[Call] = []
        self.identify: list[dict[str, Any]] = []
        self.downloads: list[str] = []
        self.users: dict[int, dict] = {}
        self.guilds: dict[int, dict] = {}
        self.channels: dict[int, dict] = {}
        self.messages: dict[int, dict] = {}            # every message, the bot's and the users'
        self.created: dict[int, float] = {}           # message id -> when the bot posted it (monotonic)
        self.edits: dict[int, list[float]] = {}       # message id -> times it was edited
        self.interactions: dict[str, Interaction] = {}  # by token
        self.hosted: dict[str, Path] = {}
        self.commands: list[dict] = []
        self._failures: dict[str, list[Failure]] = {}
        self.tokens_expire_on_ack = False              # as if every interaction's results came 15+ minutes late
        self.message_content_enabled = False           # the portal's Message Content switch
        self._sockets: list[web.WebSocketResponse] = []
        self._seq = itertools.count(1)
        self._changed = asyncio.Event()
        self.app_id = self.next_id()
        self.bot = self.add_user("shortsbot", bot=True, user_id=self.app_id)
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    async def start(self) -> "FakeDiscord":
        self.workdir.mkdir(parents=True, exist_ok=True)
        app = web.Application(client_max_size=200 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/attachments/{name}", self._download)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._api)
        self._runner = web.AppRunner(app, access_log=None)      # its lines are not the bot's
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def close(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/v10"

    @property
    def gateway_url(self) -> str:
        return self.base_url.replace("http://", "ws://") + "/gateway"

    def next_id(self) -> int:
        return snowflake_at(time.time(), next(self._ids))

    def fail_next(self, method: str, route: str, status: int, code: int = 0, message: str = "",
                  retry_after: float | None = None) -> None:
        """The next call of `METHOD /route/{template}` (or of one exact path) is answered with an error."""
        self._failures.setdefault(f"{method} {route}", []).append(Failure(status, code, message, retry_after))

    def expire_interaction_tokens(self) -> None:
        """As if 15 minutes had passed: every interaction webhook call now fails with 401 / 50027."""
        for interaction in self.interactions.values():
            interaction.expired = True

    def sent_by_bot(self, channel_id: int | str) -> list[dict]:
        return [m for m in self.messages.values()
                if m["channel_id"] == str(channel_id) and m["author"]["id"] == self.bot["id"]]

    def calls_to(self, route: str) -> list[Call]:
        return [c for c in self.calls if c.route == route]

    def threads(self) -> list[dict]:
        return [c for c in self.channels.values() if c["type"] == PUBLIC_THREAD]

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 180.0, what: str = "a condition") -> Any:
        """Returns as soon as `predicate()` is truthy. The timeout only keeps a broken test from hanging:
        it is long enough for the busiest machine, never a measure of speed."""
        deadline = time.monotonic() + timeout
        while True:
            result = predicate()
            if result:
                return result
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.25))
            except asyncio.TimeoutError:
                pass

    def _notify(self) -> None:
        self._changed.set()

    async def _download(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        self.downloads.append(name)
        self._notify()
        path = self.hosted.get(name)
        if path is None:
            return web.Response(status=404, text="not found")
        return web.FileResponse(path)

    async def _api(self, request: web.Request) -> web.StreamResponse:
        arrived = time.monotonic()
        path = "/" + request.match_info["tail"]
        body, files = await self._read_body(request)
        route, args = match_route(request.method, path)
        if request.headers.get("Authorization") != f"Bot {self.token}" and not route.startswith(
                ("POST /interactions", "GET /webhooks", "PATCH /webhooks", "POST /webhooks", "DELETE /webhooks")):
            status, answer = 401, {"code": 0, "message": "401: Unauthorized"}
        elif route == "":
            status, answer = 404, {"code": 0, "message": f"404: Not Found ({request.method} {path})"}
        elif failure := (self._take_failure(f"{request.method} {path}") or self._take_failure(route)):
            status, answer = failure.status, {"code": failure.code, "message": failure.message}
            if failure.retry_after is not None:
                answer.update(retry_after=failure.retry_after, **{"global": False})
        else:
            handler = getattr(self, "_" + route.split(" ")[0].lower() + "_" + route_key(route))
            status, answer = await handler(args, body, files, request)
        self.calls.append(Call(request.method, path, route, dict(request.query), body, tuple(files), status, arrived))
        self._notify()
        headers = {}
        if status == 429:
            # As Discord's edge answers: discord.py treats a 429 without "Via" as a Cloudflare ban.
            headers = {"Retry-After": str(answer["retry_after"]), "X-RateLimit-Scope": "user", "Via": "1.1 google"}
        if answer is None:
            return web.Response(status=204, headers=headers)
        # Discord's exact header: discord.py decodes JSON only for "application/json", no charset.
        return web.Response(body=json.dumps(answer).encode(), status=status,
                            headers={**headers, "Content-Type": "application/json"})

    def _take_failure(self, route: str) -> Failure | None:
        queue = self._failures.get(route)
        return queue.pop(0) if queue else None

    async def _read_body(self, request: web.Request) -> tuple[dict, list[UploadedFile]]:
        if not request.body_exists:
            return {}, []
        if request.content_type.startswith("multipart/"):
            body: dict = {}
            files: list[UploadedFile] = []
            reader = await request.multipart()
            async for part in reader:
                if part.name == "payload_json":
                    body = json.loads(await part.text())
                    continue
                target = self.workdir / f"upload-{self.next_id()}-{part.filename}"
                size = 0
                with target.open("wb") as out:
                    while chunk := await part.read_chunk(256 * 1024):
                        out.write(chunk)
                        size += len(chunk)
                files.append(UploadedFile(part.name or "", part.filename or "", size, target))
            return body, files
        text = await request.text()
        return (json.loads(text) if text else {}), []

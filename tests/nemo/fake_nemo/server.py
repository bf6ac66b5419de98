"""The fake NemoVideo server: what a test controls (faults, dropped connections, scripts, expired
tokens), its lifecycle, and each endpoint of ../shared/nemo-api.md."""
from __future__ import annotations

import asyncio
import hashlib
import json
import re
import secrets
import uuid
from collections import defaultdict, deque
from datetime import datetime, timedelta, timezone
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from tests.nemo.fake_nemo.records import (
    ATTRIBUTION, ENDPOINTS, FAULT, HTTP_STATUS_FOR_CODE, FakeSession, Fault, Recorded, Render, TokenInfo, Upload,
)
from tests.nemo.fake_nemo.script import Step, default_script


class FakeNemo:
    def __init__(self, *, tokens_per_client: int | None = 1, token_days: float = 7, start_credits: int = 100,
                 chat_cost: int = 0, render_steps: tuple[str, ...] = ("pending", "processing", "completed"),
                 result_shape: str = "data.outputUrl", envelope: str = "code", message_key: str = "message",
                 shared_tokens: tuple[str, ...] = (), export_blocked: bool = False, result_bytes: bytes = b""):
        # "One anonymous token per client per 7 days": a client id gets another token only once its
        # earlier ones have run their 7 days (expire() stands for the week passing). None: no limit.
        self.tokens_per_client = tokens_per_client
        self.token_days = token_days
        self.start_credits = start_credits
        self.chat_cost = chat_cost
        self.render_steps = render_steps
        self.result_shape = result_shape               # "data.outputUrl" | "output.url"
        self.envelope = envelope                       # "code" | "success" (state and credits)
        self.message_key = message_key                 # "message" | "msg"
        self.shared_tokens = set(shared_tokens)
        self.export_blocked = export_blocked
        self.result_bytes = result_bytes or (b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 4096)
        self.fail_renders = False
        self.answer_render_id: str | None = None        # an id the export answers with instead of the one sent
        self.render_word: str | None = None             # a status word render_status answers with instead
        self.break_results = False                      # result downloads stop halfway (the connection drops)

        self.tokens: dict[str, TokenInfo] = {}
        self.sessions: dict[str, FakeSession] = {}
        self.credits: dict[str, dict[str, int]] = {}
        self.renders: dict[str, Render] = {}
        self.uploads: list[Upload] = []
        self.chats: list[tuple[str, str]] = []          # (session id, message)
        self.requests: list[Recorded] = []
        self.faults: dict[str, deque[Fault]] = defaultdict(deque)
        self.scripts: deque[list[Step]] = deque()
        self.open_streams = 0
        self.disconnects = 0
        self.base_url = ""
        self._runner: web.AppRunner | None = None

    # ------------------------------------------------------------ control from tests

    def fail(self, endpoint: str, code: int, *, times: int = 1, http_status: int | None = None,
             message: str | None = None, kind: str = "code") -> None:
        assert endpoint in ENDPOINTS, endpoint
        status = http_status or HTTP_STATUS_FOR_CODE.get(code, code if code >= 400 and code < 600 else 200)
        for _ in range(times):
            self.faults[endpoint].append(Fault(code, status, message or f"injected error {code}", kind))

    def drop(self, endpoint: str, times: int = 1) -> None:
        """Close the connection without an answer (a network error for the client)."""
        for _ in range(times):
            self.faults[endpoint].append(Fault(0, 0, "", "drop"))

    def duplicate_render_id(self, times: int = 1) -> None:
        for _ in range(times):
            self.faults["export"].append(Fault(400, 400, "", "duplicate"))

    def script(self, *steps: Step) -> None:
        """The next chat's stream."""
        self.scripts.append(list(steps))

    def expire(self, token: str) -> None:
        self.tokens[token].expires_at = datetime.now(timezone.utc) - timedelta(seconds=1)

    def calls(self, endpoint: str) -> list[Recorded]:
        return [r for r in self.requests if r.endpoint == endpoint]

    def session_of(self, user_id: str) -> list[FakeSession]:
        return [s for s in self.sessions.values() if s.user_id == user_id]

    # ------------------------------------------------------------ lifecycle

    async def start(self, port: int = 0) -> str:
        app = web.Application(middlewares=[self._record])
        app.router.add_post("/api/auth/anonymous-token", self._token)
        app.router.add_post("/api/tasks/me/with-session/nemo_agent", self._session)
        app.router.add_post("/run_sse", self._chat)
        app.router.add_post("/api/upload-video/nemo_agent/me/{sid}", self._upload)
        app.router.add_get("/api/credits/balance/simple", self._credits)
        app.router.add_get("/api/state/nemo_agent/me/{sid}/latest", self._state)
        app.router.add_post("/api/render/proxy/lambda", self._export)
        app.router.add_get("/api/render/proxy/lambda/{rid}", self._render_status)
        app.router.add_post("/api/render/proxy/lambda/{rid}/cancel", self._cancel)
        app.router.add_get("/files/{name}", self._file)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> "FakeNemo":
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    # ------------------------------------------------------------ plumbing

    _ENDPOINT_OF = (
        (re.compile(r"^/api/auth/anonymous-token$"), "token"),
        (re.compile(r"^/api/tasks/me/with-session/nemo_agent$"), "session"),
        (re.compile(r"^/run_sse$"), "chat"),
        (re.compile(r"^/api/upload-video/"), "upload"),
        (re.compile(r"^/api/credits/"), "credits"),
        (re.compile(r"^/api/state/"), "state"),
        (re.compile(r"^/api/render/proxy/lambda$"), "export"),
        (re.compile(r"^/api/render/proxy/lambda/[^/]+/cancel$"), "cancel"),
        (re.compile(r"^/api/render/proxy/lambda/[^/]+$"), "render_status"),
        (re.compile(r"^/files/"), "file"),
    )

    @web.middleware
    async def _record(self, request: web.Request, handler):
        endpoint = next((name for pattern, name in self._ENDPOINT_OF if pattern.match(request.path)), "other")
        self.requests.append(Recorded(request.method, request.path,
                                      {k.lower(): v for k, v in request.headers.items()}, endpoint))
        if self.faults.get(endpoint):
            fault = self.faults[endpoint].popleft()
            if fault.kind == "drop":
                request.transport.abort()
                return web.Response(status=500)
            if fault.kind == "code":
                return self._error(fault.code, fault.message, fault.http_status,
                                   success_shape=endpoint in ("export", "render_status", "cancel"))
            request[FAULT] = fault
        return await handler(request)

    def _ok(self, data: Any, envelope: str | None = None) -> web.Response:
        if (envelope or "code") == "success":
            return web.json_response({"success": True, "data": data})
        return web.json_response({"code": 0, "data": data, self.message_key: "success"})

    def _error(self, code: int, message: str, http_status: int = 200, success_shape: bool = False) -> web.Response:
        body = {"success": False, "code": code, "error": message} if success_shape else {"code": code, self.message_key: message}
        return web.json_response(body, status=http_status)

    def _user(self, request: web.Request) -> str | None:
        value = request.headers.get("Authorization", "")
        token = value[len("Bearer "):] if value.startswith("Bearer ") else ""
        if token in self.shared_tokens:
            return "registered_operator"
        info = self.tokens.get(token)
        if info is None or info.expires_at <= datetime.now(timezone.utc):
            return None
        return info.user_id

    def _unauthorized(self, success_shape: bool = False) -> web.Response:
        return self._error(1001, "token expired or invalid", 401, success_shape)

    def _owned_session(self, sid: str, user: str) -> FakeSession | None:
        session = self.sessions.get(sid)
        return session if session is not None and session.user_id == user else None

    def _balance(self, user: str) -> dict[str, int]:
        return self.credits.setdefault(user, {"available": self.start_credits, "frozen": 0})

    # ------------------------------------------------------------ endpoints

    async def _token(self, request: web.Request) -> web.Response:
        client_id = request.headers.get("X-Client-Id", "")
        try:
            uuid.UUID(client_id)
        except ValueError:
            return self._error(400, "missing or invalid X-Client-Id", 400)
        now = datetime.now(timezone.utc)
        this_week = sum(1 for t in self.tokens.values() if t.client_id == client_id and t.expires_at > now)
        if self.tokens_per_client is not None and this_week >= self.tokens_per_client:
            return self._error(429, "rate limited: one anonymous token per client per 7 days", 429)
        previous = next((t for t in self.tokens.values() if t.client_id == client_id), None)
        user_id = previous.user_id if previous else f"anon_{secrets.token_hex(6)}"
        token = f"nmv_usr_{secrets.token_hex(16)}"
        expires_at = datetime.now(timezone.utc) + timedelta(days=self.token_days)
        self.tokens[token] = TokenInfo(token, user_id, client_id, expires_at)
        self._balance(user_id)
        return self._ok({"token": token, "user_id": user_id, "expires_at": expires_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                         "credits": self.start_credits})

    async def _session(self, request: web.Request) -> web.Response:
        user = self._user(request)
        if user is None:
            return self._unauthorized()
        body = await request.json()
        sid = str(5529798706024415232 + len(self.sessions) + secrets.randbelow(10**6))
        session = FakeSession(sid, f"task_{secrets.token_hex(4)}", user, body.get("language", "en"))
        self.sessions[sid] = session
        return self._ok({"task_id": session.task_id, "session_id": sid, "user_id": user})

    async def _upload(self, request: web.Request) -> web.Response:
        user = self._user(request)
        if user is None:
            return self._unauthorized()
        session = self._owned_session(request.match_info["sid"], user)
        if session is None:
            return self._error(1002, "session not found")
        files = []
        if request.content_type == "application/json":
            body = await request.json()
            if body.get("source_type") != "url" or not isinstance(body.get("urls"), list):
                return self._error(400, "expected {\"urls\": [...], \"source_type\": \"url\"}", 400)
            for url in body["urls"]:
                name = PurePosixPath(urlsplit(url).path).name or "video.mp4"
                files.append(self._file_info(name, hashlib.sha256(url.encode()).hexdigest()[:16], url=url))
        else:
            reader = await request.multipart()
            async for part in reader:
                if part.name != "files":
                    continue
                digest, size, chunks = hashlib.sha256(), 0, 0
                while chunk := await part.read_chunk(64 * 1024):
                    digest.update(chunk)
                    size += len(chunk)
                    chunks += 1
                self.uploads.append(Upload(session.session_id, part.filename or "", size, digest.hexdigest(),
                                           part.headers.get("Content-Type", ""), chunks))
                files.append(self._file_info(part.filename or "upload.mp4", digest.hexdigest()[:16]))
            if not files:
                return self._error(400, "no files", 400)
        session.video_infos.extend(files)
        return self._ok({"files": files, "session_state_applied": True})

    def _file_info(self, name: str, file_hash: str, url: str | None = None) -> dict:
        suffix = PurePosixPath(name).suffix.lower()
        kind = "audio" if suffix in (".mp3", ".wav", ".m4a", ".aac") else "image" if suffix in (
            ".jpg", ".png", ".gif", ".webp") else "video"
        return {"filename": name, "file_type": kind, "cdn_url": url or f"{self.base_url}/files/{file_hash}{suffix}",
                "duration": 30.5, "width": 1920, "height": 1080, "fps": 30, "hash": file_hash}

    async def _credits(self, request: web.Request) -> web.Response:
        user = self._user(request)
        if user is None:
            return self._unauthorized()
        balance = self._balance(user)
        return self._ok({**balance, "total": balance["available"] + balance["frozen"]}, self.envelope)

    async def _state(self, request: web.Request) -> web.Response:
        user = self._user(request)
        if user is None:
            return self._unauthorized()
        session = self._owned_session(request.match_info["sid"], user)
        if session is None:
            return self._error(1002, "session not found")
        return self._ok({"session_id": session.session_id, "task_id": session.task_id,
                         "state": {"draft": session.draft, "video_infos": session.video_infos,
                                   "generated_media": session.generated_media,
                                   "canvas_config": {"width": 1080, "height": 1920, "ratio": "9:16"}}},
                        self.envelope)

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        user = self._user(request)
        if user is None:
            return self._unauthorized()
        body = await request.json()
        session = self._owned_session(str(body.get("session_id")), user)
        if session is None:
            return self._error(1002, "session not found")
        if "text/event-stream" not in request.headers.get("Accept", ""):
            return self._error(400, "Accept: text/event-stream is required", 406)
        balance = self._balance(user)
        if balance["available"] < self.chat_cost:
            return self._error(2001, "insufficient credits")
        balance["available"] -= self.chat_cost
        message = body["new_message"]["parts"][0]["text"]
        self.chats.append((session.session_id, message))
        steps = self.scripts.popleft() if self.scripts else default_script()
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await response.prepare(request)
        self.open_streams += 1
        try:
            for step in steps:
                if "sleep" in step:
                    await asyncio.sleep(step["sleep"])
                elif "apply" in step:
                    step["apply"](session)
                elif "raw" in step:
                    await response.write(step["raw"].encode())
                else:
                    await response.write(f"data: {json.dumps(step['data'], ensure_ascii=False)}\n\n".encode())
            await response.write_eof()
        except (ConnectionResetError, asyncio.CancelledError):
            self.disconnects += 1                  # the client went away (cancel)
            raise
        finally:
            self.open_streams -= 1
        return response

    async def _export(self, request: web.Request) -> web.Response:
        user = self._user(request)
        if user is None:
            return self._unauthorized(success_shape=True)
        if any(not request.headers.get(h) for h in ATTRIBUTION) or self.export_blocked:
            return self._error(402, "Export not available on the free plan", 402, success_shape=True)
        body = await request.json()
        render_id = str(body.get("id") or "")
        if request.get(FAULT) is not None or render_id in self.renders:
            return self._error(400, f"Duplicate render id: {render_id} already exists", 400, success_shape=True)
        if not render_id.startswith("render_"):
            return self._error(400, "id must look like render_<ts>", 400, success_shape=True)
        session = self._owned_session(str(body.get("sessionId")), user)
        if session is None:
            return self._error(1002, "session not found", 200, success_shape=True)
        draft = body.get("draft") or {}
        if not any(t.get("sg") for t in draft.get("t") or []):
            return self._error(400, "draft has no segments", 400, success_shape=True)
        self.renders[render_id] = Render(render_id, session.session_id, user, draft)
        return web.json_response({"success": True, "data": {"id": self.answer_render_id or render_id,
                                                            "status": "pending", "progress": 5}})

    async def _render_status(self, request: web.Request) -> web.Response:
        user = self._user(request)
        if user is None:
            return self._unauthorized(success_shape=True)
        render = self.renders.get(request.match_info["rid"])
        if render is None or render.user_id != user:
            return self._error(404, "render not found", 404, success_shape=True)
        if render.cancelled:
            return web.json_response({"success": True, "data": {"id": render.render_id, "status": "cancelled"}})
        step = self.render_steps[min(render.polls, len(self.render_steps) - 1)]
        render.polls += 1
        if self.render_word is not None:
            return web.json_response({"success": True, "data": {"id": "../../" + render.render_id,
                                                                "status": self.render_word}})
        if step == "completed" and self.fail_renders:
            return web.json_response({"success": True, "data": {"id": render.render_id, "status": "failed",
                                                                "error": "render node crashed"}})
        progress = {"pending": 5, "processing": 50, "completed": 100}.get(step, 0)
        url = f"{self.base_url}/files/{render.render_id}.mp4"
        if self.result_shape == "output.url":
            body: dict[str, Any] = {"success": True, "render_id": render.render_id, "status": step, "progress": progress}
            if step == "completed":
                body["output"] = {"url": url, "duration": 10, "size": len(self.result_bytes)}
            return web.json_response(body)
        data: dict[str, Any] = {"id": render.render_id, "status": step, "progress": progress, "createdAt": 1773423613616}
        if step == "completed":
            data.update(outputUrl=url, completedAt=1773423641222)
        return web.json_response({"success": True, "data": data})

    async def _cancel(self, request: web.Request) -> web.Response:
        user = self._user(request)
        if user is None:
            return self._unauthorized(success_shape=True)
        render = self.renders.get(request.match_info["rid"])
        if render is None or render.user_id != user:
            return self._error(404, "render not found", 404, success_shape=True)
        render.cancelled = True
        return web.json_response({"success": True, "data": {"id": render.render_id, "status": "cancelled"}})

    async def _file(self, request: web.Request) -> web.StreamResponse:
        if not self.break_results:
            return web.Response(body=self.result_bytes, content_type="video/mp4")
        response = web.StreamResponse(headers={"Content-Type": "video/mp4"})
        response.content_length = len(self.result_bytes)
        await response.prepare(request)
        await response.write(self.result_bytes[: len(self.result_bytes) // 2])
        request.transport.abort()
        return response


async def serve_forever(port: int) -> None:
    fake = FakeNemo()
    await fake.start(port)
    print(fake.base_url, flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await fake.stop()

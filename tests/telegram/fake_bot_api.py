"""A fake Telegram Bot API on loopback, speaking the protocol as python-telegram-bot calls it.

https://core.telegram.org/bots/api: every method is `POST {base_url}{token}/{method}` with
form-urlencoded parameters, or multipart/form-data when a file is uploaded (a file field, or a
parameter "attach://<part>" naming one); every answer is `{"ok": true, "result": ...}` or
`{"ok": false, "error_code": n, "description": "...", "parameters": {"retry_after": s}}`.
Files are fetched from `{base_file_url}{token}/{file_path}` after getFile.

The server records every call (method, decoded parameters, uploaded files saved to disk with
their sizes, the time it arrived), queues updates for getUpdates (long polling that returns
as soon as an update is queued), keeps the messages the bot sent so that editMessageText
behaves as Telegram does ("message is not modified", "message to edit not found"), can
answer the next calls of a method with an error (429 with retry_after, 400, 5xx), and can hold
the next call of a method until another call has arrived (an upload still on its way).
"""
from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from aiohttp import web

CLOUD_DOWNLOAD_LIMIT = 20 * 1024 * 1024
LOCAL_FILE_LIMIT = 2000 * 1024 * 1024

# Parameters whose value python-telegram-bot sends JSON-encoded.
_JSON_PARAMS = {
    "reply_markup", "reply_parameters", "commands", "allowed_updates", "entities",
    "caption_entities", "link_preview_options", "scope", "media",
}


@dataclass(frozen=True)
class UploadedFile:
    part: str                 # the multipart field name
    filename: str
    size: int
    path: Path                # where the fake saved the bytes


@dataclass(frozen=True)
class Call:
    method: str
    params: dict[str, Any]
    files: dict[str, UploadedFile]
    at: float                 # time.monotonic() when the request arrived
    status: int               # the HTTP status the fake answered with
    result: Any = None        # what the fake answered ("result" of a successful call)

    def file(self, param: str) -> UploadedFile | None:
        """The uploaded file for a parameter, following "attach://name" references."""
        value = self.params.get(param)
        if isinstance(value, str) and value.startswith("attach://"):
            return self.files.get(value.removeprefix("attach://"))
        return self.files.get(param)

    @property
    def chat_id(self) -> str | None:
        value = self.params.get("chat_id")
        return None if value is None else str(value)


@dataclass
class _Injected:
    status: int
    description: str
    retry_after: int | None
    times: int


@dataclass
class _StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    size: int
    source: Path | None       # None: the file is only declared (too big to be fetched)


@dataclass
class FakeBotApi:
    token: str = "123456:TEST-token"
    bot_id: int = 123456
    bot_username: str = "ShortsTestBot"
    upload_dir: Path | None = None
    long_poll_cap: float = 0.5                # the longest a getUpdates waits, whatever timeout asks
    local_mode: bool = False                  # as `telegram-bot-api --local`: getFile answers a path on disk

    calls: list[Call] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._updates: list[dict] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._file_ids = itertools.count(1)
        self._files: dict[str, _StoredFile] = {}
        self._sent: dict[tuple[str, int], dict] = {}
        self._injected: dict[str, list[_Injected]] = {}
        self._holds: dict[str, Callable[[Call], bool]] = {}
        self._gate: set[str] = set()            # methods whose calls wait at the gate (close_gate)
        self._gate_opened = asyncio.Event()
        self._gate_generation = 0
        self.waiting_at_gate = 0
        self._new_update = asyncio.Event()
        self._new_call = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> "FakeBotApi":
        app = web.Application(client_max_size=2 * 1024**3)
        app.router.add_post("/bot{token}/{method}", self._handle_method)
        app.router.add_get("/bot{token}/{method}", self._handle_method)
        app.router.add_get("/file/bot{token}/{file_path:.+}", self._handle_download)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)   # its lines are not the bot's
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    # ------------------------------------------------------------------ what tests set up

    def queue_update(self, update: dict) -> int:
        """Queues an update (anything without "update_id" gets the next one); returns its id."""
        update = dict(update)
        update.setdefault("update_id", next(self._update_ids))
        self._updates.append(update)
        self._new_update.set()
        return update["update_id"]

    def add_file(self, source: Path | None, *, size: int | None = None, subdir: str = "videos") -> dict:
        """Makes a file fetchable with getFile; returns the fields every Telegram file object has.

        `source=None` with a `size` declares a file that exists only on Telegram's side (the oversized case).
        """
        number = next(self._file_ids)
        real_size = source.stat().st_size if source is not None else 0
        suffix = source.suffix if source is not None else ".mp4"
        stored = _StoredFile(
            file_id=f"FILE{number:04d}-{'x' * 20}",
            file_unique_id=f"U{number:04d}",
            file_path=f"{subdir}/file_{number}{suffix}",
            size=size if size is not None else real_size,
            source=source,
        )
        self._files[stored.file_id] = stored
        return {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id, "file_size": stored.size}

    def fail_next(self, method: str, *, status: int = 500, description: str = "Internal Server Error",
                  retry_after: int | None = None, times: int = 1) -> None:
        """The next `times` calls of `method` get this error instead of an answer."""
        self._injected.setdefault(method, []).append(_Injected(status, description, retry_after, times))

    def hold_next(self, method: str, until: Callable[[Call], bool]) -> None:
        """The next call of `method` is answered only once a call satisfying `until` has arrived after
        it (a slow upload, over for the test when the bot has done what it does meanwhile)."""
        self._holds[method] = until

    def close_gate(self, methods: set[str]) -> None:
        """Calls of `methods` from now on wait, unanswered and unrecorded, until open_gate (a
        platform that has not yet taken what is being sent)."""
        self._gate = set(methods)
        self._gate_opened = asyncio.Event()

    def open_gate(self, drop_waiting: bool) -> None:
        """Lets calls through again; with `drop_waiting` the calls that waited are never taken:
        their sender is gone (a killed bot), they are answered with an error and not recorded."""
        if drop_waiting:
            self._gate_generation += 1
        self._gate = set()
        self._gate_opened.set()

    def message(self, chat_id: int | str, message_id: int) -> dict | None:
        """A message the bot sent, as it stands after edits."""
        return self._sent.get((str(chat_id), int(message_id)))

    # ------------------------------------------------------------------ what tests read

    def calls_to(self, method: str, *, chat_id: int | str | None = None, ok_only: bool = False) -> list[Call]:
        return [
            c for c in self.calls
            if c.method == method
            and (chat_id is None or c.chat_id == str(chat_id))
            and (not ok_only or c.status == 200)
        ]

    async def wait_for(self, predicate: Callable[[Call], bool], *, timeout: float = 180.0,
                       after: int = 0) -> Call:
        """The first call at index >= `after` that satisfies `predicate`, waiting for it if needed."""
        deadline = time.monotonic() + timeout
        while True:
            for call in self.calls[after:]:
                if predicate(call):
                    return call
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                seen = [f"{c.method}({c.status})" for c in self.calls[after:]]
                raise TimeoutError(f"no matching Bot API call within {timeout:.0f} s; calls since: {seen}")
            self._new_call.clear()
            try:
                await asyncio.wait_for(self._new_call.wait(), remaining)
            except asyncio.TimeoutError:
                pass

    # ------------------------------------------------------------------ HTTP

    async def _handle_method(self, request: web.Request) -> web.Response:
        arrived = time.monotonic()
        method = request.match_info["method"]
        params, files = await self._read_params(request)
        if request.match_info["token"] != self.token:
            self._record(Call(method, params, files, arrived, 401))
            return _error(401, "Unauthorized")

        if method in self._gate:
            generation, self.waiting_at_gate = self._gate_generation, self.waiting_at_gate + 1
            try:
                await self._gate_opened.wait()
            finally:
                self.waiting_at_gate -= 1
            if generation != self._gate_generation:
                return _error(400, "Bad Request: the sender was gone")
        if method in self._holds:
            await self.wait_for(self._holds.pop(method), after=len(self.calls), timeout=60)
        result = None
        injected = self._take_injected(method)
        if injected is not None:
            response = _error(injected.status, injected.description, injected.retry_after)
        else:
            handler = getattr(self, f"_api_{method}", None)
            if handler is None:
                response = _error(404, "Not Found: method not found")
            else:
                try:
                    result = await handler(params, files)
                    response = _ok(result)
                except _ApiError as exc:
                    response = _error(exc.status, exc.description)
        self._record(Call(method, params, files, arrived, response.status, result))
        return response

    def _record(self, call: Call) -> None:
        self.calls.append(call)
        self._new_call.set()

    def _take_injected(self, method: str) -> _Injected | None:
        queue = self._injected.get(method)
        if not queue:
            return None
        head = queue[0]
        head.times -= 1
        if head.times <= 0:
            queue.pop(0)
        return head

    async def _read_params(self, request: web.Request) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
        params: dict[str, Any] = {}
        files: dict[str, UploadedFile] = {}
        if request.content_type == "multipart/form-data":
            reader = await request.multipart()
            async for part in reader:
                if part.filename is None:
                    params[part.name] = await part.text()
                    continue
                files[part.name] = await self._save_part(part)
        elif request.content_type == "application/json":
            params = dict(await request.json())
        elif request.can_read_body:
            params = dict(await request.post())
        else:
            params = dict(request.query)
        return {k: _decode(k, v) for k, v in params.items()}, files

    async def _save_part(self, part) -> UploadedFile:
        folder = self.upload_dir or Path("/tmp")
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"upload-{len(self.calls)}-{part.name}-{Path(part.filename).name or 'file'}"
        size = 0
        with target.open("wb") as out:
            while chunk := await part.read_chunk(64 * 1024):
                out.write(chunk)
                size += len(chunk)
        return UploadedFile(part.name, part.filename, size, target)

    async def _handle_download(self, request: web.Request) -> web.StreamResponse:
        arrived = time.monotonic()
        file_path = request.match_info["file_path"]
        stored = next((f for f in self._files.values() if f.file_path == file_path), None)
        ok = request.match_info["token"] == self.token and stored is not None and stored.source is not None
        injected = self._take_injected("download")
        status = injected.status if injected else 200 if ok else 404
        self._record(Call("download", {"file_path": file_path}, {}, arrived, status))
        if status != 200:
            return web.Response(status=status, text=injected.description if injected else "Not Found")
        return web.FileResponse(stored.source)

    # ------------------------------------------------------------------ Bot API methods

    def _bot_user(self) -> dict:
        return {"id": self.bot_id, "is_bot": True, "first_name": "Shorts", "username": self.bot_username,
                "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False}

    async def _api_getMe(self, params, files):
        return self._bot_user()

    async def _api_deleteWebhook(self, params, files):
        return True

    async def _api_setMyCommands(self, params, files):
        self._commands = params.get("commands", [])
        return True

    async def _api_getMyCommands(self, params, files):
        return getattr(self, "_commands", [])

    async def _api_getUpdates(self, params, files):
        offset = int(params.get("offset") or 0)
        self._updates = [u for u in self._updates if u["update_id"] >= offset]
        wait = min(float(params.get("timeout") or 0), self.long_poll_cap)
        if not self._updates and wait > 0:
            self._new_update.clear()
            try:
                await asyncio.wait_for(self._new_update.wait(), wait)
            except asyncio.TimeoutError:
                pass
        limit = int(params.get("limit") or 100)
        return [u for u in self._updates if u["update_id"] >= offset][:limit]

    async def _api_getFile(self, params, files):
        stored = self._files.get(str(params.get("file_id")))
        if stored is None:
            raise _ApiError(400, "Bad Request: invalid file_id")
        if stored.size > (LOCAL_FILE_LIMIT if self.local_mode else CLOUD_DOWNLOAD_LIMIT):
            raise _ApiError(400, "Bad Request: file is too big")
        file_path = str(stored.source.resolve()) if self.local_mode and stored.source else stored.file_path
        return {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                "file_size": stored.size, "file_path": file_path}

    async def _api_sendChatAction(self, params, files):
        return True

    async def _api_answerCallbackQuery(self, params, files):
        return True

    async def _api_sendMessage(self, params, files):
        return self._store_sent(params, {"text": str(params.get("text", ""))})

    async def _api_editMessageText(self, params, files):
        key = (str(params.get("chat_id")), int(params.get("message_id", 0)))
        message = self._sent.get(key)
        if message is None:
            raise _ApiError(400, "Bad Request: message to edit not found")
        text = str(params.get("text", ""))
        markup = params.get("reply_markup")
        if message.get("text") == text and message.get("reply_markup") == markup:
            raise _ApiError(400, "Bad Request: message is not modified: specified new message content "
                                 "and reply markup are exactly the same as a current content and reply "
                                 "markup of the message")
        message["text"] = text
        message["edit_date"] = int(time.time())
        if markup is not None:
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)
        return message

    async def _api_sendVideo(self, params, files):
        video = Call("sendVideo", params, files, 0, 0).file("video")
        if video is None and not str(params.get("video", "")):
            raise _ApiError(400, "Bad Request: there is no video in the request")
        body = {"video": {
            "file_id": f"SENT-{next(self._file_ids)}", "file_unique_id": "sent",
            "width": int(params.get("width", 0)), "height": int(params.get("height", 0)),
            "duration": int(params.get("duration", 0)), "mime_type": "video/mp4",
            "file_size": video.size if video else 0,
        }}
        if "caption" in params:
            body["caption"] = str(params["caption"])
        return self._store_sent(params, body)

    async def _api_sendDocument(self, params, files):
        document = Call("sendDocument", params, files, 0, 0).file("document")
        body = {"document": {"file_id": f"SENT-{next(self._file_ids)}", "file_unique_id": "sent",
                             "file_name": document.filename if document else "file",
                             "file_size": document.size if document else 0}}
        if "caption" in params:
            body["caption"] = str(params["caption"])
        return self._store_sent(params, body)

    def _store_sent(self, params: dict, body: dict) -> dict:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise _ApiError(400, "Bad Request: chat_id is empty")
        message = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": _chat_for(chat_id),
            "from": self._bot_user(),
            **body,
        }
        if params.get("reply_markup") is not None:
            message["reply_markup"] = params["reply_markup"]
        reply = params.get("reply_parameters")
        if isinstance(reply, dict):
            message["reply_to_message"] = {"message_id": reply.get("message_id"), "date": int(time.time()),
                                           "chat": message["chat"]}
        if params.get("message_thread_id") is not None:
            message["message_thread_id"] = int(params["message_thread_id"])
        self._sent[(str(chat_id), message["message_id"])] = message
        return message


class _ApiError(Exception):
    def __init__(self, status: int, description: str):
        super().__init__(description)
        self.status = status
        self.description = description


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _error(status: int, description: str, retry_after: int | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return web.json_response(body, status=status)


def _decode(name: str, value: Any) -> Any:
    if name in _JSON_PARAMS and isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _chat_for(chat_id: Any) -> dict:
    text = str(chat_id)
    if text.startswith("@"):
        return {"id": -1000000000001, "type": "channel", "title": text[1:], "username": text[1:]}
    number = int(text)
    if number > 0:
        return {"id": number, "type": "private", "first_name": "User"}
    return {"id": number, "type": "supergroup", "title": "Group"}

"""In-process fake of the Telegram Bot API for tests and benchmarks.

The real python-telegram-bot ``Bot``/``Application`` talks plain HTTP to this server on
127.0.0.1, so the whole PTB request/response stack (form encoding, multipart uploads, error
mapping, long polling) is exercised without any network access::

    api = FakeTelegramAPI(token="123:ABC")
    await api.start()
    app = (
        Application.builder()
        .token(api.token)
        .base_url(api.base_url)
        .base_file_url(api.base_file_url)
        .build()
    )

All state lives on the instance and is only touched from the event loop that runs the
server (call ``push_update`` & co. from that loop's thread). Every hot-path operation is
O(1) (amortised) so a benchmark can push thousands of updates per second.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiohttp import web

__all__ = ["FakeTelegramAPI"]

MAX_DOWNLOAD_SIZE = 20 * 1024 * 1024  # getFile limit of the cloud Bot API
MAX_MESSAGE_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
_MESSAGE_KEYS = ("message", "edited_message", "channel_post", "edited_channel_post")
_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}

Params = dict[str, Any]
Handler = Callable[[Params, dict[str, str]], Awaitable[Any]]


class _ApiError(Exception):
    def __init__(self, status: int, description: str, parameters: dict | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


class _Signal:
    """Condition-variable-like wake-up primitive that can be notified from sync code.

    ``notify()`` is O(1) and allocation-free when nobody waits.
    """

    __slots__ = ("_event",)

    def __init__(self) -> None:
        self._event: asyncio.Event | None = None

    def notify(self) -> None:
        event = self._event
        if event is not None:
            self._event = None
            event.set()

    async def wait_for(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Wait until ``predicate()`` is true; return its final value after ``timeout``."""
        if predicate():
            return True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return predicate()
            if self._event is None:
                self._event = asyncio.Event()
            try:
                await asyncio.wait_for(self._event.wait(), remaining)
            except TimeoutError:
                return predicate()
            if predicate():
                return True


def _decode_value(value: str) -> Any:
    """JSON-decode strings that hold a JSON object/array; leave everything else a str."""
    if value and value[0] in "{[":
        try:
            decoded = json.loads(value)
        except ValueError:
            return value
        if isinstance(decoded, dict | list):
            return decoded
    return value


def _as_int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    try:
        return int(str(value))
    except ValueError:
        return None


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() in ("true", "1")
    return bool(value)


def _chat_id(value: Any) -> int | str:
    if value is None or value == "":
        raise _ApiError(400, "Bad Request: chat_id is empty")
    as_int = _as_int(value)
    return as_int if as_int is not None else str(value)


def _strip_reply(message: dict) -> dict:
    if "reply_to_message" not in message:
        return message
    return {k: v for k, v in message.items() if k != "reply_to_message"}


class FakeTelegramAPI:
    """A fake Telegram Bot API server (aiohttp) bound to 127.0.0.1 on a free port."""

    def __init__(
        self,
        token: str = "123:ABC",
        bot_username: str = "woodpecker_bot",
        can_read_all_group_messages: bool = True,
        *,
        bot_first_name: str = "Woodpecker",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.token = token
        self.bot_username = bot_username
        self.can_read_all_group_messages = can_read_all_group_messages
        self.host = host
        self._port_wanted = port
        bot_id = _as_int(token.split(":", 1)[0])
        self.bot_id: int = bot_id if bot_id is not None else 123
        self.bot_user: dict[str, Any] = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }

        # public records
        self.requests: list[tuple[str, Params]] = []
        self.sent: list[dict[str, Any]] = []
        self.deleted: list[tuple[int | str, int]] = []
        self.downloads: list[str] = []
        self.served: dict[str, int] = {}  # bytes written of each streamed file
        self._streams: dict[str, int] = {}  # file_path -> bytes to stream
        self.delay = 0.0  # seconds each method call takes, half before and half after it acts
        self._holds: dict[str, asyncio.Event] = {}  # method -> calls wait until it is set

        # update queue: entries [0, _handed) were handed out by the last getUpdates
        self._pending: deque[dict[str, Any]] = deque()
        self._handed = 0
        self._next_update_id = 1
        self._updates_signal = _Signal()  # new updates pushed / server closing
        self._state_signal = _Signal()  # sent grew / updates confirmed

        self._failures: dict[str, deque[list[Any]]] = {}
        self._files: dict[str, dict[str, Any]] = {}
        self._file_data: dict[str, bytes] = {}  # file_path -> bytes
        self._file_counter = itertools.count(1)
        self._next_message_id: dict[int | str, int] = {}
        self._messages: dict[tuple[int | str, int], dict[str, Any]] = {}
        self._chats: dict[int | str, dict[str, Any]] = {}
        self._users: dict[int, dict[str, Any]] = {}
        self._admins: dict[int | str, list[int]] = {}
        self._commands: dict[str, list[Any]] = {}
        self.webhook_url = ""

        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._closing = False
        self._handlers: dict[str, Handler] = {
            name.lower(): handler
            for name, handler in {
                "getMe": self._get_me,
                "getUpdates": self._get_updates,
                "deleteWebhook": self._delete_webhook,
                "setWebhook": self._set_webhook,
                "getWebhookInfo": self._get_webhook_info,
                "getFile": self._get_file,
                "sendMessage": self._send_message,
                "sendPhoto": self._send_photo,
                "sendDocument": self._send_document,
                "sendLocation": self._send_location,
                "sendChatAction": self._true,
                "editMessageText": self._edit_message_text,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "editMessageCaption": self._edit_message_caption,
                "deleteMessage": self._delete_message,
                "answerCallbackQuery": self._true,
                "setMyCommands": self._set_my_commands,
                "getMyCommands": self._get_my_commands,
                "deleteMyCommands": self._delete_my_commands,
                "getChat": self._get_chat,
                "getChatMember": self._get_chat_member,
                "getChatAdministrators": self._get_chat_administrators,
                "close": self._true,
                "logOut": self._true,
            }.items()
        }

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        if self._runner is not None:
            return
        self._closing = False
        app = web.Application(client_max_size=128 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_download)
        runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self._port_wanted)
        await site.start()
        self._runner = runner
        self._port = runner.addresses[0][1]

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is None:
            return
        self._closing = True  # release pending long polls right away
        self._updates_signal.notify()
        await runner.cleanup()

    async def __aenter__(self) -> FakeTelegramAPI:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("FakeTelegramAPI is not started")
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://{self.host}:{self.port}/file/bot"

    # ------------------------------------------------------------------ test controls

    def push_update(self, update: dict[str, Any]) -> int:
        """Queue an update for getUpdates; assigns ``update_id`` if missing. Returns it."""
        update_id = update.get("update_id")
        if update_id is None:
            update_id = self._next_update_id
            update = {**update, "update_id": update_id}
        if update_id >= self._next_update_id:
            self._next_update_id = update_id + 1
        self._learn(update)
        self._pending.append(update)
        self._updates_signal.notify()
        return update_id

    def push_many(self, updates: Iterable[dict[str, Any]]) -> list[int]:
        return [self.push_update(update) for update in updates]

    @property
    def pending_updates(self) -> int:
        """Updates pushed but not yet confirmed by the bot."""
        return len(self._pending)

    def add_file(
        self,
        file_id: str,
        data: bytes = b"",
        file_unique_id: str | None = None,
        file_path: str | None = None,
        *,
        file_size: int | None = None,
    ) -> dict[str, Any]:
        """Make ``getFile(file_id)`` and the download URL serve ``data``. Returns the File."""
        n = next(self._file_counter)
        path = file_path or f"documents/file_{n}"
        record = {
            "file_id": file_id,
            "file_unique_id": file_unique_id or f"uniq-{file_id}"[:32],
            "file_size": len(data) if file_size is None else file_size,
            "file_path": path,
        }
        self._files[file_id] = record
        self._file_data[path] = data
        return dict(record)

    def add_endless_file(self, file_id: str, size: int, file_unique_id: str | None = None) -> str:
        """A file whose size nobody declares (getFile gives none), served as a stream of `size`
        bytes that stops when the client hangs up. `served[path]` counts what was written."""
        n = next(self._file_counter)
        path = f"documents/stream_{n}"
        self._files[file_id] = {
            "file_id": file_id,
            "file_unique_id": file_unique_id or f"uniq-{file_id}"[:32],
            "file_path": path,
        }
        self._streams[path] = size
        self.served[path] = 0
        return path

    def fail_next(
        self,
        method: str,
        status: int = 429,
        retry_after: int = 1,
        description: str | None = None,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls of ``method`` answer with an error."""
        if description is None:
            if status == 429:
                description = f"Too Many Requests: retry after {retry_after}"
            else:
                description = _DEFAULT_DESCRIPTIONS.get(status, f"Error {status}")
        parameters = {"retry_after": retry_after} if status == 429 else None
        self._failures.setdefault(method.lower(), deque()).append(
            [times, status, description, parameters]
        )

    def hold(self, method: str) -> asyncio.Event:
        """Calls of `method` wait (after being recorded) until the returned event is set."""
        gate = self._holds[method.lower()] = asyncio.Event()
        return gate

    async def wait_for_call(self, method: str, n: int = 1, timeout: float = 5.0) -> None:
        if not await self._state_signal.wait_for(lambda: len(self.calls(method)) >= n, timeout):
            raise TimeoutError(f"expected {n} call(s) of {method} within {timeout}s")

    def set_admins(self, chat_id: int | str, user_ids: Iterable[int]) -> None:
        self._admins[chat_id] = list(user_ids)

    def add_chat(self, chat: dict[str, Any]) -> None:
        """Register a Chat dict (otherwise learned from pushed updates or synthesised)."""
        self._chats[chat["id"]] = chat

    def calls(self, method: str) -> list[Params]:
        """Params of every received call of ``method``."""
        return [params for name, params in self.requests if name == method]

    @property
    def edited(self) -> list[dict[str, Any]]:
        """The edit* entries of :attr:`sent`."""
        return [entry for entry in self.sent if entry["method"].startswith("edit")]

    async def wait_for_sent(self, n: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        if not await self._state_signal.wait_for(lambda: len(self.sent) >= n, timeout):
            raise TimeoutError(
                f"expected >= {n} sent messages within {timeout}s, got {len(self.sent)}: "
                f"{[(e['method'], e['text'] or e['caption']) for e in self.sent]!r}"
            )
        return self.sent

    async def wait_until_delivered(self, timeout: float = 5.0) -> None:
        """Wait until every pushed update was handed out and confirmed via ``offset``."""
        if not await self._state_signal.wait_for(lambda: not self._pending, timeout):
            raise TimeoutError(
                f"{len(self._pending)} update(s) not confirmed within {timeout}s "
                f"({self._handed} handed out, unconfirmed)"
            )

    # ------------------------------------------------------------------ HTTP plumbing

    @staticmethod
    def _json(status: int, payload: dict[str, Any]) -> web.Response:
        return web.Response(
            status=status, body=json.dumps(payload).encode(), content_type="application/json"
        )

    def _error(self, status: int, description: str, parameters: dict | None = None):
        payload: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if parameters:
            payload["parameters"] = parameters
        return self._json(status, payload)

    async def _parse(self, request: web.Request) -> tuple[Params, dict[str, str]]:
        params: Params = {key: _decode_value(value) for key, value in request.query.items()}
        filenames: dict[str, str] = {}
        if request.method == "POST" and request.body_exists:
            if request.content_type == "application/json":
                body = await request.json()
                if isinstance(body, dict):
                    params.update(body)
            else:
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        params[key] = value.file.read()
                        if value.filename:
                            filenames[key] = value.filename
                    elif isinstance(value, bytes | bytearray):
                        params[key] = bytes(value)
                    else:
                        params[key] = _decode_value(value)
        return params, filenames

    def _pop_failure(self, key: str) -> list[Any] | None:
        queue = self._failures.get(key)
        if not queue:
            return None
        failure = queue[0]
        failure[0] -= 1
        if failure[0] <= 0:
            queue.popleft()
        return failure

    async def _handle_method(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return self._error(401, "Unauthorized")
        method = request.match_info["method"]
        params, filenames = await self._parse(request)
        if self.delay:  # the way there; the way back is below
            await asyncio.sleep(self.delay / 2)
        self.requests.append((method, params))
        self._state_signal.notify()
        key = method.lower()
        gate = self._holds.get(key)
        if gate is not None:
            await gate.wait()
        failure = self._pop_failure(key)
        if failure is not None:
            _, status, description, parameters = failure
            return self._error(status, description, parameters)
        handler = self._handlers.get(key)
        if handler is None:
            return self._error(404, "Not Found: method not found")
        try:
            result = await handler(params, filenames)
        except _ApiError as exc:
            return self._error(exc.status, exc.description, exc.parameters)
        if self.delay:  # done here (a message is "sent"), the answer still on its way back
            await asyncio.sleep(self.delay / 2)
        return self._json(200, {"ok": True, "result": result})

    async def _handle_download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return self._error(401, "Unauthorized")
        path = request.match_info["path"]
        if self.delay:
            await asyncio.sleep(self.delay)
        if path in self._streams:
            return await self._stream(request, path)
        data = self._file_data.get(path)
        if data is None:
            return self._error(404, "Not Found")
        self.downloads.append(path)
        return web.Response(body=data, content_type="application/octet-stream")

    async def _stream(self, request: web.Request, path: str) -> web.StreamResponse:
        self.downloads.append(path)
        response = web.StreamResponse()
        response.content_type = "application/octet-stream"
        await response.prepare(request)
        chunk = b"\xff" * 65536
        try:
            while self.served[path] < self._streams[path]:
                await response.write(chunk)
                self.served[path] += len(chunk)
        except (ConnectionError, RuntimeError):
            pass  # the client stopped reading and hung up
        return response

    # ------------------------------------------------------------------ helpers

    def _learn(self, update: dict[str, Any]) -> None:
        """Remember chats/users/message ids seen in an update (O(1))."""
        message = None
        for key in _MESSAGE_KEYS:
            message = update.get(key)
            if message is not None:
                break
        else:
            callback = update.get("callback_query")
            if callback is not None:
                sender = callback.get("from")
                if sender:
                    self._users[sender["id"]] = sender
                message = callback.get("message")
        if not message:
            return
        chat = message.get("chat")
        if chat and "id" in chat:
            chat_id = chat["id"]
            self._chats[chat_id] = chat
            message_id = message.get("message_id")
            if isinstance(message_id, int) and self._next_message_id.get(chat_id, 1) <= message_id:
                self._next_message_id[chat_id] = message_id + 1
        sender = message.get("from")
        if sender and "id" in sender:
            self._users[sender["id"]] = sender

    def _chat(self, chat_id: int | str) -> dict[str, Any]:
        chat = self._chats.get(chat_id)
        if chat is not None:
            return chat
        if isinstance(chat_id, str):
            return {"id": -1000000000000 - len(chat_id), "type": "channel", "username": chat_id}
        if chat_id > 0:
            user = self._users.get(chat_id, {})
            return {"id": chat_id, "type": "private", "first_name": user.get("first_name", "User")}
        kind = "supergroup" if str(chat_id).startswith("-100") else "group"
        return {"id": chat_id, "type": kind, "title": f"Chat {chat_id}"}

    def _user(self, user_id: int) -> dict[str, Any]:
        if user_id == self.bot_id:
            return self.bot_user
        return self._users.get(user_id) or {
            "id": user_id,
            "is_bot": False,
            "first_name": f"User{user_id}",
        }

    @staticmethod
    def _reply_to(params: Params) -> int | None:
        reply_parameters = params.get("reply_parameters")
        if isinstance(reply_parameters, dict):
            return _as_int(reply_parameters.get("message_id"))
        return _as_int(params.get("reply_to_message_id"))

    def _record(self, method: str, chat_id, message_id, params: Params, **extra: Any) -> None:
        entry = {
            "method": method,
            "chat_id": chat_id,
            "text": extra.pop("text", None),
            "caption": extra.pop("caption", None),
            "reply_to_message_id": self._reply_to(params),
            "reply_markup": params.get("reply_markup"),
            "message_id": message_id,
            "params": params,
            **extra,
        }
        self.sent.append(entry)
        self._state_signal.notify()

    def _new_message(self, method: str, params: Params, **content: Any) -> dict[str, Any]:
        chat_id = _chat_id(params.get("chat_id"))
        message_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = message_id + 1
        message: dict[str, Any] = {
            "message_id": message_id,
            "from": self.bot_user,
            "chat": self._chat(chat_id),
            "date": int(time.time()),
        }
        thread_id = _as_int(params.get("message_thread_id"))
        if thread_id is not None:
            message["message_thread_id"] = thread_id
        reply_to = self._reply_to(params)
        if reply_to is not None:
            original = self._messages.get((chat_id, reply_to))
            message["reply_to_message"] = (
                _strip_reply(original)
                if original is not None
                else {"message_id": reply_to, "date": message["date"], "chat": message["chat"]}
            )
        message.update(content)
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        self._messages[(chat_id, message_id)] = message
        self._record(
            method,
            chat_id,
            message_id,
            params,
            text=content.get("text"),
            caption=content.get("caption"),
        )
        return message

    def _caption(self, params: Params) -> dict[str, Any]:
        caption = params.get("caption")
        if caption is None or caption == "":
            return {}
        if len(caption) > MAX_CAPTION_LENGTH:
            raise _ApiError(400, "Bad Request: message caption is too long")
        return {"caption": caption}

    def _input_file(self, params: Params, filenames: dict[str, str], field: str) -> dict:
        value = params.get(field)
        if value is None or value == "":
            raise _ApiError(400, f"Bad Request: there is no {field} in the request")
        if isinstance(value, bytes):
            n = next(self._file_counter)
            record = self.add_file(f"fake-{field}-{n}", value, file_path=f"{field}s/file_{n}")
            if field in filenames:
                record["file_name"] = filenames[field]
            return record
        known = self._files.get(str(value))
        if known is not None:
            return dict(known)
        return {"file_id": str(value), "file_unique_id": f"uniq-{value}"[:32]}

    def _target(self, params: Params) -> tuple[int | str | None, int | None, dict | None]:
        """Resolve (chat_id, message_id, stored message) of an edit* call."""
        if params.get("inline_message_id"):
            return None, None, None
        chat_id = _chat_id(params.get("chat_id"))
        message_id = _as_int(params.get("message_id"))
        if message_id is None:
            raise _ApiError(400, "Bad Request: message identifier is not specified")
        return chat_id, message_id, self._messages.get((chat_id, message_id))

    def _edit(self, method: str, params: Params, **changes: Any) -> dict[str, Any] | bool:
        chat_id, message_id, message = self._target(params)
        markup = params.get("reply_markup")
        if message is not None:
            same_content = all(message.get(k) == v for k, v in changes.items())
            if same_content and message.get("reply_markup") == markup:
                raise _ApiError(
                    400,
                    "Bad Request: message is not modified: specified new message content and "
                    "reply markup are exactly the same as a current content and reply markup "
                    "of the message",
                )
        elif chat_id is not None:
            # unknown (e.g. a message from a pushed update): synthesise it leniently
            message = {
                "message_id": message_id,
                "from": self.bot_user,
                "chat": self._chat(chat_id),
                "date": int(time.time()),
            }
            self._messages[(chat_id, message_id)] = message
        self._record(
            method,
            chat_id,
            message_id,
            params,
            text=changes.get("text"),
            caption=changes.get("caption"),
            inline_message_id=params.get("inline_message_id"),
        )
        if message is None:  # inline message
            return True
        message.update(changes)
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)
        message["edit_date"] = int(time.time())
        return message

    # ------------------------------------------------------------------ Bot API methods

    async def _true(self, params: Params, filenames: dict[str, str]) -> bool:
        return True

    async def _get_me(self, params: Params, filenames: dict[str, str]) -> dict[str, Any]:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": self.can_read_all_group_messages,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _confirm(self, offset: int | None) -> None:
        pending = self._pending
        before = len(pending)
        if offset is None:
            return
        if offset < 0:
            keep = -offset
            dropped = 0
            while len(pending) > keep:
                pending.popleft()
                dropped += 1
            self._handed = max(0, self._handed - dropped)
        elif self._handed:
            kept = []
            for _ in range(self._handed):
                update = pending.popleft()
                if update["update_id"] >= offset:
                    kept.append(update)
            if kept:
                pending.extendleft(reversed(kept))
            self._handed = 0
        if len(pending) != before:
            self._state_signal.notify()

    async def _get_updates(self, params: Params, filenames: dict[str, str]) -> list[dict]:
        if self.webhook_url:
            raise _ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        self._confirm(_as_int(params.get("offset")))
        limit = _as_int(params.get("limit")) or 100
        limit = min(max(limit, 1), 100)
        try:
            timeout = float(params.get("timeout") or 0)
        except ValueError:
            timeout = 0.0
        if not self._pending and timeout > 0 and not self._closing:
            await self._updates_signal.wait_for(
                lambda: bool(self._pending) or self._closing, timeout
            )
        count = min(limit, len(self._pending))
        if count == 0:
            return []
        self._handed = max(self._handed, count)
        return list(itertools.islice(self._pending, count))

    async def _delete_webhook(self, params: Params, filenames: dict[str, str]) -> bool:
        self.webhook_url = ""
        if _as_bool(params.get("drop_pending_updates", False)) and self._pending:
            self._pending.clear()
            self._handed = 0
            self._state_signal.notify()
        return True

    async def _set_webhook(self, params: Params, filenames: dict[str, str]) -> bool:
        self.webhook_url = str(params.get("url") or "")
        if _as_bool(params.get("drop_pending_updates", False)):
            self._pending.clear()
            self._handed = 0
            self._state_signal.notify()
        return True

    async def _get_webhook_info(self, params: Params, filenames: dict[str, str]) -> dict:
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }

    async def _get_file(self, params: Params, filenames: dict[str, str]) -> dict[str, Any]:
        record = self._files.get(str(params.get("file_id") or ""))
        if record is None:
            raise _ApiError(400, "Bad Request: invalid file_id")
        if record.get("file_size", 0) > MAX_DOWNLOAD_SIZE:
            raise _ApiError(400, "Bad Request: file is too big")
        return dict(record)

    async def _send_message(self, params: Params, filenames: dict[str, str]) -> dict:
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        if len(text) > MAX_MESSAGE_LENGTH:
            raise _ApiError(400, "Bad Request: message is too long")
        return self._new_message("sendMessage", params, text=text)

    async def _send_photo(self, params: Params, filenames: dict[str, str]) -> dict:
        caption = self._caption(params)
        _chat_id(params.get("chat_id"))
        file = self._input_file(params, filenames, "photo")
        size = {
            "file_id": file["file_id"],
            "file_unique_id": file["file_unique_id"],
            "width": 1280,
            "height": 960,
        }
        if file.get("file_size") is not None:
            size["file_size"] = file["file_size"]
        return self._new_message("sendPhoto", params, photo=[size], **caption)

    async def _send_document(self, params: Params, filenames: dict[str, str]) -> dict:
        caption = self._caption(params)
        _chat_id(params.get("chat_id"))
        file = self._input_file(params, filenames, "document")
        document = {k: file[k] for k in ("file_id", "file_unique_id") if k in file}
        for key in ("file_name", "file_size"):
            if file.get(key) is not None:
                document[key] = file[key]
        return self._new_message("sendDocument", params, document=document, **caption)

    async def _send_location(self, params: Params, filenames: dict[str, str]) -> dict:
        try:
            location = {
                "latitude": float(params["latitude"]),
                "longitude": float(params["longitude"]),
            }
        except (KeyError, ValueError) as exc:
            raise _ApiError(400, "Bad Request: wrong latitude or longitude") from exc
        return self._new_message("sendLocation", params, location=location)

    async def _edit_message_text(self, params: Params, filenames: dict[str, str]):
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        if len(text) > MAX_MESSAGE_LENGTH:
            raise _ApiError(400, "Bad Request: message is too long")
        return self._edit("editMessageText", params, text=text)

    async def _edit_message_caption(self, params: Params, filenames: dict[str, str]):
        caption = self._caption(params).get("caption")
        return self._edit("editMessageCaption", params, caption=caption)

    async def _edit_message_reply_markup(self, params: Params, filenames: dict[str, str]):
        return self._edit("editMessageReplyMarkup", params)

    async def _delete_message(self, params: Params, filenames: dict[str, str]) -> bool:
        chat_id = _chat_id(params.get("chat_id"))
        message_id = _as_int(params.get("message_id"))
        if message_id is None:
            raise _ApiError(400, "Bad Request: message identifier is not specified")
        self._messages.pop((chat_id, message_id), None)
        self.deleted.append((chat_id, message_id))
        self._state_signal.notify()
        return True

    @staticmethod
    def _commands_key(params: Params) -> str:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps([scope, params.get("language_code") or ""], sort_keys=True)

    async def _set_my_commands(self, params: Params, filenames: dict[str, str]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _ApiError(400, "Bad Request: can't parse commands JSON object")
        self._commands[self._commands_key(params)] = commands
        return True

    async def _get_my_commands(self, params: Params, filenames: dict[str, str]) -> list:
        return self._commands.get(self._commands_key(params), [])

    async def _delete_my_commands(self, params: Params, filenames: dict[str, str]) -> bool:
        self._commands.pop(self._commands_key(params), None)
        return True

    async def _get_chat(self, params: Params, filenames: dict[str, str]) -> dict[str, Any]:
        chat = self._chat(_chat_id(params.get("chat_id")))
        return {
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
            **chat,
        }

    def _member(self, chat_id: int | str, user_id: int) -> dict[str, Any]:
        user = self._user(user_id)
        if user_id not in self._admins.get(chat_id, ()):
            return {"status": "member", "user": user}
        rights = (
            "can_manage_chat",
            "can_delete_messages",
            "can_manage_video_chats",
            "can_restrict_members",
            "can_promote_members",
            "can_change_info",
            "can_invite_users",
            "can_post_stories",
            "can_edit_stories",
            "can_delete_stories",
            "can_pin_messages",
        )
        return {
            "status": "administrator",
            "user": user,
            "can_be_edited": False,
            "is_anonymous": False,
            **dict.fromkeys(rights, True),
        }

    async def _get_chat_member(self, params: Params, filenames: dict[str, str]) -> dict:
        chat_id = _chat_id(params.get("chat_id"))
        user_id = _as_int(params.get("user_id"))
        if user_id is None:
            raise _ApiError(400, "Bad Request: user_id is empty")
        return self._member(chat_id, user_id)

    async def _get_chat_administrators(self, params: Params, filenames: dict[str, str]) -> list:
        chat_id = _chat_id(params.get("chat_id"))
        return [self._member(chat_id, uid) for uid in self._admins.get(chat_id, ())]

"""The webhook endpoint: 200 only once the update is committed to the inbox.

PTB's own webhook server answers 200 as soon as the update is in its in-memory queue, so a kill
right after loses it for good (Telegram does not send an update again once it got its 200).
This one (tornado, which PTB's `webhooks` extra installs) commits first; when the commit fails
it answers 500 and Telegram retries.
"""

from __future__ import annotations

import hmac
import json
import logging
from http import HTTPStatus

import tornado.httpserver
import tornado.web
from telegram import Update

from bot.telegram.inbox import TelegramInbox

log = logging.getLogger(__name__)


class _Endpoint(tornado.web.RequestHandler):
    SUPPORTED_METHODS = ("POST",)

    def initialize(self, box: TelegramInbox, secret: str | None) -> None:
        self.box, self.secret = box, secret

    async def post(self) -> None:
        if self.secret is not None:
            given = self.request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
            if not hmac.compare_digest(given.encode(), self.secret.encode()):
                self.set_status(HTTPStatus.FORBIDDEN)
                return
        try:
            update = Update.de_json(json.loads(self.request.body), self.box.app.bot)
        except Exception:
            log.warning("webhook: a body that is not an update was refused")
            self.set_status(HTTPStatus.BAD_REQUEST)
            return
        if update is None:
            self.set_status(HTTPStatus.BAD_REQUEST)
            return
        try:
            await self.box.accept([update], [self.request.body.decode()])
        except Exception:
            log.exception("webhook: update %s not recorded; Telegram will retry", update.update_id)
            self.set_status(HTTPStatus.INTERNAL_SERVER_ERROR)
            return
        self.set_status(HTTPStatus.OK)

    def log_exception(self, typ, value, tb) -> None:  # tornado would log the request line
        log.warning("webhook request failed: %s", value)


class WebhookServer:
    """Listens on `listen:port` at `path` and feeds the inbox."""

    def __init__(self, box: TelegramInbox, path: str, secret: str | None) -> None:
        path = path if path.startswith("/") else f"/{path}"
        app = tornado.web.Application(
            [(rf"{path}/?", _Endpoint, {"box": box, "secret": secret})],
            log_function=lambda _handler: None,  # request lines carry the path: keep them out
        )
        self._server = tornado.httpserver.HTTPServer(app)

    def listen(self, port: int, address: str) -> None:
        self._server.listen(port, address)

    async def stop(self) -> None:
        self._server.stop()
        await self._server.close_all_connections()

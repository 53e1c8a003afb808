"""The desk: a Starlette app on the bot's own event loop (bot/web/server.py runs it in uvicorn).

An edge like the chat adapters: it turns requests into calls of the same use cases (sign-in,
`tickets.act`, Open311's submit) and renders what they return. Leaflet and its marker-cluster
plugin are served from their xstatic packages: no CDN.
"""

from __future__ import annotations

from pathlib import Path

import xstatic.pkg.leaflet as leaflet
import xstatic.pkg.leaflet_markercluster as markercluster
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.settings import Settings
from bot.web import digests, open311, ops, pages
from bot.web.auth import BadForm, Desk, Forbidden, NotVisible, SignInNeeded
from bot.web.render import page
from handlers.deps import Deps

# Tiles may come from any map server the settings name; everything else only from here.
CSP = (
    "default-src 'self'; img-src 'self' data: blob: https: http:; style-src 'self' "
    "'unsafe-inline'; script-src 'self'; frame-ancestors 'none'; form-action 'self'; "
    "base-uri 'none'"
)


class SecurityHeaders:
    """ASGI middleware: no framing, no referrer (a sign-in link must not leak), a tight CSP."""

    HEADERS = (
        (b"content-security-policy", CSP.encode()),
        (b"x-frame-options", b"DENY"),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
    )

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *self.HEADERS]
            await send(message)

        await self.app(scope, receive, sending)


async def _sign_in_needed(request: Request, _exc: Exception) -> Response:
    return await page(request, "message.html", {"key": "web.signin.needed"}, 401)


async def _bad_form(request: Request, _exc: Exception) -> Response:
    return await page(request, "message.html", {"key": "web.forbidden"}, 403)


async def _forbidden(request: Request, _exc: Exception) -> Response:
    return await page(request, "message.html", {"key": "web.digests.forbidden"}, 403)


async def _not_visible(request: Request, _exc: Exception) -> Response:
    return await page(request, "message.html", {"key": "web.not_found"}, 404)


def routes() -> list:
    v2 = "/open311/v2"
    static = Path(__file__).parent / "static"
    return [
        Route("/", pages.home),
        Route("/login/{token}", pages.login_page, methods=["GET"]),
        Route("/login/{token}", pages.login, methods=["POST"]),
        Route("/logout", pages.logout, methods=["POST"]),
        Route("/lang", pages.language),
        Route("/map", pages.map_page),
        Route("/map/points.json", pages.map_points),
        Route("/map/grids.geojson", pages.map_grids),
        Route("/tickets", pages.list_page),
        Route("/tickets.{kind:str}", pages.list_export),
        Route("/tickets/{number}", pages.ticket_page),
        Route("/tickets/{number}/act", pages.ticket_act, methods=["POST"]),
        Route("/photos/{photo_id}/public", pages.photo_public, methods=["POST"]),
        Route("/photos/{photo_id}/{size}.jpg", pages.photo_file),
        Route("/digests", digests.archive),
        Route("/digests/{week}", digests.one),
        Route("/digests/{week}/digest.{kind}", digests.download),
        Route("/healthz", ops.healthz),
        Route("/metrics", ops.metrics),
        Route(v2 + "/services.{fmt}", open311.services),
        Route(v2 + "/requests.{fmt}", open311.requests_get, methods=["GET"]),
        Route(v2 + "/requests.{fmt}", open311.requests_post, methods=["POST"]),
        Route(v2 + "/requests/{number}.{fmt}", open311.request_one),
        Route(v2 + "/tokens/{token}.{fmt}", open311.token),
        Route(v2 + "/media/{photo_id}.jpg", open311.media),
        Mount("/static/leaflet", StaticFiles(directory=leaflet.BASE_DIR), name="leaflet"),
        Mount("/static/cluster", StaticFiles(directory=markercluster.BASE_DIR), name="cluster"),
        Mount("/static/app", StaticFiles(directory=static), name="app"),
    ]


def create_app(deps: Deps, settings: Settings, grids=None) -> Starlette:
    """The desk over the process's core dependencies. `grids`: an async callable (request →
    GeoJSON) for the map's grid outlines, once grids exist; without it the map has none."""
    metrics = ops.WebMetrics()
    app = Starlette(
        routes=routes(),
        middleware=[
            Middleware(ops.CountRequests, metrics=metrics),
            Middleware(SecurityHeaders),
        ],
        exception_handlers={
            SignInNeeded: _sign_in_needed,
            BadForm: _bad_form,
            Forbidden: _forbidden,
            NotVisible: _not_visible,
        },
    )
    app.state.desk = Desk(deps, settings, grids)
    app.state.metrics = metrics
    return app

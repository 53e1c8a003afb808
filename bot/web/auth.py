"""Who is at the desk: the session cookie, the CSRF check on every form, the page language.

The cookie holds a random secret (the database keeps its hash); it is HttpOnly, SameSite=Lax,
and Secure when the desk is served over HTTPS. Every POST carries the session's CSRF token.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import quote, unquote

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from bot.settings import Settings
from handlers import signin
from handlers.deps import Deps
from handlers.desk import Viewer
from handlers.i18n import LOCALES

COOKIE = "wp_session"
LANG_COOKIE = "wp_lang"
FLASH_COOKIE = "wp_flash"


class SignInNeeded(Exception):
    """No live session: the page says how to get a link."""


class BadForm(Exception):
    """A POST without the session's CSRF token."""


class NotVisible(Exception):
    """Not there, or not this person's to see: both look the same from outside."""


class Forbidden(Exception):
    """Signed in, but this page is not for them (the digest for a secretary)."""


@dataclass
class Desk:
    """What the web door holds: the core's dependencies and the desk's settings."""

    deps: Deps
    settings: Settings
    grids: object | None = None  # a callable giving grid outlines as GeoJSON, once grids exist
    digests: dict = field(
        default_factory=dict
    )  # rendered weeks that are over (they no longer move)

    @property
    def session_valid(self) -> timedelta:
        return timedelta(hours=self.settings.web_session_hours)

    @property
    def secure(self) -> bool:
        return self.settings.web_url.startswith("https://")


def desk_of(request: Request) -> Desk:
    return request.app.state.desk


def locale_of(request: Request) -> str:
    chosen = request.cookies.get(LANG_COOKIE)
    return chosen if chosen in LOCALES else desk_of(request).deps.config.locale


async def current(request: Request) -> Viewer | None:
    cached = request.scope.get("wp.viewer", False)
    if cached is not False:
        return cached
    secret = request.cookies.get(COOKIE)
    found = await signin.viewer(desk_of(request).deps, secret) if secret else None
    request.scope["wp.viewer"] = found
    return found


async def require(request: Request) -> Viewer:
    viewer = await current(request)
    if viewer is None:
        raise SignInNeeded
    return viewer


async def checked_form(request: Request, viewer: Viewer) -> FormData:
    """The posted form, once its CSRF token is the session's own."""
    form = await request.form()
    token = form.get("csrf")
    if not isinstance(token, str) or not hmac.compare_digest(token, viewer.csrf):
        raise BadForm
    return form


def set_session(response: Response, desk: Desk, secret: str) -> None:
    response.set_cookie(
        COOKIE,
        secret,
        max_age=int(desk.session_valid.total_seconds()),
        httponly=True,
        secure=desk.secure,
        samesite="lax",
        path="/",
    )


def clear_session(response: Response, desk: Desk) -> None:
    response.delete_cookie(COOKIE, path="/", secure=desk.secure, httponly=True, samesite="lax")


def flash(response: Response, desk: Desk, text: str) -> None:
    """A line to show on the next page (the outcome of an action, after its redirect)."""
    response.set_cookie(
        FLASH_COOKIE,
        quote(text),
        max_age=60,
        httponly=True,
        secure=desk.secure,
        samesite="lax",
        path="/",
    )


def take_flash(request: Request) -> str | None:
    value = request.cookies.get(FLASH_COOKIE)
    return unquote(value) if value else None

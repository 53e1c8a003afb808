"""Pages from Jinja2 templates, in the reader's language, from the same catalogues as the bot."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from bot.web.auth import FLASH_COOKIE, current, desk_of, locale_of, take_flash
from handlers import cards, categories
from handlers.i18n import t

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
templates.env.autoescape = True


def helpers(locale: str, timezone: str, now: datetime) -> dict[str, Any]:
    return {
        "_": lambda key, **kw: t(key, locale, **kw),
        "locale": locale,
        "status_label": lambda status: cards.status_label(status, locale),
        "state_line": lambda ticket: cards.state_line(ticket, locale),
        "category_label": lambda name: categories.label(name, locale),
        "local_time": lambda at: cards.local_time(at, timezone) if at else "",
        "age": lambda at: cards.age(at, now, locale),
    }


async def page(
    request: Request, name: str, context: dict[str, Any] | None = None, status: int = 200
) -> Response:
    desk = desk_of(request)
    cfg = desk.deps.config
    locale = locale_of(request)
    ctx = helpers(locale, cfg.timezone, desk.deps.clock())
    ctx.update(viewer=await current(request), flash=take_flash(request), path=request.url.path)
    ctx["here"] = str(request.url.path) + (f"?{request.url.query}" if request.url.query else "")
    ctx.update(context or {})
    response = templates.TemplateResponse(request, name, ctx, status_code=status)
    if ctx["flash"]:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response

"""Open311 GeoReport v2 on the desk's port: services, requests (GET with the standard filters,
POST with an API key), one request, tokens. JSON, and XML through the standard library.

Our ticket number is the `service_request_id`; states are `open`/`closed` with the detailed
state in `status_notes`; a `media_url` only for a photo cleared for the public; the reporter's
name never leaves.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from bot.web.auth import desk_of
from handlers import cards, categories, open311
from handlers.periods import to_local, to_utc
from storage import desk as queries
from storage.desk import CLOSED, OPEN, Filters

DEFAULT_DAYS = 90  # GeoReport: requests of the last 90 days unless dates are given
LIMIT = 1000  # and at most this many
REQUEST_FIELDS = (
    "service_request_id", "status", "status_notes", "service_name", "service_code",
    "description", "agency_responsible", "service_notice", "requested_datetime",
    "updated_datetime", "expected_datetime", "address", "address_id", "zipcode", "lat", "long",
    "media_url",
)  # fmt: skip
XML_ROOTS = {
    "services": ("services", "service"),
    "requests": ("service_requests", "request"),
    "errors": ("errors", "error"),
}


def _answer(kind: str, items: list[dict], fmt: str, status: int = 200) -> Response:
    if fmt == "xml":
        root_name, item_name = XML_ROOTS[kind]
        root = ElementTree.Element(root_name)
        for item in items:
            node = ElementTree.SubElement(root, item_name)
            for key, value in item.items():
                text = str(value).lower() if isinstance(value, bool) else str(value)
                ElementTree.SubElement(node, key).text = text
        body = ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)
        return Response(body, status_code=status, media_type="text/xml; charset=utf-8")
    return JSONResponse(items, status_code=status)


def _error(fmt: str, status: int, description: str) -> Response:
    return _answer("errors", [{"code": status, "description": description}], fmt, status)


def _fmt(request: Request) -> str | None:
    fmt = request.path_params.get("fmt")
    return fmt if fmt in ("json", "xml") else None


def _stamp(at: datetime | None, tz: str) -> str:
    return to_local(at, tz).isoformat(timespec="seconds") if at else ""


def _when(value: str | None, tz: str) -> datetime | None:
    """A W3C datetime from the query as naive UTC (a time without offset is local)."""
    if not value:
        return None
    at = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    if at.tzinfo is None:
        return to_utc(at, tz)
    return at.astimezone(UTC).replace(tzinfo=None)


async def services(request: Request) -> Response:
    fmt = _fmt(request)
    if fmt is None:
        return _error("json", 404, "format must be json or xml")
    locale = desk_of(request).deps.config.locale
    known = [(c.name, c.keywords) for c in categories.all_categories()]
    items = [
        {
            "service_code": name,
            "service_name": categories.label(name, locale),
            "description": f"{name} / {categories.label(name, 'en')}",
            "metadata": False,
            "type": "realtime",
            "keywords": ",".join(keywords),
            "group": "",
        }
        for name, keywords in [*known, (categories.OTHER, ())]
    ]
    return _answer("services", items, fmt)


def _request_item(ticket, photo_id: int | None, locale: str, tz: str, base: str) -> dict:
    return {
        "service_request_id": str(ticket.id),
        "status": "open" if ticket.status in OPEN else "closed",
        "status_notes": cards.state_line(ticket, locale),
        "service_name": categories.label(ticket.category, locale),
        "service_code": ticket.category,
        "description": ticket.description or "",
        "agency_responsible": ticket.department or "",
        "service_notice": "",
        "requested_datetime": _stamp(ticket.created_at, tz),
        "updated_datetime": _stamp(ticket.updated_at, tz),
        "expected_datetime": "",
        "address": ticket.address or "",
        "address_id": "",
        "zipcode": "",
        "lat": round(ticket.lat, 6),
        "long": round(ticket.lon, 6),
        "media_url": f"{base}/open311/v2/media/{photo_id}.jpg" if photo_id else "",
    }


async def _items(request: Request, f: Filters) -> list[dict]:
    deps = desk_of(request).deps
    cfg, now = deps.config, deps.clock()

    async def read(s):
        rows = await queries.ticket_rows(s, None, f, now, cfg.sla_resolve, LIMIT)
        public = await queries.public_photos(s, [r.ticket.id for r in rows])
        return rows, public

    rows, public = await deps.db.run(read, write=False)
    base = desk_of(request).settings.web_url or str(request.base_url).rstrip("/")
    return [
        _request_item(r.ticket, public.get(r.ticket.id), cfg.locale, cfg.timezone, base)
        for r in rows
    ]


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split(",") if v.strip())


async def requests_get(request: Request) -> Response:
    fmt = _fmt(request)
    if fmt is None:
        return _error("json", 404, "format must be json or xml")
    q, deps = request.query_params, desk_of(request).deps
    tz = deps.config.timezone
    ids = _split(q.get("service_request_id"))
    if ids:
        if not all(i.isdigit() and len(i) < 10 for i in ids):
            return _error(fmt, 400, "service_request_id must be ticket numbers")
        f = Filters(state="all", numbers=tuple(int(i) for i in ids), sort="new")
        return _answer("requests", await _items(request, f), fmt)
    try:
        start, end = _when(q.get("start_date"), tz), _when(q.get("end_date"), tz)
    except ValueError:
        return _error(fmt, 400, "start_date and end_date must be W3C datetimes")
    if start is None and end is None:
        start = deps.clock() - timedelta(days=DEFAULT_DAYS)
    wanted = _split(q.get("status"))
    if any(s not in ("open", "closed") for s in wanted):
        return _error(fmt, 400, "status must be open or closed")
    states = tuple(s for w in wanted for s in (OPEN if w == "open" else CLOSED))
    f = Filters(
        state="all",
        categories=_split(q.get("service_code")),
        states=states,
        since=start,
        until=end,
        sort="new",
    )
    return _answer("requests", await _items(request, f), fmt)


async def request_one(request: Request) -> Response:
    fmt = _fmt(request)
    if fmt is None:
        return _error("json", 404, "format must be json or xml")
    number = request.path_params["number"]
    if not number.isdigit() or len(number) >= 10:
        return _error(fmt, 404, "no such service request")
    items = await _items(request, Filters(state="all", numbers=(int(number),)))
    if not items:
        return _error(fmt, 404, "no such service request")
    return _answer("requests", items, fmt)


async def token(request: Request) -> Response:
    fmt = _fmt(request)
    if fmt is None:
        return _error("json", 404, "format must be json or xml")
    value = request.path_params["token"]
    number = await open311.request_for_token(desk_of(request).deps, value)
    if number is None:
        return _error(fmt, 404, "no such token")
    return _answer("requests", [{"service_request_id": str(number), "token": value}], fmt)


async def requests_post(request: Request) -> Response:
    fmt = _fmt(request)
    if fmt is None:
        return _error("json", 404, "format must be json or xml")
    form = await request.form()

    def field(name: str) -> str | None:
        value = form.get(name)
        return value.strip()[:2000] or None if isinstance(value, str) else None

    try:
        lat, lon = float(field("lat") or "x"), float(field("long") or "x")
    except ValueError:
        return _error(fmt, 400, "lat and long are required (no address lookup here)")
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return _error(fmt, 400, "lat and long out of range")
    report = open311.Report(
        service_code=field("service_code") or "",
        lat=lat,
        lon=lon,
        description=field("description"),
        address=field("address_string"),
        first_name=field("first_name"),
        last_name=field("last_name"),
        email=field("email"),
        phone=field("phone"),
        device_id=field("device_id"),
    )
    done = await open311.submit(desk_of(request).deps, field("api_key") or "", report)
    if isinstance(done, open311.Refused):
        text = {
            "api_key": "api_key is missing or not valid",
            "service_code": "unknown service_code",
        }
        return _error(fmt, done.status, text[done.reason])
    item = {
        "service_request_id": str(done.number),
        "token": done.token,
        "service_notice": "",
        "account_id": "",
    }
    return _answer("requests", [item], fmt, 201)


async def media(request: Request) -> Response:
    """A photo cleared for the public: no sign-in, its display copy (EXIF already gone)."""
    deps = desk_of(request).deps
    value = request.path_params["photo_id"]
    photo_id = int(value) if value.isdigit() and len(value) < 10 else 0
    photo = await deps.db.run(lambda s: queries.public_photo(s, photo_id), write=False)
    if photo is None:
        return _error("json", 404, "no such public photo")
    return FileResponse(deps.media.resolve(photo.path), media_type="image/jpeg")

"""The desk's pages: map, list (with exports), one ticket (with its actions), photos, sign-in."""

from __future__ import annotations

import json
import math
from urllib.parse import urlencode

from starlette.datastructures import QueryParams, UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response

from bot.web import export
from bot.web.auth import (
    LANG_COOKIE,
    BadForm,
    NotVisible,
    checked_form,
    clear_session,
    desk_of,
    flash,
    locale_of,
    require,
    set_session,
)
from bot.web.render import page
from bot.web.tiles import tiles_for
from handlers import categories, desk, signin, workflow
from handlers.after_photo import prepare
from handlers.i18n import LOCALES, t
from handlers.maps import amap_url
from handlers.photos import MAX_BYTES, PhotoRejected
from handlers.tickets import TicketCommand
from storage import desk as queries
from storage import repository as repo
from storage.desk import STATES, Filters

PER_PAGE = 50
MAP_LIMIT = 5000  # the newest this many on the map; the list pages through everything
MAP_LIST = 30  # the map page's own list, for phones and for when tiles fail
EXPORT_LIMIT = 50_000
AGES = (1, 3, 7, 30)
DEPARTMENTS = ("城运中心", "城管", "绿化", "市容", "交警", "公安")
FORM_ROOM = 64 * 1024  # the form's other fields beside a photo


def _int(value: str | None) -> int | None:
    value = (value or "").strip().lstrip("#")
    return int(value) if value.isdigit() and len(value) < 10 else None


def filters_of(q: QueryParams) -> Filters:
    """The filter in the address (every page and export of one view shares it)."""
    state = q.get("state") or "open"
    return Filters(
        state=state if state in ("open", "closed", "all", *STATES) else "open",
        category=q.get("category") or None,
        chat_pk=_int(q.get("group")),
        tier=_int(q.get("tier")),
        min_age_days=_int(q.get("age")),
        overdue=q.get("overdue") == "1",
        number=_int(q.get("q")),
        sort=q.get("sort") if q.get("sort") in queries.SORTS else "new",
    )


def _query(q: QueryParams, **changes) -> str:
    keep = {k: v for k, v in q.items() if v and k != "page"}
    keep.update({k: v for k, v in changes.items() if v is not None})
    return urlencode(keep)


async def _filter_context(request: Request, viewer: desk.Viewer) -> dict:
    deps = desk_of(request).deps
    groups = await deps.db.run(lambda s: queries.groups(s, viewer.scope), write=False)
    return {
        "f": filters_of(request.query_params),
        "groups": groups,
        "categories": [c.name for c in categories.all_categories()],
        "states": STATES,
        "ages": AGES,
        "sorts": tuple(queries.SORTS),
        "query": request.url.query,
    }


# ----------------------------------------------------------------------------- map and list


async def map_page(request: Request) -> Response:
    viewer = await require(request)
    d = desk_of(request)
    deps, f = d.deps, filters_of(request.query_params)
    now, overdue = deps.clock(), deps.config.sla_resolve
    rows = await deps.db.run(
        lambda s: queries.ticket_rows(s, viewer.scope, f, now, overdue, MAP_LIST), write=False
    )
    ctx = await _filter_context(request, viewer)
    grids = "/map/grids.geojson" if d.grids is not None else ""
    ctx.update(
        rows=rows,
        tiles=tiles_for(d.settings.web_tiles),
        points_url="/map/points.json" + (f"?{request.url.query}" if request.url.query else ""),
        grids_url=grids,
        map_limit=MAP_LIMIT,
    )
    return await page(request, "map.html", ctx)


async def map_points(request: Request) -> Response:
    viewer = await require(request)
    d = desk_of(request)
    deps, f = d.deps, filters_of(request.query_params)
    now, overdue, locale = deps.clock(), deps.config.sla_resolve, locale_of(request)
    points = await deps.db.run(
        lambda s: queries.map_points(s, viewer.scope, f, now, overdue, MAP_LIMIT), write=False
    )
    shift = tiles_for(d.settings.web_tiles).shift
    labels = {c.name: categories.label(c.name, locale) for c in categories.all_categories()}
    states = {s: t(f"status.{s}", locale) for s in STATES}
    out = []
    for number, lat, lon, status, category in points:
        lat, lon = shift(lat, lon)
        out.append(
            [number, round(lat, 6), round(lon, 6), status, labels.get(category, category),
             states.get(status, status)]
        )  # fmt: skip
    body = json.dumps(
        {"points": out, "limit": MAP_LIMIT}, ensure_ascii=False, separators=(",", ":")
    )
    return Response(body, media_type="application/json")


async def map_grids(request: Request) -> Response:
    await require(request)
    grids = desk_of(request).grids
    if grids is None:
        return JSONResponse({"type": "FeatureCollection", "features": []}, status_code=404)
    return JSONResponse(await grids(request))


async def list_page(request: Request) -> Response:
    viewer = await require(request)
    deps = desk_of(request).deps
    f = filters_of(request.query_params)
    now, overdue = deps.clock(), deps.config.sla_resolve
    number = max(1, _int(request.query_params.get("page")) or 1)
    rows, total = await deps.db.run(
        lambda s: queries.ticket_page(
            s, viewer.scope, f, now, overdue, PER_PAGE, (number - 1) * PER_PAGE
        ),
        write=False,
    )
    pages = max(1, math.ceil(total / PER_PAGE))
    q = request.query_params
    ctx = await _filter_context(request, viewer)
    ctx.update(
        rows=rows,
        total=total,
        page_number=number,
        pages=pages,
        prev_query=_query(q, page=str(number - 1)) if number > 1 else None,
        next_query=_query(q, page=str(number + 1)) if number < pages else None,
        export_query=_query(q),
        overdue_before=now - overdue,
        open_states=workflow.OPEN,
    )
    return await page(request, "list.html", ctx)


async def list_export(request: Request) -> Response:
    viewer = await require(request)
    if request.path_params["kind"] not in ("csv", "xlsx"):
        raise NotVisible
    deps = desk_of(request).deps
    f = filters_of(request.query_params)
    now, overdue = deps.clock(), deps.config.sla_resolve
    rows = await deps.db.run(
        lambda s: queries.ticket_rows(s, viewer.scope, f, now, overdue, EXPORT_LIMIT),
        write=False,
    )
    kind = request.path_params["kind"]
    table = export.table(rows, locale_of(request), deps.config.timezone, now - overdue)
    return await export.response(table, kind, f"woodpecker-tickets-{now:%Y%m%d-%H%M}")


# ----------------------------------------------------------------------------- one ticket


async def ticket_page(request: Request) -> Response:
    viewer = await require(request)
    deps = desk_of(request).deps
    number = _int(request.path_params["number"])

    async def read(s):
        found = await queries.ticket_whole(s, number) if number else None
        if found is None or not viewer.sees_ticket(found[0]):
            return None
        ticket = found[0]
        return {
            "ticket": ticket,
            "chat": found[1],
            "reporter": found[2].name,  # the name the group knows them by, nothing more
            "photos": await queries.photos(s, ticket.id),
            "history": await repo.ticket_history(s, ticket.id),
            "merged": await queries.merged_into(s, ticket.id),
            "actions": await desk.desk_actions(s, viewer, ticket),
            "can_publish": await desk.runs_group(s, viewer, ticket.chat_pk),
        }

    ctx = await deps.db.run(read, write=False)
    if ctx is None:
        raise NotVisible
    ticket = ctx["ticket"]
    d = desk_of(request)
    lat, lon = tiles_for(d.settings.web_tiles).shift(ticket.lat, ticket.lon)
    ctx.update(
        amap=amap_url(ticket.lat, ticket.lon, f"#{ticket.id}"),
        before=[p for p in ctx["photos"] if p.kind != "after"],
        after=[p for p in ctx["photos"] if p.kind == "after"],
        tiles=tiles_for(d.settings.web_tiles),
        point=(round(lat, 6), round(lon, 6)),
        departments=DEPARTMENTS,
        max_tier=workflow.MAX_TIER,
        overdue=ticket.status in workflow.OPEN
        and ticket.created_at < deps.clock() - deps.config.sla_resolve,
    )
    return await page(request, "ticket.html", ctx)


async def ticket_act(request: Request) -> Response:
    """A desk action: the same use case as the chat's command, for whoever is signed in. The
    ticket number comes from the address, the person from the session; `tickets.act` decides."""
    viewer = await require(request)
    d = desk_of(request)
    if int(request.headers.get("content-length") or 0) > MAX_BYTES + FORM_ROOM:
        raise BadForm  # nothing we would keep: refused before it is read
    form = await checked_form(request, viewer)
    number = _int(request.path_params["number"])
    action = form.get("action")
    if number is None or action not in desk.DESK_ACTIONS:
        raise NotVisible
    if await desk.visible_ticket(d.deps, viewer, number) is None:
        raise NotVisible
    note = (str(form.get("note") or "")).strip() or None
    after = None
    upload = form.get("photo")
    back = RedirectResponse(f"/tickets/{number}", status_code=303)
    if action == "resolve" and isinstance(upload, UploadFile) and upload.filename:
        data = await upload.read(MAX_BYTES + 1)
        try:
            if len(data) > MAX_BYTES:
                raise PhotoRejected("photo.too_big")
            if data:
                after = await prepare(d.deps, number, data)
        except PhotoRejected as e:
            text = t("web.ticket.photo_rejected", locale_of(request))
            flash(back, d, text + t(e.key, locale_of(request), name=viewer.name))
            return back
    cmd = TicketCommand(
        action,
        number,
        note=note if action in ("resolve", "reject") else None,
        department=(str(form.get("department") or "")).strip() or None,
        tier=_int(str(form.get("tier") or "")),
        after=after,
    )
    outcome = await desk.act(d.deps, viewer, cmd)
    if outcome is None:
        raise NotVisible
    flash(back, d, outcome.text)
    return back


async def photo_public(request: Request) -> Response:
    viewer = await require(request)
    d = desk_of(request)
    form = await checked_form(request, viewer)
    photo_id = _int(request.path_params["photo_id"])
    done = await desk.set_public(d.deps, viewer, photo_id or 0, form.get("public") == "1")
    if done is None:
        raise NotVisible
    number = _int(str(form.get("ticket") or ""))
    return RedirectResponse(f"/tickets/{number}" if number else "/tickets", status_code=303)


async def photo_file(request: Request) -> Response:
    """A photo's thumbnail or display copy, for those who may see its ticket."""
    viewer = await require(request)
    deps = desk_of(request).deps
    photo_id = _int(request.path_params["photo_id"]) or 0
    found = await deps.db.run(lambda s: queries.photo_with_ticket(s, photo_id), write=False)
    if found is None or not viewer.sees_ticket(found[1]):
        raise NotVisible
    photo = found[0]
    relative = photo.thumb_path if request.path_params["size"] == "thumb" else photo.path
    return FileResponse(
        deps.media.resolve(relative),
        media_type="image/jpeg",
        headers={"Cache-Control": "private, max-age=3600"},
    )


# ----------------------------------------------------------------------------- sign-in


async def login_page(request: Request) -> Response:
    d = desk_of(request)
    secret = request.path_params["token"]
    minutes = d.settings.web_link_minutes
    if not await signin.link_is_live(d.deps, secret):
        return await page(
            request, "message.html", {"key": "web.signin.bad", "minutes": minutes}, 410
        )
    return await page(request, "signin.html", {"token": secret})


async def login(request: Request) -> Response:
    d = desk_of(request)
    signed = await signin.redeem(d.deps, request.path_params["token"], d.session_valid)
    if signed is None:
        minutes = d.settings.web_link_minutes
        return await page(
            request, "message.html", {"key": "web.signin.bad", "minutes": minutes}, 410
        )
    response = RedirectResponse("/map", status_code=303)
    set_session(response, d, signed.session)
    return response


async def logout(request: Request) -> Response:
    viewer = await require(request)
    d = desk_of(request)
    await checked_form(request, viewer)
    await signin.sign_out(d.deps, request.cookies.get("wp_session", ""))
    request.scope["wp.viewer"] = None
    response = await page(request, "message.html", {"key": "web.signed_out"})
    clear_session(response, d)
    return response


async def language(request: Request) -> Response:
    chosen = request.query_params.get("to")
    back = request.query_params.get("next") or "/map"
    if not back.startswith("/") or back.startswith("//"):
        back = "/map"  # only our own pages
    response = RedirectResponse(back, status_code=303)
    if chosen in LOCALES:
        response.set_cookie(LANG_COOKIE, chosen, max_age=365 * 86400, samesite="lax", path="/")
    return response


async def home(request: Request) -> Response:
    return RedirectResponse("/map", status_code=303)

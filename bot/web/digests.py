"""The digest archive: every weekly digest sent, and the week so far, viewable and downloadable.

Rendered on request by the same `handlers.digest.build` that made the sent ones (its chart and
spreadsheet in a thread); a week that is over is kept once rendered.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from bot.web.auth import Forbidden, NotVisible, desk_of, require
from bot.web.export import XLSX
from bot.web.render import page
from handlers import digest
from handlers.periods import to_local, week_key
from storage import scheduling

WEEK = re.compile(r"^\d{4}-W\d{2}$")
KEEP = 16


async def _sent(request: Request) -> tuple[list, str]:
    """The digests sent (newest first) and the current week's key, for an official or admin."""
    viewer = await require(request)
    if not viewer.reads_digest:
        raise Forbidden
    deps = desk_of(request).deps
    runs = await deps.db.run(lambda s: scheduling.runs(s, digest.JOB), write=False)
    sent = sorted((r for r in runs if r.target == scheduling.RUN), key=lambda r: r.period)
    current = week_key(to_local(deps.clock(), deps.config.timezone).date())
    return sent[::-1], current


async def _digest(request: Request) -> digest.Digest:
    sent, current = await _sent(request)
    week = request.path_params["week"]
    known = {r.period: r for r in sent}
    if not WEEK.match(week) or (week not in known and week != current):
        raise NotVisible
    d = desk_of(request)
    if week in d.digests:
        return d.digests[week]
    late = known[week].late if week in known else False
    built = await digest.build(d.deps, week, d.deps.clock(), late)
    if week != current:
        if len(d.digests) >= KEEP:
            d.digests.pop(next(iter(d.digests)))
        d.digests[week] = built
    return built


async def archive(request: Request) -> Response:
    sent, current = await _sent(request)
    return await page(request, "digests.html", {"sent": sent, "current": current})


async def one(request: Request) -> Response:
    built = await _digest(request)
    return await page(request, "digest.html", {"digest": built})


async def download(request: Request) -> Response:
    built = await _digest(request)
    kind = request.path_params["kind"]
    body, media = (built.png, "image/png") if kind == "png" else (built.xlsx, XLSX)
    name = f"woodpecker-{built.week}.{'png' if kind == 'png' else 'xlsx'}"
    disposition = f"{'inline' if kind == 'png' else 'attachment'}; filename*=UTF-8''{quote(name)}"
    return Response(body, media_type=media, headers={"Content-Disposition": disposition})

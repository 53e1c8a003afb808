"""The list's current filter as a spreadsheet (XLSX) or CSV, in the reader's language."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import datetime
from urllib.parse import quote

from openpyxl import Workbook
from starlette.responses import Response

from handlers import cards, categories, workflow
from handlers.i18n import t
from storage.desk import Row

COLUMNS = (
    "number", "category", "state", "group", "reporter", "created", "updated", "resolved",
    "department", "tier", "address", "description", "note", "lat", "lon", "overdue",
)  # fmt: skip
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def table(rows: list[Row], locale: str, timezone: str, overdue_before: datetime) -> list[list]:
    def when(at: datetime | None) -> str:
        return cards.local_time(at, timezone) if at else ""

    out: list[list] = [[t(f"web.col.{c}", locale) for c in COLUMNS]]
    for r in rows:
        k = r.ticket
        late = k.status in workflow.OPEN and k.created_at < overdue_before
        out.append(
            [
                k.id,
                categories.label(k.category, locale),
                cards.status_label(k.status, locale),
                r.group or "",
                r.reporter,
                when(k.created_at),
                when(k.updated_at),
                when(k.resolved_at),
                k.department or "",
                k.tier or "",
                k.address or "",
                k.description or "",
                k.note or "",
                round(k.lat, 6),
                round(k.lon, 6),
                t("web.yes", locale) if late else "",
            ]
        )
    return out


def _xlsx(rows: list[list]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("tickets")
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _csv(rows: list[list]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # the BOM lets Excel read it as UTF-8


async def response(rows: list[list], kind: str, name: str) -> Response:
    if kind == "xlsx":
        body, media = await asyncio.to_thread(_xlsx, rows), XLSX
    else:
        body, media = await asyncio.to_thread(_csv, rows), "text/csv; charset=utf-8"
        kind = "csv"
    disposition = f"attachment; filename*=UTF-8''{quote(name)}.{kind}"
    return Response(body, media_type=media, headers={"Content-Disposition": disposition})

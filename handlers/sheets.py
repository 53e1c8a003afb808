"""Spreadsheets an official would print: tables in, XLSX or CSV bytes out, no database.

Every sheet gets its own header row in bold, frozen above the rows; columns as wide as their
longest value (a Chinese character counts two); dates as real date cells. CPU work: call
through `asyncio.to_thread`.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime

DATE_FORMAT = "yyyy-mm-dd hh:mm"
MIN_WIDTH, MAX_WIDTH = 6, 60


@dataclass
class Table:
    sheet: str  # the sheet's name (at most 31 characters, none of []:*?/\)
    header: list[str]
    rows: list[list] = field(default_factory=list)
    title: str | None = None  # a line above the table in a CSV holding several


def width(value: object) -> int:
    """Columns a value needs: CJK characters are two wide; a date is printed in full."""
    if value is None:
        return 0
    if isinstance(value, (datetime, date)):
        return len("2026-11-20 10:30")
    if isinstance(value, float):
        value = f"{value:.1f}"
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(value))


def xlsx(tables: list[Table]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.active)
    bold = Font(bold=True)
    for table in tables:
        sheet = book.create_sheet(table.sheet[:31])
        sheet.append(table.header)
        for cell in sheet[1]:
            cell.font = bold
        for row in table.rows:
            sheet.append(list(row))
        for cells in sheet.iter_rows(min_row=2):
            for cell in cells:
                if isinstance(cell.value, (datetime, date)):
                    cell.number_format = DATE_FORMAT
        widths = [width(h) for h in table.header]
        for row in table.rows:
            # A note under the table (还有 N 条…) spans the row; it does not widen column A.
            if len(row) == 1 and len(table.header) > 1:
                continue
            for i, value in enumerate(row):
                if i < len(widths):
                    widths[i] = max(widths[i], width(value))
        for i, w in enumerate(widths, 1):
            sheet.column_dimensions[get_column_letter(i)].width = min(
                MAX_WIDTH, max(MIN_WIDTH, w + 2)
            )
        sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(tables: list[Table]) -> bytes:
    """One section per table: its title, its own header, its rows, a blank line. UTF-8 with a
    byte-order mark, which Excel needs to read Chinese."""
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    for n, table in enumerate(tables):
        if n:
            writer.writerow([])
        if table.title:
            writer.writerow([table.title])
        writer.writerow(table.header)
        for row in table.rows:
            writer.writerow(
                [v.strftime("%Y-%m-%d %H:%M") if isinstance(v, datetime) else v for v in row]
            )
    return out.getvalue().encode("utf-8-sig")

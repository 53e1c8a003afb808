"""Queries of the geography: grids and their version, the merge lookup by geohash cell,
stations by bounding box, and pending /nearby requests."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Grid, GridVersion, NearbyRequest, Station, Ticket

OPEN = ("new", "accepted", "dispatched")
HOT_REPORTERS = 3  # a problem this many riders reported is 高频: its SLA thresholds are halved

# Geohash: base-32 digits of interleaved longitude and latitude bits. At 7 digits a cell is
# 0.00137° square (about 153 m × 131 m in Shanghai), so a 50 m circle touches at most 4 of them.
_B32 = "0123456789bcdefghjkmnpqrstuvwxyz"
CELL_PRECISION = 7
CELL_DEG = 180 / 2**17  # the cell's height in latitude and width in longitude at 7 digits
METRES_PER_DEG_LAT = 111_320.0


def geohash(lat: float, lon: float, precision: int = CELL_PRECISION) -> str:
    lat_lo, lat_hi, lon_lo, lon_hi = -90.0, 90.0, -180.0, 180.0
    out, ch, bits, even = [], 0, 0, True
    while len(out) < precision:
        if even:
            mid = (lon_lo + lon_hi) / 2
            if lon >= mid:
                ch, lon_lo = ch * 2 + 1, mid
            else:
                ch, lon_hi = ch * 2, mid
        else:
            mid = (lat_lo + lat_hi) / 2
            if lat >= mid:
                ch, lat_lo = ch * 2 + 1, mid
            else:
                ch, lat_hi = ch * 2, mid
        even, bits = not even, bits + 1
        if bits == 5:
            out.append(_B32[ch])
            ch = bits = 0
    return "".join(out)


def degrees_around(lat: float, radius_m: float) -> tuple[float, float]:
    """Half the side of the box around a point that holds a circle of `radius_m`: (dlat, dlon)."""
    dlat = radius_m / METRES_PER_DEG_LAT
    dlon = radius_m / (METRES_PER_DEG_LAT * max(math.cos(math.radians(lat)), 0.01))
    return dlat, dlon


def _steps(lo: float, hi: float, step: float) -> list[float]:
    out, x = [], lo
    while x < hi:
        out.append(x)
        x += step
    out.append(hi)
    return out


def cells_around(lat: float, lon: float, radius_m: float) -> list[str]:
    """Every 7-digit cell that a circle of `radius_m` around the point can touch. Samples at less
    than a cell's spacing across its bounding box, so no cell the box touches is missed."""
    dlat, dlon = degrees_around(lat, radius_m)
    step = CELL_DEG * 0.9
    return sorted(
        {
            geohash(la, lo)
            for la in _steps(lat - dlat, lat + dlat, step)
            for lo in _steps(lon - dlon, lon + dlon, step)
        }
    )


async def merge_candidates(
    session: AsyncSession,
    cells: Iterable[str],
    category: str,
    since: datetime,
    exclude_id: int | None = None,
) -> list[Ticket]:
    """Open tickets of `category` created since `since` in these cells (ix_ticket_geocell)."""
    stmt = merge_candidates_stmt(cells, category, since, exclude_id)
    return [t for t in (await session.execute(stmt)).scalars() if t.status in OPEN]


def merge_candidates_stmt(
    cells: Iterable[str], category: str, since: datetime, exclude_id: int | None = None
):
    """The status is checked on the few rows found, not in SQL: with `status IN (…)` beside a
    long `geocell IN (…)` SQLite's planner (no statistics) preferred ix_ticket_status_created,
    which reads every open ticket of the window."""
    stmt = select(Ticket).where(
        Ticket.geocell.in_(list(cells)),
        Ticket.category == category,
        Ticket.created_at >= since,
    )
    return stmt if exclude_id is None else stmt.where(Ticket.id != exclude_id)


async def report_counts(session: AsyncSession, ticket_id: int) -> tuple[int, int]:
    """(reports, distinct riders) of a problem: the ticket and the reports merged into it."""
    stmt = select(func.count(), func.count(func.distinct(Ticket.reporter_pk))).where(
        or_(Ticket.id == ticket_id, Ticket.duplicate_of == ticket_id)
    )
    reports, riders = (await session.execute(stmt)).one()
    return int(reports), int(riders)


# ------------------------------------------------------------------------------------ grids


async def grid_version(session: AsyncSession) -> GridVersion | None:
    return (await session.execute(select(GridVersion).order_by(GridVersion.id))).scalars().first()


async def all_grids(session: AsyncSession) -> list[Grid]:
    return list((await session.execute(select(Grid).order_by(Grid.id))).scalars())


async def replace_grids(
    session: AsyncSession, rows: list[dict], digest: str, source: str | None, now: datetime
) -> int:
    """The file's grids become the only grids; the version moves on. Returns the new version."""
    await session.execute(delete(Grid))
    session.add_all(Grid(**row) for row in rows)
    current = await grid_version(session)
    if current is None:
        current = GridVersion(version=0, imported_at=now)
        session.add(current)
    current.version += 1
    current.digest, current.source, current.imported_at = digest, (source or "")[:256], now
    await session.flush()
    return current.version


# --------------------------------------------------------------------------------- stations


async def replace_stations(session: AsyncSession, rows: list[dict]) -> None:
    await session.execute(delete(Station))
    session.add_all(Station(**row) for row in rows)
    await session.flush()


async def station_count(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(Station))).scalar_one())


async def stations_in_box(
    session: AsyncSession, lat: float, lon: float, radius_m: float
) -> list[Station]:
    """Stations in the box around a point that holds a circle of `radius_m` (ix_station_lat_lon)."""
    dlat, dlon = degrees_around(lat, radius_m)
    stmt = select(Station).where(
        Station.lat.between(lat - dlat, lat + dlat), Station.lon.between(lon - dlon, lon + dlon)
    )
    return list((await session.execute(stmt)).scalars())


async def all_stations(session: AsyncSession) -> list[Station]:
    return list((await session.execute(select(Station).order_by(Station.id))).scalars())


async def ask_nearby(
    session: AsyncSession, platform: str, chat_id: str, user_id: str, expires_at: datetime
) -> None:
    """Remember (or renew) that this person waits for the nearest stations to a location."""
    stmt = select(NearbyRequest).where(
        NearbyRequest.platform == platform,
        NearbyRequest.chat_id == chat_id,
        NearbyRequest.user_id == user_id,
    )
    row = (await session.execute(stmt)).scalar_one_or_none()
    if row is None:
        session.add(
            NearbyRequest(
                platform=platform, chat_id=chat_id, user_id=user_id, expires_at=expires_at
            )
        )
    else:
        row.expires_at = expires_at


async def take_nearby(
    session: AsyncSession, platform: str, chat_id: str, user_id: str, now: datetime
) -> bool:
    """Consume this person's pending /nearby; True when one was still live."""
    stmt = (
        delete(NearbyRequest)
        .where(
            NearbyRequest.platform == platform,
            NearbyRequest.chat_id == chat_id,
            NearbyRequest.user_id == user_id,
        )
        .returning(NearbyRequest.expires_at)
    )
    expiry = (await session.execute(stmt)).scalar()
    return expiry is not None and expiry > now


async def nearby_pending(
    session: AsyncSession, platform: str, chat_id: str, user_id: str, now: datetime
) -> bool:
    stmt = select(NearbyRequest.id).where(
        NearbyRequest.platform == platform,
        NearbyRequest.chat_id == chat_id,
        NearbyRequest.user_id == user_id,
        NearbyRequest.expires_at > now,
    )
    return (await session.execute(stmt)).first() is not None


# ------------------------------------------------------------------------------ the digest


async def week_points(
    session: AsyncSession, start: datetime, end: datetime
) -> list[tuple[float, float, bool]]:
    """(lat, lon, outside) of every ticket reported in [start, end), merged reports excepted."""
    stmt = select(Ticket.lat, Ticket.lon, Ticket.outside).where(
        Ticket.created_at >= start, Ticket.created_at < end, Ticket.status != "duplicate"
    )
    return [tuple(row) for row in (await session.execute(stmt)).all()]


async def open_by_grid(session: AsyncSession, open_at_end) -> dict[str, int]:
    """Tickets open at the week's end per grid name (`open_at_end`: storage.stats.open_at)."""
    stmt = (
        select(Ticket.grid, func.count())
        .join(open_at_end, open_at_end.c.id == Ticket.id)
        .where(Ticket.grid.is_not(None))
        .group_by(Ticket.grid)
    )
    return {grid: int(n) for grid, n in (await session.execute(stmt)).all()}

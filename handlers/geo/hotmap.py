"""The digest's map page: the week's tickets as points over the grid outlines, each grid shaded
by the tickets open in it at the week's end. Drawn with matplotlib (no tile server)."""

from __future__ import annotations

import asyncio
import io
import math
from dataclasses import dataclass

from handlers.deps import Deps
from handlers.digest_render import _render_lock, cjk_font
from handlers.geo import grids
from handlers.i18n import t
from storage import geo as store
from storage.stats import open_at


@dataclass
class MapData:
    week: str
    index: grids.GridIndex
    points: list[tuple[float, float, bool]]
    open_by_grid: dict[str, int]


async def week_map(deps: Deps, week: str, start, end) -> bytes | None:
    """The PNG for one week, or None when no grids are loaded (nothing to draw over)."""
    async with deps.db.read() as s:
        index = await grids.current(s, deps)
        if not index.loaded:
            return None
        data = MapData(
            week,
            index,
            await store.week_points(s, start, end),
            await store.open_by_grid(s, open_at(end)),
        )
    return await asyncio.to_thread(render_map, data, deps.config.locale)


def render_map(data: MapData, locale: str) -> bytes:
    with _render_lock:
        return _render(data, locale)


def _outlines(ax, geometry, **style) -> None:
    polygons = getattr(geometry, "geoms", [geometry])
    for polygon in polygons:
        xs, ys = polygon.exterior.xy
        ax.plot(xs, ys, **style)


def _render(data: MapData, locale: str) -> bytes:
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib import cm, colors, font_manager
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Polygon as Patch

    families = ["DejaVu Sans"]
    font = cjk_font()
    if font is not None:
        font_manager.fontManager.addfont(str(font))
        families.insert(0, font_manager.FontProperties(fname=str(font)).get_name())
    index = data.index
    levels = {name: index.areas[name].level for name in index.names}
    top = max(data.open_by_grid.values(), default=0)
    norm = colors.Normalize(vmin=0, vmax=max(top, 1))
    cmap = matplotlib.colormaps["OrRd"]
    with matplotlib.rc_context({"font.family": families, "axes.unicode_minus": False}):
        fig = Figure(figsize=(10, 9), dpi=100, facecolor="white")
        FigureCanvasAgg(fig)
        ax = fig.add_axes((0.05, 0.06, 0.8, 0.86))
        for name, geometry in zip(index.names, index.geometries, strict=True):
            if levels[name] != "网格":
                continue
            count = data.open_by_grid.get(name, 0)
            for polygon in getattr(geometry, "geoms", [geometry]):
                fill = cmap(norm(count))
                ring = list(polygon.exterior.coords)
                ax.add_patch(Patch(ring, closed=True, facecolor=fill, edgecolor="#999", lw=0.6))
            spot = geometry.representative_point()
            label = {"facecolor": "white", "alpha": 0.75, "edgecolor": "none", "pad": 1.5}
            ax.text(spot.x, spot.y, f"{name}\n{count}", ha="center", va="center", fontsize=9,
                    color="#222222", bbox=label, zorder=5)  # fmt: skip
        for name, geometry in zip(index.names, index.geometries, strict=True):
            width = {"街道": 1.4, "区": 2.4}.get(levels[name])
            if width:
                _outlines(ax, geometry, color="#444444", linewidth=width)
        minx = min(g.bounds[0] for g in index.geometries)
        miny = min(g.bounds[1] for g in index.geometries)
        maxx = max(g.bounds[2] for g in index.geometries)
        maxy = max(g.bounds[3] for g in index.geometries)
        padx, pady = (maxx - minx) * 0.06, (maxy - miny) * 0.06
        box = (minx - padx, maxx + padx, miny - pady, maxy + pady)
        shown = [(lat, lon) for lat, lon, _ in data.points
                 if box[0] <= lon <= box[1] and box[2] <= lat <= box[3]]  # fmt: skip
        outside = sum(1 for *_, out in data.points if out)
        if shown:
            ax.scatter([p[1] for p in shown], [p[0] for p in shown], s=9, color="#1f4e9c",
                       alpha=0.6, linewidths=0, label=t("map.week_tickets", locale))  # fmt: skip
            ax.legend(loc="upper left", frameon=False, fontsize=10)
        ax.set_xlim(box[0], box[1])
        ax.set_ylim(box[2], box[3])
        ax.set_aspect(1 / math.cos(math.radians((miny + maxy) / 2)))
        ax.tick_params(labelsize=8)
        title = t("map.title", locale, week=data.week)
        if outside:
            title += f"  ·  {t('map.outside', locale)} {outside}"
        ax.set_title(title, fontsize=16)
        bar = fig.add_axes((0.88, 0.2, 0.025, 0.6))
        fig.colorbar(cm.ScalarMappable(norm=norm, cmap=cmap), cax=bar,
                     label=t("map.open", locale))  # fmt: skip
        out = io.BytesIO()
        fig.savefig(out, format="png")
        return out.getvalue()

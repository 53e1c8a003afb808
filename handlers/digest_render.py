"""The weekly digest as officials read it: text, a chart (PNG) and a spreadsheet (XLSX).

Pure: numbers in, bytes out, no database. PNG and XLSX are CPU work: call them through
`asyncio.to_thread`. The chart's Chinese labels need a real CJK font: `cjk_font()` finds the
Noto Sans CJK SC that the `mplfonts` package ships (installed by setup.sh with the project),
else one installed on the system.
"""

from __future__ import annotations

import importlib.util
import io
import threading
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

from handlers import cards, categories, sheets
from handlers.i18n import t
from handlers.periods import to_local
from handlers.sheets import Table
from storage.stats import CLUSTER_MIN, GroupRow, WeekNumbers

TEXT_LIST = 5  # lines per list in the chat message; the spreadsheet has them all
CATEGORY_LIST = 7  # categories named in the text and the chart; the rest are one 其他 row
CHART_GROUPS = 7
SYSTEM_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
)
_render_lock = threading.Lock()  # matplotlib's rcParams are process-wide


@cache
def cjk_font() -> Path | None:
    """A font file that has Chinese glyphs, or None (labels would then show as boxes)."""
    from matplotlib.ft2font import FT2Font

    candidates = []
    spec = importlib.util.find_spec("mplfonts")
    if spec and spec.submodule_search_locations:
        base = Path(next(iter(spec.submodule_search_locations))) / "fonts"
        candidates.append(base / "NotoSansCJKsc-Regular.otf")
    candidates += [Path(p) for p in SYSTEM_FONTS]
    for path in candidates:
        if path.is_file() and FT2Font(str(path)).get_char_index(ord("周")):
            return path
    return None


def duration(d: timedelta | None, locale: str) -> str:
    if d is None:
        return "—"
    hours = d.total_seconds() / 3600
    if hours < 48:
        return t("age.hours", locale, n=f"{hours:.1f}")
    return t("age.days", locale, n=f"{hours / 24:.1f}")


def change(now: int, before: float, locale: str) -> str:
    if before == 0:
        return t("digest.change_new", locale) if now else t("digest.change_same", locale)
    pct = round((now - before) / before * 100)
    return t("digest.change_same", locale) if pct == 0 else f"{pct:+d}%"


def _avg(values: list[int]) -> float:
    return sum(values) / len(values) if values else 0.0


def _day(at: datetime, tz: str) -> str:
    return to_local(at, tz).strftime("%m-%d")


def title(w: WeekNumbers, locale: str, tz: str, late: bool = False) -> str:
    last = w.end - timedelta(seconds=1)
    head = t("digest.title", locale, week=w.week, first=_day(w.start, tz), last=_day(last, tz))
    if w.area:
        head = t("digest.area", locale, area=w.area) + head
    return (t("late.mark", locale) + head) if late else head


def render_text(
    w: WeekNumbers, locale: str, tz: str, overdue_days: float, late: bool = False
) -> str:
    """The chat message: the week's numbers and the top of every list."""
    lines = [title(w, locale, tz, late)]
    if not w.new and not w.open and not w.resolved:
        lines.append(t("digest.none", locale))
        return "\n".join(lines)
    lines.append(
        t(
            "digest.totals",
            locale,
            new=w.new,
            accepted=w.accepted,
            resolved=w.resolved,
            rejected=w.rejected,
        )
    )
    lines.append(t("digest.open", locale, open=w.open, overdue=w.overdue, days=_num(overdue_days)))
    if w.resolved:
        lines.append(
            t(
                "digest.speed",
                locale,
                median=duration(w.median_resolve, locale),
                p90=duration(w.p90_resolve, locale),
            )
        )
    else:
        lines.append(t("digest.speed_none", locale))
    before = w.history[:-1]
    if before:
        avg_new = _avg([n for _, n, _ in before])
        avg_res = _avg([r for _, _, r in before])
        lines.append(
            t(
                "digest.trend",
                locale,
                new=w.new,
                avg_new=f"{avg_new:.0f}",
                change=change(w.new, avg_new, locale),
                resolved=w.resolved,
                avg_resolved=f"{avg_res:.0f}",
            )
        )
    cats = category_rows(w, locale, CATEGORY_LIST, lambda new, resolved: new > 0)
    if cats:
        parts = [f"{label} {new}" for label, new, _ in cats]
        lines.append(t("digest.by_category", locale) + " · ".join(parts))
    if w.by_area:  # a district's streets side by side
        lines.append(t("digest.by_street", locale))
        for g in w.by_area:
            values = dict(new=g.new, resolved=g.resolved, open=g.open, overdue=g.overdue)
            lines.append("  " + t("digest.group_line", locale, title=g.title, **values))
    if w.by_group:
        lines.append(t("digest.by_group", locale))
        for g in group_rows(w.by_group, TEXT_LIST, locale):
            lines.append(
                "  "
                + t(
                    "digest.group_line",
                    locale,
                    title=g.title,
                    new=g.new,
                    resolved=g.resolved,
                    open=g.open,
                    overdue=g.overdue,
                )
            )
    if w.overdue_list:
        lines.append(t("digest.overdue_head", locale, count=w.overdue))
        for o in w.overdue_list[:TEXT_LIST]:
            lines.append("  " + _overdue_line(o, w.end, locale))
    if w.clusters:
        lines.append(t("digest.clusters_head", locale, min=CLUSTER_MIN))
        for c in w.clusters[:TEXT_LIST]:
            lines.append("  " + _cluster_line(c, locale))
    if w.reporters:
        lines.append(t("digest.reporters_head", locale, total=w.reporters_total))
        for r in w.reporters[:TEXT_LIST]:
            lines.append(
                "  "
                + t(
                    "digest.reporter_line",
                    locale,
                    name=r.name + (f"（{r.company}）" if r.company else ""),
                    reports=r.reports,
                    resolved=r.resolved,
                    points=r.points,
                )
            )
    if w.companies:
        parts = [
            t(
                "digest.company_line",
                locale,
                company=c.company,
                reports=c.reports,
                people=c.reporters,
            )
            for c in w.companies[:TEXT_LIST]
        ]
        lines.append(t("digest.companies_head", locale) + "；".join(parts))
    if w.points:
        lines.append(t("digest.points", locale, points=w.points))
    return "\n".join(lines)


def fold(rows: list, limit: int, merge) -> list:
    """The first `limit` rows, and the rest as one row made by `merge(rest)`, so that what is
    shown still adds up to the week's totals. Only when that folds two rows or more."""
    if len(rows) <= limit + 1:
        return list(rows)
    return [*rows[:limit], merge(rows[limit:])]


def category_rows(w: WeekNumbers, locale: str, limit: int, keep) -> list[tuple[str, int, int]]:
    """(label, new, resolved) of the categories `keep(new, resolved)` selects, the biggest
    first. Folded, the rest go into one row `其他 N 类`, and so does 其他 itself."""
    rows = [r for r in w.by_category if keep(r[1], r[2])]
    if len(rows) > limit + 1:
        rows = [r for r in rows if r[0] != categories.OTHER] + [
            r for r in rows if r[0] == categories.OTHER
        ]

    def merge(rest: list) -> tuple[str, int, int]:
        label = t("digest.rest_categories", locale, n=len(rest))
        return label, sum(r[1] for r in rest), sum(r[2] for r in rest)

    labelled = [(categories.label(c, locale), new, res) for c, new, res in rows]
    return fold(labelled, limit, merge)


def group_rows(groups: list[GroupRow], limit: int, locale: str) -> list[GroupRow]:
    """The groups in the order given; beyond `limit`, the rest summed as `其他 N 个群`."""

    def merge(rest: list[GroupRow]) -> GroupRow:
        return GroupRow(
            0,
            t("digest.rest_groups", locale, n=len(rest)),
            new=sum(g.new for g in rest),
            resolved=sum(g.resolved for g in rest),
            open=sum(g.open for g in rest),
            overdue=sum(g.overdue for g in rest),
        )

    return fold(groups, limit, merge)


def _num(x: float) -> str:
    return f"{x:g}"


def _overdue_line(o, end: datetime, locale: str) -> str:
    state = [cards.status_label(o.status, locale)]
    if o.department:
        state.append(o.department)
    if o.tier in cards.TIER_KEYS:
        state.append(t(cards.TIER_KEYS[o.tier], locale))
    return t(
        "digest.overdue_line",
        locale,
        number=o.id,
        category=categories.label(o.category, locale),
        group=o.group,
        age=cards.age(o.created_at, end, locale),
        state=" · ".join(state),
    )


def _place(c) -> str:
    return c.address or f"{c.lat:.4f},{c.lon:.4f}"


def _cluster_line(c, locale: str) -> str:
    return t(
        "digest.cluster_line",
        locale,
        category=categories.label(c.category, locale),
        place=_place(c),
        count=c.count,
        first=c.first_id,
        last=c.last_id,
    )


# ----------------------------------------------------------------------------- the chart


def render_png(w: WeekNumbers, locale: str, tz: str, late: bool = False) -> bytes:
    """A one-page chart: five weeks of new vs resolved, categories, groups, top reporters."""
    with _render_lock, _style():
        out = io.BytesIO()
        _figure(w, locale, tz, late).savefig(out, format="png")
        return out.getvalue()


def chart_figure(w: WeekNumbers, locale: str, tz: str, late: bool = False):
    """The chart as a matplotlib Figure (what `render_png` draws), to look at its bars."""
    with _render_lock, _style():
        return _figure(w, locale, tz, late)


def _style():
    """Chinese-capable fonts while the chart is made and drawn (tick labels come at drawing)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib import font_manager

    families = ["DejaVu Sans"]
    font = cjk_font()
    if font is not None:
        font_manager.fontManager.addfont(str(font))
        families.insert(0, font_manager.FontProperties(fname=str(font)).get_name())
    return matplotlib.rc_context(
        {"font.family": families, "axes.unicode_minus": False, "font.size": 12}
    )


def _figure(w: WeekNumbers, locale: str, tz: str, late: bool):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    new_c, res_c, open_c, late_c = "#3b7dd8", "#2e9e5b", "#f0a030", "#d64541"
    fig = Figure(figsize=(12, 9), dpi=110, facecolor="white")
    FigureCanvasAgg(fig)
    heading = title(w, locale, tz, late).replace("📊", "").strip()  # no emoji in the font
    fig.suptitle(heading, fontsize=20, y=0.975)
    kpis = [
        (t("chart.new", locale), w.new, new_c),
        (t("chart.resolved", locale), w.resolved, res_c),
        (t("chart.open", locale), w.open, open_c),
        (t("chart.overdue", locale), w.overdue, late_c),
        (t("chart.median", locale), duration(w.median_resolve, locale), "#555555"),
        (t("chart.reporters", locale), w.reporters_total, "#555555"),
    ]
    for i, (label, value, color) in enumerate(kpis):
        x = 0.09 + i * 0.165
        fig.text(x, 0.88, str(value), ha="center", fontsize=22, color=color)
        fig.text(x, 0.85, label, ha="center", fontsize=12, color="#444444")
    grid = fig.add_gridspec(2, 2, top=0.78, bottom=0.06, left=0.14, right=0.97, hspace=0.4)
    grid.update(wspace=0.45)

    ax = fig.add_subplot(grid[0, 0])
    keys = [k.split("-")[1] for k, _, _ in w.history]
    xs = range(len(keys))
    ax.bar([x - 0.2 for x in xs], [n for _, n, _ in w.history], 0.4, color=new_c,
           label=t("chart.new", locale))  # fmt: skip
    ax.bar([x + 0.2 for x in xs], [r for _, _, r in w.history], 0.4, color=res_c,
           label=t("chart.resolved", locale))  # fmt: skip
    ax.set_xticks(list(xs), keys)
    ax.set_title(t("chart.weeks", locale), fontsize=14)
    ax.legend(frameon=False, fontsize=11)
    _tidy(ax)

    ax = fig.add_subplot(grid[0, 1])
    cats = category_rows(w, locale, CATEGORY_LIST, lambda new, res: new or res)[::-1]
    _barh(ax, [_short(c) for c, _, _ in cats],
          [[n for _, n, _ in cats], [r for _, _, r in cats]], [new_c, res_c],
          [t("chart.new", locale), t("chart.resolved", locale)])  # fmt: skip
    ax.set_title(t("chart.by_category", locale), fontsize=14)

    ax = fig.add_subplot(grid[1, 0])
    busiest = sorted(w.by_group, key=lambda g: (-g.open, -g.overdue))
    groups = group_rows(busiest, CHART_GROUPS, locale)[::-1]
    _barh(ax, [_short(g.title) for g in groups],
          [[g.open for g in groups], [g.overdue for g in groups]], [open_c, late_c],
          [t("chart.open", locale), t("chart.overdue", locale)])  # fmt: skip
    ax.set_title(t("chart.by_group", locale), fontsize=14)

    ax = fig.add_subplot(grid[1, 1])
    people = w.reporters[:8][::-1]
    _barh(ax, [_short(r.name) for r in people],
          [[r.reports for r in people], [r.resolved for r in people]], [new_c, res_c],
          [t("chart.reports", locale), t("chart.resolved", locale)])  # fmt: skip
    ax.set_title(t("chart.top_reporters", locale), fontsize=14)
    return fig


def _short(text: str, n: int = 10) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _tidy(ax) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.grid(axis="x" if ax.get_yticks().size and ax.name == "barh" else "y", alpha=0.25)


def _barh(ax, labels, series, colors, names) -> None:
    from matplotlib.ticker import MaxNLocator

    if not labels:
        ax.text(0.5, 0.5, "—", ha="center", va="center", fontsize=20, color="#999999")
        ax.set_axis_off()
        return
    ys = range(len(labels))
    height = 0.8 / len(series)
    for k, (values, color, name) in enumerate(zip(series, colors, names, strict=True)):
        offs = [y + ((len(series) - 1) / 2 - k) * height for y in ys]  # first series on top
        bars = ax.barh(offs, values, height, color=color, label=name)
        ax.bar_label(bars, padding=2, fontsize=10)
    ax.set_yticks(list(ys), labels)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # tickets and people come whole
    ax.legend(frameon=False, fontsize=10, loc="lower right")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.margins(x=0.15)


# ----------------------------------------------------------------------------- spreadsheet


def render_xlsx(w: WeekNumbers, locale: str, tz: str, overdue_days: float) -> bytes:
    """Every list for officials who sort, filter and print: a sheet each, totals that match the
    text, real dates, and a line saying how many more when a list is not complete."""
    h = lambda *keys: [t(f"xlsx.{k}", locale) for k in keys]  # noqa: E731
    total = t("xlsx.total", locale)

    def more(listed: int, count: int) -> list[list]:
        if count <= listed:
            return []
        return [[t("xlsx.more", locale, n=count - listed, total=count)]]

    summary = [
        (t("xlsx.week", locale), w.week),
        (t("chart.new", locale), w.new),
        (t("xlsx.accepted", locale), w.accepted),
        (t("chart.resolved", locale), w.resolved),
        (t("xlsx.rejected", locale), w.rejected),
        (t("chart.open", locale), w.open),
        (t("chart.overdue", locale), w.overdue),
        (t("xlsx.overdue_days", locale), overdue_days),
        (t("xlsx.median_hours", locale), _hours(w.median_resolve)),
        (t("xlsx.p90_hours", locale), _hours(w.p90_resolve)),
        (t("chart.reporters", locale), w.reporters_total),
        (t("xlsx.points", locale), w.points),
    ]
    cats = [[categories.label(c, locale), n, r] for c, n, r in w.by_category]
    groups = [[g.title, g.new, g.resolved, g.open, g.overdue] for g in w.by_group]
    overdue = [
        [
            o.id,
            categories.label(o.category, locale),
            o.group,
            to_local(o.created_at, tz).replace(tzinfo=None),
            cards.status_label(o.status, locale),
            t(cards.TIER_KEYS[o.tier], locale) if o.tier in cards.TIER_KEYS else None,
            o.department,
        ]
        for o in w.overdue_list
    ]
    tables = [
        Table(t("xlsx.summary", locale), h("item", "value"), [list(r) for r in summary]),
        Table(
            t("xlsx.history", locale), h("week", "new", "resolved"), [list(r) for r in w.history]
        ),
        Table(
            t("xlsx.categories", locale),
            h("category", "new", "resolved"),
            [*cats, [total, w.new, w.resolved]],
        ),
        Table(
            t("xlsx.groups", locale),
            h("group", "new", "resolved", "open", "overdue"),
            [*groups, [total, w.new, w.resolved, w.open, w.overdue]],
        ),
        Table(
            t("xlsx.overdue", locale),
            h("number", "category", "group", "reported", "status", "tier", "department"),
            overdue + more(len(overdue), w.overdue),
        ),
        Table(
            t("xlsx.clusters", locale),
            h("category", "place", "count", "first", "last"),
            [
                [categories.label(c.category, locale), _place(c), c.count, c.first_id, c.last_id]
                for c in w.clusters
            ],
        ),
        Table(
            t("xlsx.reporters", locale),
            h("name", "company", "reports", "resolved", "points"),
            [[r.name, r.company, r.reports, r.resolved, r.points] for r in w.reporters]
            + more(len(w.reporters), w.reporters_total),
        ),
        Table(
            t("xlsx.companies", locale),
            h("company", "reports", "people", "points"),
            [[c.company, c.reports, c.reporters, c.points] for c in w.companies],
        ),
    ]
    return sheets.xlsx(tables)


def _hours(d: timedelta | None) -> float | None:
    return round(d.total_seconds() / 3600, 1) if d is not None else None

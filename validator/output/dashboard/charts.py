"""Charts as inline SVG and HTML, each with a table of the same numbers.

No script and no external resource: the page reads offline and without JavaScript. Every
chart is a `<figure>` whose SVG carries `role="img"` and an `aria-label`, each mark a `<title>`
with its value, and a `<details>` table alternative a screen reader (or a reader who wants the
exact figures) opens instead.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence

BAD = "#c0392b"
GOOD = "#2e86c1"
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")
MAX_BARS = 40

Cell = str | int | float | None


def esc(value: object) -> str:
    return html.escape(str(value))


UNDEFINED = "\u2013"  # an en dash: no value (a gap in a trend, an undefined coefficient)


def fmt(value: Cell, digits: int = 3) -> str:
    if value is None:
        return UNDEFINED
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def table(head: Sequence[str], rows: Sequence[Sequence[Cell]], ident: str = "") -> str:
    """A plain data table; numbers right-aligned, every cell escaped (labels, ids and sample
    values come from the data)."""
    attr = f" id='{esc(ident)}'" if ident else ""
    th = "".join(f"<th scope='col'>{esc(h)}</th>" for h in head)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td class='num'>{esc(fmt(c))}</td>"
            if isinstance(c, int | float)
            else f"<td>{esc(fmt(c))}</td>"
            for c in row
        )
        + "</tr>"
        for row in rows
    )
    return f"<table{attr}><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def figure(title: str, svg: str, alt: str, ident: str, note: str = "") -> str:
    """A chart with its caption and its table alternative."""
    extra = f"<p class='note'>{esc(note)}</p>" if note else ""
    return (
        f"<figure id='{esc(ident)}' class='chart'><figcaption>{esc(title)}</figcaption>{svg}"
        f"{extra}<details><summary>Table: {esc(title)}</summary>{alt}</details></figure>"
    )


def bar_chart(
    title: str,
    bars: Sequence[tuple[str, float | None]],
    ident: str,
    limit: float | None = None,
    limit_label: str = "",
    digits: int = 3,
    below_is_bad: bool = False,
    max_value: float | None = None,
) -> str:
    """Horizontal bars; bars beyond the limit in red, the limit as a dashed line. A value of
    None (undefined, e.g. agreement over no pairable ratings) has no bar and reads an en dash:
    it is neither zero nor a failure."""
    width, bar_h, label_w = 640, 18, 150
    shown = bars[:MAX_BARS]
    top = max([v for _, v in shown if v is not None] + [limit or 0, max_value or 0, 1e-9])
    height = 30 + bar_h * len(shown) + 10
    span = width - label_w - 80
    parts = [_svg_open(title, width, height)]
    for i, (label, value) in enumerate(shown):
        y = 24 + i * bar_h
        parts.append(f'<text x="0" y="{y + 13}" font-size="12">{esc(label)}</text>')
        if value is None:
            parts.append(
                f'<text x="{label_w + 4}" y="{y + 13}" font-size="11" class="value">'
                f"{UNDEFINED}<title>{esc(label)}: undefined</title></text>"
            )
            continue
        w = max(0.0, value) / top * span
        bad = limit is not None and ((value < limit) if below_is_bad else (value > limit))
        parts.append(
            f'<rect x="{label_w}" y="{y + 2}" width="{w:.1f}" height="{bar_h - 4}" '
            f'fill="{BAD if bad else GOOD}"><title>{esc(label)}: {value:.{digits}f}</title>'
            f'</rect><text x="{label_w + w + 4:.1f}" y="{y + 13}" font-size="11" '
            f'class="value">{value:.{digits}f}</text>'
        )
    if limit is not None:
        x = label_w + limit / top * span
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="18" y2="{height}" stroke="#333" '
            f'stroke-dasharray="4 3"/><text x="{x + 3:.1f}" y="14" font-size="11">'
            f"{esc(limit_label)}</text>"
        )
    parts.append("</svg>")
    note = f"showing {MAX_BARS} of {len(bars)}" if len(bars) > MAX_BARS else ""
    alt = table(["group", "value"], [(label, v) for label, v in bars])
    return figure(title, "".join(parts), alt, ident, note)


def _svg_open(title: str, width: int, height: int) -> str:
    return (
        f'<svg role="img" aria-label="{esc(title)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
    )


def line_chart(
    title: str, runs: list[str], series: dict[str, list[float | None]], ident: str
) -> str:
    """One line per series over the validations `runs` (oldest first); gaps where a run has
    no value. The y axis spans 0..1 (shares, agreement) and stretches for values outside."""
    width, height, left, right, top_pad, bottom = 640, 220, 40, 150, 12, 30
    values = [v for vs in series.values() for v in vs if v is not None]
    lo, hi = min([0.0, *values]), max([1.0, *values])
    plot_w, plot_h = width - left - right, height - top_pad - bottom

    def x(i: int) -> float:
        return left + (plot_w * i / (len(runs) - 1) if len(runs) > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top_pad + plot_h * (hi - v) / (hi - lo)

    parts = [_svg_open(title, width, height)]
    for tick in (lo, (lo + hi) / 2, hi):
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
            f'stroke="#ddd"/><text x="2" y="{y(tick) + 4:.1f}" font-size="10">{tick:.2f}</text>'
        )
    for i, run in enumerate(runs):
        parts.append(
            f'<text x="{x(i):.1f}" y="{height - 10}" font-size="10" text-anchor="middle">'
            f"{esc(run)}</text>"
        )
    for n, (name, vals) in enumerate(series.items()):
        color = PALETTE[n % len(PALETTE)]
        parts.append(_polyline(name, vals, runs, color, x, y))
        parts.append(
            f'<text x="{left + plot_w + 8}" y="{top_pad + 12 + 14 * n}" font-size="11" '
            f'fill="{color}">{esc(name)}</text>'
        )
    parts.append("</svg>")
    alt = table(
        ["validation", *series],
        [(run, *(vs[i] for vs in series.values())) for i, run in enumerate(runs)],
    )
    return figure(title, "".join(parts), alt, ident)


def _polyline(
    name: str,
    vals: list[float | None],
    runs: list[str],
    color: str,
    x: Callable[[int], float],
    y: Callable[[float], float],
) -> str:
    out: list[str] = []
    segment: list[str] = []
    for i, v in enumerate(vals):
        if v is None:
            segment = []
            out.append("")
            continue
        segment.append(f"{x(i):.1f},{y(v):.1f}")
        if len(segment) > 1:
            out.append(
                f'<polyline points="{" ".join(segment[-2:])}" fill="none" stroke="{color}" '
                'stroke-width="2"/>'
            )
        out.append(
            f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3" fill="{color}" class="point">'
            f"<title>{esc(name)} @ {esc(runs[i])}: {v:.4f}</title></circle>"
        )
    return "".join(out)


def interval_chart(
    title: str,
    rows: list[tuple[str, float, float, float]],
    ident: str,
    limit: float | None,
    alt: str,
) -> str:
    """A dot per group (the rate) with its interval as a whisker, on 0..1; groups whose whole
    interval lies above the limit in red."""
    width, row_h, label_w = 640, 18, 150
    shown = rows[:MAX_BARS]
    height = 30 + row_h * len(shown) + 10
    span = width - label_w - 40
    parts = [_svg_open(title, width, height)]
    for i, (group, rate, lo, hi) in enumerate(shown):
        y = 24 + i * row_h + 9
        bad = limit is not None and lo > limit
        color = BAD if bad else GOOD
        parts.append(
            f'<text x="0" y="{y + 4}" font-size="12">{esc(group)}</text>'
            f'<line x1="{label_w + lo * span:.1f}" x2="{label_w + hi * span:.1f}" y1="{y}" '
            f'y2="{y}" stroke="{color}" stroke-width="2"/>'
            f'<circle cx="{label_w + rate * span:.1f}" cy="{y}" r="4" fill="{color}">'
            f"<title>{esc(group)}: {rate:.3f} [{lo:.3f}, {hi:.3f}]</title></circle>"
        )
    if limit is not None:
        x = label_w + limit * span
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="18" y2="{height}" stroke="#333" '
            f'stroke-dasharray="4 3"/><text x="{x + 3:.1f}" y="14" font-size="11">'
            f"max {limit}</text>"
        )
    parts.append("</svg>")
    note = f"showing {MAX_BARS} of {len(rows)}" if len(rows) > MAX_BARS else ""
    return figure(title, "".join(parts), alt, ident, note)


def heat_table(
    caption: str,
    row_names: list[str],
    col_names: list[str],
    cells: dict[tuple[str, str], float],
    ident: str,
    shown: dict[tuple[str, str], str] | None = None,
    footer: tuple[str, dict[str, float]] | None = None,
) -> str:
    """A heat map that is itself a table: each cell's shade is its value (0..1 of the row),
    its text the figure; readable by screen readers as any table. `footer` is a row of
    another kind (name, column -> value), e.g. the expected shares: kept apart from the data
    rows in `<tfoot>`, so a data row of the same name cannot take its place."""
    head = "".join(f"<th scope='col'>{esc(c)}</th>" for c in col_names)
    body = [
        _heat_row(r, col_names, {c: cells.get((r, c), 0.0) for c in col_names}, r, shown)
        for r in row_names
    ]
    foot = ""
    if footer is not None:
        name, values = footer
        row = _heat_row(name, col_names, {c: values.get(c, 0.0) for c in col_names}, None, None)
        foot = f"<tfoot>{row}</tfoot>"
    return (
        f"<table id='{esc(ident)}' class='heatmap'><caption>{esc(caption)}</caption><thead><tr>"
        f"<th></th>{head}</tr></thead><tbody>{''.join(body)}</tbody>{foot}</table>"
    )


def _heat_row(
    name: str,
    col_names: list[str],
    values: dict[str, float],
    key: str | None,
    shown: dict[tuple[str, str], str] | None,
) -> str:
    tds = []
    for c in col_names:
        v = values[c]
        text = (shown or {}).get((key, c), f"{v:.2f}") if key is not None else f"{v:.2f}"
        shade = int(255 - 175 * max(0.0, min(1.0, v)))
        ink = "#fff" if v > 0.6 else "#000"
        tds.append(
            f"<td class='num heat' style='background:rgb({shade},{shade},255);color:{ink}' "
            f"title='{esc(name)} / {esc(c)}: {esc(text)}'>{esc(text)}</td>"
        )
    return f"<tr><th scope='row'>{esc(name)}</th>{''.join(tds)}</tr>"

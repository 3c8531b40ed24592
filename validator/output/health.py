"""`labelpact report`: one self-contained HTML page on the health of the label metadata.

The numbers come from the warehouse (queries rendered by sqlglot from the contract's roles) and
from the latest ledger verdict; charts are inline SVG, so the page needs no network and no
script to view.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from validator.compiler.kinds import Agreement as AgreementParams
from validator.compiler.kinds import Kind
from validator.compiler.plan import Check, build_plan
from validator.compiler.sql.checks import RelationFor, current_rows
from validator.compiler.sql.templates import template
from validator.contract.model import Contract
from validator.contract.sections import (
    Adjudication,
    AdjudicationRecord,
    Instructions,
    Provenance,
    Uncertainty,
)
from validator.engines.warehouse import Warehouse
from validator.settings import Settings
from validator.verdict.ledger import Ledger


@dataclass
class Metrics:
    """Everything the page shows, as plain numbers (tests compare them with the warehouse)."""

    contract: str
    rows: int = 0
    completeness: dict[str, float] = field(default_factory=dict)
    confidence_histogram: list[tuple[str, int]] = field(default_factory=list)
    low_share_by_batch: list[tuple[str, float]] = field(default_factory=list)
    low_share_limit: float | None = None
    agreement_by_batch: list[tuple[str, float | None]] = field(default_factory=list)
    agreement_min: float | None = None
    agreement_metric: str = ""
    version_share_by_month: list[tuple[str, str, float]] = field(default_factory=list)
    coverage_histogram: list[tuple[int, int]] = field(default_factory=list)
    adjudication_backlog: int | None = None
    unresolved_uncertainty_rate: float | None = None
    failing_checks: list[dict[str, Any]] = field(default_factory=list)
    validated_at: str | None = None
    tools: list[str] = field(default_factory=list)


def _rows(wh: Warehouse, query: exp.Expr) -> list[tuple[Any, ...]]:
    return wh.query(query.sql(dialect=wh.dialect.sqlglot))[1]


def gather(
    settings: Settings,
    contract: Contract,
    contracts: dict[str, Contract],
    relations: dict[str, str],
) -> Metrics:
    """Query the warehouse for the metrics of one contract with annotation roles."""
    m = Metrics(contract.name)
    plan = build_plan(contract, contracts)
    s = contract.sections

    warehouse = Warehouse(settings)
    dialect = warehouse.dialect.sqlglot

    def rel(name: str) -> exp.Table:
        return exp.to_table(relations[name], dialect=dialect)

    def check_of(kind: Kind) -> Check:
        return next(c for c in plan.checks if c.kind is kind)

    t = rel(contract.name)
    with warehouse as wh:
        m.rows = int(_rows(wh, exp.select("COUNT(*)").from_(t.copy()))[0][0])
        _provenance(m, wh, s.provenance or Provenance(), t)
        if s.uncertainty:
            _uncertainty(m, wh, s.uncertainty, t)
        if s.agreement:
            check = check_of(Kind.AGREEMENT)
            assert isinstance(check.params, AgreementParams)
            m.agreement_by_batch = sorted(
                (str(r[0]), None if r[3] is None else float(r[3]))
                for r in _rows(wh, check.params.values(check, rel))
            )
            m.agreement_min = s.agreement.min
            m.agreement_metric = s.agreement.metric
        if s.uncertainty and s.uncertainty.batch and s.adjudication:
            record = contracts[s.adjudication.contract].sections.adjudication_record
            assert record is not None
            m.unresolved_uncertainty_rate = _unresolved_rate(
                wh,
                s.uncertainty,
                s.adjudication,
                record,
                current_rows(check_of(Kind.ADJUDICATION_MISSING), rel),
                rel,
            )
        if s.instructions:
            m.version_share_by_month = _version_shares(wh, s.instructions, t)
        if s.coverage:
            # current (not superseded) rows, as the coverage checks count them
            current = current_rows(check_of(Kind.COVERAGE_MIN), rel)
            m.coverage_histogram = _coverage_histogram(wh, s.coverage.item, current)
    _latest_verdict(m, settings, contract)
    return m


def _provenance(m: Metrics, wh: Warehouse, prov: Provenance, t: exp.Table) -> None:
    if prov.tool:
        tool = exp.column(prov.tool, quoted=True)
        m.tools = sorted(
            str(r[0])
            for r in _rows(
                wh,
                exp.select(tool)
                .distinct()
                .from_(t.copy())
                .where(exp.Not(this=exp.Is(this=tool.copy(), expression=exp.Null()))),
            )
        )
    named = [
        ("annotator", prov.annotator),
        ("timestamp", prov.timestamp),
        ("tool", prov.tool),
        ("batch", prov.batch),
    ]
    roles = [(role, col) for role, col in named if col]
    if roles:  # one scan for every provenance column
        (counts,) = _rows(
            wh,
            exp.select(*[exp.Count(this=exp.column(col, quoted=True)) for _, col in roles]).from_(
                t.copy()
            ),
        )
        for (role, col), count in zip(roles, counts, strict=True):
            m.completeness[f"{role} ({col})"] = count / m.rows if m.rows else 1.0


def _uncertainty(m: Metrics, wh: Warehouse, unc: Uncertainty, t: exp.Table) -> None:
    m.confidence_histogram = [
        (f"{lo / 10:.1f}-{(lo + 1) / 10:.1f}", int(n))
        for lo, n in _rows(
            wh,
            template(
                "SELECT LEAST(CAST(FLOOR(p_c * 10) AS INTEGER), 9) AS b, COUNT(*) "
                "FROM r_t AS t WHERE p_c IS NOT NULL GROUP BY 1 ORDER BY 1",
                ids={"p_c": unc.confidence},
                tables={"r_t": t},
            ),
        )
    ]
    batch = unc.batch
    if batch:
        m.low_share_limit = batch.max_low_share
        m.low_share_by_batch = [
            (str(b), float(s))
            for b, s in _rows(
                wh,
                template(
                    # a double, not 1.0: Spark averages decimal(2,1) to 5 decimals only
                    "SELECT p_by, AVG(CASE WHEN p_c < v_below THEN CAST(1 AS DOUBLE PRECISION) "
                    "ELSE 0 END) "
                    "FROM r_t AS t WHERE p_c IS NOT NULL GROUP BY p_by ORDER BY p_by",
                    ids={"p_by": batch.by, "p_c": unc.confidence},
                    values={"v_below": batch.low_confidence_below},
                    tables={"r_t": t},
                ),
            )
        ]


def _unresolved_rate(
    wh: Warehouse,
    unc: Uncertainty,
    adj: Adjudication,
    record: AdjudicationRecord,
    current: exp.Expr,
    rel: RelationFor,
) -> float:
    """An uncertain label is resolved once its item has an adjudication decision."""
    assert unc.batch is not None
    ((rate,),) = _rows(
        wh,
        template(
            "SELECT AVG(CASE WHEN t.p_c < v_below AND NOT EXISTS (SELECT 1 FROM r_a AS a "
            "WHERE a.p_ritem = t.p_item) THEN CAST(1 AS DOUBLE PRECISION) ELSE 0 END) "
            "FROM r_t AS t",
            ids={"p_c": unc.confidence, "p_item": adj.item, "p_ritem": record.item},
            values={"v_below": unc.batch.low_confidence_below},
            tables={"r_t": current, "r_a": rel(adj.contract)},
        ),
    )
    return float(rate or 0.0)


def _version_shares(wh: Warehouse, ins: Instructions, t: exp.Table) -> list[tuple[str, str, float]]:
    return [
        (str(mo), str(v), float(s))
        for mo, v, s in _rows(
            wh,
            template(
                "SELECT mo, v, CAST(n AS DOUBLE PRECISION) / SUM(n) OVER (PARTITION BY mo) "
                "FROM (SELECT SUBSTRING(CAST(p_at AS VARCHAR), 1, 7) AS mo, p_v AS v, "
                "COUNT(*) AS n FROM r_t AS t WHERE p_at IS NOT NULL GROUP BY 1, 2) AS g "
                "ORDER BY mo, v",
                ids={"p_at": ins.active_at, "p_v": ins.column},
                tables={"r_t": t},
            ),
        )
    ]


def _coverage_histogram(wh: Warehouse, item: str, current: exp.Expr) -> list[tuple[int, int]]:
    return [
        (int(k), int(n))
        for k, n in _rows(
            wh,
            template(
                "SELECT k, COUNT(*) FROM (SELECT p_item, COUNT(*) AS k FROM r_t AS t "
                "GROUP BY p_item) AS g GROUP BY k ORDER BY k",
                ids={"p_item": item},
                tables={"r_t": current},
            ),
        )
    ]


def _latest_verdict(m: Metrics, settings: Settings, contract: Contract) -> None:
    entry = Ledger(settings.ledger_path).latest(contract.name)
    if entry is not None:
        m.validated_at = entry.record.get("started_at")
        checks = {c["id"]: c for c in entry.record.get("checks", [])}
        m.failing_checks = [
            {
                "id": cid,
                "status": checks[cid]["status"],
                "failures": checks[cid]["failures"],
                "owner": contract.owner,
            }
            for cid in entry.record["contracts"][contract.name]["failing"]
            if cid in checks
        ]
        backlog = checks.get(f"{contract.name}.adjudication.missing")
        if backlog is not None:
            m.adjudication_backlog = int(backlog["failures"] or 0)


# --- rendering --------------------------------------------------------------------------------


def _bar_chart(
    title: str,
    bars: list[tuple[str, float]],
    limit: float | None = None,
    limit_label: str = "",
    fmt: str = "{:.2f}",
    below_is_bad: bool = False,
    max_value: float | None = None,
) -> str:
    """A horizontal bar chart in SVG; bars beyond the limit are drawn in red."""
    width, bar_h, label_w = 640, 18, 150
    shown = bars[:40]
    top = max([v for _, v in shown] + [limit or 0, max_value or 0, 1e-9])
    height = 30 + bar_h * len(shown) + 10
    parts = [
        f'<svg role="img" aria-label="{html.escape(title)}" width="{width}" '
        f'height="{height}" xmlns="http://www.w3.org/2000/svg">'
    ]
    for i, (label, value) in enumerate(shown):
        y = 24 + i * bar_h
        w = max(0.0, value) / top * (width - label_w - 80)
        bad = limit is not None and ((value < limit) if below_is_bad else (value > limit))
        color = "#c0392b" if bad else "#2e86c1"
        parts.append(
            f'<text x="0" y="{y + 13}" font-size="12">{html.escape(label)}</text>'
            f'<rect x="{label_w}" y="{y + 2}" width="{w:.1f}" height="{bar_h - 4}" '
            f'fill="{color}"><title>{html.escape(label)}: {fmt.format(value)}</title>'
            f'</rect><text x="{label_w + w + 4:.1f}" y="{y + 13}" font-size="11" '
            f'class="value">{fmt.format(value)}</text>'
        )
    if limit is not None:
        x = label_w + limit / top * (width - label_w - 80)
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="18" y2="{height}" stroke="#333" '
            f'stroke-dasharray="4 3"/><text x="{x + 3:.1f}" y="14" font-size="11">'
            f"{html.escape(limit_label)}</text>"
        )
    parts.append("</svg>")
    note = f"<p class='note'>showing 40 of {len(bars)}</p>" if len(bars) > 40 else ""
    return f"<h3>{html.escape(title)}</h3>{''.join(parts)}{note}"


def render_html(metrics: Metrics) -> str:
    """The report as one self-contained HTML page (no scripts, no external resources)."""
    m = metrics
    sections = [
        f"<p>{m.rows:,} rows; latest validation: {html.escape(m.validated_at or 'none')}</p>",
        *_charts(m),
        *_tables(m),
        _failing_checks(m),
    ]
    style = (
        "body{font-family:sans-serif;margin:2em;max-width:900px}table{border-collapse:"
        "collapse}td,th{border:1px solid #ccc;padding:2px 8px}.num{text-align:right}"
        ".note{color:#666;font-size:12px}"
    )
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>labelpact "
        f"report: {html.escape(m.contract)}</title><style>{style}</style></head><body>"
        f"<h1>Label metadata health: {html.escape(m.contract)}</h1>{''.join(sections)}"
        "</body></html>\n"
    )


def _charts(m: Metrics) -> list[str]:
    """Charts and the drift table, in the order a reader scans them."""
    out = []
    if m.completeness:
        out.append(
            _bar_chart(
                "Provenance completeness (share non-null)",
                list(m.completeness.items()),
                limit=1.0,
                below_is_bad=True,
                limit_label="100%",
                fmt="{:.4f}",
            )
        )
    if m.confidence_histogram:
        out.append(
            _bar_chart(
                "Confidence distribution (labels per bin)",
                [(k, float(v)) for k, v in m.confidence_histogram],
                fmt="{:.0f}",
            )
        )
    if m.low_share_by_batch:
        out.append(
            _bar_chart(
                "Low-confidence share per batch",
                m.low_share_by_batch,
                limit=m.low_share_limit,
                limit_label=f"max {m.low_share_limit}",
                fmt="{:.3f}",
            )
        )
    if m.agreement_by_batch:
        out.append(
            _bar_chart(
                f"Agreement per batch ({m.agreement_metric})",
                [(b, v if v is not None else 0.0) for b, v in m.agreement_by_batch],
                limit=m.agreement_min,
                limit_label=f"min {m.agreement_min}",
                below_is_bad=True,
                fmt="{:.3f}",
                max_value=1.0,
            )
        )
    if m.version_share_by_month:
        rows = "".join(
            f"<tr><td>{html.escape(mo)}</td><td>{html.escape(v)}</td>"
            f"<td class='num'>{s:.3f}</td></tr>"
            for mo, v, s in m.version_share_by_month
        )
        out.append(
            "<h3>Instruction-version share per month (drift)</h3><table id='drift'>"
            f"<tr><th>month</th><th>version</th><th>share</th></tr>{rows}</table>"
        )
    if m.coverage_histogram:
        out.append(
            _bar_chart(
                "Coverage: items by number of annotations",
                [(f"{k} annotations", float(n)) for k, n in m.coverage_histogram],
                fmt="{:.0f}",
            )
        )
    return out


def _tables(m: Metrics) -> list[str]:
    """The two backlog figures."""
    out = []
    if m.unresolved_uncertainty_rate is not None:
        out.append(
            "<h3>Unresolved uncertainty</h3><p id='unresolved'>"
            f"{m.unresolved_uncertainty_rate:.4f} of current labels are "
            "low-confidence on items without an adjudication</p>"
        )
    if m.adjudication_backlog is not None:
        out.append(
            f"<h3>Adjudication backlog</h3><p id='backlog'>"
            f"{m.adjudication_backlog} disagreeing item(s) without adjudication</p>"
        )
    return out


def _failing_checks(m: Metrics) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(c['id'])}</td><td>{html.escape(c['status'])}</td>"
        f"<td class='num'>{c['failures'] if c['failures'] is not None else ''}</td>"
        f"<td>{html.escape(c['owner'])}</td></tr>"
        for c in m.failing_checks
    )
    if not rows:
        return "<h3>Failing checks</h3><p id='failing'>none</p>"
    return (
        "<h3>Failing checks</h3><table id='failing'><tr><th>check</th><th>status"
        f"</th><th>failing</th><th>owner</th></tr>{rows}</table>"
    )

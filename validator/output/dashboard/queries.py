"""The warehouse queries behind the dashboard: each reads one figure of the current data.

SQL is rendered by sqlglot from the contract's roles (`template` quotes every identifier and
literal); the page and the ledger trends never compute figures of their own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from validator.compiler.sql.checks import RelationFor
from validator.compiler.sql.templates import template
from validator.contract.sections import (
    Adjudication,
    AdjudicationRecord,
    Instructions,
    Provenance,
    Uncertainty,
)
from validator.engines.warehouse import Warehouse
from validator.verdict.run_metrics import low_shares, rows_of

if TYPE_CHECKING:
    from validator.output.health import Metrics


def provenance(m: Metrics, wh: Warehouse, prov: Provenance, t: exp.Table) -> None:
    if prov.tool:
        tool = exp.column(prov.tool, quoted=True)
        m.tools = sorted(
            str(r[0])
            for r in rows_of(
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
        (counts,) = rows_of(
            wh,
            exp.select(*[exp.Count(this=exp.column(col, quoted=True)) for _, col in roles]).from_(
                t.copy()
            ),
        )
        for (role, col), count in zip(roles, counts, strict=True):
            m.completeness[f"{role} ({col})"] = count / m.rows if m.rows else 1.0


def uncertainty(m: Metrics, wh: Warehouse, unc: Uncertainty, rows: exp.Expr) -> None:
    """The confidence histogram and the low-confidence share per batch, over `rows` (those
    the uncertainty rules count)."""
    m.confidence_histogram = [
        (f"{lo / 10:.1f}-{(lo + 1) / 10:.1f}", int(n))
        for lo, n in rows_of(
            wh,
            template(
                "SELECT LEAST(CAST(FLOOR(p_c * 10) AS INTEGER), 9) AS b, COUNT(*) "
                "FROM r_t AS t WHERE p_c IS NOT NULL GROUP BY 1 ORDER BY 1",
                ids={"p_c": unc.confidence},
                tables={"r_t": rows},
            ),
        )
    ]
    if unc.batch:
        m.low_share_limit = unc.batch.max_low_share
        m.low_share_by_batch = [
            (str(b), float(share or 0.0)) for b, share in low_shares(wh, unc, rows, unc.batch.by)
        ]


def unresolved_rate(
    wh: Warehouse,
    unc: Uncertainty,
    adj: Adjudication,
    record: AdjudicationRecord,
    current: exp.Expr,
    rel: RelationFor,
) -> float:
    """An uncertain label is resolved once its item has an adjudication decision."""
    assert unc.batch is not None
    ((rate,),) = rows_of(
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


def version_shares(wh: Warehouse, ins: Instructions, t: exp.Table) -> list[tuple[str, str, float]]:
    """(month, instruction version, share of the month's labels)."""
    return _shares(
        _counted(
            wh,
            template(
                "SELECT SUBSTRING(CAST(p_at AS VARCHAR), 1, 7), p_v, COUNT(*) FROM r_t AS t "
                "WHERE p_at IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2",
                ids={"p_at": ins.active_at, "p_v": ins.column},
                tables={"r_t": t},
            ),
        )
    )


def coverage_histogram(wh: Warehouse, item: str, current: exp.Expr) -> list[tuple[int, int]]:
    return [
        (int(k), int(n))
        for k, n in rows_of(
            wh,
            template(
                "SELECT k, COUNT(*) FROM (SELECT p_item, COUNT(*) AS k FROM r_t AS t "
                "GROUP BY p_item) AS g GROUP BY k ORDER BY k",
                ids={"p_item": item},
                tables={"r_t": current},
            ),
        )
    ]


def _counted(wh: Warehouse, query: exp.Expr) -> list[tuple[str, str, int]]:
    """The rows of a query returning (value, value, count)."""
    return [(str(x), str(y), int(n)) for x, y, n in rows_of(wh, query)]


def _shares(counts: list[tuple[str, str, int]]) -> list[tuple[str, str, float]]:
    """(group, value, count) as (group, value, share of the group's count)."""
    totals: dict[str, int] = {}
    for g, _, n in counts:
        totals[g] = totals.get(g, 0) + n
    return [(g, x, n / totals[g]) for g, x, n in counts]


def _counts(wh: Warehouse, a: str, b: str, rows: exp.Expr) -> list[tuple[str, str, int]]:
    """(a, b, rows) per pair of non-null values of columns `a` and `b`."""
    return _counted(
        wh,
        template(
            "SELECT p_a, p_b, COUNT(*) FROM r_t AS t WHERE p_a IS NOT NULL AND p_b IS NOT "
            "NULL GROUP BY p_a, p_b ORDER BY p_a, p_b",
            ids={"p_a": a, "p_b": b},
            tables={"r_t": rows},
        ),
    )


def annotator_labels(
    wh: Warehouse, rater: str, label: str, rows: exp.Expr
) -> list[tuple[str, str, int]]:
    """(annotator, label, labels): the annotator x label heat map."""
    return _counts(wh, rater, label, rows)


def label_vs_decision(
    wh: Warehouse,
    adj: Adjudication,
    record: AdjudicationRecord,
    rows: exp.Expr,
    rel: RelationFor,
) -> list[tuple[str, str, int]]:
    """(annotator's label, adjudicated decision, labels) over adjudicated items: how the
    labels annotators gave map onto the decisions the senior layer made."""
    return _counted(
        wh,
        template(
            "SELECT CAST(t.p_l AS VARCHAR), CAST(a.p_dec AS VARCHAR), COUNT(*) FROM r_t AS t "
            "JOIN r_a AS a ON a.p_ritem = t.p_item WHERE t.p_l IS NOT NULL AND a.p_dec IS "
            "NOT NULL GROUP BY 1, 2 ORDER BY 1, 2",
            ids={
                "p_l": adj.label,
                "p_item": adj.item,
                "p_ritem": record.item,
                "p_dec": record.decision,
            },
            tables={"r_t": rows, "r_a": rel(adj.contract)},
        ),
    )


def label_mix_by_group(
    wh: Warehouse, by: str, label: str, rows: exp.Expr
) -> list[tuple[str, str, float]]:
    """(group, label, share of the group's labels): drift of the label mix."""
    return _shares(_counts(wh, by, label, rows))

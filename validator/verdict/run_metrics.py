"""The key metrics of one validation, kept with its verdict in the ledger for trends.

`measure` reads them from the warehouse (SQL rendered by sqlglot from the contract's roles):
agreement per group, the low-confidence share, label shares, per-annotator figures and audit
error counts. `compact` turns them into the JSON the ledger entry carries under
`record["metrics"][contract]`: inside the hashed (and, with a key, signed) entry, so a trend
cannot be edited without breaking the chain. `from_record` reads it back; entries written
before metrics existed simply have none.

The entry stays small however many batches and annotators there are: each mapping keeps at
most `MAX_GROUPS` groups, the worst first (lowest agreement, highest error rate, largest
share), and says how many it left out under `omitted`; values are rounded to 6 decimals.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from validator.compiler.kinds import Agreement as AgreementParams
from validator.compiler.kinds import AnnotatorAgreement, Filtered, Kind, current_rows
from validator.compiler.kinds.quality import wilson_interval
from validator.compiler.plan import Check, Plan
from validator.compiler.sql.checks import RelationFor
from validator.compiler.sql.filters import filter_rows
from validator.compiler.sql.templates import template
from validator.contract.model import Contract
from validator.contract.sections import Uncertainty
from validator.engines.warehouse import Warehouse

METRICS_VERSION = 1
MAX_GROUPS = 30
DIGITS = 6


@dataclass
class AnnotatorFigures:
    """One annotator: labels given, share of them below the low-confidence threshold, and
    agreement with the reference label (see `AnnotatorAgreement`) over `agreement_items`."""

    labels: int = 0
    low_share: float | None = None
    agreement: float | None = None
    agreement_items: int = 0


@dataclass(frozen=True)
class AnnotatorSummary:
    """Per-annotator agreement without the annotators: over those the per-annotator rule
    judges (`min_items` labels with a reference or more), the lowest, median and highest
    agreement and how many fall below the rule's minimum. What the ledger keeps when the
    annotator ids are personal data (`verdict/pseudonyms.py`)."""

    judged: int
    lowest: float
    median: float
    highest: float
    below_min: int


@dataclass
class KeyMetrics:
    """The figures of one contract at one validation (uncapped; `compact` caps them)."""

    rows: int = 0
    agreement_metric: str | None = None
    agreement: dict[str, float | None] = field(default_factory=dict)
    low_share: float | None = None
    label_shares: dict[str, float] = field(default_factory=dict)
    annotators: dict[str, AnnotatorFigures] = field(default_factory=dict)
    # "annotator" / "batch" -> group -> (labels audited, audited as errors)
    audits: dict[str, dict[str, tuple[int, int]]] = field(default_factory=dict)
    annotator_summary: AnnotatorSummary | None = None
    omitted: dict[str, int] = field(default_factory=dict)


def has_metrics(contract: Contract) -> bool:
    """Contracts of annotations (with one of the sections the metrics read) get metrics."""
    s = contract.sections
    return any((s.agreement, s.uncertainty, s.label_distribution, s.audits))


def rows_of(wh: Warehouse, query: exp.Expr) -> list[tuple[Any, ...]]:
    return wh.query(query.sql(dialect=wh.dialect.sqlglot))[1]


def section_rows(plan: Plan, section: str, rel: RelationFor) -> exp.Expr:
    """The rows the rules of `plan`'s `section` count, as its checks read them: the section's
    `where:` filter, and only current rows for kinds that count those. A section that planned
    no filtered check: its filter over every row."""
    prefix = f"{plan.contract.name}.{section}."
    for check in plan.checks:
        if check.id.startswith(prefix) and isinstance(check.params, Filtered):
            return current_rows(check, rel)
    where = getattr(getattr(plan.contract.sections, section), "where", None)
    table = rel(plan.contract.name)
    if where is None:
        return table
    return filter_rows(table, where, tuple(plan.contract.columns), alias="cur")


@dataclass(frozen=True)
class LabelRoles:
    """The columns the label figures read: the label (from `label_distribution`, else
    `agreement`) and the `section` whose rows they count, the annotator (`provenance`, else
    the agreement rater) and the column the label mix is drawn per (`label_distribution.by`,
    else the provenance batch)."""

    label: str | None
    section: str
    rater: str | None
    by: str | None


def label_roles(contract: Contract) -> LabelRoles:
    s = contract.sections
    dist, agr, prov = s.label_distribution, s.agreement, s.provenance
    label, section = (dist.label, "label_distribution") if dist else (None, "agreement")
    if label is None and agr is not None:
        label = agr.label
    return LabelRoles(
        label=label,
        section=section,
        rater=(prov.annotator if prov else None) or (agr.rater if agr else None),
        by=(dist.by if dist else None) or (prov.batch if prov else None),
    )


def low_shares(
    wh: Warehouse, unc: Uncertainty, rows: exp.Expr, by: str | None = None
) -> list[tuple[Any, float | None]]:
    """The share of `rows`' labels with a confidence below the uncertainty threshold, per
    `by` group ((None, share) without one); labels without a confidence do not count."""
    assert unc.batch is not None
    group = ("p_by, ", " GROUP BY p_by ORDER BY p_by") if by else ("", "")
    return [
        (r[0] if by else None, None if r[-1] is None else float(r[-1]))
        for r in rows_of(
            wh,
            template(
                # a double, not 1.0: Spark averages decimal(2,1) to 5 decimals only
                f"SELECT {group[0]}AVG(CASE WHEN p_c < v_below THEN CAST(1 AS DOUBLE PRECISION) "
                f"ELSE 0 END) FROM r_t AS t WHERE p_c IS NOT NULL{group[1]}",
                ids={"p_by": by or unc.confidence, "p_c": unc.confidence},
                values={"v_below": unc.batch.low_confidence_below},
                tables={"r_t": rows},
            ),
        )
    ]


Figures = dict[str, list[tuple[Any, ...]]]


def figures(wh: Warehouse, check: Check, rel: RelationFor, known: Figures) -> list[tuple[Any, ...]]:
    """The rows of `check`'s kind's `values`: those its run already fetched (`known`, by
    check id: `engines.check_runner` keeps them), else read now."""
    if check.id in known:
        return known[check.id]
    return rows_of(wh, check.params.values(check, rel))  # type: ignore[attr-defined]


def measure(
    wh: Warehouse,
    plan: Plan,
    contracts: dict[str, Contract],
    rel: RelationFor,
    known: Figures | None = None,
) -> KeyMetrics:
    """Every key metric of `plan`'s contract, read from the warehouse (each over the rows its
    section's rules count); per-group figures the run's checks fetched are taken from `known`."""
    known = known or {}
    contract = plan.contract
    s = contract.sections
    table = rel(contract.name)
    m = KeyMetrics(rows=int(rows_of(wh, exp.select("COUNT(*)").from_(table.copy()))[0][0]))
    for check in plan.checks:
        if check.kind is Kind.AGREEMENT and isinstance(check.params, AgreementParams):
            m.agreement_metric = check.params.metric
            m.agreement = {
                str(r[0]): None if r[3] is None else float(r[3])
                for r in figures(wh, check, rel, known)
            }
    roles = label_roles(contract)
    if roles.label:
        m.label_shares = label_shares(wh, roles.label, section_rows(plan, roles.section, rel))
    if roles.rater:
        m.annotators = _annotator_figures(wh, plan, roles.rater, rel, known)
        m.annotator_summary = summary(plan, m.annotators)
    if s.uncertainty and s.uncertainty.batch:
        ((_, m.low_share),) = low_shares(wh, s.uncertainty, section_rows(plan, "uncertainty", rel))
    if s.audits:
        m.audits = audit_counts(wh, plan, rel, known)
    return m


def label_shares(wh: Warehouse, label: str, current: exp.Expr) -> dict[str, float]:
    counts = {
        str(k): int(n)
        for k, n in rows_of(
            wh,
            template(
                "SELECT p_l, COUNT(*) FROM r_t AS t WHERE p_l IS NOT NULL GROUP BY p_l",
                ids={"p_l": label},
                tables={"r_t": current},
            ),
        )
    }
    total = sum(counts.values())
    return {k: n / total for k, n in sorted(counts.items())} if total else {}


def _annotator_figures(
    wh: Warehouse, plan: Plan, rater: str, rel: RelationFor, known: Figures
) -> dict[str, AnnotatorFigures]:
    """Labels and low-confidence share per annotator over all their labels (those the
    uncertainty rules count, with a `where:`); agreement per annotator over current labels,
    as the per-annotator agreement rule computes it."""
    unc = plan.contract.sections.uncertainty
    below = unc.batch.low_confidence_below if unc and unc.batch else 0.5
    conf = unc.confidence if unc else None
    low = "SUM(CASE WHEN p_c < v_below THEN 1 ELSE 0 END), COUNT(p_c)" if conf else "0, 0"
    out: dict[str, AnnotatorFigures] = {}
    for who, n, n_low, n_conf in rows_of(
        wh,
        template(
            f"SELECT p_r, COUNT(*), {low} FROM r_t AS t WHERE p_r IS NOT NULL GROUP BY p_r",
            ids={"p_r": rater, "p_c": conf or rater},
            values={"v_below": below},
            tables={"r_t": section_rows(plan, "uncertainty", rel)},
        ),
    ):
        share = int(n_low) / int(n_conf) if conf and n_conf else None
        out[str(who)] = AnnotatorFigures(labels=int(n), low_share=share)
    for check in plan.checks:
        if isinstance(check.params, AnnotatorAgreement):
            for who, n_items, _agreeing, value in figures(wh, check, rel, known):
                fig = out.setdefault(str(who), AnnotatorFigures())
                fig.agreement = None if value is None else float(value)
                fig.agreement_items = int(n_items)
    return out


def summary(plan: Plan, annotators: dict[str, AnnotatorFigures]) -> AnnotatorSummary | None:
    """The id-free summary of the per-annotator agreement rule's figures (None: the contract
    has no such rule, or it judges nobody)."""
    rule = next((c.params for c in plan.checks if isinstance(c.params, AnnotatorAgreement)), None)
    if rule is None:
        return None
    judged = sorted(
        f.agreement
        for f in annotators.values()
        if f.agreement is not None and f.agreement_items >= rule.min_items
    )
    if not judged:
        return None
    return AnnotatorSummary(
        judged=len(judged),
        lowest=judged[0],
        median=statistics.median(judged),
        highest=judged[-1],
        below_min=sum(1 for v in judged if v < rule.min),
    )


def audit_counts(
    wh: Warehouse, plan: Plan, rel: RelationFor, known: Figures
) -> dict[str, dict[str, tuple[int, int]]]:
    """Per annotator and per batch (the audits section's columns): labels audited and how
    many of those audits found an error (the figures of the audit rules)."""
    checks = {c.id: c for c in plan.checks if c.kind is Kind.AUDIT_ERROR_RATE}
    out: dict[str, dict[str, tuple[int, int]]] = {}
    for role in ("annotator", "batch"):
        check = checks.get(f"{plan.contract.name}.audits.{role}_error_rate")
        if check is not None:
            out[role] = {
                str(g): (int(n), int(e or 0)) for g, n, e, *_ in figures(wh, check, rel, known)
            }
    return out


def wilson(errors: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval of `errors / n` at `confidence` (as the audit rule uses)."""
    from statistics import NormalDist

    if n == 0:
        return (0.0, 1.0)
    lower, upper = wilson_interval(errors, n, NormalDist().inv_cdf(0.5 + confidence / 2))
    return (max(0.0, lower), min(1.0, upper))


# --- the ledger form ------------------------------------------------------------------------


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, DIGITS)


def _capped(
    name: str, items: dict[str, Any], worst_first: Any, omitted: dict[str, int]
) -> dict[str, Any]:
    if len(items) <= MAX_GROUPS:
        return items
    keep = sorted(items, key=lambda k: (worst_first(items[k]), k))[:MAX_GROUPS]
    omitted[name] = len(items) - MAX_GROUPS
    return {k: items[k] for k in sorted(keep)}


def compact(m: KeyMetrics) -> dict[str, Any]:
    """The JSON kept in the ledger entry: bounded, rounded, worst groups first when capped."""
    omitted: dict[str, int] = {}
    agreement = _capped(
        "agreement",
        {k: _r(v) for k, v in m.agreement.items()},
        lambda v: math.inf if v is None else v,
        omitted,
    )
    annotators = _capped(
        "annotators",
        {
            k: [f.labels, _r(f.low_share), _r(f.agreement), f.agreement_items]
            for k, f in m.annotators.items()
        },
        lambda v: (math.inf if v[2] is None else v[2], -(v[1] or 0.0)),
        omitted,
    )
    labels = _capped("labels", {k: _r(v) for k, v in m.label_shares.items()}, lambda v: -v, omitted)
    audits = {
        role: _capped(
            f"audits.{role}",
            {k: [n, e] for k, (n, e) in groups.items()},
            lambda v: -(v[1] / v[0] if v[0] else 0.0),
            omitted,
        )
        for role, groups in m.audits.items()
    }
    out: dict[str, Any] = {"v": METRICS_VERSION, "rows": m.rows}
    if m.agreement_metric:
        out["agreement"] = {"metric": m.agreement_metric, "groups": agreement}
    if m.low_share is not None:
        out["low_share"] = _r(m.low_share)
    if labels:
        out["label_shares"] = labels
    if annotators:
        out["annotators"] = annotators
    if m.annotator_summary is not None:
        a = m.annotator_summary
        out["annotator_summary"] = [
            a.judged,
            _r(a.lowest),
            _r(a.median),
            _r(a.highest),
            a.below_min,
        ]
    if audits:
        out["audits"] = audits
    if omitted:
        out["omitted"] = omitted
    return out


def from_record(data: dict[str, Any]) -> KeyMetrics:
    """A ledger entry's metrics back as `KeyMetrics` (the inverse of `compact`)."""
    agreement = data.get("agreement") or {}
    return KeyMetrics(
        rows=int(data.get("rows", 0)),
        agreement_metric=agreement.get("metric"),
        agreement=dict(agreement.get("groups", {})),
        low_share=data.get("low_share"),
        label_shares=dict(data.get("label_shares", {})),
        annotators={
            k: AnnotatorFigures(labels=v[0], low_share=v[1], agreement=v[2], agreement_items=v[3])
            for k, v in data.get("annotators", {}).items()
        },
        audits={
            role: {k: (int(v[0]), int(v[1])) for k, v in groups.items()}
            for role, groups in data.get("audits", {}).items()
        },
        annotator_summary=_summary(data.get("annotator_summary")),
        omitted=dict(data.get("omitted", {})),
    )


def _summary(data: list[Any] | None) -> AnnotatorSummary | None:
    if data is None:
        return None
    judged, lowest, median, highest, below = data
    return AnnotatorSummary(int(judged), lowest, median, highest, int(below))


def for_plans(
    wh: Warehouse,
    plans: list[Plan],
    contracts: dict[str, Contract],
    relations: dict[str, str],
    secret: bytes | None = None,
    known: Figures | None = None,
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """The ledger form of each selected annotation contract's metrics, and a warning for each
    contract whose metrics could not be read (its model failed to build, say): the verdict
    is recorded either way, that run is a gap in the trend. Groups named by personal data
    are kept under pseudonyms keyed by `secret`, or not at all (`verdict/pseudonyms.py`).
    `known`: per-group figures the run's checks already fetched, by check id."""
    from validator.errors import EngineError
    from validator.verdict.pseudonyms import for_ledger

    def rel(name: str) -> exp.Expr:
        return exp.to_table(relations[name], dialect=wh.dialect.sqlglot)

    out: dict[str, dict[str, Any]] = {}
    warnings: list[str] = []
    for plan in plans:
        if not has_metrics(plan.contract):
            continue
        try:
            measured = measure(wh, plan, contracts, rel, known)
            out[plan.contract.name] = compact(for_ledger(measured, plan.contract, secret))
        except EngineError as exc:
            warnings.append(f"metrics of {plan.contract.name} not recorded: {exc}")
    return out, warnings

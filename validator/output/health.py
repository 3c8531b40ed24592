"""`labelpact report`: the dashboard a labeling lead opens first, as one self-contained page.

`gather` collects the figures: the latest verdict and the samples of its failing checks, the
current data's figures from the warehouse (queries in `dashboard.queries`, key metrics in
`verdict.run_metrics`) and the trend of the key metrics across the ledger's validations
(`dashboard.history`). `render_html` (`dashboard.page`) draws them as inline SVG and HTML
tables: the page needs no network and no script to view.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from validator.compiler.kinds import Agreement as AgreementParams
from validator.compiler.kinds import Kind
from validator.compiler.plan import Check, Plan, build_plan
from validator.compiler.sql.checks import current_rows
from validator.contract.model import Contract
from validator.contract.sections import Provenance
from validator.engines.recorded import warehouse_for
from validator.engines.warehouse import Warehouse
from validator.output.dashboard import queries
from validator.output.dashboard.history import Point, points
from validator.settings import Settings
from validator.verdict.ledger import Ledger
from validator.verdict.pseudonyms import page_names, personal_groups, read_secret
from validator.verdict.run_metrics import (
    KeyMetrics,
    label_roles,
    measure,
    rows_of,
    section_rows,
)
from validator.verdict.samples import sample_rows

__all__ = ["Metrics", "gather", "render_html"]


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
    # the dashboard: the latest verdict, the current key metrics, who labels what, history
    status: str | None = None
    ledger_seq: int | None = None
    key: KeyMetrics = field(default_factory=KeyMetrics)
    annotator_min: float | None = None
    annotator_min_items: int = 0
    annotator_labels: list[tuple[str, str, int]] = field(default_factory=list)
    label_vs_decision: list[tuple[str, str, int]] = field(default_factory=list)
    label_mix_by_batch: list[tuple[str, str, float]] = field(default_factory=list)
    label_reference: dict[str, float] = field(default_factory=dict)
    audit_confidence: float = 0.95
    audit_max_rate: float | None = None
    history: list[Point] = field(default_factory=list)


def gather(
    settings: Settings,
    contract: Contract,
    contracts: dict[str, Contract],
    relations: dict[str, str],
) -> Metrics:
    """Query the warehouse and the ledger for the figures of one contract with annotation
    roles."""
    m = Metrics(contract.name)
    plan = build_plan(contract, contracts)
    warehouse = warehouse_for(settings)
    dialect = warehouse.dialect.sqlglot

    def rel(name: str) -> exp.Table:
        return exp.to_table(relations[name], dialect=dialect)

    ledger = Ledger(settings.ledger_path)
    entries = ledger.entries()
    with warehouse as wh:
        _sections(m, wh, plan, contracts, rel)
        _who_labels_what(m, wh, plan, contracts, rel)
        m.key = measure(wh, plan, contracts, rel)
        _latest_verdict(m, entries, contract)
        _samples(m, wh, plan, contracts, relations)
    m.history = points(entries, contract.name)
    _hide_personal(m, contract, read_secret(settings.pseudonym_key))
    return m


def _hide_personal(m: Metrics, contract: Contract, secret: bytes | None) -> None:
    """Groups named by a personal-data column (annotators, mostly) under the names the page
    may print (`verdict/pseudonyms.py`), as the samples hide such columns."""
    personal = personal_groups(contract)
    who = {"annotators", "audits.annotator"} & personal
    if who:
        ids = set(m.key.annotators) | {a for a, _, _ in m.annotator_labels}
        ids |= set(m.key.audits.get("annotator", {}))
        name = page_names(ids, secret)
        if "annotators" in personal:
            m.key.annotators = {name(k): v for k, v in m.key.annotators.items()}
            m.annotator_labels = [(name(a), lab, n) for a, lab, n in m.annotator_labels]
        if "audits.annotator" in personal and "annotator" in m.key.audits:
            m.key.audits["annotator"] = {name(k): v for k, v in m.key.audits["annotator"].items()}
    # groups of other personal columns (a batch column marked pii) are not shown
    if "audits.batch" in personal:
        m.key.audits.pop("batch", None)
    if "agreement" in personal:
        m.key.agreement, m.agreement_by_batch = {}, []


def _check_of(plan: Plan, kind: Kind) -> Check:
    return next(c for c in plan.checks if c.kind is kind)


def _sections(
    m: Metrics, wh: Warehouse, plan: Plan, contracts: dict[str, Contract], rel: Any
) -> None:
    """The figures each annotation section of the contract speaks to."""
    s = plan.contract.sections
    t = rel(plan.contract.name)
    m.rows = int(rows_of(wh, exp.select("COUNT(*)").from_(t.copy()))[0][0])
    queries.provenance(m, wh, s.provenance or Provenance(), t)
    if s.uncertainty:
        queries.uncertainty(m, wh, s.uncertainty, section_rows(plan, "uncertainty", rel))
    if s.agreement:
        check = _check_of(plan, Kind.AGREEMENT)
        assert isinstance(check.params, AgreementParams)
        m.agreement_by_batch = sorted(
            (str(r[0]), None if r[3] is None else float(r[3]))
            for r in rows_of(wh, check.params.values(check, rel))
        )
        m.agreement_min = s.agreement.min
        m.agreement_metric = s.agreement.metric
        if s.agreement.per_annotator:
            m.annotator_min = s.agreement.per_annotator.min
            m.annotator_min_items = s.agreement.per_annotator.min_items
    if s.uncertainty and s.uncertainty.batch and s.adjudication:
        record = contracts[s.adjudication.contract].sections.adjudication_record
        assert record is not None
        m.unresolved_uncertainty_rate = queries.unresolved_rate(
            wh,
            s.uncertainty,
            s.adjudication,
            record,
            current_rows(_check_of(plan, Kind.ADJUDICATION_MISSING), rel),
            rel,
        )
    if s.instructions:
        m.version_share_by_month = queries.version_shares(wh, s.instructions, t)
    if s.coverage:
        # current (not superseded) rows, as the coverage checks count them
        current = current_rows(_check_of(plan, Kind.COVERAGE_MIN), rel)
        m.coverage_histogram = queries.coverage_histogram(wh, s.coverage.item, current)
    if s.audits:
        m.audit_confidence = s.audits.confidence
        m.audit_max_rate = s.audits.max_error_rate


def _who_labels_what(
    m: Metrics, wh: Warehouse, plan: Plan, contracts: dict[str, Contract], rel: Any
) -> None:
    """The annotator x label counts and the label mix per batch (over the rows the label
    rules count), labels against adjudicated decisions (over the rows the adjudication rules
    count)."""
    s = plan.contract.sections
    roles = label_roles(plan.contract)
    if s.label_distribution:
        m.label_reference = dict(s.label_distribution.reference or {})
    if roles.label is None:
        return
    rows = section_rows(plan, roles.section, rel)
    if roles.rater:
        m.annotator_labels = queries.annotator_labels(wh, roles.rater, roles.label, rows)
    if roles.by:
        m.label_mix_by_batch = queries.label_mix_by_group(wh, roles.by, roles.label, rows)
    if s.adjudication:
        record = contracts[s.adjudication.contract].sections.adjudication_record
        if record is not None:
            m.label_vs_decision = queries.label_vs_decision(
                wh, s.adjudication, record, section_rows(plan, "adjudication", rel), rel
            )


def _latest_verdict(m: Metrics, entries: list[Any], contract: Contract) -> None:
    entry = next(
        (e for e in reversed(entries) if contract.name in e.record.get("contracts", {})), None
    )
    if entry is None:
        return
    verdict = entry.record["contracts"][contract.name]
    m.validated_at = entry.record.get("started_at")
    m.status = verdict.get("status")
    m.ledger_seq = entry.seq
    checks = {c["id"]: c for c in entry.record.get("checks", [])}
    m.failing_checks = [
        {
            "id": cid,
            "status": checks[cid]["status"],
            "failures": checks[cid]["failures"],
            "severity": checks[cid].get("severity", ""),
            "owner": contract.owner,
            "sample": [],
        }
        for cid in verdict["failing"]
        if cid in checks
    ]
    backlog = checks.get(f"{contract.name}.adjudication.missing")
    if backlog is not None:
        m.adjudication_backlog = int(backlog["failures"] or 0)


def _samples(
    m: Metrics, wh: Warehouse, plan: Plan, contracts: dict[str, Contract], relations: dict[str, str]
) -> None:
    """A few rows of each failing check, drawn now (the ledger keeps no rows): personal-data
    columns hidden, as in `validate`'s report."""
    by_id = {c.id: c for c in plan.checks}
    for failing in m.failing_checks:
        check = by_id.get(failing["id"])
        if check is not None and check.kind is not Kind.SCHEMA:
            failing["sample"] = sample_rows(wh, check, contracts, relations)


def render_html(metrics: Metrics) -> str:
    """The report as one self-contained HTML page (no scripts, no external resources)."""
    from validator.output.dashboard.page import render

    return render(metrics)

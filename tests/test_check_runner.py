"""`validate` runs the checks itself, sharing scans (`engines/check_runner.py`): every check's
status and failure count must equal what `dbt build` reports for the same compiled checks, on
clean data and on every fault of the example data on DuckDB, and on one fault per kind of
check SQL on PostgreSQL."""

from __future__ import annotations

import pytest
from helpers import EXPECTED, ROOT, SCHEMA_FAULTS
from sqlglot import exp, parse_one

from validator.compiler.kinds import Kind
from validator.compiler.plan import build_plans
from validator.compiler.targets.dbt import item_stats_models
from validator.contract.resolve import load_contracts
from validator.engines.check_runner import row_condition, run_checks
from validator.engines.warehouse import Warehouse
from validator.verdict import run_metrics

PLANS = build_plans(load_contracts([ROOT / "contracts"]))


# On PostgreSQL one fault per kind of check SQL (each case there costs a `dbt run`: another
# fault's build may have replaced the shared server's views); DuckDB runs every fault.
POSTGRES_FAULTS = {
    None,
    "bad_label",  # accepted values, in the shared row scan
    "bad_pattern",  # the regex operator
    "missing_provenance",  # not null
    "duplicate_key",  # unique
    "confidence_out_of_range",  # between
    "future_timestamp",  # not in future
    "orphan_item",  # another relation
    "low_agreement",  # agreement SQL
    "unadjudicated_disagreement",  # the shared per-item table
    "revision_cycle",  # the recursive CTE
    "hasty_annotator",  # percentiles
    "mistyped_column",  # a model that did not build: its checks skipped
}
CASES = [("duckdb", f) for f in [None, *sorted(EXPECTED)]] + [
    ("postgres", f) for f in [None, *sorted(EXPECTED)] if f in POSTGRES_FAULTS
]

# The reuse of the checks' figures by the run's metrics is held on clean data and on the faults
# aimed at the figures the metrics report (agreement, the annotators, audits): ~1 s a case.
METRIC_FAULTS = {
    None,
    "low_agreement",
    "unadjudicated_disagreement",
    "careless_annotator",
    "skewed_annotator",
    "unsure_annotator",
    "hasty_annotator",
    "overcorrected_annotator",
}
assert METRIC_FAULTS - {None} <= set(EXPECTED)


@pytest.mark.parametrize(("name", "fault"), CASES)
def test_shared_scans_count_what_dbt_build_counts(request, name, fault, tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = request.getfixturevalue(f"{name}_warehouses")
    build = engine.build(fault)  # one dbt node per check (cached per session)
    by_dbt = build.outcomes
    # The models as that build left them: DuckDB has a file per fault; on PostgreSQL another
    # fault's build may have replaced them since, so they are built again (`dbt run`).
    models = (
        build if name == "duckdb" else engine.project.build(env=engine.env(fault), command="run")
    )
    settings = engine.settings(fault, tmp_path / "ledger.jsonl")
    names = {p.contract.name for p in PLANS} | {m for p in PLANS for m in item_stats_models(p)}
    relations = {n: engine.project.relation_name(n) for n in names}
    with Warehouse(settings) as wh:
        run = run_checks(wh, PLANS, relations, models)
    checks = [c for p in PLANS for c in p.checks if c.kind is not Kind.SCHEMA]
    ours = {c.id: (run.outcomes[c.id].status, run.outcomes[c.id].failures) for c in checks}
    theirs = {c.id: (by_dbt[c.id].status, by_dbt[c.id].failures) for c in checks}
    assert ours == theirs
    if fault in SCHEMA_FAULTS:
        return  # the annotations model did not build: its checks were skipped, as dbt does
    # the row rules of the annotations shared one scan (14 of them on this contract)
    shared = [q for q in run.queries if len(q.checks) > 1]
    assert any(all(c.startswith("annotations.") for c in q.checks) for q in shared)
    assert sum(len(q.checks) for q in shared) >= 14
    # the checks judging per-group figures (agreement per batch, per annotator) fetched the
    # figures once; the run's metrics taken from them equal the metrics read afresh
    # (METRIC_FAULTS)
    valued = {c.id for c in checks if c.kind in (Kind.AGREEMENT, Kind.ANNOTATOR_AGREEMENT)}
    assert len(valued) >= 2 and valued <= set(run.values)
    if fault not in METRIC_FAULTS:
        return
    contracts = {p.contract.name: p.contract for p in PLANS}
    with Warehouse(settings) as wh:
        fresh = run_metrics.for_plans(wh, PLANS, contracts, relations)
        reused = run_metrics.for_plans(wh, PLANS, contracts, relations, known=run.values)
    figures = fresh[0]["annotations"]
    assert reused == fresh and figures["agreement"]["groups"] and figures["annotator_summary"]


@pytest.mark.parametrize(
    ("sql", "foldable"),
    [
        ("SELECT a FROM t WHERE a IS NULL", True),
        ("SELECT a, b FROM t WHERE NOT a IN (1, 2) AND b > 3", True),
        ("SELECT a FROM t WHERE a IN (SELECT b FROM u)", False),  # reads another relation
        ("SELECT a FROM t JOIN u ON t.a = u.a WHERE a IS NULL", False),
        ("SELECT a FROM t WHERE a IS NULL GROUP BY a", False),
        ("SELECT a FROM u WHERE a IS NULL", False),  # another relation
        ("SELECT DISTINCT a FROM t WHERE a IS NULL", False),
        ("SELECT a FROM t", False),
    ],
)
def test_only_single_relation_row_rules_share_a_scan(sql: str, foldable: bool) -> None:
    assert (row_condition(parse_one(sql), exp.to_table("t")) is not None) is foldable

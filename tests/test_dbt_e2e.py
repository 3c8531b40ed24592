"""Real `dbt build` on DuckDB: clean data passes, every injected fault fails the right checks."""

from __future__ import annotations

import pytest
from helpers import EXPECTED, ROOT, SCHEMA_FAULTS

from validator.compiler.plan import build_plans
from validator.contract.resolve import load_contracts
from validator.example import data as exampledata


def test_every_fault_has_an_expectation() -> None:
    assert set(EXPECTED) == set(exampledata.FAULTS)


def test_clean_data_passes_every_check(engine) -> None:  # type: ignore[no-untyped-def]
    result = engine.build(None)
    assert result.success
    assert result.failing_ids == set()
    statuses = {o.status for o in result.outcomes.values()}
    assert statuses == {"pass"}
    # every check of the plan ran, one dbt node each (schema checks map to models)
    plan_ids = {c.id for p in build_plans(load_contracts([ROOT / "contracts"])) for c in p.checks}
    assert set(result.outcomes) == plan_ids


@pytest.mark.parametrize("fault", sorted(EXPECTED))
def test_fault_fails_exactly_its_checks(engine, fault: str) -> None:  # type: ignore[no-untyped-def]
    result = engine.build(fault)
    assert result.failing_ids == EXPECTED[fault]
    if fault not in SCHEMA_FAULTS:  # a failing check must not keep others from running
        assert {c for c, o in result.outcomes.items() if o.status == "skipped"} == set()
    warn_only = all(result.outcomes[c].severity == "warn" for c in EXPECTED[fault])
    assert result.success is warn_only  # a warn-severity check alone does not fail the build


@pytest.mark.parametrize("fault", sorted(SCHEMA_FAULTS))
def test_schema_faults_fail_with_dbts_contract_message(engine, fault: str) -> None:  # type: ignore[no-untyped-def]
    outcome = engine.build(fault).outcomes["annotations.schema"]
    assert outcome.status == "error"
    assert "This model has an enforced contract that failed" in outcome.message
    column = {
        "missing_column": "tool",
        "extra_column": "extra_col",
        "mistyped_column": "confidence",
    }[fault]
    assert column in outcome.message


def test_failures_report_counts(engine) -> None:  # type: ignore[no-untyped-def]
    outcome = engine.build("missing_provenance").outcomes["annotations.tool.not_null"]
    assert outcome.failures == 5
    assert "is null" in outcome.sql.lower() and "tool" in outcome.sql

"""The console report reads right: schema failures as a column table, checks that did not run
collapsed to their cause, per-group coefficients with the grouping column, NULLs as null."""

from __future__ import annotations

from typing import Any

from validator.output.failures import schema_mismatches
from validator.output.run_report import console
from validator.verdict.validate import CheckResult, ContractVerdict, ValidationRun, masked

# dbt 1.10/1.11's enforced-contract error, as dbt-duckdb raised it for three faults at once
DBT_SCHEMA_ERROR = """Compilation Error in model annotations (models/labelpact/annotations.sql)
  This model has an enforced contract that failed.
  Please ensure the name, data_type, and number of columns in your contract match the columns in your model's definition.

  | column_name | definition_type | contract_type | mismatch_reason       |
  | ----------- | --------------- | ------------- | --------------------- |
  | confidence  | VARCHAR         | DOUBLE        | data type mismatch    |
  | tool        |                 | VARCHAR       | missing in definition |
  | extra_col   | VARCHAR         |               | missing in contract   |


  > in macro assert_columns_equivalent (macros/relations/column/columns_spec_ddl.sql)
"""  # noqa: E501


def _result(check_id: str, kind: str, status: str, **kw: Any) -> CheckResult:
    base: dict[str, Any] = dict(
        check_id=check_id, contract="annotations", kind=kind, severity="error",
        owner="team@example.org", description=f"{check_id} holds", status=status,
        failures=None, message="", duration=0.1,
    )  # fmt: skip
    base.update(kw)
    return CheckResult(**base)


def _run(results: list[CheckResult]) -> ValidationRun:
    fingerprint = {"rows": 10, "hash": "0123456789abcdef0"}
    verdict = ContractVerdict("annotations", "1.2.0", "fail", fingerprint, [])
    return ValidationRun("2026-12-01T00:00:00", 1.0, results, {"annotations": verdict}, {})


def test_schema_mismatches_are_parsed_from_dbts_message() -> None:
    found = [(m.column, m.warehouse_type, m.contract_type, m.problem)
             for m in schema_mismatches(DBT_SCHEMA_ERROR)]  # fmt: skip
    assert found == [
        ("confidence", "VARCHAR", "DOUBLE", "type mismatch"),
        ("tool", "", "VARCHAR", "missing"),
        ("extra_col", "VARCHAR", "", "extra"),
    ]


def test_a_schema_failure_prints_the_column_table_and_collapses_what_did_not_run() -> None:
    results = [_result("annotations.schema", "schema", "error", message=DBT_SCHEMA_ERROR)]
    results += [_result(f"annotations.c{i}.not_null", "not_null", "skipped") for i in range(22)]
    text = console(_run(results))
    assert "Compilation Error" not in text
    assert "column      warehouse type  contract type  problem" in text
    assert "confidence  VARCHAR         DOUBLE         type mismatch" in text
    assert "tool        -               VARCHAR        missing" in text
    assert "extra_col   VARCHAR         -              extra" in text
    assert "22 checks not run: annotations.schema failed" in text
    assert "annotations.c3.not_null" not in text  # collapsed, not listed one by one
    assert "0/23 checks passed, 22 not run" in text


def test_agreement_failures_show_each_group_with_its_column() -> None:
    sample = [{"group_key": "b0001", "n_items": 147, "n_ratings": 595, "value": -0.00203}]
    r = _result("annotations.agreement.krippendorff_alpha", "agreement", "fail", failures=1,
                sample=sample, group_by="annotator_team")  # fmt: skip
    text = console(_run([r]))
    assert "annotator_team b0001: -0.002 (147 items, 595 ratings)" in text


def test_samples_hide_personal_data_but_not_nulls() -> None:
    """Regression: a NULL in a personal-data column was shown as <pii>."""
    row = masked(["annotation_id", "annotator_id", "tool"], (7, None, None), {"annotator_id"})
    assert row == {"annotation_id": 7, "annotator_id": None, "tool": None}
    assert masked(["annotator_id"], ("ann_3",), {"annotator_id"}) == {"annotator_id": "<pii>"}


def test_a_null_in_a_sample_shows_as_null() -> None:
    r = _result("annotations.tool.not_null", "not_null", "fail", failures=1,
                sample=[{"annotation_id": 7, "tool": None}])  # fmt: skip
    assert 'e.g. {"annotation_id": 7, "tool": null}' in console(_run([r]))


def test_a_clean_run_prints_no_empty_table_header() -> None:
    results = [_result(f"annotations.c{i}.not_null", "not_null", "pass") for i in range(3)]
    text = console(_run(results))
    assert "status" not in text.splitlines()[0]
    assert "3/3 checks passed" in text
    failing = console(_run([*results, _result("annotations.x.unique", "unique", "fail")]))
    assert failing.splitlines()[0].startswith("status")

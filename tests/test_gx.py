"""Great Expectations: golden suites, loading in plain GX, each GX defect shown without and then
with its workaround, and end-to-end runs on DuckDB and parquet.

The golden suites are the repository's own compiled `expectations/` (`./run regen` rewrites
them with every other golden).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import pytest
from helpers import (
    E2E_ROWS,
    EXPECTED,  # GX must fail exactly the checks dbt fails
    ROOT,
)

from validator.compiler.artifacts import compile_plans
from validator.compiler.kinds import AcceptedValues, Pattern
from validator.compiler.plan import Kind, Plan, build_plans
from validator.compiler.sql.dialects import DEFAULT_DIALECTS
from validator.compiler.targets import gx as gx_target
from validator.contract.resolve import load_contracts
from validator.engines.gx_runner import CheckResult, run_suites
from validator.engines.gx_workarounds import Workarounds
from validator.example import data as exampledata

GOLDEN = ROOT / "expectations"
WEIRD = Path(__file__).parent / "golden" / "weird_names" / "contracts"
# The four faults asked for first, then one per kind of rendering: a relation to another
# contract, a cross-contract aggregate, a recursive CTE, agreement, a warn-severity check and
# the schema.
FAULTS = (
    "missing_provenance",
    "bad_label",
    "bad_pattern",
    "confidence_out_of_range",
    "orphan_item",
    "unadjudicated_disagreement",
    "revision_cycle",
    "low_agreement",
    "label_skew",
    "missing_column",
    "extra_column",
    "mistyped_column",
)
SCHEMA_FAULTS = {"missing_column", "extra_column", "mistyped_column"}
PARQUET_FAULTS = ("bad_pattern", "orphan_item")


def example_plans() -> list[Plan]:
    return build_plans(load_contracts([ROOT / "contracts"]))


def rendered() -> dict[str, str]:
    """{contract: suite JSON} of the example contracts, compiled as `labelpact compile` does
    in the repository (contract paths relative to it)."""
    files = compile_plans(example_plans(), DEFAULT_DIALECTS, ROOT)
    return {Path(rel).stem: text for rel, text in files.items() if rel.startswith("expectations/")}


# ---------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def plans() -> list[Plan]:
    return example_plans()


@pytest.fixture(scope="module")
def gx() -> Any:
    import great_expectations

    return great_expectations


@pytest.fixture(scope="module")
def context(gx: Any) -> Any:
    return gx.get_context(mode="ephemeral")


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One DuckDB file: clean example data in schema `clean`, each fault in its own schema."""
    db = tmp_path_factory.mktemp("gx") / "labelpact.duckdb"
    for fault in (None, *FAULTS):
        exampledata.generate(db, rows=E2E_ROWS, seed=7, fault=fault, schema=fault or "clean")
    return db


@pytest.fixture(scope="module")
def parquet(tmp_path_factory: pytest.TempPathFactory) -> dict[str | None, Path]:
    base = tmp_path_factory.mktemp("gx_parquet")
    dirs: dict[str | None, Path] = {}
    for fault in (None, *PARQUET_FAULTS):
        dirs[fault] = base / (fault or "clean")
        exampledata.generate(dirs[fault], rows=E2E_ROWS, seed=7, fault=fault, fmt="parquet")
    return dirs


def by_id(results: list[CheckResult]) -> dict[str, CheckResult]:
    return {r.check_id: r for r in results}


def only(plans: list[Plan], *names: str) -> list[Plan]:
    return [p for p in plans if p.contract.name in names]


def sql_check_ids(plans: list[Plan]) -> set[str]:
    """Checks whose committed expectation is an unexpected-rows query."""
    return {
        e["meta"]["labelpact"]["check_id"]
        for p in plans
        for e in gx_target.suite(p)["expectations"]
        if e["type"] == "unexpected_rows_expectation"
    }


# ------------------------------------------------------------------------- compiled suites


@pytest.mark.parametrize("contract", sorted(p.stem for p in GOLDEN.glob("*.json")))
def test_golden_suite(contract: str) -> None:
    got = rendered()
    assert sorted(got) == sorted(p.stem for p in GOLDEN.glob("*.json"))
    want = (GOLDEN / f"{contract}.json").read_text(encoding="utf-8")
    assert json.loads(got[contract]) == json.loads(want)
    assert got[contract] == want  # also byte-stable: indent 2, sorted keys, final newline


@pytest.mark.parametrize("contract", sorted(p.stem for p in GOLDEN.glob("*.json")))
def test_suite_loads_in_plain_gx_and_is_its_own_json(gx: Any, contract: str) -> None:
    data = json.loads((GOLDEN / f"{contract}.json").read_text(encoding="utf-8"))
    suite = gx.ExpectationSuite(**copy.deepcopy(data))  # GX adds its version to `meta`
    again = json.loads(json.dumps(suite.to_json_dict()))
    assert again.pop("id") is None
    assert again["meta"].pop("great_expectations_version")
    assert again == data


def test_every_check_is_in_its_suite_and_nothing_else(plans: list[Plan]) -> None:
    for plan in plans:
        suite = gx_target.suite(plan)
        ids = [e["meta"]["labelpact"]["check_id"] for e in suite["expectations"]]
        schema = f"{plan.contract.name}.schema"
        assert ids.count(schema) == 1 + len(plan.contract.columns)  # column set + types
        assert sorted(i for i in ids if i != schema) == sorted(
            c.id for c in plan.checks if c.kind != Kind.SCHEMA
        )
        assert set(ids) == {c.id for c in plan.checks}
        for e, check in (
            (e, next(c for c in plan.checks if c.id == e["meta"]["labelpact"]["check_id"]))
            for e in suite["expectations"]
        ):
            tag = e["meta"]["labelpact"]
            assert tag["kind"] == check.kind.value and tag["version"] == check.version
            assert e["severity"] == {"error": "critical", "warn": "warning"}[check.severity]


def test_builtin_expectations_per_kind(plans: list[Plan]) -> None:
    types: dict[str, set[str]] = {}
    for plan in plans:
        for e in gx_target.suite(plan)["expectations"]:
            types.setdefault(e["meta"]["labelpact"]["kind"], set()).add(e["type"])
    assert types.pop("not_null") == {"expect_column_values_to_not_be_null"}
    assert types.pop("unique") == {"expect_column_values_to_be_unique"}
    # audit_results is keyed by (annotation_id, auditor_id)
    assert types.pop("unique_key") == {"expect_compound_columns_to_be_unique"}
    assert types.pop("accepted_values") == {"expect_column_values_to_be_in_set"}
    assert types.pop("pattern") == {"expect_column_values_to_match_regex"}
    assert types.pop("between") == {"expect_column_values_to_be_between"}
    assert types.pop("schema") == {
        "expect_table_columns_to_match_set",
        "expect_column_values_to_be_of_type",
    }
    assert set().union(*types.values()) == {"unexpected_rows_expectation"}


def test_other_relations_are_named_placeholders(plans: list[Plan]) -> None:
    suite = gx_target.suite(only(plans, "annotations")[0])
    query = next(
        e["kwargs"]["unexpected_rows_query"]
        for e in suite["expectations"]
        if e["meta"]["labelpact"]["check_id"] == "annotations.item_id.relationship"
    )
    assert "{batch}" in query and "{labelpact__items}" in query
    assert suite["meta"]["labelpact"]["relations"] == {
        n: "{labelpact__" + n + "}"
        for n in ("adjudications", "audit_results", "instruction_versions", "items")
    }


def test_braces_in_values_survive_gx_formatting(plans: list[Plan]) -> None:
    check = next(c for c in only(plans, "items")[0].checks if c.kind == Kind.ACCEPTED_VALUES)
    odd = dataclasses.replace(check, params=AcceptedValues(values=("{x}", "a}b")))
    query = gx_target.unexpected_rows_query(
        odd, ("item_id",), "duckdb", gx_target.relation_placeholder
    )
    assert "'{x}', 'a}b'" in query.format(batch="t")  # how GX fills {batch}


def test_a_check_gx_cannot_express_is_an_error_naming_it(
    plans: list[Plan], monkeypatch: pytest.MonkeyPatch
) -> None:
    from validator.compiler import kinds
    from validator.compiler.sql import shapes

    # As if the kind had no SQL rendering (the base class's).
    monkeypatch.setattr(kinds.CoverageMax, "failing_rows", kinds.Params.failing_rows)
    monkeypatch.setattr(gx_target, "SHAPES", shapes.ShapeCache())  # renderings of the old code
    with pytest.raises(
        gx_target.UnexpressibleCheck, match=re.escape("check annotations.coverage.max_annotations")
    ):
        gx_target.render(plans)
    check = only(plans, "items")[0].checks[1]
    with pytest.raises(gx_target.UnexpressibleCheck, match=re.escape(check.id)):
        gx_target.expectations_for(
            dataclasses.replace(check, severity="info"),
            (),
            "duckdb",
            gx_target.relation_placeholder,
        )


# ------------------------------------------------------- GX defects: without, then with fix


def test_duckdb_engine_rows_vanish_when_the_connection_is_released() -> None:
    """The cause of GX #10738/#11579 on this install, without GX: a StaticPool is no cure."""
    import sqlalchemy as sa

    for pool in (sa.pool.QueuePool, sa.pool.StaticPool):
        engine = sa.create_engine("duckdb:///:memory:", poolclass=pool)
        with engine.connect() as con:
            result = con.execute(sa.text("SELECT 42"))
        assert result.fetchall() == []  # leaving the block rolled back; the result went too
        with engine.connect() as con:
            assert con.execute(sa.text("SELECT 42")).fetchall() == [(42,)]
        engine.dispose()


def test_defect_empty_results_without_pinned_connection(
    context: Any, warehouse: Path, plans: list[Plan]
) -> None:
    results = run_suites(
        only(plans, "items"),
        duckdb_path=warehouse,
        schema="clean",
        context=context,
        workarounds=Workarounds(pinned_connection=False),
    )
    metric_checks = [r for r in results if r.kind != "schema"]
    assert metric_checks and {r.status for r in metric_checks} == {"error"}
    assert all("list index out of range" in r.message for r in metric_checks)  # res[0] of []


def test_pinned_connection_fetches_real_results(
    context: Any, warehouse: Path, plans: list[Plan]
) -> None:
    results = by_id(
        run_suites(
            only(plans, "annotations", "items"),
            duckdb_path=warehouse,
            schema="orphan_item",
            context=context,
        )
    )
    assert results["items.item_id.not_null"].status == "pass"
    assert results["items.item_id.not_null"].failures == 0
    relationship = results["annotations.item_id.relationship"]
    assert (relationship.status, relationship.failures) == ("fail", 6)


def test_defect_reflection_without_catalog_workaround(
    context: Any, warehouse: Path, plans: list[Plan]
) -> None:
    results = by_id(
        run_suites(
            only(plans, "items"),
            duckdb_path=warehouse,
            schema="clean",
            context=context,
            workarounds=Workarounds(catalog_reflection=False),
        )
    )
    schema = results["items.schema"]
    assert schema.status == "fail" and set(schema.observed["types"].values()) == {None}
    assert "Table with name items does not exist" in results["items.item_id.not_null"].message


def test_catalog_workaround_reflects_columns_and_types(
    context: Any, warehouse: Path, plans: list[Plan]
) -> None:
    results = by_id(
        run_suites(only(plans, "items"), duckdb_path=warehouse, schema="clean", context=context)
    )
    schema = results["items.schema"]
    assert schema.status == "pass"
    assert schema.observed == {
        "columns": ["item_id", "split", "uri"],
        "types": {"item_id": "VARCHAR", "split": "VARCHAR", "uri": "VARCHAR"},
    }
    mistyped = by_id(
        run_suites(
            only(plans, "annotations"),
            duckdb_path=warehouse,
            schema="mistyped_column",
            context=context,
        )
    )
    assert mistyped["annotations.schema"].message == "confidence has type VARCHAR"


def test_defect_regex_refused_on_duckdb(context: Any, warehouse: Path, plans: list[Plan]) -> None:
    results = by_id(
        run_suites(
            only(plans, "annotations"),
            duckdb_path=warehouse,
            schema="bad_pattern",
            context=context,
            workarounds=Workarounds(regex_as_sql=False),
        )
    )
    pattern = results["annotations.annotator_id.pattern"]
    assert (pattern.status, pattern.message) == (
        "error",
        "Regex is not supported for dialect duckdb",
    )


def test_regex_runs_as_sql_on_duckdb(context: Any, warehouse: Path, plans: list[Plan]) -> None:
    suite = gx_target.suite(only(plans, "annotations")[0])
    assert "expect_column_values_to_match_regex" in {e["type"] for e in suite["expectations"]}
    results = by_id(
        run_suites(
            only(plans, "annotations"), duckdb_path=warehouse, schema="bad_pattern", context=context
        )
    )
    pattern = results["annotations.annotator_id.pattern"]
    assert (pattern.status, pattern.failures, pattern.evaluated_by) == ("fail", 5, "gx")


def test_defect_unexpected_rows_on_pandas(
    context: Any, parquet: dict[str | None, Path], plans: list[Plan]
) -> None:
    results = run_suites(
        plans,
        parquet_dir=parquet[None],
        context=context,
        workarounds=Workarounds(sql_over_parquet=False),
    )
    sql = sql_check_ids(plans)
    assert {r.status for r in results if r.check_id in sql} == {"error"}
    assert all(
        "No provider found for unexpected_rows_query" in r.message
        for r in results
        if r.check_id in sql
    )
    assert {r.status for r in results if r.check_id not in sql} == {"pass"}


def test_unexpected_rows_on_pandas_run_in_duckdb(
    context: Any, parquet: dict[str | None, Path], plans: list[Plan]
) -> None:
    clean = run_suites(plans, parquet_dir=parquet[None], context=context)
    assert {r.status for r in clean} == {"pass"}
    sql = sql_check_ids(plans)
    assert {r.check_id for r in clean if r.evaluated_by == "duckdb"} == sql
    orphan = by_id(run_suites(plans, parquet_dir=parquet["orphan_item"], context=context))
    assert [r.check_id for r in orphan.values() if r.status != "pass"] == [
        "annotations.item_id.relationship"
    ]
    assert orphan["annotations.item_id.relationship"].failures == 6
    bad = by_id(run_suites(plans, parquet_dir=parquet["bad_pattern"], context=context))
    assert [r.check_id for r in bad.values() if r.status != "pass"] == [
        "annotations.annotator_id.pattern"
    ]  # GX's own regex on pandas


# ------------------------------------------------------------------------------ end to end


def test_clean_duckdb_passes_every_check(context: Any, warehouse: Path, plans: list[Plan]) -> None:
    results = run_suites(plans, duckdb_path=warehouse, schema="clean", context=context)
    assert [r.check_id for r in results] == [c.id for p in plans for c in p.checks]
    assert {r.status for r in results} == {"pass"}, [r for r in results if r.status != "pass"]


@pytest.mark.parametrize("fault", FAULTS)
def test_fault_fails_exactly_its_checks(
    context: Any, warehouse: Path, plans: list[Plan], fault: str
) -> None:
    results = run_suites(plans, duckdb_path=warehouse, schema=fault, context=context)
    failing = {r.check_id for r in results if r.status in ("fail", "warn")}
    assert failing == EXPECTED[fault]
    errors = {r.check_id for r in results if r.status == "error"}
    if fault in SCHEMA_FAULTS:
        # GX cannot skip checks of a broken table (dbt does); they error on the bad column.
        assert all(e.startswith("annotations.") for e in errors)
    else:
        assert errors == set()
    for r in results:
        if r.check_id in failing:
            assert r.status == ("warn" if r.severity == "warn" else "fail")


def test_a_duckdb_sqlalchemy_url_gets_the_same_workarounds(
    context: Any, warehouse: Path, plans: list[Plan]
) -> None:
    results = run_suites(
        only(plans, "items"),
        sqlalchemy_url=f"duckdb:///{warehouse}",
        schema="clean",
        context=context,
    )
    assert {r.status for r in results} == {"pass"}


def test_exactly_one_source(warehouse: Path, plans: list[Plan]) -> None:
    from validator.errors import UsageError

    with pytest.raises(UsageError, match="exactly one"):
        run_suites(plans, duckdb_path=warehouse, parquet_dir=warehouse.parent)
    with pytest.raises(UsageError, match="does not exist"):
        run_suites(plans, duckdb_path=warehouse.parent / "nope.duckdb")


def test_hostile_identifiers_and_brace_regex(context: Any, tmp_path: Path) -> None:
    import duckdb

    plan = build_plans(load_contracts([WEIRD]))[0]
    # A quantifier's braces must survive GX's str.format of the unexpected-rows query.
    checks = tuple(
        dataclasses.replace(c, params=Pattern(pattern="^[a-z']{2,8}$"))
        if c.kind == Kind.PATTERN
        else c
        for c in plan.checks
    )
    plan = Plan(plan.contract, checks)
    db = tmp_path / "weird.duckdb"
    con = duckdb.connect(str(db))
    con.execute(
        'CREATE SCHEMA raw; CREATE TABLE raw.weird ("select" BIGINT, "weird name" '
        'VARCHAR, "label; drop table x" VARCHAR, "Quoted" VARCHAR, score DOUBLE)'
    )
    con.execute(
        "INSERT INTO raw.weird VALUES (1, 'a', 'it''s', 'o''k', 0.9), "
        "(2, 'b', 'a''); drop table y; --', 'fine', 0.2), (3, 'c', NULL, 'x', 0.7)"
    )
    con.close()
    results = by_id(run_suites([plan], duckdb_path=db, schema="raw", context=context))
    assert {r.check_id: r.status for r in results.values() if r.status != "pass"} == {
        "weird.Quoted.pattern": "fail"
    }  # 'x' is too short for {2,8}
    assert results["weird.Quoted.pattern"].failures == 1

"""dbt and Great Expectations agree: for every injected fault both fail exactly the same check
ids, with the same failing-row counts wherever both count rows; on clean data both pass.

GX validates the raw tables the dbt models select from; on DuckDB, on the PostgreSQL server the
tests start (GX over SQLAlchemy/psycopg2) and on the local Spark session (GX's Spark datasource,
found through the dbt profile's target).
"""

from __future__ import annotations

from typing import Any

import pytest
from helpers import EXPECTED, ROOT, SCHEMA_FAULTS

from validator.compiler.plan import Kind, build_plans
from validator.contract.resolve import load_contracts
from validator.engines.gx_runner import run_suites

# dbt's built-in `unique` counts duplicated values, GX counts rows holding them; the schema
# check has no count in dbt. Every other kind counts failing rows (or groups) in both.
COUNT_UNITS_DIFFER = {Kind.UNIQUE.value, Kind.UNIQUE_KEY.value, Kind.SCHEMA.value}


@pytest.fixture(scope="module")
def plans():  # type: ignore[no-untyped-def]
    return build_plans(load_contracts([ROOT / "contracts"]))


@pytest.fixture(scope="module")
def gx_context() -> Any:
    import great_expectations as gx

    return gx.get_context(mode="ephemeral")


def _gx(engine: Any, fault: str | None, plans: Any, context: Any, tmp: Any) -> list[Any]:
    if engine.name == "spark":  # the profile's target: the session dbt built in
        from validator.engines.warehouse import Warehouse

        warehouse = Warehouse(engine.settings(fault, tmp / "ledger.jsonl"))
        return run_suites(plans, warehouse=warehouse, schema="raw", context=context)
    if engine.name == "postgres":
        engine.load(fault)
        p = engine.params
        url = f"postgresql+psycopg2://{p['user']}@{p['host']}:{p['port']}/{p['dbname']}"
        return run_suites(plans, sqlalchemy_url=url, schema="raw", context=context)
    return run_suites(plans, duckdb_path=engine.path(fault), schema="raw", context=context)


@pytest.mark.parametrize("fault", [None, *sorted(EXPECTED)])
def test_dbt_and_gx_fail_the_same_checks(
    engine, plans, gx_context, fault: str | None, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    dbt = engine.build(fault)
    gx_results = _gx(engine, fault, plans, gx_context, tmp_path)
    gx_failing = {r.check_id for r in gx_results if r.status in ("fail", "warn")}
    assert gx_failing == dbt.failing_ids == (EXPECTED[fault] if fault else set())
    errors = {r.check_id for r in gx_results if r.status == "error"}
    if fault in SCHEMA_FAULTS:
        # dbt skips the tests of a model whose contract failed; GX runs them and they error
        assert all(e.startswith("annotations.") for e in errors)
    else:
        assert errors == set()
    for r in gx_results:
        if r.check_id in gx_failing and r.kind not in COUNT_UNITS_DIFFER:
            assert r.failures == dbt.outcomes[r.check_id].failures, r.check_id

"""Golden SQL per dialect for every check of the example contracts.

Engines we cannot run here (Snowflake, BigQuery, Databricks, Trino) are covered by
rendering each check, parsing it back with sqlglot in that dialect, and comparing with these
files; a change that alters any dialect's SQL shows up as a diff to review.
Regenerate every golden with `./run regen` and review the diff.
"""

from __future__ import annotations

from sqlglot import exp

from helpers import ROOT
from validator.compiler.plan import Kind, build_plans
from validator.compiler.sql.checks import failing_rows
from validator.compiler.sql.dialects import get_dialect
from validator.contract.resolve import load_contracts

GOLDEN = ROOT / "tests" / "golden_dialects"
# the example contracts, and the export example whose rules carry `where:` filters
SOURCES = ("contracts", "examples/export/contracts")


def rendered(dialect: str) -> dict[str, str]:
    engine = get_dialect(dialect)
    out = {}
    plans = [
        plan
        for contracts in SOURCES  # separate projects: each resolved on its own
        for plan in build_plans(load_contracts([ROOT / contracts]))
    ]
    for plan in plans:
        for check in plan.checks:
            if check.kind == Kind.SCHEMA:
                continue
            query = failing_rows(
                check, lambda n: exp.to_table(f"analytics.{n}"), engine, plan.contract.key
            )
            out[f"{check.test_name}.sql"] = engine.render(query) + "\n"
    return out

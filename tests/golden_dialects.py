"""Golden SQL per dialect for every check of the example contracts.

Engines we cannot run here (Snowflake, BigQuery, Databricks, Trino) are covered by
rendering each check, parsing it back with sqlglot in that dialect, and comparing with these
files; a change that alters any dialect's SQL shows up as a diff to review.
Regenerate with `python tests/golden_dialects.py`.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlglot import exp

from validator.plan import Kind, build_plans
from validator.resolve import load_contracts
from validator.sql.checks import failing_rows
from validator.sql.dialects import DIALECTS, get_dialect

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).parent / "golden_dialects"


def rendered(dialect: str) -> dict[str, str]:
    engine = get_dialect(dialect)
    out = {}
    for plan in build_plans(load_contracts([ROOT / "contracts"])):
        for check in plan.checks:
            if check.kind == Kind.SCHEMA:
                continue
            query = failing_rows(check, lambda n: exp.to_table(f"analytics.{n}"), engine,
                                 plan.contract.key)
            out[f"{check.test_name}.sql"] = engine.render(query) + "\n"
    return out


if __name__ == "__main__":
    for dialect in sorted(DIALECTS):
        target = GOLDEN / dialect
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        for name, sql in rendered(dialect).items():
            (target / name).write_text(sql, encoding="utf-8")
        print(f"wrote {dialect}")

"""The Great Expectations target: one GX 1.x ExpectationSuite (JSON) per contract.

Every check of the plan becomes GX expectations carrying `meta.labelpact.check_id`; none is
dropped. Column rules use GX's built-in expectations. The schema check is one
`expect_table_columns_to_match_set` plus one `expect_column_values_to_be_of_type` per column,
all with the id `<contract>.schema`. Every other check becomes an `unexpected_rows_expectation`
whose query is the failing-rows SELECT that sqlglot renders for the dbt target too.

In those queries the contract's own relation is GX's `{batch}`; another contract's relation is
the placeholder `{labelpact__<contract>}` (listed in the suite's `meta.labelpact.relations`),
which `gx_run` fills with a real relation. Plain GX loads the suites as they are
(`gx.ExpectationSuite(**json.load(f))`); it refuses to *run* a query whose placeholder was not
filled, rather than reading the wrong table.

The JSON is written without importing GX (whose import takes seconds, and every `compile`
would pay it). It is exactly `ExpectationSuite.to_json_dict()` minus the random `id` and the
GX version; tests/test_gx.py proves that by a round trip through GX.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlglot import exp

from validator.compiler.plan import Check, Plan
from validator.compiler.sql.checks import (
    BATCH_PLACEHOLDER,
    failing_rows,
    fill_placeholders,
    placeholder,
)
from validator.compiler.sql.dialects import get_dialect
from validator.compiler.sql.shapes import SHAPES
from validator.errors import LabelpactError

SUITE_DIR = "expectations"
SQL_DIALECT = "duckdb"  # the dialect committed queries are written in; gx_run re-renders
BATCH = "{batch}"
BATCH_CTE = "lp_batch"  # the check's own relation inside unexpected-rows queries
SEVERITY = {"error": "critical", "warn": "warning"}

RelationFor = Callable[[str], str]
"""Contract name -> the text that replaces its placeholder in a query."""


class UnexpressibleCheck(LabelpactError):
    """A check kind has no Great Expectations rendering (raised, never dropped)."""


def relation_placeholder(contract: str) -> str:
    """The placeholder standing for another contract's relation in committed queries."""
    return "{labelpact__" + contract + "}"


def render(plans: list[Plan]) -> dict[str, str]:
    """{`expectations/<contract>.json`: suite JSON} for every plan."""
    return {f"{SUITE_DIR}/{p.contract.name}.json": dump(suite(p)) for p in plans}


def dump(suite_json: dict[str, Any]) -> str:
    return json.dumps(suite_json, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def suite(
    plan: Plan, *, dialect: str = SQL_DIALECT, relation_for: RelationFor | None = None
) -> dict[str, Any]:
    """The suite of one plan, as GX 1.x JSON.

    `relation_for` fills other contracts' relations in SQL (default: placeholders), and
    `dialect` is the SQL dialect of unexpected-rows queries.
    """
    relation_for = relation_for or relation_placeholder
    expectations: list[dict[str, Any]] = []
    referenced: set[str] = set()
    for check in plan.checks:
        expectations.extend(
            expectations_for(check, plan.contract.key, dialect, relation_for, referenced)
        )
    c = plan.contract
    meta = {
        "contract": c.name,
        "version": c.version,
        "owner": c.owner,
        "source_file": c.path,
        "sql_dialect": dialect,
        "relations": {name: relation_placeholder(name) for name in sorted(referenced)},
    }
    return {
        "name": c.name,
        "expectations": expectations,
        "meta": {"labelpact": meta},
        "notes": None,
    }


def expectations_for(
    check: Check,
    key: tuple[str, ...],
    dialect: str,
    relation_for: RelationFor,
    referenced: set[str] | None = None,
) -> list[dict[str, Any]]:
    """The GX expectations (JSON) of one check: one, or one per column for the schema."""
    if check.severity not in SEVERITY:
        raise UnexpressibleCheck(
            f"check {check.id}: severity '{check.severity}' has no GX equivalent"
        )
    try:
        builtins = check.params.gx_builtins(check)
    except ValueError as exc:
        raise UnexpressibleCheck(f"check {check.id}: {exc}") from exc
    if builtins is not None:
        return [expectation(check, b.type, b.kwargs, b.description, **b.meta) for b in builtins]
    query = unexpected_rows_query(check, key, dialect, relation_for, referenced)
    return [expectation(check, "unexpected_rows_expectation", {"unexpected_rows_query": query})]


def expectation(
    check: Check, type_: str, kwargs: dict[str, Any], description: str = "", **meta: Any
) -> dict[str, Any]:
    """One expectation's JSON, tagged with the check it belongs to."""
    tag = {
        "check_id": check.id,
        "contract": check.contract,
        "version": check.version,
        "severity": check.severity,
        "kind": check.kind.value,
        **meta,
    }
    return {
        "type": type_,
        "kwargs": kwargs,
        "meta": {"labelpact": tag},
        "description": description or check.description,
        "severity": SEVERITY[check.severity],
    }


def unexpected_rows_query(
    check: Check,
    key: tuple[str, ...],
    dialect: str,
    relation_for: RelationFor,
    referenced: set[str] | None = None,
) -> str:
    """The failing-rows SELECT reading the check's own relation from GX's `{batch}`.

    GX fills `{batch}` with `(SELECT ...) AS subselect` unless the query contains a JOIN, in
    which case the alias is left to the query. So `{batch}` appears exactly once, in a first
    CTE named `lp_batch` that is aliased only in queries with a JOIN, and the check reads
    `lp_batch` under whatever aliases it likes. Braces in the SQL text (a regex quantifier, a
    literal value) are doubled, because GX fills `{batch}` with `str.format`.
    """
    engine = get_dialect(dialect)

    def build(check: Check, key: tuple[str, ...]) -> str:
        def rel(name: str) -> exp.Table:
            return exp.to_table(BATCH_CTE) if name == check.contract else placeholder(name)

        query = failing_rows(check, rel, engine, key)
        batch: exp.Expr = exp.to_table(BATCH_PLACEHOLDER)
        if query.find(exp.Join) is not None:
            batch = exp.alias_(batch, "b", table=True)
        _prepend_cte(query, BATCH_CTE, exp.select("*").from_(batch))
        return query.sql(dialect=engine.sqlglot, copy=False)

    try:
        text = SHAPES.render(check, key, engine, "gx", build)
    except ValueError as exc:
        raise UnexpressibleCheck(f"check {check.id}: {exc}") from exc
    text = text.replace("{", "{{").replace("}", "}}")

    def relation(name: str) -> str:
        if referenced is not None:
            referenced.add(name)
        return relation_for(name)

    return fill_placeholders(text, relation, batch=BATCH)


def _prepend_cte(query: exp.Expr, name: str, body: exp.Select) -> None:
    """Make `name AS (body)` the first CTE of `query` (before any recursive one using it)."""
    assert isinstance(query, exp.Query)
    recursive = bool(
        query.ctes and query.ctes[0].parent and query.ctes[0].parent.args.get("recursive")
    )
    query.with_(name, as_=body, recursive=recursive, copy=False)  # appended
    with_ = query.ctes[-1].parent
    assert with_ is not None
    *rest, ours = with_.expressions
    with_.set("expressions", [ours, *rest])

"""Failing-row samples for reports: a few rows per failing check, drawn where the check read
them, with personal-data columns hidden."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from validator.compiler.plan import Check, Kind, Plan
from validator.compiler.sql.checks import failing_rows
from validator.contract.model import Contract
from validator.engines.warehouse import Warehouse
from validator.errors import EngineError

if TYPE_CHECKING:
    from validator.verdict.validate import CheckResult

SAMPLE_ROWS = 5


def masked(names: list[str], row: tuple[Any, ...], hidden: set[str]) -> dict[str, Any]:
    """A sample row for reports: personal-data columns hidden, but a NULL stays null (it
    tells the reader the value is missing, and reveals nothing)."""
    return {
        n: (_jsonable(v) if n not in hidden or v is None else "<pii>")
        for n, v in zip(names, row, strict=True)
    }


def failed_checks(results: list[CheckResult], plans: list[Plan]) -> list[tuple[CheckResult, Check]]:
    checks = {c.id: c for p in plans for c in p.checks}
    return [
        (r, checks[r.check_id])
        for r in results
        if r.status in ("fail", "warn") and checks[r.check_id].kind != Kind.SCHEMA
    ]


def sample_rows(
    wh: Warehouse,
    check: Check,
    contracts: dict[str, Contract],
    relations: dict[str, str],
    relation: Callable[[str], exp.Expr] | None = None,
) -> list[dict[str, Any]]:
    """A few failing rows, never showing columns the contract marks as personal data.
    `relation` overrides the relation read for a contract (incremental runs: new batches)."""

    def rel(name: str) -> exp.Expr:
        return exp.to_table(relations[name], dialect=wh.dialect.sqlglot)

    contract = contracts[check.contract]
    query = failing_rows(check, relation or rel, wh.dialect, contract.key)
    limited = exp.select("*").from_(query.subquery("f")).limit(SAMPLE_ROWS)
    try:
        names, rows = wh.query(limited.sql(dialect=wh.dialect.sqlglot))
    except EngineError:
        return []
    hidden: set[str] = set()
    for c in contracts.values():
        hidden |= c.pii_columns
    return [masked(names, row, hidden | renamed_personal(check, hidden)) for row in rows]


# Columns of failing-rows queries that carry a parameter column under another name (the
# per-annotator rules' `rater` and `annotator`, agreement's `group_key`, ...): output name ->
# parameter field.
_RENAMED = {
    "rater": "rater",
    "annotator": "annotator",
    "item": "item",
    "group_key": "by",
    "seg": "by",
}


def renamed_personal(check: Check, pii: set[str]) -> set[str]:
    """The check's output columns that carry a personal-data column under another name."""
    return {out for out, fld in _RENAMED.items() if getattr(check.params, fld, None) in pii}


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)

"""Building blocks of failing-rows queries, shared by the check kinds (`compiler/kinds/`).

Queries are written as small SQL templates whose placeholders are replaced by sqlglot nodes
(`sql/templates.py`): no user string is ever pasted into SQL text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlglot import exp

if TYPE_CHECKING:
    from validator.compiler.plan import Check

RelationFor = Callable[[str], exp.Expr]
"""Contract name -> its relation in a query (a table, or a stand-in for one)."""


def col(name: str) -> exp.Column:
    """A quoted column."""
    return exp.column(name, quoted=True)


def shown(key: tuple[str, ...], *extra: str | None) -> list[str]:
    """The key columns plus `extra` ones (once each, in order): what a failing row shows."""
    cols = list(key)
    for name in extra:
        if name and name not in cols:
            cols.append(name)
    return cols


def select_where(
    check: Check, rel: RelationFor, key: tuple[str, ...], condition: exp.Expr, *extra: str | None
) -> exp.Select:
    """The rows of the check's own relation matching `condition` (key, column and `extra`
    shown)."""
    cols = shown(key, check.column, *extra)
    query = exp.select(*[col(c) for c in cols]).from_(rel(check.contract))
    return query.where(condition)


def key_select(key: tuple[str, ...], alias: str, *extra: str) -> str:
    """Template text selecting key placeholders (k0, k1 ...) plus extra columns."""
    parts = [f"{alias}.p_k{i}" for i in range(len(key))] + [f"{alias}.{e}" for e in extra]
    return ", ".join(parts)


def key_ids(key: tuple[str, ...]) -> dict[str, str]:
    return {f"p_k{i}": k for i, k in enumerate(key)}

"""SQL templates whose placeholders become sqlglot nodes, so no user string is pasted as text.

`p_<name>` identifiers become quoted identifiers, `r_<name>` tables become relations (tables or
subqueries) and `v_<name>` columns become literals (or given expressions).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import sqlglot
from sqlglot import exp


def template(
    sql: str,
    ids: Mapping[str, str] | None = None,
    values: Mapping[str, Any] | None = None,
    tables: Mapping[str, exp.Expr] | None = None,
) -> exp.Select:
    """Parse a template and substitute identifiers, literals and relations as sqlglot nodes."""
    ids, values, tables = ids or {}, values or {}, tables or {}
    tree = _parsed(sql)

    def sub(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Table) and node.name in tables:
            new = tables[node.name].copy()
            if node.alias:
                new.set("alias", exp.TableAlias(this=exp.to_identifier(node.alias)))
            return new
        if isinstance(node, exp.In) and len(node.expressions) == 1:
            only = node.expressions[0]
            if isinstance(only, exp.Column) and only.name in values:
                items = values[only.name]
                node.set("expressions", [literal(v) for v in items])
                return node
        if isinstance(node, exp.Column) and not node.table and node.name in values:
            return literal(values[node.name])
        if isinstance(node, exp.Identifier) and node.name in ids:
            return exp.to_identifier(ids[node.name], quoted=True)
        return node

    result = tree.transform(sub)  # copies: the cached tree is never changed
    assert isinstance(result, exp.Select | exp.Union) or result is not None
    return result  # type: ignore[return-value]


@lru_cache(maxsize=512)
def _parsed(sql: str) -> exp.Expr:
    """Templates are a few dozen constant strings: parse each once per process."""
    return sqlglot.parse_one(sql, read="postgres")


def literal(value: Any) -> exp.Expr:
    """A SQL literal for a Python value (expressions pass through)."""
    if isinstance(value, exp.Expr):
        return value.copy()
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, (int, float)):
        return exp.Literal.number(repr(value) if isinstance(value, float) else str(value))
    return exp.Literal.string(str(value))

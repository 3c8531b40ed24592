"""Row filters (`where:` on agreement, coverage, label distribution, uncertainty and
adjudication): which rows a section's rules count.

A filter is written like a custom check expression (`sql/predicates.py`): one read-only boolean
expression over the contract's columns, parsed by sqlglot and re-rendered for each dialect, so
what runs is what was checked. A bare boolean column (`is_gold`) is a filter too. Rows where
the filter is NULL do not count, as in SQL's WHERE.
"""

from __future__ import annotations

from collections.abc import Mapping

import sqlglot
from sqlglot import exp

from validator.compiler.sql.predicates import READ_DIALECT, UnsafePredicate, parse_predicate
from validator.errors import did_you_mean

__all__ = [
    "FILTERED_SECTIONS",
    "UnsafePredicate",
    "filter_condition",
    "filter_rows",
    "parse_filter",
]

# The sections whose rules take `where:`; every check planned from one of them carries it.
FILTERED_SECTIONS = ("uncertainty", "agreement", "adjudication", "coverage", "label_distribution")


def parse_filter(
    text: str, columns: list[str] | tuple[str, ...], types: Mapping[str, str] | None = None
) -> exp.Expr:
    """The checked filter, every column quoted; raises `UnsafePredicate`.

    `types` (column -> contract type), when given, lets a bare column stand as the whole
    filter only when it is a boolean column.

    >>> parse_filter("NOT is_gold AND NOT is_cancelled", ["is_gold", "is_cancelled"]).sql()
    'NOT "is_gold" AND NOT "is_cancelled"'
    """
    column = _bare_column(text)
    if column is not None:
        if column not in columns:
            hint = did_you_mean(column, list(columns))
            raise UnsafePredicate(f"unknown column '{column}'" + (f" ({hint})" if hint else ""))
        if types is not None and types.get(column) != "boolean":
            raise UnsafePredicate(
                f"must be a boolean expression: column '{column}' is {types.get(column)}, "
                f"not boolean (compare it, e.g. {column} = ...)"
            )
        return exp.column(column, quoted=True)
    tree = parse_predicate(text, list(columns))
    if types is not None:
        _check_logical_operands(tree, types)
    return tree


def _check_logical_operands(tree: exp.Expr, types: Mapping[str, str]) -> None:
    """NOT, AND and OR take booleans: a bare column of another type there is an error (it
    would fail at run time on a strict engine, or be cast silently on a lax one)."""
    for node in tree.walk():
        if not isinstance(node, exp.Not | exp.Connector):
            continue
        for operand in (node.this, node.args.get("expression")):
            while isinstance(operand, exp.Paren):
                operand = operand.this
            if isinstance(operand, exp.Column) and types.get(operand.name, "boolean") != "boolean":
                raise UnsafePredicate(
                    f"{node.key.upper()} needs a boolean: column '{operand.name}' is "
                    f"{types[operand.name]} (compare it, e.g. {operand.name} = ...)"
                )


def _bare_column(text: str) -> str | None:
    """The column name when the text is just one column, possibly in parentheses."""
    try:
        tree = sqlglot.parse_one(text, read=READ_DIALECT)
    except sqlglot.errors.SqlglotError:
        return None  # parse_predicate reports it
    while isinstance(tree, exp.Paren):
        tree = tree.this
    if isinstance(tree, exp.Column) and not tree.table:
        return tree.name
    return None


def filter_condition(where: str, columns: tuple[str, ...], table: str) -> exp.Expr:
    """The filter as a condition on the columns of `table` (an alias in the query)."""
    return parse_filter(where, columns).transform(
        lambda n: exp.column(n.name, table=table, quoted=True) if isinstance(n, exp.Column) else n
    )


def filter_rows(
    relation: exp.Expr, where: str, columns: tuple[str, ...], alias: str = "lp_where"
) -> exp.Subquery:
    """`relation` restricted to the rows the filter keeps, as a subquery named `alias`."""
    condition = filter_condition(where, columns, "f")
    source = relation.copy()
    if isinstance(source, exp.Subquery | exp.Table):
        source.set("alias", exp.TableAlias(this=exp.to_identifier("f")))
    else:
        source = exp.Subquery(this=source, alias=exp.TableAlias(this=exp.to_identifier("f")))
    return exp.select("*").from_(source).where(condition).subquery(alias)

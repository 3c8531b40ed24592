"""User-written SQL predicates (`checks: [{name, expression}]`), made safe.

An expression must parse as exactly one read-only boolean expression over this contract's
columns: no statements, no subqueries, no DDL/DML, no functions on the deny list (file and
network readers, COPY/ATTACH and friends). It is re-rendered by sqlglot for each dialect with
every column quoted, so what runs is what was checked.
"""

from __future__ import annotations

from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, SqlglotError

READ_DIALECT = "postgres"  # the grammar contracts are written in (standard SQL)
DENIED_FUNCTIONS = frozenset(
    {
        "read_csv",
        "read_csv_auto",
        "read_parquet",
        "read_json",
        "read_json_auto",
        "read_text",
        "read_blob",
        "read_ndjson",
        "parquet_scan",
        "csv_scan",
        "glob",
        "query",
        "query_table",
        "pg_read_file",
        "pg_read_binary_file",
        "pg_ls_dir",
        "pg_stat_file",
        "lo_import",
        "lo_export",
        "dblink",
        "dblink_exec",
        "load_extension",
        "http_get",
        "http_post",
        "pg_sleep",
        "sleep",
        "set_config",
        "current_setting",
        "txid_current",
        "nextval",
        "setval",
        "copy",
        "attach",
        "detach",
        "install",
        "load",
        "system",
        "shell",
        "getenv",
        "openrowset",
    }
)
DENIED_NODES = (
    exp.Select,
    exp.Subquery,
    exp.Union,
    exp.Command,
    exp.Create,
    exp.Drop,
    exp.Insert,
    exp.Update,
    exp.Delete,
    exp.Alter,
    exp.Copy,
    exp.Set,
    exp.Transaction,
    exp.Commit,
    exp.Rollback,
    exp.Use,
    exp.Table,
    exp.Star,
    exp.Placeholder,
    exp.Parameter,
)
BOOLEAN_ROOTS = (
    exp.Predicate,
    exp.Connector,
    exp.Not,
    exp.Boolean,
    exp.Paren,
    exp.Between,
    exp.In,
    exp.Is,
    exp.Like,
    exp.ILike,
    exp.RegexpLike,
    exp.Exists,
)


class UnsafePredicate(ValueError):
    """The expression is not a single read-only boolean expression over known columns."""


def _syntax_error(error: dict[str, Any]) -> str:
    """sqlglot's parse error in a user's words: what is wrong, where (character position)."""
    description, token = error.get("description", ""), error.get("highlight", "")
    before = (error.get("start_context") or "").strip()
    where = f" (character {error['col']})" if error.get("col") else ""
    if description.startswith("Required keyword"):
        return f"incomplete expression: nothing valid follows '{token}'{where}"
    if description.startswith("Expecting )"):
        return f"missing ')' after '{before}{token}'{where}"
    if description.startswith("Invalid expression / Unexpected token"):
        return f"unexpected '{token}'" + (f" after '{before}'" if before else "") + where
    return description + where


def parse_predicate(text: str, columns: list[str]) -> exp.Expr:
    """The checked expression tree, with every column quoted; raises `UnsafePredicate`."""
    try:
        trees = sqlglot.parse(text, read=READ_DIALECT)
    except ParseError as exc:
        detail = _syntax_error(exc.errors[0]) if exc.errors else str(exc)
        raise UnsafePredicate(f"not valid SQL: {detail}") from exc
    except SqlglotError as exc:  # tokenizer errors: unterminated strings and the like
        first = str(exc).splitlines()[0]
        hint = " (an unterminated quote?)" if first.startswith("Error tokenizing") else ""
        raise UnsafePredicate(f"not valid SQL{hint}: {first}") from exc
    trees = [t for t in trees if t is not None]
    if len(trees) != 1:
        raise UnsafePredicate(f"must be one expression, found {len(trees)} statements")
    tree = trees[0]
    if isinstance(tree, exp.Alias):  # `a b` reads as `a AS b`
        raise UnsafePredicate(
            f"two expressions side by side ('{tree.this.sql()}' then '{tree.alias}'): "
            "a missing AND/OR or operator?"
        )
    if not isinstance(tree, BOOLEAN_ROOTS):
        raise UnsafePredicate(
            f"must be a boolean expression (a comparison, AND/OR, IN, "
            f"IS NULL ...), found {tree.key.upper() if tree else 'nothing'}"
        )
    for node in tree.walk():
        if isinstance(node, DENIED_NODES):
            raise UnsafePredicate(f"{node.key.upper()} is not allowed in a check expression")
        if isinstance(node, exp.Func):
            name = (node.name if isinstance(node, exp.Anonymous) else node.sql_name()).lower()
            if name in DENIED_FUNCTIONS:
                raise UnsafePredicate(f"function {name}() is not allowed in a check expression")
        if isinstance(node, exp.Column):
            if node.table:
                raise UnsafePredicate(f"column {node.sql()} must not be qualified")
            if node.name not in columns:
                from validator.errors import did_you_mean

                hint = did_you_mean(node.name, columns)
                raise UnsafePredicate(
                    f"unknown column '{node.name}'" + (f" ({hint})" if hint else "")
                )
    for node in tree.walk():
        node.comments = None  # comments are dropped: nothing of the text survives unparsed
    return tree.transform(
        lambda n: exp.column(n.name, quoted=True) if isinstance(n, exp.Column) else n
    )

"""Render each IR check as one read-only SELECT that returns the failing rows.

Each check kind renders its own query (`failing_rows` of its class in `compiler/kinds/`), from
small SQL templates whose placeholders are replaced by sqlglot nodes: `p_<name>` identifiers
become quoted column names, `r_<name>` tables become relations and `v_<name>` columns become
literals. No user string is ever pasted into SQL text, so a column named `select` or
`label; drop table x` is just a quoted identifier. This module holds what the targets share:
the dispatch, and the placeholder tables of targets that render SQL before the relations are
known.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlglot import exp

from validator.compiler.kinds.base import current_rows
from validator.compiler.plan import Check
from validator.compiler.sql.dialects import Dialect
from validator.compiler.sql.rows import RelationFor

__all__ = [
    "BATCH_PLACEHOLDER",
    "RelationFor",
    "current_rows",
    "failing_rows",
    "fill_placeholders",
    "placeholder",
]

# Targets that render SQL before the relations are known (dbt's `ref()`, GX's `{batch}`) put
# placeholder tables in and fill them in the rendered text; quoted or not, per dialect.
_PLACEHOLDER = re.compile(r"[\"`]?__lp_(batch|ref_([a-z][a-z0-9_]*))__[\"`]?")
BATCH_PLACEHOLDER = "__lp_batch__"


def placeholder(contract: str) -> exp.Table:
    """A stand-in table for a contract's relation (see `fill_placeholders`)."""
    return exp.to_table(f"__lp_ref_{contract}__")


def fill_placeholders(sql: str, relation: Callable[[str], str], batch: str = "") -> str:
    """Replace placeholder tables in rendered SQL: contracts via `relation`, the batch by
    `batch`. Contract names are identifiers, and user strings cannot contain `__lp_` (lint)."""

    def fill(m: re.Match[str]) -> str:
        return batch if m.group(1) == "batch" else relation(m.group(2))

    return _PLACEHOLDER.sub(fill, sql)


def failing_rows(
    check: Check, rel: RelationFor, dialect: Dialect, key: tuple[str, ...] = ()
) -> exp.Query:
    """A SELECT returning one row per failure of `check` (empty result = pass).

    `rel(contract_name)` gives the relation of a contract; `key` are the columns shown to
    identify a failing row. A kind without a SQL rendering raises ValueError.
    """
    return check.params.failing_rows(check, rel, dialect, key)

"""Role columns under a row filter: a section with `where:` counts only the rows it keeps, so
its role columns (item, rater, label ...) must be non-null on those rows, not on every row (an
annotation tool's cancelled task may carry no label)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from sqlglot import exp

from validator.compiler.kinds.base import (
    Filtered,
    Incremental,
    Kind,
    RelationFor,
    column,
    filtered_rows,
)
from validator.compiler.sql.templates import template

if TYPE_CHECKING:
    from validator.compiler.plan import Check
    from validator.compiler.sql.dialects import Dialect


@dataclass(frozen=True, kw_only=True)
class RoleNotNull(Filtered):
    """`role_column` is not null on the rows the section's filter keeps."""

    kind: ClassVar[Kind] = Kind.ROLE_NOT_NULL
    incremental: ClassVar[Incremental] = Incremental.ROWS
    role_column: str = column()

    def failing_rows(
        self, check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]
    ) -> exp.Query:
        shown = [c for c in key if c != self.role_column]
        query = template(
            "SELECT t.p_col FROM r_t AS t WHERE t.p_col IS NULL",
            ids={"p_col": self.role_column},
            tables={"r_t": filtered_rows(check, rel)},
        )
        if shown:
            query = query.select(
                *[exp.Column(this=exp.to_identifier(c, quoted=True), table="t") for c in shown]
            )
        return query

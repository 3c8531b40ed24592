"""Kinds about the relation's shape and its columns' values, and custom SQL checks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from sqlglot import exp

from validator.compiler.kinds.base import (
    Builtin,
    DbtForm,
    Incremental,
    Kind,
    Params,
    RelationFor,
    column,
    relation,
)
from validator.compiler.sql.rows import col, select_where, shown
from validator.compiler.sql.templates import literal, template

if TYPE_CHECKING:
    from validator.compiler.plan import Check
    from validator.compiler.sql.dialects import Dialect

# Logical type -> the SQLAlchemy type name GX compares a reflected column type against.
GX_TYPE_NAMES = {
    "bigint": "BIGINT",
    "integer": "INTEGER",
    "varchar": "VARCHAR",
    "double": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
}


@dataclass(frozen=True, kw_only=True)
class Schema(Params):
    """The relation has exactly the contracted columns (`closed`) with their logical types."""

    kind: ClassVar[Kind] = Kind.SCHEMA
    incremental: ClassVar[Incremental] = Incremental.SCHEMA
    dbt: ClassVar[DbtForm] = DbtForm.MODEL_CONTRACT
    by_shape: ClassVar[bool] = False
    columns: Mapping[str, str]  # name -> logical type (names are not abstracted: by_shape)
    closed: bool

    def gx_builtins(self, check: Check) -> list[Builtin]:
        kwargs: dict[str, Any] = {"column_set": list(self.columns)}
        if not self.closed:
            kwargs["exact_match"] = False  # GX omits the default (True) from its JSON
        out = [Builtin("expect_table_columns_to_match_set", kwargs, meta={"part": "columns"})]
        for name, logical in self.columns.items():
            if logical not in GX_TYPE_NAMES:
                raise ValueError(f"column type '{logical}' has no GX type name")
            out.append(
                Builtin(
                    "expect_column_values_to_be_of_type",
                    {"column": name, "type_": GX_TYPE_NAMES[logical]},
                    f"{name} has type {logical}",
                    {"part": "type", "type": logical},
                )
            )
        return out


@dataclass(frozen=True, kw_only=True)
class NotNull(Params):
    kind: ClassVar[Kind] = Kind.NOT_NULL
    incremental: ClassVar[Incremental] = Incremental.ROWS
    dbt: ClassVar[DbtForm] = DbtForm.COLUMN_TEST

    def failing_rows(
        self, check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]
    ) -> exp.Query:
        assert check.column
        return select_where(check, rel, key, exp.Is(this=col(check.column), expression=exp.Null()))

    def dbt_test(self) -> tuple[str, dict[str, Any]]:
        return "not_null", {}

    def gx_builtins(self, check: Check) -> list[Builtin]:
        return [Builtin("expect_column_values_to_not_be_null", {"column": check.column})]


def _duplicates(check: Check, rel: RelationFor, cols: list[str]) -> exp.Select:
    group = [col(c) for c in cols]
    notnull = exp.and_(*[exp.Not(this=exp.Is(this=col(c), expression=exp.Null())) for c in cols])
    return (
        exp.select(*group, exp.alias_(exp.Count(this=exp.Star()), "n_rows"))
        .from_(rel(check.contract))
        .where(notnull)
        .group_by(*group)
        .having(exp.GT(this=exp.Count(this=exp.Star()), expression=exp.Literal.number(1)))
    )


@dataclass(frozen=True, kw_only=True)
class Unique(Params):
    """A column's non-null values do not repeat (one failing row per repeated value)."""

    kind: ClassVar[Kind] = Kind.UNIQUE
    incremental: ClassVar[Incremental] = Incremental.UNIQUE
    dbt: ClassVar[DbtForm] = DbtForm.COLUMN_TEST

    def failing_rows(
        self, check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]
    ) -> exp.Query:
        assert check.column
        return _duplicates(check, rel, [check.column])

    def dbt_test(self) -> tuple[str, dict[str, Any]]:
        return "unique", {}

    def gx_builtins(self, check: Check) -> list[Builtin]:
        return [Builtin("expect_column_values_to_be_unique", {"column": check.column})]


@dataclass(frozen=True, kw_only=True)
class UniqueKey(Params):
    """A key tuple identifies one row (rows with a null key part are not compared)."""

    kind: ClassVar[Kind] = Kind.UNIQUE_KEY
    incremental: ClassVar[Incremental] = Incremental.UNIQUE
    dbt: ClassVar[DbtForm] = DbtForm.MODEL_TEST
    columns: tuple[str, ...] = column()

    def failing_rows(
        self, check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]
    ) -> exp.Query:
        return _duplicates(check, rel, list(self.columns))

    def dbt_test(self) -> tuple[str, dict[str, Any]]:
        return "labelpact_unique_key", {"columns": list(self.columns)}

    def gx_builtins(self, check: Check) -> list[Builtin]:
        return [
            Builtin(
                "expect_compound_columns_to_be_unique",
                {"column_list": list(self.columns), "ignore_row_if": "any_value_is_missing"},
            )
        ]


@dataclass(frozen=True, kw_only=True)
class AcceptedValues(Params):
    kind: ClassVar[Kind] = Kind.ACCEPTED_VALUES
    incremental: ClassVar[Incremental] = Incremental.ROWS
    dbt: ClassVar[DbtForm] = DbtForm.COLUMN_TEST
    values: tuple[Any, ...]

    def failing_rows(
        self, check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]
    ) -> exp.Query:
        assert check.column
        cond = template(
            "SELECT 1 WHERE p_c IS NOT NULL AND NOT p_c IN (v_values)",
            ids={"p_c": check.column},
            values={"v_values": list(self.values)},
        )
        return select_where(check, rel, key, cond.args["where"].this)

    def dbt_test(self) -> tuple[str, dict[str, Any]]:
        return "labelpact_accepted_values", {"values": list(self.values)}

    def gx_builtins(self, check: Check) -> list[Builtin]:
        return [
            Builtin(
                "expect_column_values_to_be_in_set",
                {"column": check.column, "value_set": list(self.values)},
            )
        ]


@dataclass(frozen=True, kw_only=True)
class Pattern(Params):
    kind: ClassVar[Kind] = Kind.PATTERN
    incremental: ClassVar[Incremental] = Incremental.ROWS
    dbt: ClassVar[DbtForm] = DbtForm.COLUMN_TEST
    pattern: str

    def failing_rows(
        self, check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]
    ) -> exp.Query:
        assert check.column
        value = col(check.column)
        cond = exp.and_(
            exp.Not(this=exp.Is(this=value, expression=exp.Null())),
            exp.Not(this=d.regex_match(value.copy(), self.pattern)),
        )
        return select_where(check, rel, key, cond)

    def dbt_test(self) -> tuple[str, dict[str, Any]]:
        return "labelpact_pattern", {"pattern": self.pattern}

    def gx_builtins(self, check: Check) -> list[Builtin]:
        return [
            Builtin(
                "expect_column_values_to_match_regex",
                {"column": check.column, "regex": self.pattern},
            )
        ]


@dataclass(frozen=True, kw_only=True)
class Between(Params):
    """Non-null values lie in [min, max] (None: an open end)."""

    kind: ClassVar[Kind] = Kind.BETWEEN
    incremental: ClassVar[Incremental] = Incremental.ROWS
    dbt: ClassVar[DbtForm] = DbtForm.COLUMN_TEST
    min: float | None
    max: float | None

    def failing_rows(
        self, check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]
    ) -> exp.Query:
        assert check.column
        value = col(check.column)
        parts: list[exp.Expr] = []
        if self.min is not None:
            parts.append(exp.LT(this=value.copy(), expression=literal(self.min)))
        if self.max is not None:
            parts.append(exp.GT(this=value.copy(), expression=literal(self.max)))
        return select_where(check, rel, key, exp.or_(*parts))

    def dbt_test(self) -> tuple[str, dict[str, Any]]:
        return "labelpact_between", {"min": self.min, "max": self.max}

    def gx_builtins(self, check: Check) -> list[Builtin]:
        kwargs: dict[str, Any] = {"column": check.column}
        if self.min is not None:
            kwargs["min_value"] = self.min
        if self.max is not None:
            kwargs["max_value"] = self.max
        return [Builtin("expect_column_values_to_be_between", kwargs)]


@dataclass(frozen=True, kw_only=True)
class NotInFuture(Params):
    kind: ClassVar[Kind] = Kind.NOT_IN_FUTURE
    incremental: ClassVar[Incremental] = Incremental.ROWS
    dbt: ClassVar[DbtForm] = DbtForm.COLUMN_TEST

    def failing_rows(
        self, check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]
    ) -> exp.Query:
        assert check.column
        cond = exp.GT(
            this=col(check.column),
            expression=exp.Cast(this=d.now(), to=exp.DataType.build("timestamp")),
        )
        return select_where(check, rel, key, cond)

    def dbt_test(self) -> tuple[str, dict[str, Any]]:
        return "labelpact_not_in_future", {}


@dataclass(frozen=True, kw_only=True)
class Relationship(Params):
    """Every non-null value exists in another contract's column."""

    kind: ClassVar[Kind] = Kind.RELATIONSHIP
    incremental: ClassVar[Incremental] = Incremental.ROWS
    dbt: ClassVar[DbtForm] = DbtForm.COLUMN_TEST
    to: str = relation()
    to_column: str = column()

    def failing_rows(
        self, check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]
    ) -> exp.Query:
        assert check.column
        # A left anti-join: DuckDB plans it as one hash join, about twice as fast as NOT EXISTS
        # here; the referenced side is made distinct so duplicates cannot multiply rows.
        return template(
            "SELECT t.p_c FROM r_t AS t LEFT JOIN (SELECT DISTINCT p_oc FROM r_o AS o) AS o "
            "ON o.p_oc = t.p_c WHERE t.p_c IS NOT NULL AND o.p_oc IS NULL",
            ids={"p_c": check.column, "p_oc": self.to_column},
            tables={"r_t": rel(check.contract), "r_o": rel(self.to)},
        )

    def dbt_test(self) -> tuple[str, dict[str, Any]]:
        return "labelpact_relationship", {"to": "ref('" + self.to + "')", "field": self.to_column}

    def lookup(self, check: Check) -> tuple[str, str, str] | None:
        assert check.column
        return self.to, self.to_column, check.column


@dataclass(frozen=True, kw_only=True)
class CustomExpression(Params):
    """Every row satisfies a user's read-only SQL boolean expression (NULL passes)."""

    kind: ClassVar[Kind] = Kind.CUSTOM_EXPRESSION
    incremental: ClassVar[Incremental] = Incremental.ROWS
    by_shape: ClassVar[bool] = False  # the names are inside the user's text
    expression: str
    columns: tuple[str, ...] = column()  # the contract's columns: all the expression may use

    def failing_rows(
        self, check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]
    ) -> exp.Query:
        from validator.compiler.sql.predicates import parse_predicate

        predicate = parse_predicate(self.expression, list(self.columns))
        used = sorted({c.name for c in predicate.find_all(exp.Column)})
        cols = shown(key, *used)
        return (
            exp.select(*[col(c) for c in cols])
            .from_(rel(check.contract))
            .where(exp.Not(this=exp.Paren(this=predicate)))
        )

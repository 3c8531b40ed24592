"""What every check kind declares: its parameters, the names it reads, how an incremental run
computes it, and how each target renders it.

A kind is one frozen dataclass (a subclass of `Params`). Its fields are its parameters; a field
made with `column()` holds column names and one made with `relation()` holds contract names
(whose relations the check reads): the shape cache (`sql/shapes.py`) abstracts exactly those,
and incremental runs watch exactly those relations. Class-level settings say how the kind runs
incrementally (`incremental`) and how the dbt target carries it (`dbt`); methods render it:
`failing_rows` (SQL: dbt singular tests, GX unexpected-rows queries, samples, incremental runs),
`dbt_test` (a generic dbt data test, for column rules) and `gx_builtins` (built-in GX
expectations, where GX has one).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import TYPE_CHECKING, Any, ClassVar

from sqlglot import exp

from validator.compiler.sql.rows import RelationFor
from validator.compiler.sql.templates import template

if TYPE_CHECKING:
    from validator.compiler.plan import Check
    from validator.compiler.sql.dialects import Dialect


class Kind(StrEnum):
    """Check types (the `kind` reported for every check)."""

    SCHEMA = "schema"
    NOT_NULL = "not_null"
    UNIQUE = "unique"
    UNIQUE_KEY = "unique_key"
    ACCEPTED_VALUES = "accepted_values"
    PATTERN = "pattern"
    BETWEEN = "between"
    NOT_IN_FUTURE = "not_in_future"
    RELATIONSHIP = "relationship"
    INSTRUCTION_KNOWN = "instruction_known"
    INSTRUCTION_APPROVED = "instruction_approved"
    INSTRUCTION_ACTIVE = "instruction_active"
    SPLIT_SINGLE_VERSION = "split_single_version"
    SPLIT_ALLOWED_VERSIONS = "split_allowed_versions"
    REGISTRY_NO_OVERLAP = "registry_no_overlap"
    SUPERSEDED_VERSION = "superseded_version"
    NOTES_REQUIRED = "notes_required"
    BATCH_LOW_CONFIDENCE = "batch_low_confidence"
    BATCH_MEAN_CONFIDENCE = "batch_mean_confidence"
    AGREEMENT = "agreement"
    ADJUDICATION_MISSING = "adjudication_missing"
    ADJUDICATION_DECISION = "adjudication_decision"
    ADJUDICATION_UNNEEDED = "adjudication_unneeded"
    REVISION_PARENT = "revision_parent"
    REVISION_CYCLE = "revision_cycle"
    REVISION_SINGLE_CURRENT = "revision_single_current"
    REVISION_TIME_ORDER = "revision_time_order"
    COVERAGE_MIN = "coverage_min"
    COVERAGE_MAX = "coverage_max"
    COVERAGE_MISSING = "coverage_missing"
    LABEL_SHARE = "label_share"
    LABEL_DIVERGENCE = "label_divergence"
    CUSTOM_EXPRESSION = "custom_expression"
    AUDIT_ERROR_RATE = "audit_error_rate"
    ANNOTATOR_AGREEMENT = "annotator_agreement"
    ROLE_NOT_NULL = "role_not_null"
    ANNOTATOR_LABEL_MIX = "annotator_label_mix"
    ANNOTATOR_LOW_CONFIDENCE = "annotator_low_confidence"
    ANNOTATOR_CORRECTED = "annotator_corrected"
    ANNOTATOR_TURNAROUND = "annotator_turnaround"


class Incremental(StrEnum):
    """How `validate --incremental` computes a kind (see `verdict/incremental.py`)."""

    SCHEMA = "schema"  # the relation's column signature is compared instead
    ROWS = "rows"  # each row on its own: the new batches only, failures add up
    PER_GROUP = "per_group"  # per group: as ROWS when grouped by the batch column, else FULL
    UNIQUE = "unique"  # the values new rows carry, counted over the whole table
    PER_ITEM = "per_item"  # per item: the new batches when their items are new, else FULL
    # per group, from sums over items (`values` rows: group, additive counts, derived figures):
    # the last run's sums plus the new batches' when their items are new, else FULL
    ITEM_SUMS = "item_sums"
    # per group, from sums over rows (`values` rows as above): the last run's sums plus the new
    # batches', whatever items they label (every row counts on its own)
    ROW_SUMS = "row_sums"
    # the rows of a second relation that no row matches (`matched_records`): the stored
    # failures stand while that relation's rows that no new row matches are as before (new
    # rows then match only rows that are new there too)
    UNMATCHED = "unmatched"
    FULL = "full"  # always the whole table


class DbtForm(Enum):
    """What a check becomes in the dbt project."""

    MODEL_CONTRACT = "model_contract"  # dbt's enforced model contract (the schema check)
    COLUMN_TEST = "column_test"  # a generic data test on the column (`dbt_test`)
    MODEL_TEST = "model_test"  # a generic data test on the model (`dbt_test`)
    SINGULAR = "singular"  # a singular test: the `failing_rows` SQL per dialect


class Role(Enum):
    """What the value of a parameter field is."""

    VALUE = "value"
    COLUMN = "column"  # a column name, or a tuple of them
    RELATION = "relation"  # a contract name: the check reads that contract's relation


def column(**kwargs: Any) -> Any:
    """A parameter holding a column name (or a tuple of them)."""
    return dataclasses.field(metadata={"role": Role.COLUMN}, **kwargs)


def relation(**kwargs: Any) -> Any:
    """A parameter holding the name of another contract whose relation the check reads."""
    return dataclasses.field(metadata={"role": Role.RELATION}, **kwargs)


def role(fld: dataclasses.Field[Any]) -> Role:
    return fld.metadata.get("role", Role.VALUE)


@dataclass(frozen=True)
class Builtin:
    """One built-in GX expectation: its type, kwargs, and what to add to its description/meta."""

    type: str
    kwargs: dict[str, Any]
    description: str = ""
    meta: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class Params:
    """The parameters of one check kind, and everything the kind declares about itself."""

    kind: ClassVar[Kind]
    incremental: ClassVar[Incremental] = Incremental.FULL
    dbt: ClassVar[DbtForm] = DbtForm.SINGULAR
    # The rendering reads names from free text (a user's SQL expression) or renders column
    # types: never rendered by shape (sql/shapes.py).
    by_shape: ClassVar[bool] = True

    def relations(self) -> set[str]:
        """Contracts whose relations this check reads, besides its own."""
        return {
            getattr(self, f.name)
            for f in dataclasses.fields(self)
            if role(f) is Role.RELATION and getattr(self, f.name)
        }

    def failing_rows(
        self, check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]
    ) -> exp.Query:
        """A SELECT returning one row per failure (empty result = pass); `rel(contract)` is
        the relation of a contract, `key` the columns shown to identify a failing row."""
        raise ValueError(f"check kind {self.kind} has no SQL rendering")

    def dbt_test(self) -> tuple[str, dict[str, Any]]:
        """The generic dbt data test (name, arguments) of a COLUMN_TEST or MODEL_TEST kind."""
        raise ValueError(f"check kind {self.kind} is not a generic dbt test")

    def gx_builtins(self, check: Check) -> list[Builtin] | None:
        """Built-in GX expectations for this check; None: an unexpected-rows query of the
        `failing_rows` SQL."""
        return None

    def group_column(self) -> str | None:
        """PER_GROUP (and ROW_SUMS) kinds: the column the rule groups rows by (None: the
        whole table, or groups of another kind)."""
        return None

    def item_columns(self) -> tuple[str, ...]:
        """PER_ITEM kinds: the columns whose values identify the rows a failure is about."""
        return ()

    def item_records(self) -> tuple[str, str] | None:
        """PER_ITEM kinds reading a second relation per item: (its contract, its item
        column)."""
        return None

    def lookup(self, check: Check) -> tuple[str, str, str] | None:
        """ROWS kinds looking each row's value up in another relation: (its contract, its
        column, this contract's column). On new batches that relation is read only where it
        holds their values."""
        return None

    def matched_records(self) -> tuple[str, str, str] | None:
        """ROW_SUMS and UNMATCHED kinds: the second relation whose rows the rule matches to
        this contract's rows by equal values, as (its contract, its column, this contract's
        column)."""
        return None


class Summed:
    """Kinds run from sums (ITEM_SUMS, ROW_SUMS): `sums` rows are counts over a set of rows,
    that `add` sums for disjoint sets; `judge_rows` fails what is out of bounds in such totals,
    as `failing_rows` does over the whole table."""

    # the `values` rows (the figures a run fetches with the check) are the sums themselves
    sums_are_values: ClassVar[bool] = False

    def sums(self, check: Check, rel: RelationFor) -> exp.Select:
        raise NotImplementedError

    def add(self, *runs: Iterable[Sequence[Any]]) -> list[tuple[Any, ...]]:
        """`sums` rows of disjoint sets of rows, summed (sorted): what `sums` returns over all
        of them."""
        raise NotImplementedError

    def judge_rows(self, rows: Sequence[Sequence[Any]]) -> exp.Query:
        """The failing rows, judged from `add`'s totals (held in the query)."""
        raise NotImplementedError


class RatioSums(Summed):
    """Kinds whose `values` are their sums: rows (group, n, k, *figures) under the names
    `value_columns()`, where n and k are counts over disjoint sets of rows that add up and the
    figures follow from them (`derive`; by default the ratio k / n), and `judge` fails the
    out-of-bounds rows of such values."""

    sums_are_values = True
    sum_columns: ClassVar[tuple[str, ...]]

    def values(self, check: Check, rel: RelationFor) -> exp.Select:
        raise NotImplementedError

    def sums(self, check: Check, rel: RelationFor) -> exp.Select:
        return self.values(check, rel)

    def value_columns(self) -> tuple[str, ...]:
        """The names of the `values` columns."""
        return self.sum_columns

    def derive(self, n: int, k: int) -> tuple[Any, ...]:
        """The figures `values` computes from a group's counts n and k."""
        return (k / n,)

    def judge(self, values: exp.Expr) -> exp.Query:
        raise NotImplementedError

    def add(self, *runs: Iterable[Sequence[Any]]) -> list[tuple[Any, ...]]:
        """`values` rows of disjoint sets of rows, summed per group (sorted by group): what
        `values` returns over all of them."""
        sums: dict[Any, list[int]] = {}
        for rows in runs:
            for group, n, k, *_ in rows:
                total = sums.setdefault(group, [0, 0])
                total[0] += int(n)
                total[1] += int(k)
        return [
            (group, n, k, *self.derive(n, k))
            for group, (n, k) in sorted(sums.items(), key=lambda r: str(r[0]))
        ]

    def judge_rows(self, rows: Sequence[Sequence[Any]]) -> exp.Query:
        """`judge` over rows as `values` returns them, held in the query (`add`'s totals)."""
        columns = list(self.value_columns())
        held = exp.values([tuple(r) for r in rows], alias="v", columns=columns)
        return self.judge(exp.select(*columns).from_(held).subquery("q"))


@dataclass(frozen=True, kw_only=True)
class Filtered(Params):
    """Parameters of kinds whose section takes a row filter (`where:`): only rows satisfying
    `where` (over the contract's `where_columns`) count. Rendered inside `failing_rows`, so
    every target and incremental runs read the same rows."""

    where: str | None = None
    where_columns: tuple[str, ...] = ()  # the contract's columns: all the filter may use


def filtered_rows(check: Check, rel: RelationFor, relation: exp.Expr | None = None) -> exp.Expr:
    """`relation` (default: the check's own contract's) restricted by the check's filter."""
    from validator.compiler.sql.filters import filter_rows

    base = rel(check.contract) if relation is None else relation
    p = check.params
    if not isinstance(p, Filtered) or p.where is None:
        return base
    return filter_rows(base, p.where, p.where_columns, alias="cur")


@dataclass(frozen=True, kw_only=True)
class Current(Filtered):
    """Parameters of kinds that count current rows only: those no other row corrects (set when
    the contract has `revisions`)."""

    current_key: str | None = column(default=None)
    current_parent: str | None = column(default=None)


def filter_condition(check: Check, table: str) -> exp.Expr | None:
    """The check's row filter as a condition on the columns of `table` (None: no filter), for
    rules that must see the rows it drops (a per-item count that may fall to zero)."""
    from validator.compiler.sql.filters import filter_condition as condition

    p = check.params
    if not isinstance(p, Filtered) or p.where is None:
        return None
    return condition(p.where, p.where_columns, table)


def current_rows(check: Check, rel: RelationFor, filtered: bool = True) -> exp.Expr:
    """The contract's relation restricted to current (not superseded) rows, when revised, and
    (`filtered`) to the rows the check's filter keeps, when it has one (a row's currency is
    decided over all rows: a filtered-out correction still supersedes what it corrects)."""
    p = check.params
    if not isinstance(p, Current) or not p.current_key or not p.current_parent:
        return filtered_rows(check, rel) if filtered else rel(check.contract)
    sub = uncorrected(rel(check.contract), p.current_key, p.current_parent).subquery("cur")
    return filtered_rows(check, rel, sub) if filtered else sub


def uncorrected(relation: exp.Expr, key: str, parent: str) -> exp.Select:
    """The rows of `relation` no other row corrects (names in its `parent` column): the
    current rows of a contract with `revisions`."""
    return template(
        "SELECT * FROM r_t AS t WHERE NOT EXISTS (SELECT 1 FROM r_t AS c WHERE c.p_parent = "
        "t.p_key)",
        ids={"p_parent": parent, "p_key": key},
        tables={"r_t": relation},
    )


def from_current(check: Check, rel: RelationFor) -> RelationFor:
    """A relation lookup in which this check's own contract means its current rows."""
    current = current_rows(check, rel)

    def lookup(name: str) -> exp.Expr:
        if name == check.contract and isinstance(current, exp.Subquery):
            return current
        return rel(name)

    return lookup

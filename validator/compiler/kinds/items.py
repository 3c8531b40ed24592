"""Kinds about items and correction chains: adjudication, coverage, revisions.

Coverage and adjudication checks each group the current rows by item. The dbt project computes
that aggregate once per run into a small table (one row per item, not a copy of the data) and
those checks read it (`item_stats`, `from_item_stats`); `failing_rows` keeps the self-contained
form for GX, samples and incremental runs. tests/test_cross_engine.py holds the two forms to the
same counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from sqlglot import exp

from validator.compiler.kinds.base import (
    Current,
    Filtered,
    Incremental,
    Kind,
    Params,
    RelationFor,
    column,
    current_rows,
    filter_condition,
    filtered_rows,
    from_current,
    relation,
)
from validator.compiler.sql.templates import template

if TYPE_CHECKING:
    from validator.compiler.plan import Check
    from validator.compiler.sql.dialects import Dialect


@dataclass(frozen=True, kw_only=True)
class _PerItem(Current):
    """A rule over the current rows of each item."""

    incremental: ClassVar[Incremental] = Incremental.PER_ITEM
    shares_item_stats: ClassVar[bool] = False  # can read the per-item aggregate (dbt)
    item: str = column()

    def item_columns(self) -> tuple[str, ...]:
        return (self.item,)

    def stats_label(self) -> str | None:
        """The label column whose distinct values the per-item aggregate counts, if any."""
        return None

    def from_item_stats(self, check: Check, stats: exp.Expr, rel: RelationFor) -> exp.Select:
        """The failing rows, read from the per-item aggregate `stats` (`item_stats`)."""
        raise ValueError(f"check kind {self.kind} does not read the per-item aggregate")


@dataclass(frozen=True, kw_only=True)
class _Adjudication(_PerItem):
    """Items whose current labels disagree, against the records of another contract."""

    label: str = column()
    records: str = relation()
    rec_item: str = column()
    rec_decision: str = column()

    def item_records(self) -> tuple[str, str] | None:
        return self.records, self.rec_item

    def stats_label(self) -> str | None:
        return self.label

    def disagreements(self, check: Check, rel: RelationFor) -> exp.Select:
        return template(
            "SELECT t.p_item AS item, COUNT(DISTINCT t.p_label) AS n_labels FROM r_t AS t "
            "WHERE t.p_item IS NOT NULL AND t.p_label IS NOT NULL GROUP BY t.p_item",
            ids={"p_item": self.item, "p_label": self.label},
            tables={"r_t": from_current(check, rel)(check.contract)},
        )


@dataclass(frozen=True, kw_only=True)
class AdjudicationMissing(_Adjudication):
    kind: ClassVar[Kind] = Kind.ADJUDICATION_MISSING
    shares_item_stats: ClassVar[bool] = True

    def failing_rows(
        self, check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]
    ) -> exp.Query:
        return self.from_item_stats(
            check, self.disagreements(check, rel).subquery("g"), rel, alias="g"
        )

    def from_item_stats(
        self, check: Check, stats: exp.Expr, rel: RelationFor, alias: str = "s"
    ) -> exp.Select:
        return template(
            f"SELECT {alias}.item, {alias}.n_labels FROM r_s AS {alias} WHERE "
            f"{alias}.n_labels > 1 AND NOT EXISTS (SELECT 1 FROM r_a AS a "
            f"WHERE a.p_ritem = {alias}.item)",
            ids={"p_ritem": self.rec_item},
            tables={"r_s": stats, "r_a": rel(self.records)},
        )


@dataclass(frozen=True, kw_only=True)
class AdjudicationDecision(_Adjudication):
    kind: ClassVar[Kind] = Kind.ADJUDICATION_DECISION
    values: tuple[Any, ...]  # the accepted labels

    def failing_rows(
        self, check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]
    ) -> exp.Query:
        return template(
            "SELECT a.p_ritem, a.p_dec FROM r_a AS a WHERE a.p_dec IS NOT NULL AND NOT a.p_dec "
            "IN (v_values)",
            ids={"p_ritem": self.rec_item, "p_dec": self.rec_decision},
            values={"v_values": list(self.values)},
            tables={"r_a": rel(self.records)},
        )


@dataclass(frozen=True, kw_only=True)
class AdjudicationUnneeded(_Adjudication):
    kind: ClassVar[Kind] = Kind.ADJUDICATION_UNNEEDED
    shares_item_stats: ClassVar[bool] = True

    def failing_rows(
        self, check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]
    ) -> exp.Query:
        return self.from_item_stats(
            check, self.disagreements(check, rel).subquery("g"), rel, alias="g"
        )

    def from_item_stats(
        self, check: Check, stats: exp.Expr, rel: RelationFor, alias: str = "s"
    ) -> exp.Select:
        return template(
            f"SELECT a.p_ritem FROM r_a AS a WHERE NOT EXISTS (SELECT 1 FROM r_s AS {alias} "
            f"WHERE {alias}.item = a.p_ritem AND {alias}.n_labels > 1)",
            ids={"p_ritem": self.rec_item},
            tables={"r_s": stats, "r_a": rel(self.records)},
        )


@dataclass(frozen=True, kw_only=True)
class _Coverage(_PerItem):
    shares_item_stats: ClassVar[bool] = True
    op: ClassVar[str]

    def bound(self) -> int:
        raise NotImplementedError

    def failing_rows(
        self, check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]
    ) -> exp.Query:
        query = template(
            f"SELECT t.p_item, COUNT(*) AS n_annotations FROM r_t AS t WHERE t.p_item IS NOT "
            f"NULL GROUP BY t.p_item HAVING COUNT(*) {self.op} v_bound",
            ids={"p_item": self.item},
            values={"v_bound": self.bound()},
            tables={"r_t": current_rows(check, rel, filtered=False)},
        )
        return count_kept(query, check, "t")

    def from_item_stats(self, check: Check, stats: exp.Expr, rel: RelationFor) -> exp.Select:
        return template(
            f"SELECT s.item, s.n_current AS n_annotations FROM r_s AS s "
            f"WHERE s.n_current {self.op} v_bound",
            values={"v_bound": self.bound()},
            tables={"r_s": stats},
        )


@dataclass(frozen=True, kw_only=True)
class CoverageMin(_Coverage):
    kind: ClassVar[Kind] = Kind.COVERAGE_MIN
    op: ClassVar[str] = "<"
    min: int

    def bound(self) -> int:
        return self.min


@dataclass(frozen=True, kw_only=True)
class CoverageMax(_Coverage):
    kind: ClassVar[Kind] = Kind.COVERAGE_MAX
    op: ClassVar[str] = ">"
    max: int

    def bound(self) -> int:
        return self.max


@dataclass(frozen=True, kw_only=True)
class CoverageMissing(Filtered):
    """Every item of the items contract has at least one annotation."""

    kind: ClassVar[Kind] = Kind.COVERAGE_MISSING
    incremental: ClassVar[Incremental] = Incremental.UNMATCHED
    item: str = column()
    items: str = relation()
    items_item: str = column()

    def matched_records(self) -> tuple[str, str, str] | None:
        return self.items, self.items_item, self.item

    def failing_rows(
        self, check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]
    ) -> exp.Query:
        return template(
            "SELECT i.p_iitem FROM r_i AS i WHERE NOT EXISTS (SELECT 1 FROM r_t AS t "
            "WHERE t.p_item = i.p_iitem)",
            ids={"p_item": self.item, "p_iitem": self.items_item},
            tables={"r_t": filtered_rows(check, rel), "r_i": rel(self.items)},
        )


def item_stats_key(
    check: Check,
) -> tuple[str, str, str | None, str | None, str | None] | None:
    """Checks with the same key can share one per-item aggregate (None: not such a check);
    checks with different row filters count different rows."""
    p = check.params
    if not isinstance(p, _PerItem) or not p.shares_item_stats:
        return None
    return check.contract, p.item, p.current_key, p.current_parent, p.where


def item_stats(checks: list[Check], rel: RelationFor) -> exp.Select:
    """One row per item of the current rows: `item`, `n_current` rows, `n_labels` distinct
    non-null labels (0 when no check of the group needs labels)."""
    first = checks[0]
    params = [c.params for c in checks if isinstance(c.params, _PerItem)]
    assert len(params) == len(checks) and item_stats_key(first) is not None
    labels = {label for p in params if (label := p.stats_label())}
    assert len(labels) <= 1, "one adjudication section per contract: one label column"
    n_labels = "COUNT(DISTINCT t.p_label)" if labels else "0"
    query = template(
        f"SELECT t.p_item AS item, COUNT(*) AS n_current, {n_labels} AS n_labels FROM r_t AS t "
        "WHERE t.p_item IS NOT NULL GROUP BY t.p_item",
        ids={"p_item": params[0].item, **({"p_label": labels.pop()} if labels else {})},
        tables={"r_t": current_rows(first, rel, filtered=False)},
    )
    return count_kept(query, first, "t")


def count_kept(query: exp.Select, check: Check, table: str) -> exp.Select:
    """`query`'s per-item counts over the rows the check's filter keeps, while every item of
    the unfiltered rows stays in the result: an item whose rows are all filtered out counts 0
    (and fails a minimum) instead of vanishing from the groups."""
    keep = filter_condition(check, table)
    if keep is None:
        return query

    def kept(node: exp.Expr) -> exp.Expr:
        if not isinstance(node, exp.Count):
            return node
        inner = node.this
        if isinstance(inner, exp.Star):
            return exp.Count(
                this=exp.Case(ifs=[exp.If(this=keep.copy(), true=exp.Literal.number(1))])
            )
        if isinstance(inner, exp.Distinct):
            value = exp.Case(ifs=[exp.If(this=keep.copy(), true=inner.expressions[0].copy())])
            return exp.Count(this=exp.Distinct(expressions=[value]))
        return node

    return query.transform(kept)  # type: ignore[return-value]


def from_item_stats(check: Check, stats: exp.Expr, rel: RelationFor) -> exp.Select:
    """The failing rows of a check sharing a per-item aggregate, read from `stats`."""
    assert isinstance(check.params, _PerItem)
    return check.params.from_item_stats(check, stats, rel)


# --- Revisions: correction chains -------------------------------------------------------------

MAX_CHAIN = 100


@dataclass(frozen=True, kw_only=True)
class _Revision(Params):
    # An incremental run goes on only while no row of a new batch names a row of an older one
    # as its parent, nor the other way round: every correction chain lies within the old
    # batches or within the new ones, so a chain's faults are found on the new batches alone.
    incremental: ClassVar[Incremental] = Incremental.ROWS
    key: str = column()
    parent: str = column()


@dataclass(frozen=True, kw_only=True)
class RevisionParent(_Revision):
    kind: ClassVar[Kind] = Kind.REVISION_PARENT

    def failing_rows(
        self, check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]
    ) -> exp.Query:
        return template(
            "SELECT t.p_key, t.p_parent FROM r_t AS t WHERE t.p_parent IS NOT NULL AND NOT "
            "EXISTS (SELECT 1 FROM r_t AS o WHERE o.p_key = t.p_parent)",
            ids={"p_key": self.key, "p_parent": self.parent},
            tables={"r_t": rel(check.contract)},
        )


@dataclass(frozen=True, kw_only=True)
class RevisionCycle(_Revision):
    kind: ClassVar[Kind] = Kind.REVISION_CYCLE

    def failing_rows(
        self, check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]
    ) -> exp.Query:
        # Walk parent pointers from every corrected row; a walk that returns to its start is a
        # cycle. Only rows with a parent take part, so the recursion touches the (small) set
        # of corrections, never the whole table; walks are bounded by MAX_CHAIN.
        return template(
            "WITH RECURSIVE edges AS (SELECT t.p_key AS child, t.p_parent AS parent FROM r_t "
            "AS t WHERE t.p_parent IS NOT NULL), "
            "walk(start, cur, depth) AS (SELECT e.child, e.parent, 1 FROM edges AS e "
            "UNION ALL SELECT w.start, e.parent, w.depth + 1 FROM walk AS w JOIN edges AS e "
            "ON e.child = w.cur WHERE w.cur <> w.start AND e.child <> e.parent "
            "AND w.depth < v_max) "
            "SELECT DISTINCT w.start AS p_key FROM walk AS w WHERE w.cur = w.start",
            ids={"p_key": self.key, "p_parent": self.parent},
            values={"v_max": MAX_CHAIN},
            tables={"r_t": rel(check.contract)},
        )


@dataclass(frozen=True, kw_only=True)
class RevisionSingleCurrent(_Revision):
    """Each lineage has exactly one current row."""

    kind: ClassVar[Kind] = Kind.REVISION_SINGLE_CURRENT
    incremental: ClassVar[Incremental] = Incremental.PER_ITEM
    lineage: tuple[str, ...] = column()

    def item_columns(self) -> tuple[str, ...]:
        return self.lineage

    def failing_rows(
        self, check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]
    ) -> exp.Query:
        ids = {f"p_l{i}": c for i, c in enumerate(self.lineage)} | {
            "p_key": self.key,
            "p_parent": self.parent,
        }
        cols = ", ".join(f"t.p_l{i}" for i in range(len(self.lineage)))
        return template(
            f"SELECT {cols}, COUNT(*) AS n_current FROM r_t AS t WHERE NOT EXISTS (SELECT 1 "
            f"FROM r_t AS c WHERE c.p_parent = t.p_key) GROUP BY {cols} HAVING COUNT(*) <> 1",
            ids=ids,
            tables={"r_t": rel(check.contract)},
        )


@dataclass(frozen=True, kw_only=True)
class RevisionTimeOrder(_Revision):
    kind: ClassVar[Kind] = Kind.REVISION_TIME_ORDER
    timestamp: str = column()

    def failing_rows(
        self, check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]
    ) -> exp.Query:
        return template(
            "SELECT c.p_key, c.p_parent, c.p_ts FROM r_t AS c JOIN r_t AS par "
            "ON par.p_key = c.p_parent WHERE c.p_ts <= par.p_ts AND c.p_key <> c.p_parent",
            ids={"p_key": self.key, "p_parent": self.parent, "p_ts": self.timestamp},
            tables={"r_t": rel(check.contract)},
        )

"""`labelpact audit sample`: a reproducible, stratified sample of items for human review.

Drawn in the warehouse with one sqlglot-built query per step. Every item gets a sort key
`md5('<seed>:<item>')`: the same seed orders the same items the same way on every engine (md5
is standard), another seed orders them differently.

Strata are the values of each `--by` column (default: the annotator, batch and label roles of
the contract), plus `low_confidence` (items with a current label below the uncertainty
threshold) and `disagreement` (items whose current labels differ). An item belongs to every
stratum one of its current labels falls in.

Allocation of `--size N` items:
1. the minimum: in every stratum, its first `K` items by sort key (all of them when the stratum
   is smaller); an item counts for every stratum it is in, so this takes at most
   `strata x K` items. When it needs more than N, the sample is refused (raise N, lower K or
   stratify by fewer columns) rather than leaving a stratum short;
2. the rest: the remaining items in sort-key order, a simple random sample, so strata fill in
   proportion to their size.

The file holds one row per current label of each sampled item (an auditor judges each label),
with the item's other labels, the adjudication if any, why the item was sampled, and empty
`auditor`, `verdict`, `error_type`, `audited_at` columns to fill in: the filled file is the
audit-results table the `audits` contract section reads back.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlglot import exp

from validator.compiler.kinds.base import Current, current_rows
from validator.compiler.plan import Check
from validator.compiler.sql.filters import FILTERED_SECTIONS
from validator.compiler.sql.rows import RelationFor
from validator.compiler.sql.templates import literal
from validator.contract.model import Contract
from validator.engines.warehouse import Warehouse
from validator.errors import UsageError, did_you_mean

AUDIT_COLUMNS = ("auditor", "verdict", "error_type", "audited_at")
NULL_MARK = "(null)"  # a missing value in text the sample writes (stratum values, item_labels)


@dataclass(frozen=True)
class Roles:
    """The columns of a contract that a sample reads (None: the contract has no such role), and
    the row filters (`where:`) of the sections whose rows it draws."""

    key: tuple[str, ...]
    item: str
    annotator: str | None
    label: str | None
    confidence: str | None
    notes: str | None
    batch: str | None
    instruction: str | None
    low_below: float
    parent: str | None
    adjudication: tuple[str, str, str | None, str | None] | None  # contract, item, decision, ...
    pool_where: str | None = None  # the rows any section counts (None: every current row)
    label_where: str | None = None  # the rows the disagreement stratum reads (agreement's)
    low_where: str | None = None  # the rows the low-confidence stratum reads (uncertainty's)

    @classmethod
    def of(cls, contract: Contract, contracts: dict[str, Contract]) -> Roles:
        s = contract.sections
        item = next(
            (x.item for x in (s.agreement, s.coverage, s.adjudication) if x is not None), None
        )
        if item is None or not contract.key:
            raise UsageError(
                f"contract '{contract.name}' names no item column (agreement, coverage or "
                "adjudication `item:`) or has no key: there is nothing to sample items from"
            )
        labelled = next((x for x in (s.agreement, s.adjudication, s.label_distribution) if x), None)
        adjudication = None
        if s.adjudication is not None:
            rec = contracts[s.adjudication.contract].sections.adjudication_record
            if rec is not None:
                adjudication = (s.adjudication.contract, rec.item, rec.decision, rec.adjudicator)
        unc = s.uncertainty
        return cls(
            key=tuple(contract.key),
            item=item,
            annotator=(s.provenance.annotator if s.provenance else None)
            or (s.agreement.rater if s.agreement else None),
            label=labelled.label if labelled else None,
            confidence=unc.confidence if unc else None,
            notes=unc.notes if unc else None,
            batch=s.provenance.batch if s.provenance else None,
            instruction=s.instructions.column if s.instructions else None,
            low_below=unc.batch.low_confidence_below if unc and unc.batch else 0.5,
            parent=s.revisions.parent if s.revisions else None,
            adjudication=adjudication,
            pool_where=_pool_where(contract),
            label_where=labelled.where if labelled else None,
            low_where=unc.where if unc else None,
        )

    def default_by(self) -> list[str]:
        return [c for c in (self.annotator, self.batch, self.label) if c]


def _pool_where(contract: Contract) -> str | None:
    """The rows at least one filtered section counts: the OR of their `where:` filters; None
    (every current row) when a section counts every row or no section filters."""
    s = contract.sections
    sections = [getattr(s, name) for name in FILTERED_SECTIONS if getattr(s, name) is not None]
    filters = list(dict.fromkeys(x.where for x in sections))
    if not filters or None in filters:
        return None
    if len(filters) == 1:
        return filters[0]
    return " OR ".join(f"({w})" for w in filters)


@dataclass
class Sample:
    """The sampled rows (one per current label of a sampled item) and how they were drawn."""

    columns: list[str]
    rows: list[tuple[Any, ...]]
    items: list[str]
    strata: dict[str, int] = field(default_factory=dict)  # "dim=value" -> items sampled
    minimum_items: int = 0  # items taken to give every stratum its minimum


def _col(name: str, table: str = "t") -> exp.Column:
    return exp.column(name, table=table, quoted=True)


def _text(e: exp.Expr) -> exp.Expr:
    return exp.cast(e, "text")


def _rows_check(contract: Contract, where: str | None) -> Check:
    """A check-shaped handle on the contract's current rows kept by `where`, so the sample
    reads rows through the same helpers (`kinds.base.current_rows`) as the checks do."""
    revised = contract.sections.revisions
    params = Current(
        where=where,
        where_columns=tuple(contract.columns),
        current_key=contract.key[0] if revised else None,
        current_parent=revised.parent if revised else None,
    )
    return Check(
        id=f"{contract.name}.audit_sample",
        contract=contract.name,
        version=contract.version,
        owner=contract.owner,
        severity="error",
        description="the rows an audit sample draws from",
        loc=contract.loc,
        params=params,
    )


def _current(contract: Contract, where: str | None, rel: RelationFor) -> exp.Subquery:
    """A fresh copy of the contract's current rows (those no other row corrects) that `where`
    keeps, aliased `t` (currency is decided over all rows, as in the checks)."""
    rows = current_rows(_rows_check(contract, where), rel)
    return exp.select("*").from_(rows).subquery("t")


def _sort_key(seed: int, item: exp.Expr) -> exp.Expr:
    """md5('<seed>:<item>'): the same order on every engine for a seed."""
    return exp.MD5(this=exp.DPipe(this=literal(f"{seed}:"), expression=_text(item), safe=True))


def _stratum(dim: str, value: exp.Expr, item: str, cur: exp.Subquery) -> exp.Select:
    return exp.select(
        exp.alias_(literal(dim), "dim"),
        exp.alias_(value, "value"),
        exp.alias_(_col(item), "item"),
    ).from_(cur)


def _strata(roles: Roles, by: list[str], cur: Any) -> exp.Query:
    """(dim, value, item) for every stratum an item belongs to; `cur(where)` gives the current
    rows a filter keeps: the `--by` strata read the sampled rows, `low_confidence` the rows the
    uncertainty section counts, `disagreement` those the agreement section counts."""
    parts: list[exp.Query] = []
    for column in by:
        value: exp.Expr = exp.Coalesce(this=_text(_col(column)), expressions=[literal(NULL_MARK)])
        parts.append(_stratum(column, value, roles.item, cur(roles.pool_where)).distinct())
    if roles.confidence:
        low = exp.LT(this=_col(roles.confidence), expression=literal(roles.low_below))
        value = literal(f"< {roles.low_below:g}")
        low_rows = cur(roles.low_where)
        parts.append(_stratum("low_confidence", value, roles.item, low_rows).where(low).distinct())
    if roles.label:
        n_labels = exp.Count(this=exp.Distinct(expressions=[_col(roles.label)]))
        parts.append(
            _stratum("disagreement", literal("yes"), roles.item, cur(roles.label_where))
            .group_by(_col(roles.item))
            .having(exp.GT(this=n_labels, expression=literal(1)))
        )
    query = parts[0]
    for part in parts[1:]:
        query = exp.union(query, part, distinct=False)
    return query


def _minimum(seed: int, k: int, strata: exp.Query) -> exp.Select:
    """The items giving every stratum its first `k` items by sort key."""
    s = exp.column("item", table="s")
    rank = exp.Window(
        this=exp.RowNumber(),
        partition_by=[exp.column("dim", table="s"), exp.column("value", table="s")],
        order=exp.Order(expressions=[exp.Ordered(this=_sort_key(seed, s)), exp.Ordered(this=s)]),
    )
    ranked = exp.select("s.item", exp.alias_(rank, "rk")).from_(strata.subquery("s"))
    return (
        exp.select("r.item")
        .from_(ranked.subquery("r"))
        .where(exp.LTE(this=exp.column("rk", table="r"), expression=literal(k)))
        .distinct()
    )


def _chosen(seed: int, size: int, minimum: exp.Select, cur: exp.Subquery, item: str) -> exp.Select:
    """`size` items: the minimum set first, then the rest, each in sort-key order."""
    items = exp.select(exp.alias_(_col(item), "item")).from_(cur).distinct()
    i, m = exp.column("item", table="i"), exp.column("item", table="m")
    tier = exp.Case(
        ifs=[exp.If(this=exp.Is(this=m, expression=exp.Null()), true=literal(1))],
        default=literal(0),
    )
    return (
        exp.select(exp.alias_(_text(i), "item"), exp.alias_(tier, "tier"))
        .from_(items.subquery("i"))
        .join(minimum.subquery("m"), on=exp.EQ(this=m, expression=i), join_type="left")
        .order_by(exp.column("tier"), _sort_key(seed, i), i)
        .limit(size)
    )


def _in_items(e: exp.Expr, items: list[str]) -> exp.Expr:
    return exp.In(this=_text(e), expressions=[literal(v) for v in items])


def _labels(roles: Roles, cur: exp.Subquery, items: list[str], adj: exp.Expr | None) -> exp.Select:
    """The current labels of the sampled items, with the item's adjudication if any."""
    wanted = [
        ("item", roles.item),
        ("annotation", roles.key[0]),
        *((key_name(c), c) for c in roles.key[1:]),
        ("annotator", roles.annotator),
        ("label", roles.label),
        ("confidence", roles.confidence),
        ("notes", roles.notes),
        ("batch", roles.batch),
        ("instruction_version", roles.instruction),
    ]
    cols = [
        exp.alias_(_col(c) if c else exp.Null(), name, quoted=True)
        for name, c in wanted
        if c or name in ("label", "annotator")
    ]
    query = exp.select(*cols).from_(cur).where(_in_items(_col(roles.item), items))
    if roles.adjudication is not None and adj is not None:
        _, rec_item, decision, adjudicator = roles.adjudication
        query = query.select(
            exp.alias_(_col(decision or rec_item, "a"), "adjudicated_label", quoted=True),
            exp.alias_(_col(adjudicator or rec_item, "a"), "adjudicator", quoted=True),
        ).join(
            exp.alias_(adj, "a", table=True),
            on=exp.EQ(this=_col(rec_item, "a"), expression=_col(roles.item)),
            join_type="left",
        )
    return query.order_by(_text(_col(roles.item)), *(_col(c) for c in roles.key))


def key_name(column: str) -> str:
    """The sample column carrying a key column after the first (which is `annotation`): its
    own name, unless the sample already has a column of that name."""
    taken = {"sample_rank", "item", "annotation", "annotator", "label", "confidence", "notes"}
    taken |= {"batch", "instruction_version", "adjudicated_label", "adjudicator", "item_labels"}
    taken |= {"strata", *AUDIT_COLUMNS}
    return f"key_{column}" if column in taken else column


def draw_sample(
    wh: Warehouse,
    contract: Contract,
    contracts: dict[str, Contract],
    relations: dict[str, str],
    *,
    size: int,
    by: list[str] | None = None,
    seed: int = 0,
    min_per_stratum: int = 1,
) -> Sample:
    """Draw `size` items of `contract` for audit (see the module docstring for allocation).

    `relations` maps contract names to warehouse relations (the dbt models, or any table with
    the contract's columns).
    """
    if size < 1 or min_per_stratum < 0:
        raise UsageError("--size must be at least 1 and --min-per-stratum at least 0")
    roles = Roles.of(contract, contracts)
    by = list(by) if by is not None else roles.default_by()
    for column in by:
        if column not in contract.columns:
            hint = did_you_mean(column, list(contract.columns))
            raise UsageError(f"--by {column}: no such column in '{contract.name}'; {hint}")
    d = wh.dialect.sqlglot

    def rel(name: str) -> exp.Expr:
        return exp.to_table(relations[name], dialect=d)

    def cur(where: str | None) -> exp.Subquery:
        return _current(contract, where, rel)

    def run(query: exp.Expr) -> tuple[list[str], list[tuple[Any, ...]]]:
        return wh.query(query.sql(dialect=d))

    strata = _strata(roles, by, cur)
    minimum = _minimum(seed, min_per_stratum, strata)
    n_minimum = int(
        run(exp.select(exp.Count(this=exp.Star())).from_(minimum.subquery("m")))[1][0][0]
    )
    if n_minimum > size:
        raise UsageError(
            f"--size {size} is too small: giving each of the strata its {min_per_stratum} "
            f"item(s) takes {n_minimum} items; raise --size, lower --min-per-stratum or "
            "stratify by fewer columns (--by)"
        )
    chosen = run(_chosen(seed, size, minimum, cur(roles.pool_where), roles.item))[1]
    items = [str(r[0]) for r in chosen]
    if not items:
        return Sample([], [], [], minimum_items=0)
    adj = None
    if roles.adjudication is not None and roles.adjudication[0] in relations:
        adj = exp.to_table(relations[roles.adjudication[0]], dialect=d)
    columns, rows = run(_labels(roles, cur(roles.pool_where), items, adj))
    members = run(
        exp.select("s.dim", "s.value", "s.item")
        .from_(strata.subquery("s"))
        .where(_in_items(exp.column("item", table="s"), items))
    )[1]
    return _assemble(columns, rows, items, members, n_minimum, len(roles.key))


def _assemble(
    columns: list[str],
    rows: list[tuple[Any, ...]],
    items: list[str],
    members: list[tuple[Any, ...]],
    n_minimum: int,
    n_key: int = 1,
) -> Sample:
    """One output row per label: the item's labels and strata joined in, audit columns empty."""
    why: dict[str, list[str]] = {}
    counts: dict[str, int] = {}
    for dim, value, item in sorted(members, key=lambda r: (str(r[0]), str(r[1]), str(r[2]))):
        why.setdefault(str(item), []).append(f"{dim}={value}")
        counts[f"{dim}={value}"] = counts.get(f"{dim}={value}", 0) + 1
    i_item, i_ann, i_label = (columns.index(c) for c in ("item", "annotator", "label"))
    labels: dict[str, list[str]] = {}
    for r in rows:
        labels.setdefault(str(r[i_item]), []).append(f"{_mark(r[i_ann])}: {_mark(r[i_label])}")
    rank = {item: n for n, item in enumerate(items, start=1)}
    out = [
        (
            rank[str(r[i_item])],
            *r,
            "; ".join(labels[str(r[i_item])]),
            "; ".join(why.get(str(r[i_item]), [])),
            *([None] * len(AUDIT_COLUMNS)),
        )
        for r in rows
    ]
    # by rank, then the label's key (`annotation` and the further key columns after it)
    out.sort(key=lambda r: (r[0], *(str(v) for v in r[2 : 2 + n_key])))
    header = ["sample_rank", *columns, "item_labels", "strata", *AUDIT_COLUMNS]
    return Sample(header, out, items, counts, n_minimum)


def _mark(value: Any) -> str:
    return NULL_MARK if value is None else str(value)


def write_sample(sample: Sample, path: Path) -> None:
    """Write the sample as CSV or Parquet (by suffix), atomically: a temporary file beside the
    destination is renamed over it only once complete."""
    import pyarrow as pa

    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise UsageError(f"{path}: write a .csv or a .parquet file")
    table = pa.Table.from_pylist([dict(zip(sample.columns, r, strict=True)) for r in sample.rows])
    if not sample.rows:
        table = pa.table({c: pa.array([], pa.string()) for c in sample.columns})
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        if suffix == ".csv":
            import pyarrow.csv as pacsv

            pacsv.write_csv(table, tmp)
        else:
            import pyarrow.parquet as pq

            pq.write_table(table, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise

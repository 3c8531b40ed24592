"""What an incremental run measures of the data: rows and fingerprints per batch, the new
batches (found without counting the old ones), and signatures of the other relations checks
read (see `verdict/incremental.py`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from validator.compiler.sql.templates import literal
from validator.contract.model import Contract
from validator.engines.warehouse import Warehouse, fingerprint_hash

SMALL_RELATION = 100_000  # other relations up to this size are compared by content, not size


def batch_column(contract: Contract) -> str:
    """The column naming each row's batch (contracts with an `incremental` section)."""
    assert contract.sections.incremental is not None, "not an incremental contract"
    return contract.sections.incremental.batch


@dataclass
class Batches:
    """Per batch value (JSON-encoded, so NULL and non-strings are keys too): rows, sum, xor."""

    rows: dict[str, list[Any]]

    def total(self) -> dict[str, Any]:
        n = sum(int(v[0]) for v in self.rows.values())
        total, xor = 0, 0
        for _, s, x in self.rows.values():
            total += int(s)
            xor ^= int(x)
        return {"rows": n, "hash": fingerprint_hash(total, xor)}


def relation_table(wh: Warehouse, relation: str) -> exp.Table:
    return exp.to_table(relation, dialect=wh.dialect.sqlglot)


def batch_fingerprints(
    wh: Warehouse,
    relation: str | exp.Expr,
    contract: Contract,
    columns: list[str],
    only: list[Any] | None = None,
) -> Batches:
    """Row count, hash sum and hash xor per batch (the `fingerprint` of each batch)."""
    batch = batch_column(contract)
    source = relation_table(wh, relation) if isinstance(relation, str) else relation
    query = wh.dialect.fingerprint(source, columns)
    query = query.select(exp.column(batch, quoted=True).as_("lp_batch")).group_by(
        exp.column(batch, quoted=True)
    )
    if only is not None:
        query = query.where(in_batches(batch, only))
    _, rows = wh.query(query.sql(dialect=wh.dialect.sqlglot))
    return Batches({batch_key(b): [int(n), str(s or 0), str(x or 0)] for n, s, x, b in rows})


def batch_counts(wh: Warehouse, relation: str, batch: str) -> dict[str, int]:
    col = exp.column(batch, quoted=True)
    query = (
        exp.select(col, exp.Count(this=exp.Star()))
        .from_(relation_table(wh, relation))
        .group_by(col)
    )
    _, rows = wh.query(query.sql(dialect=wh.dialect.sqlglot))
    return {batch_key(b): int(n) for b, n in rows}


def new_batch_counts(
    wh: Warehouse, relation: str, batch: str, known: dict[str, int]
) -> tuple[int, dict[str, int]]:
    """(rows of `relation`, rows per batch outside the `known` batches (key -> stored rows)).

    Finding new batches without counting the old ones' rows: one `count(*)` of the relation
    is the change detector (the stored sizes plus the new rows must add up to it; most
    warehouses answer it from metadata). When it says nothing is new, that is all. Otherwise
    the rows whose batch sorts after the last known one are grouped and counted: a range
    filter, which warehouses with min/max statistics (DuckDB's zone maps, Parquet, Snowflake
    micro-partitions) answer by skipping the old batches' blocks when batches are appended in
    order; for text ids, then those sorting after the last one in natural order (longer, or
    as long and greater: `b10000` after `b9999`, which the warehouse sorts before it). Only
    when neither accounts for every new row (batch ids out of order, NULL batches, or an old
    batch changed) does one pass over the batch column group and count the rows outside the
    known batches. What the detector cannot see: rows moved between old
    batches, or deleted from one and added to another in equal numbers (as an edit inside a
    batch that keeps its size: run a full validation on a schedule)."""
    table = relation_table(wh, relation)
    _, rows = wh.query(
        exp.select(exp.Count(this=exp.Star())).from_(table).sql(dialect=wh.dialect.sqlglot)
    )
    total = int(rows[0][0])
    expected = total - sum(known.values())
    if expected <= 0:
        return total, {}
    col = exp.column(batch, quoted=True)
    values = batch_values(list(known))
    for after in _after_known(col, values):
        tail = _grouped_counts(wh, table, col, after)
        if sum(tail.values()) == expected and not set(tail) & set(known):
            return total, tail
    outside = _grouped_counts(wh, table, col, other_batches(batch, values))
    return total, outside


def _after_known(col: exp.Column, values: list[Any]) -> list[exp.Expr]:
    """Conditions for the batches that sort after every known one, when all known values are
    strings or all integers: in the warehouse's order, and for strings in natural order."""
    if values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return [col.copy() > literal(max(values))]
    if not values or not all(isinstance(v, str) for v in values):
        return []
    last = max(values, key=lambda v: (len(v), v))
    length = exp.Length(this=col.copy())
    natural = exp.or_(
        length > exp.Literal.number(len(last)),
        exp.and_(length.copy().eq(exp.Literal.number(len(last))), col.copy() > literal(last)),
    )
    return [col.copy() > literal(max(values)), natural]


def _grouped_counts(
    wh: Warehouse, table: exp.Table, col: exp.Column, where: exp.Expr
) -> dict[str, int]:
    query = (
        exp.select(col.copy(), exp.Count(this=exp.Star()))
        .from_(table.copy())
        .where(where)
        .group_by(col.copy())
    )
    _, rows = wh.query(query.sql(dialect=wh.dialect.sqlglot))
    return {batch_key(b): int(n) for b, n in rows}


def relation_signature(
    wh: Warehouse, relation: str, contract: Contract, exact: bool = False
) -> dict[str, Any]:
    """Size of a relation, and its fingerprint when it is small enough to hash every time
    (or `exact`)."""
    if not exact:
        _, rows = wh.query(
            exp.select(exp.Count(this=exp.Star()))
            .from_(relation_table(wh, relation))
            .sql(dialect=wh.dialect.sqlglot)
        )
        n = int(rows[0][0])
        if n > SMALL_RELATION:
            return {"rows": n}
    fp = wh.fingerprint(relation, list(contract.columns))
    return {"rows": fp["rows"], "hash": fp["hash"]}


def batch_key(value: Any) -> str:
    return json.dumps(
        value if value is None or isinstance(value, (int, float, str)) else str(value)
    )


def batch_values(keys: list[str]) -> list[Any]:
    return [json.loads(k) for k in keys]


def other_batches(batch: str, keys: list[Any]) -> exp.Expr:
    """Rows of every other batch (a NULL batch included when it is not among `keys`)."""
    return exp.func("COALESCE", exp.Not(this=exp.paren(in_batches(batch, keys))), exp.true())


def in_batches(batch: str, keys: list[Any]) -> exp.Expr:
    """`batch IN (...)`, with NULL batches matched explicitly."""
    col = exp.column(batch, quoted=True)
    values = [v for v in keys if v is not None]
    parts: list[exp.Expr] = []
    if values:
        parts.append(exp.In(this=col, expressions=[literal(v) for v in values]))
    if len(values) < len(keys):
        parts.append(exp.Is(this=col.copy(), expression=exp.Null()))
    return exp.or_(*parts) if parts else exp.false()

"""Load an imported table into the active dbt target, through its dbt adapter, all or nothing.

The rows (already read in full into a temporary Parquet file, so a malformed export never
reaches the warehouse) are inserted in batches into a staging table beside the destination (an
engine that reads local Parquet files, DuckDB, inserts them in one statement);
then one transaction drops the old table and renames the staging table in its place. A failure
while loading drops the staging table and leaves the old table as it was. SQL is built with
sqlglot and rendered in the target's dialect; the connection is the one `Warehouse` opens from
the dbt profile (no second connection configuration).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow.parquet as pq
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect

from validator.interop.rows import COLUMNS

if TYPE_CHECKING:
    from validator.interop.table import Destination

INSERT_BATCH = 1_000  # rows per INSERT statement
STAGING_SUFFIX = "__labelpact_import"


def load_through_dbt(parquet: Path, dest: Destination) -> None:
    """Replace `dest.table` on the dbt target of `dest.settings` with the rows of `parquet`."""
    from validator.engines.warehouse import Warehouse

    assert dest.settings is not None and dest.table is not None
    schema, name = dest.table.split(".")
    target = _table(schema, name)
    staging = _table(schema, name + STAGING_SUFFIX)
    with Warehouse(dest.settings, audit=True) as wh:
        wh.write(
            [
                exp.Create(this=exp.Table(this=_ident(schema)), kind="SCHEMA", exists=True),
                _drop(staging),
                _create(staging),
            ]
        )
        try:
            if wh.dialect.reads_local_parquet:
                wh.write([_insert_from_parquet(staging, parquet)])
            else:
                rows = _Rows(staging, wh.dialect.sqlglot)
                for batch in pq.ParquetFile(parquet).iter_batches(INSERT_BATCH):
                    if batch.num_rows:
                        wh.write([rows.insert(batch.to_pylist())])
            # one transaction: the old table is there until the new one takes its name
            wh.write(
                [
                    _drop(target),
                    exp.Alter(
                        this=staging.copy(),
                        kind="TABLE",
                        actions=[exp.AlterRename(this=exp.Table(this=_ident(name)))],
                    ),
                ]
            )
        except BaseException:
            with contextlib.suppress(Exception):
                wh.write([_drop(staging)])
            raise


def _ident(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def _table(schema: str, name: str) -> exp.Table:
    return exp.Table(this=_ident(name), db=_ident(schema))


def _drop(table: exp.Table) -> exp.Drop:
    return exp.Drop(tables=[table.copy()], kind="TABLE", exists=True)


def _create(table: exp.Table) -> exp.Create:
    columns = [
        exp.ColumnDef(
            this=_ident(name),
            kind=exp.DataType.build(logical),
            constraints=[]
            if nullable
            else [exp.ColumnConstraint(kind=exp.NotNullColumnConstraint())],
        )
        for name, (logical, _, nullable, _) in COLUMNS.items()
    ]
    return exp.Create(this=exp.Schema(this=table.copy(), expressions=columns), kind="TABLE")


def _insert_from_parquet(table: exp.Table, parquet: Path) -> exp.Insert:
    columns = [exp.column(c, quoted=True) for c in COLUMNS]
    source = exp.Table(this=exp.func("read_parquet", exp.Literal.string(str(parquet))))
    return exp.Insert(
        this=exp.Schema(this=table.copy(), expressions=[_ident(c) for c in COLUMNS]),
        expression=exp.select(*columns).from_(source),
    )


class _Rows:
    """Batched INSERTs rendered in one dialect: the statement around the rows is rendered by
    sqlglot once, each string, timestamp and special float by sqlglot's generator (cached:
    labels, annotators and tools repeat), numbers and booleans by Python."""

    def __init__(self, table: exp.Table, dialect: str) -> None:
        self.generator = Dialect.get_or_raise(dialect).generator()
        marker = exp.Tuple(expressions=[exp.Literal.string(_ROWS)])
        insert = exp.Insert(
            this=exp.Schema(this=table.copy(), expressions=[_ident(c) for c in COLUMNS]),
            expression=exp.Values(expressions=[marker]),
        )
        self.head, sep, self.tail = insert.sql(dialect).partition(self.render(marker))
        assert sep, "the rows marker must appear in the rendered INSERT"
        self.cache: dict[Any, str] = {}
        # a timestamp is CAST('<iso text>' AS TIMESTAMP): the cast is rendered once
        mark = exp.Literal.string(_ROWS)
        self.cast_head, _, self.cast_tail = self.render(exp.cast(mark, "timestamp")).partition(
            self.render(mark)
        )

    def render(self, expression: exp.Expr) -> str:
        return str(self.generator.generate(expression))

    def insert(self, rows: list[dict[str, Any]]) -> str:
        values = ",\n".join("(" + ", ".join(self.value(r[c]) for c in COLUMNS) + ")" for r in rows)
        if len(self.cache) > 100_000:
            self.cache.clear()
        return self.head + values + self.tail

    def value(self, value: Any) -> str:
        if value is None:
            return "NULL"
        if isinstance(value, bool):
            return "TRUE" if value else "FALSE"
        if isinstance(value, int) or (isinstance(value, float) and math.isfinite(value)):
            return repr(value)
        if isinstance(value, dt.datetime):
            literal = self.render(exp.Literal.string(value.isoformat(sep=" ")))
            return self.cast_head + literal + self.cast_tail
        key = (type(value), value)
        if key not in self.cache:
            self.cache[key] = self.render(_literal(value))
        return self.cache[key]


_ROWS = "__lp_rows__"


def _literal(value: Any) -> exp.Expr:
    if isinstance(value, float):  # not finite
        spelled = "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
        return exp.cast(exp.Literal.string(spelled), "double")
    return exp.Literal.string(str(value))

"""Load an imported table into the active dbt target, through its dbt adapter, all or nothing.

The rows (already read in full into a temporary Parquet file, so a malformed export never
reaches the warehouse) are inserted in batches into a staging table beside the destination;
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
            for batch in pq.ParquetFile(parquet).iter_batches(INSERT_BATCH):
                if batch.num_rows:
                    wh.write([_insert(staging, batch.to_pylist())])
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


def _insert(table: exp.Table, rows: list[dict[str, Any]]) -> exp.Insert:
    values = exp.Values(
        expressions=[exp.Tuple(expressions=[_literal(r[c]) for c in COLUMNS]) for r in rows]
    )
    return exp.Insert(
        this=exp.Schema(this=table.copy(), expressions=[_ident(c) for c in COLUMNS]),
        expression=values,
    )


def _literal(value: Any) -> exp.Expr:
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, dt.datetime):
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), "timestamp")
    if isinstance(value, float) and not math.isfinite(value):
        spelled = "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
        return exp.cast(exp.Literal.string(spelled), "double")
    if isinstance(value, (int, float)):
        return exp.Literal.number(repr(value))
    return exp.Literal.string(str(value))

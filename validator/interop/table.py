"""Write imported rows to Parquet, a DuckDB table or a table of the active dbt target, all
or nothing.

Rows stream into a temporary Parquet file in batches, so memory stays flat whatever the
export's size. Only when the whole export has been read does the result appear: a Parquet
destination by an atomic rename, a DuckDB table by one `CREATE OR REPLACE TABLE ... AS SELECT`
in a transaction, a dbt target's table through its dbt adapter (`load.py`). A malformed record
anywhere leaves the destination as it was and no temporary file behind.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from sqlglot import exp

from validator.compiler.sql.templates import template
from validator.errors import UsageError
from validator.interop.rows import COLUMNS, SCHEMA, Row

if TYPE_CHECKING:
    from validator.settings import Settings

BATCH = 10_000
DBT = "dbt"  # `--to dbt`: the active target of the dbt profile
DUCKDB_SUFFIXES = (".duckdb", ".db", ".ddb")


@dataclass(frozen=True)
class Destination:
    """A Parquet file, a table in a DuckDB file, or a table of the active dbt target."""

    path: Path
    table: str | None = None  # schema.table (DuckDB file or dbt target)
    settings: Settings | None = None  # the dbt project, profile and target (`--to dbt`)

    @classmethod
    def parse(cls, path: Path, table: str | None, settings: Settings | None = None) -> Destination:
        if str(path) == DBT:
            if settings is None:
                raise UsageError("--to dbt needs the dbt project and profile")
            return cls(path, _table_name(table), settings)
        if path.suffix == ".parquet":
            if table:
                raise UsageError("--table applies to a DuckDB destination, not a Parquet file")
            return cls(path)
        if path.suffix in DUCKDB_SUFFIXES:
            return cls(path, _table_name(table))
        raise UsageError(
            f"--to {path}: give a .parquet file, a DuckDB file ({', '.join(DUCKDB_SUFFIXES)}) "
            f"or `{DBT}` (the active dbt target)"
        )

    def describe(self) -> str:
        if self.settings is not None:
            target = self.settings.target or "default target"
            return f"{self.table} on the dbt target ({target})"
        return f"{self.path} ({self.table})" if self.table else str(self.path)


def _table_name(table: str | None) -> str:
    name = table or "raw.annotations"
    parts = name.split(".")
    if len(parts) != 2 or not all(p.isidentifier() for p in parts):
        raise UsageError(f"--table must be schema.table, got '{name}'")
    return name


@dataclass
class Profile:
    """What the written table holds, for writing a contract that the data passes."""

    rows: int = 0
    nulls: dict[str, int] = field(default_factory=dict)
    labels: list[str] = field(default_factory=list)
    distinct_labels: int = 0
    score_range: tuple[float | None, float | None] = (None, None)


def write(rows: Iterable[Row], dest: Destination) -> Profile:
    """Write every row, atomically; returns the profile of what was written."""
    folder = None  # a dbt target's table is staged in the system's temporary directory
    if dest.settings is None:
        folder = dest.path.parent
        folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=".labelpact-import-", suffix=".parquet", dir=folder)
    os.close(fd)
    tmp = Path(name)
    try:
        _stream(rows, tmp)
        profile = _profile(tmp)
        if dest.settings is not None:
            from validator.interop.load import load_through_dbt

            load_through_dbt(tmp, dest)
        elif dest.table is None:
            os.replace(tmp, dest.path)
        else:
            _load_duckdb(tmp, dest)
        return profile
    finally:
        tmp.unlink(missing_ok=True)


def _stream(rows: Iterable[Row], tmp: Path) -> None:
    with pq.ParquetWriter(tmp, SCHEMA) as writer:
        batch: list[Row] = []
        for r in rows:
            batch.append(r)
            if len(batch) >= BATCH:
                writer.write_table(pa.Table.from_pylist(batch, SCHEMA))
                batch = []
        writer.write_table(pa.Table.from_pylist(batch, SCHEMA))


def _relation(tmp: Path) -> exp.Expr:
    return exp.func("read_parquet", exp.Literal.string(str(tmp)))


def _profile(tmp: Path) -> Profile:
    con = duckdb.connect()
    try:
        counts = [exp.Count(this=exp.Star())] + [
            exp.Sub(
                this=exp.Count(this=exp.Star()),
                expression=exp.Count(this=exp.column(c, quoted=True)),
            )
            for c in COLUMNS
        ]
        query = exp.select(*counts).from_(exp.Table(this=_relation(tmp)))
        first = con.execute(query.sql("duckdb")).fetchone()
        assert first is not None
        profile = Profile(
            rows=int(first[0]), nulls=dict(zip(COLUMNS, map(int, first[1:]), strict=True))
        )
        labels = template(
            "SELECT DISTINCT p_label FROM r_t AS t WHERE p_label IS NOT NULL ORDER BY 1",
            ids={"p_label": "label"},
            tables={"r_t": _relation(tmp)},
        )
        found = [str(r[0]) for r in con.execute(labels.sql("duckdb")).fetchall()]
        profile.labels, profile.distinct_labels = found[:200], len(found)
        scores = template(
            "SELECT MIN(p_s), MAX(p_s) FROM r_t AS t",
            ids={"p_s": "score"},
            tables={"r_t": _relation(tmp)},
        )
        low, high = con.execute(scores.sql("duckdb")).fetchone() or (None, None)
        profile.score_range = (low, high)
        return profile
    finally:
        con.close()


def _load_duckdb(tmp: Path, dest: Destination) -> None:
    assert dest.table is not None
    schema, table = dest.table.split(".")
    con = duckdb.connect(str(dest.path))
    try:
        con.execute("BEGIN TRANSACTION")
        con.execute(
            exp.Create(
                this=exp.Table(this=exp.to_identifier(schema, quoted=True)),
                kind="SCHEMA",
                exists=True,
            ).sql("duckdb")
        )
        target = exp.Table(
            this=exp.to_identifier(table, quoted=True), db=exp.to_identifier(schema, quoted=True)
        )
        create = exp.Create(
            this=target,
            kind="TABLE",
            replace=True,
            expression=exp.select("*").from_(exp.Table(this=_relation(tmp))),
        )
        con.execute(create.sql("duckdb"))
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    finally:
        con.close()


def describe(profile: Profile, dest: Destination) -> dict[str, Any]:
    """A one-line summary for the command line."""
    return {"rows": profile.rows, "destination": dest.describe(), "labels": profile.distinct_labels}

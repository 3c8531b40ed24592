"""Deterministic, realistic example annotation data, with faults injected on request.

Every value is a function of (seed, item index, slot) through DuckDB's `hash()`, so the data is
generated inside the database, chunk by chunk (100M rows never sit in Python memory), and the
same seed gives the same data whatever the thread schedule. Adjudications are derived from the
same per-item formulas (which current labels disagree, when the last label was given) instead
of re-reading the table, so they cost one pass over the items. The tables match
`contracts/*.yml` column for column.

The SQL is assembled from generator constants and integers; the two user strings (schema name
and output path) go through `_ident` / `_string`.

    python -m validator.example.data --rows 100000 --fault low_agreement target/x/labelpact.duckdb
"""

from __future__ import annotations

import argparse
import math
import shutil
import sys
from pathlib import Path
from typing import Any

from validator.example.faults import FAULTS as FAULTS
from validator.example.faults import inject as _inject
from validator.example.layout import (
    _REGISTRY,
    CHUNK_ITEMS,
    COLUMNS,
    ROWS_PER_ITEM,
    SLOTS,
    TABLES,
    Layout,
    Progress,
    _ident,
    _range,
    _string,
)


def rows_note(asked: int, counts: dict[str, int]) -> str:
    """Why the annotations table does not hold exactly the rows asked for (or "")."""
    got = counts.get("annotations", asked)
    if got == asked:
        return ""
    return (
        f"--rows {asked:,} sets the number of items ({counts.get('items', 0):,}, 3-5 labels "
        f"each plus corrections), so the annotations table holds {got:,} rows"
    )


def _count(con: Any, table: str) -> int:
    row = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(row[0])


def generate(
    target: Path,
    *,
    rows: int = 10_000,
    seed: int = 7,
    fault: str | None = None,
    fmt: str = "duckdb",
    schema: str = "raw",
    progress: Progress | None = None,
) -> dict[str, int]:
    """Write the four example tables; returns row counts per table.

    `fmt="duckdb"`: `target` is a DuckDB file whose `<schema>.annotations`, ... are replaced.
    `fmt="parquet"`: `target` is a directory that receives `annotations.parquet`, ...

    >>> generate(Path("target/demo.duckdb"), rows=2000, fault="bad_label")  # doctest: +SKIP
    {'annotations': 1985, 'instruction_versions': 3, 'adjudications': 167, 'items': 489}
    """
    import duckdb

    if fault is not None and fault not in FAULTS:
        raise ValueError(f"unknown fault '{fault}'; choose one of: {', '.join(FAULTS)}")
    if fmt not in ("duckdb", "parquet"):
        raise ValueError(f"unknown format '{fmt}'; choose duckdb or parquet")
    if rows < 100:
        raise ValueError("rows must be at least 100")
    say = progress or (lambda _message: None)
    layout = Layout.for_rows(rows, seed, fault)
    target = Path(target)
    if fmt == "duckdb":
        target.parent.mkdir(parents=True, exist_ok=True)
        db_path = target
    else:  # build in a scratch database beside the output (it may be larger than /tmp)
        target.mkdir(parents=True, exist_ok=True)
        scratch = target / ".labelpact-generate"
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir()
        db_path = scratch / "generate.duckdb"
    # Modest resources: generation runs beside other work; progress goes through `say`.
    con = duckdb.connect(str(db_path), config={"threads": 2, "memory_limit": "4GB"})
    con.execute("SET enable_progress_bar = false")
    try:
        _create_tables(con, schema)
        _fill(con, layout, say)
        if fault:
            say(f"fault {fault}: {FAULTS[fault]}")
            _inject(con, layout, fault)
        counts = {t: _count(con, t) for t in TABLES}
        if fmt == "parquet":
            for table in TABLES:
                say(f"parquet: {table}")
                out = _string(str(target / f"{table}.parquet"))
                con.execute(f"COPY {table} TO {out} (FORMAT parquet)")
        con.execute("CHECKPOINT")
        return counts
    finally:
        con.close()
        if fmt == "parquet":
            shutil.rmtree(db_path.parent, ignore_errors=True)


def append_batches(
    target: Path,
    *,
    base_rows: int,
    rows: int,
    seed: int = 7,
    schema: str = "raw",
    missing_tool: int = 0,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Append about `rows` annotation rows for new items, in new batches, to a DuckDB file
    that `generate(target, rows=base_rows, seed=seed)` wrote (and earlier appends grew);
    returns rows added per table. `missing_tool` new labels arrive without their tool.

    The new items continue the item numbering under the same layout, so they land in batches
    the data does not have yet (and bring their own items and adjudications), as a new
    labelling batch would.
    """
    import duckdb

    say = progress or (lambda _message: None)
    layout = Layout.for_rows(base_rows, seed)
    con = duckdb.connect(str(target), config={"threads": 2, "memory_limit": "4GB"})
    try:
        con.execute(f"SET schema = {_string(schema)}")
        before = {t: _count(con, t) for t in TABLES}
        lo = before["items"]
        if lo < layout.n_items:
            raise ValueError(
                f"{target} holds {lo:,} items, fewer than the {layout.n_items:,} of "
                f"{base_rows:,} generated rows; was it generated with those?"
            )
        hi = lo + max(1, round(rows / ROWS_PER_ITEM))
        _insert_items(con, layout, lo, hi, say)
        if missing_tool:
            con.execute(
                "UPDATE annotations SET tool = NULL WHERE annotation_id IN (SELECT "
                f"annotation_id FROM annotations ORDER BY annotation_id DESC LIMIT {missing_tool})"
            )
        con.execute("CHECKPOINT")
        return {t: _count(con, t) - before[t] for t in TABLES}
    finally:
        con.close()


def _create_tables(con: Any, schema: str) -> None:
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {_ident(schema)}")
    con.execute(f"SET schema = {_string(schema)}")
    for table, columns in COLUMNS.items():
        con.execute(f"DROP TABLE IF EXISTS {table}")
        con.execute(f"CREATE TABLE {table} ({', '.join(f'{c} {t}' for c, t in columns)})")
    con.execute(_REGISTRY)


def _fill(con: Any, layout: Layout, say: Progress) -> None:
    say(
        f"{layout.n_items:,} items in {layout.n_batches:,} batches, "
        f"{layout.n_annotators} annotators"
    )
    _insert_items(con, layout, 0, layout.n_items, say)


def _insert_items(con: Any, layout: Layout, lo: int, hi: int, say: Progress) -> None:
    """Items `lo`..`hi - 1` with their annotations and adjudications, chunk by chunk."""
    chunks = math.ceil((hi - lo) / CHUNK_ITEMS)
    for c, start in enumerate(range(lo, hi, CHUNK_ITEMS), start=1):
        end = min(hi, start + CHUNK_ITEMS)
        say(f"chunk {c}/{chunks}: items {start:,}-{end - 1:,}")
        con.execute(f"INSERT INTO items {layout.items_table_sql(start, end)}")
        con.execute(f"INSERT INTO annotations {layout.annotations_sql(start, end)}")
        con.execute(f"INSERT INTO adjudications {layout.adjudications_sql(start, end)}")
        chunk = f"a.annotation_id BETWEEN {start * SLOTS} AND {end * SLOTS - 1}"
        con.execute(f"INSERT INTO audit_results {layout.audits_sql(_range(start, end), chunk)}")


def duckdb_tables(con: Any, schema: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """(table, [(column, DuckDB type), ...]) for every table of `schema`, in name order."""
    tables = [
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ? "
            "ORDER BY table_name",
            [schema],
        ).fetchall()
    ]
    return [
        (
            t,
            [
                (c, ty)
                for c, ty in con.execute(
                    "SELECT column_name, data_type FROM information_schema.columns WHERE "
                    "table_schema = ? AND table_name = ? ORDER BY ordinal_position",
                    [schema, t],
                ).fetchall()
            ],
        )
        for t in tables
    ]


def main(argv: list[str] | None = None) -> int:
    """Command line: `python -m validator.example.data [options] TARGET`."""
    parser = argparse.ArgumentParser(
        prog="python -m validator.example.data",
        description="Write deterministic example annotation data (DuckDB or Parquet), "
        "optionally with one injected fault.",
        epilog="example:\n  python -m validator.example.data --rows 100000 --fault bad_label "
        "target/bad/labelpact.duckdb\n  python -m validator.example.data --format parquet "
        "target/parquet/",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "target", type=Path, nargs="?", help="DuckDB file, or directory for --format parquet"
    )
    parser.add_argument("--rows", type=int, default=10_000, help="annotation rows (approx.)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--fault",
        choices=sorted(FAULTS),
        default=None,
        metavar="NAME",
        help="inject one fault (see --list-faults)",
    )
    parser.add_argument("--format", choices=("duckdb", "parquet"), default="duckdb")
    parser.add_argument("--schema", default="raw", help="schema of the DuckDB tables")
    parser.add_argument("--list-faults", action="store_true", help="list faults and exit")
    args = parser.parse_args(argv)
    if args.list_faults:
        for name, what in FAULTS.items():
            print(f"{name:34} {what}")
        return 0
    if args.target is None:
        parser.error("TARGET is required")
    counts = generate(
        args.target,
        rows=args.rows,
        seed=args.seed,
        fault=args.fault,
        fmt=args.format,
        schema=args.schema,
        progress=lambda message: print(message, file=sys.stderr),
    )
    print(", ".join(f"{table}: {n:,} rows" for table, n in counts.items()))
    return 0


def _pg_type(duckdb_type: str) -> str:
    """PostgreSQL's name for a DuckDB column type, from the dialect layer's type map."""
    from validator.compiler.sql.dialects import get_dialect

    logical = duckdb_type.lower()
    return get_dialect("postgres").type_names.get(logical, logical)


def load_into_postgres(
    duckdb_path: Path, params: dict[str, str], schema: str = "raw", source_schema: str = "raw"
) -> dict[str, int]:
    """Copy the generated tables from a DuckDB file into PostgreSQL (replacing `schema`).

    Streams CSV through COPY, so no extension download is needed (DuckDB's postgres
    extension would fetch one at run time).
    """
    import io

    import duckdb
    import psycopg2

    src = duckdb.connect(str(duckdb_path), read_only=True)
    con = psycopg2.connect(
        host=params["host"],
        port=int(params["port"]),
        user=params["user"],
        password=params.get("password", ""),
        dbname=params["dbname"],
    )
    counts: dict[str, int] = {}
    try:
        cur = con.cursor()
        cur.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        cur.execute(f'CREATE SCHEMA "{schema}"')
        for table, columns in duckdb_tables(src, source_schema):
            ddl = ", ".join(f'"{c}" {_pg_type(t)}' for c, t in columns)
            cur.execute(f'CREATE TABLE "{schema}"."{table}" ({ddl})')
            buffer = io.StringIO()
            rows = src.execute(f'SELECT * FROM "{source_schema}"."{table}"').fetchall()
            import csv

            writer = csv.writer(buffer)
            for row in rows:
                writer.writerow(["\\N" if v is None else v for v in row])
            buffer.seek(0)
            cur.copy_expert(
                f'COPY "{schema}"."{table}" FROM STDIN WITH (FORMAT csv, NULL \'\\N\')', buffer
            )
            counts[table] = len(rows)
        con.commit()
    finally:
        con.close()
        src.close()
    return counts


if __name__ == "__main__":
    raise SystemExit(main())

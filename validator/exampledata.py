"""Deterministic, realistic example annotation data, with faults injected on request.

Everything is generated inside DuckDB from the row index (hash-based pseudo-randomness), so
100M rows never sit in Python memory and the same seed always gives the same data. The tables
match the example contracts in `contracts/` exactly.

    python -m validator.exampledata --rows 100000 --fault low_agreement target/x/labelpact.duckdb
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

LABELS = ("cat", "dog", "bird", "fish", "other")
ITEMS_PER_BATCH = 1000
SLOTS = 8  # annotation ids are item * SLOTS + slot; slots 0-4 labels, 5 corrections, 6-7 extra

FAULTS: dict[str, str] = {
    "missing_column": "annotations.tool is dropped (schema: missing column)",
    "extra_column": "annotations gains extra_col (schema: extra column)",
    "mistyped_column": "annotations.confidence is VARCHAR (schema: wrong type)",
    "missing_provenance": "some annotations have no tool (provenance gap)",
    "duplicate_key": "some annotation_id values repeat",
    "bad_label": "a few labels are 'catt', not an accepted value",
    "bad_pattern": "a few annotator ids do not match ^ann_[0-9]+$",
    "confidence_out_of_range": "a few confidences are 1.5",
    "future_timestamp": "a few labels are dated in 2099",
    "orphan_item": "an annotated item is missing from items",
    "unknown_instruction_version": "a few labels cite instruction version v9",
    "retired_instruction_version": "a few labels cite v1 after it was retired",
    "unapproved_instruction_version": "v2 has no approver in the registry",
    "overlapping_instruction_windows": "v1 and v2 validity windows overlap",
    "split_version_mix": "some test-split labels use v2 while the rest use v3",
    "missing_notes": "low-confidence labels without notes",
    "low_confidence_batch": "one batch is labelled with confidence 0.4 throughout",
    "low_agreement": "one batch is labelled at random (agreement collapses)",
    "unadjudicated_disagreement": "some disagreements have no adjudication",
    "invalid_adjudication_decision": "some adjudications decide 'unknown'",
    "missing_adjudication_rationale": "some adjudications have no rationale",
    "unneeded_adjudication": "an item everyone agreed on was adjudicated",
    "orphan_revision": "a few labels correct an annotation that does not exist",
    "revision_cycle": "a label is recorded as correcting itself",
    "revision_time_order": "a few corrections are dated before what they correct",
    "duplicate_current_revision": "a correction lost its parent link: two current labels",
    "undercovered_items": "some items have one label, one item none",
    "overcovered_items": "an item has eight labels",
    "label_skew": "one batch is 90% 'cat'",
}

Progress = Callable[[str], None]


def _u(seed: int, salt: str, *cols: str) -> str:
    """SQL for a uniform [0, 1) number derived from (seed, salt, cols): deterministic."""
    args = ", ".join((str(seed), f"'{salt}'", *cols))
    return f"((hash({args}) % 1000000)::DOUBLE / 1000000.0)"


def generate(target: Path, *, rows: int = 10_000, seed: int = 7, fault: str | None = None,
             fmt: str = "duckdb", schema: str = "raw",
             progress: Progress | None = None) -> dict[str, int]:
    """Write the four example tables; returns row counts per table."""
    import duckdb

    if fault is not None and fault not in FAULTS:
        raise ValueError(f"unknown fault '{fault}'; choose one of: {', '.join(FAULTS)}")
    if fmt not in ("duckdb", "parquet"):
        raise ValueError("fmt must be 'duckdb' or 'parquet'")
    if rows < 100:
        raise ValueError("rows must be at least 100")
    say = progress or (lambda _m: None)
    target = Path(target)
    if fmt == "duckdb":
        target.parent.mkdir(parents=True, exist_ok=True)
        db_path = target
    else:
        target.mkdir(parents=True, exist_ok=True)
        db_path = Path(tempfile.mkdtemp(prefix="labelpact-gen-")) / "gen.duckdb"
    con = duckdb.connect(str(db_path))
    try:
        con.execute("SET threads = 2")
        con.execute("SET memory_limit = '4GB'")
        con.execute("SET preserve_insertion_order = false")
        con.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        con.execute(f'SET schema = "{schema}"')
        for table in ("annotations", "instruction_versions", "adjudications", "items"):
            con.execute(f"DROP TABLE IF EXISTS {table}")
        n_items = max(rows // 4, 25)
        n_annotators = max(5, min(500, n_items // 10))
        say(f"items: {n_items:,}")
        _registry(con)
        _items(con, n_items, seed)
        say(f"annotations: ~{rows:,}")
        _annotations(con, seed, n_annotators, fault)
        _pre_adjudication_faults(con, fault)
        say("adjudications")
        _adjudications(con, seed)
        _post_faults(con, fault)
        counts = {t: con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]  # type: ignore[index]
                  for t in ("annotations", "instruction_versions", "adjudications", "items")}
        if fmt == "parquet":
            for table in counts:
                out = target / f"{table}.parquet"
                con.execute(f"COPY (SELECT * FROM {table}) TO '{out}' (FORMAT parquet)")
        con.execute("CHECKPOINT")
        return counts
    finally:
        con.close()
        if fmt == "parquet":
            shutil.rmtree(db_path.parent, ignore_errors=True)


def _registry(con: object) -> None:
    con.execute("""
        CREATE TABLE instruction_versions AS SELECT * FROM (VALUES
          ('v1', TIMESTAMP '2024-01-01', TIMESTAMP '2024-07-01', 'lead_anna',
           TIMESTAMP '2023-12-15', NULL::VARCHAR),
          ('v2', TIMESTAMP '2024-07-01', TIMESTAMP '2025-01-01', 'lead_anna',
           TIMESTAMP '2024-06-20', 'v1'),
          ('v3', TIMESTAMP '2025-01-01', NULL::TIMESTAMP, 'lead_omar',
           TIMESTAMP '2024-12-18', 'v2')
        ) AS t(version, effective_from, retired_at, approved_by, approved_at, supersedes)
    """)  # type: ignore[attr-defined]


def _items(con: object, n_items: int, seed: int) -> None:
    u = _u(seed, "split", "i")
    con.execute(f"""
        CREATE TABLE items AS
        SELECT printf('it_%08d', i) AS item_id,
               CASE WHEN {u} < 0.8 THEN 'train' WHEN {u} < 0.9 THEN 'validation'
                    ELSE 'test' END AS split,
               printf('s3://labelpact-example/items/it_%08d.jpg', i) AS uri
        FROM range({n_items}) AS r(i)
    """)  # type: ignore[attr-defined]


def _annotations(con: object, seed: int, n_annotators: int, fault: str | None) -> None:
    labels = "['" + "', '".join(LABELS) + "']"
    # Prevalence: cat 30%, dog 25%, bird 20%, fish 15%, other 10%.
    prevalence = ("CASE WHEN u_true < 0.30 THEN 'cat' WHEN u_true < 0.55 THEN 'dog' "
                  "WHEN u_true < 0.75 THEN 'bird' WHEN u_true < 0.90 THEN 'fish' "
                  "ELSE 'other' END")
    skew_batch = 0 if fault == "label_skew" else -1
    noise_batch = 0 if fault == "low_agreement" else -1
    lowconf_batch = 0 if fault == "low_confidence_batch" else -1
    t0 = _u(seed, "t0", "i")
    other = f"{labels}[1 + (list_position({labels}, true_label) + floor(u_lab * 4)::INT) % 5]"
    con.execute(f"""
        CREATE TEMP TABLE item_plan AS
        SELECT i, item_id, split, i // {ITEMS_PER_BATCH} AS b,
               3 + (hash({seed}, 'k', i) % 3)::INT AS k,
               (hash({seed}, 'a0', i) % {n_annotators})::INT AS a0,
               CASE WHEN i // {ITEMS_PER_BATCH} = {skew_batch}
                    THEN CASE WHEN {_u(seed, 'skew', 'i')} < 0.9 THEN 'cat' ELSE 'dog' END
                    ELSE {prevalence} END AS true_label,
               CASE WHEN split = 'train'
                    THEN TIMESTAMP '2024-01-02' + to_seconds(({t0} * 60000000)::BIGINT)
                    ELSE TIMESTAMP '2025-01-02' + to_seconds(({t0} * 25000000)::BIGINT)
               END AS t0,
               {_u(seed, 'rev', 'i')} < 0.02 AS revised
        FROM (SELECT row_number() OVER () - 1 AS i, item_id, split FROM items) AS it,
             LATERAL (SELECT {_u(seed, 'true', 'i')} AS u_true)
    """)  # type: ignore[attr-defined]
    con.execute(f"""
        CREATE TEMP TABLE base AS
        SELECT p.i, p.item_id, p.split, p.b, p.true_label, p.revised, j.j,
               p.i * {SLOTS} + j.j AS annotation_id,
               printf('ann_%d', (p.a0 + j.j) % {n_annotators}) AS annotator_id,
               p.t0 + INTERVAL (j.j * 3) HOUR AS annotated_at,
               {_u(seed, 'acc', 'p.i', 'j.j')} AS u_acc,
               {_u(seed, 'lab', 'p.i', 'j.j')} AS u_lab,
               {_u(seed, 'conf', 'p.i', 'j.j')} AS u_conf,
               {_u(seed, 'low', 'p.i', 'j.j')} AS u_low
        FROM item_plan AS p, range(5) AS j(j)
        WHERE j.j < p.k
    """)  # type: ignore[attr-defined]
    version = ("CASE WHEN ts < TIMESTAMP '2024-07-01' THEN 'v1' "
               "WHEN ts < TIMESTAMP '2025-01-01' THEN 'v2' ELSE 'v3' END")
    con.execute(f"""
        CREATE TABLE annotations AS
        WITH labelled AS (
          SELECT *,
                 CASE WHEN b = {noise_batch} THEN {labels}[1 + floor(u_lab * 5)::INT % 5]
                      WHEN b = {skew_batch} OR u_acc < 0.9 THEN true_label
                      ELSE {other}
                 END AS label,
                 CASE WHEN b = {lowconf_batch} THEN 0.4
                      WHEN u_low < 0.08 THEN round(0.05 + 0.4 * u_conf, 3)
                      ELSE round(0.6 + 0.4 * u_conf, 3) END AS confidence,
                 annotated_at AS ts
          FROM base
        ), corrections AS (
          SELECT i, item_id, split, b, true_label, revised, 5 AS j,
                 i * {SLOTS} + 5 AS annotation_id, annotator_id,
                 annotated_at + INTERVAL 2 DAY AS annotated_at, u_acc, u_lab, u_conf, u_low,
                 true_label AS label, round(0.8 + 0.2 * u_conf, 3) AS confidence,
                 annotated_at + INTERVAL 2 DAY AS ts, annotation_id AS parent
          FROM labelled WHERE revised AND j = 0
        ), rows AS (
          SELECT *, NULL::BIGINT AS parent FROM labelled
          UNION ALL SELECT * FROM corrections
        )
        SELECT annotation_id::BIGINT AS annotation_id, item_id, annotator_id, label,
               confidence::DOUBLE AS confidence,
               CASE WHEN confidence < 0.3 THEN 'unsure: ' || label || ' vs ' || true_label
                    END AS notes,
               {version} AS instruction_version,
               annotated_at::TIMESTAMP AS annotated_at,
               printf('b%04d', b + 1) AS batch_id,
               CASE WHEN hash({seed}, 'tool', i) % 4 = 0 THEN 'cvat-2.3'
                    ELSE 'labelstudio-1.12' END AS tool,
               split, parent AS parent_annotation_id
        FROM rows
        ORDER BY annotation_id
    """)  # type: ignore[attr-defined]


def _victims(where: str, n: int = 5) -> str:
    return (f"annotation_id IN (SELECT annotation_id FROM annotations WHERE {where} "
            f"ORDER BY annotation_id LIMIT {n})")


def _pre_adjudication_faults(con: object, fault: str | None) -> None:
    """Faults that change labels or coverage, applied before adjudications are derived."""
    j = f"annotation_id % {SLOTS}"
    sql = {
        "bad_label": f"UPDATE annotations SET label = 'catt' WHERE {_victims(f'{j} = 2')}",
        "undercovered_items": f"""
            DELETE FROM annotations WHERE annotation_id // {SLOTS} IN (
              SELECT DISTINCT annotation_id // {SLOTS} FROM annotations
              ORDER BY 1 LIMIT 3) AND {j} > 0;
            DELETE FROM annotations WHERE annotation_id // {SLOTS} = (
              SELECT annotation_id // {SLOTS} FROM annotations ORDER BY 1 DESC LIMIT 1)""",
        "overcovered_items": f"""
            INSERT INTO annotations
            SELECT a.annotation_id + x.k, a.item_id, printf('ann_%d', 9000 + x.k), a.label,
                   a.confidence, a.notes, a.instruction_version,
                   a.annotated_at + INTERVAL (x.k) MINUTE, a.batch_id, a.tool, a.split, NULL
            FROM (SELECT * FROM annotations WHERE {j} = 0 AND annotation_id // {SLOTS} NOT IN
                  (SELECT annotation_id // {SLOTS} FROM annotations WHERE {j} >= 3)
                  ORDER BY annotation_id LIMIT 1) AS a,
                 (SELECT unnest([3, 4, 5, 6, 7]) AS k) AS x""",
    }.get(fault or "")
    if sql:
        con.execute(sql)  # type: ignore[attr-defined]


def _adjudications(con: object, seed: int) -> None:
    con.execute(f"""
        CREATE TABLE adjudications AS
        WITH cur AS (
          SELECT * FROM annotations AS a WHERE NOT EXISTS (
            SELECT 1 FROM annotations AS c WHERE c.parent_annotation_id = a.annotation_id)
        ), g AS (
          SELECT item_id, mode(label ORDER BY label) AS decision,
                 max(annotated_at) AS last_at, count(DISTINCT label) AS n_labels
          FROM cur GROUP BY item_id
        )
        SELECT item_id, decision,
               printf('adj_%d', hash({seed}, 'adj', item_id) % 12) AS adjudicator_id,
               'majority of annotators after review' AS rationale,
               (last_at + INTERVAL 1 DAY)::TIMESTAMP AS adjudicated_at
        FROM g WHERE n_labels > 1 ORDER BY item_id
    """)  # type: ignore[attr-defined]


def _post_faults(con: object, fault: str | None) -> None:
    j = f"annotation_id % {SLOTS}"
    v1, v3 = f"{j} = 2 AND instruction_version = 'v1'", f"{j} = 2 AND instruction_version = 'v3'"
    train, test = f"{j} = 2 AND split = 'train'", f"{j} = 2 AND split = 'test'"
    agreed = f"{j} = 2 AND item_id NOT IN (SELECT item_id FROM adjudications)"
    first_adj = "item_id IN (SELECT item_id FROM adjudications ORDER BY item_id LIMIT {n})"
    statements = {
        "missing_column": "ALTER TABLE annotations DROP COLUMN tool",
        "extra_column": "ALTER TABLE annotations ADD COLUMN extra_col VARCHAR",
        "mistyped_column": "ALTER TABLE annotations ALTER COLUMN confidence TYPE VARCHAR",
        "missing_provenance": f"UPDATE annotations SET tool = NULL WHERE {_victims(f'{j} = 1')}",
        "duplicate_key": f"UPDATE annotations SET annotation_id = annotation_id + 1 "
                         f"WHERE {_victims(f'{j} = 3', 3)} AND annotation_id + 1 IN "
                         f"(SELECT annotation_id FROM annotations)",
        "bad_pattern": f"UPDATE annotations SET annotator_id = 'annotator-7' "
                       f"WHERE {_victims(f'{j} = 2')}",
        "confidence_out_of_range": f"UPDATE annotations SET confidence = 1.5 "
                                   f"WHERE {_victims(f'{j} = 1')}",
        "future_timestamp": f"UPDATE annotations SET annotated_at = TIMESTAMP '2099-01-01' "
                            f"WHERE {_victims(v3)}",
        "orphan_item": "DELETE FROM items WHERE item_id = (SELECT min(item_id) FROM annotations)",
        "unknown_instruction_version": f"UPDATE annotations SET instruction_version = 'v9' "
                                       f"WHERE {_victims(train)}",
        "retired_instruction_version": f"UPDATE annotations SET annotated_at = "
                                       f"TIMESTAMP '2024-09-01' WHERE {_victims(v1)}",
        "unapproved_instruction_version": "UPDATE instruction_versions SET approved_by = NULL "
                                          "WHERE version = 'v2'",
        "overlapping_instruction_windows": "UPDATE instruction_versions SET retired_at = "
                                           "TIMESTAMP '2024-08-01' WHERE version = 'v1'",
        "split_version_mix": f"UPDATE annotations SET instruction_version = 'v2', annotated_at "
                             f"= TIMESTAMP '2024-09-01' WHERE {_victims(test)}",
        "missing_notes": f"UPDATE annotations SET notes = NULL "
                         f"WHERE {_victims('confidence < 0.3')}",
        "unadjudicated_disagreement": "DELETE FROM adjudications WHERE "
                                      + first_adj.format(n=5),
        "invalid_adjudication_decision": "UPDATE adjudications SET decision = 'unknown' WHERE "
                                         + first_adj.format(n=3),
        "missing_adjudication_rationale": "UPDATE adjudications SET rationale = NULL WHERE "
                                          + first_adj.format(n=3),
        "unneeded_adjudication": """
            INSERT INTO adjudications
            SELECT item_id, min(label), 'adj_1', 'double-checked', max(annotated_at)
                   + INTERVAL 1 DAY FROM annotations
            WHERE item_id = (SELECT min(item_id) FROM annotations WHERE item_id NOT IN
                             (SELECT item_id FROM adjudications))
            GROUP BY item_id""",
        "orphan_revision": f"UPDATE annotations SET parent_annotation_id = 999999999999 "
                           f"WHERE {_victims(f'{j} = 2', 3)}",
        "revision_cycle": f"UPDATE annotations SET parent_annotation_id = annotation_id "
                          f"WHERE {_victims(agreed, 1)}",
        "revision_time_order": """
            UPDATE annotations AS c SET annotated_at = p.annotated_at - INTERVAL 1 HOUR
            FROM annotations AS p
            WHERE c.parent_annotation_id = p.annotation_id AND c.split = 'train'
              AND c.annotation_id IN (SELECT annotation_id FROM annotations
                                      WHERE parent_annotation_id IS NOT NULL AND split = 'train'
                                      ORDER BY annotation_id LIMIT 3)""",
        "duplicate_current_revision": "UPDATE annotations SET parent_annotation_id = NULL "
                                      "WHERE " + _victims("parent_annotation_id IS NOT NULL",
                                                          2),
    }
    sql = statements.get(fault or "")
    if sql:
        con.execute(sql)  # type: ignore[attr-defined]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m validator.exampledata",
        description="Write deterministic example annotation data (DuckDB or Parquet).",
        epilog="example:\n  python -m validator.exampledata --rows 100000 --fault bad_label "
               "target/bad/labelpact.duckdb",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("target", type=Path, nargs="?")
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--fault", choices=sorted(FAULTS), default=None)
    parser.add_argument("--format", choices=("duckdb", "parquet"), default="duckdb")
    parser.add_argument("--list-faults", action="store_true")
    args = parser.parse_args(argv)
    if args.list_faults:
        for name, what in FAULTS.items():
            print(f"{name:34} {what}")
        return 0
    if args.target is None:
        parser.error("target is required")
    counts = generate(args.target, rows=args.rows, seed=args.seed, fault=args.fault,
                      fmt=args.format, progress=print)
    print(counts)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


PG_TYPES = {"BIGINT": "bigint", "INTEGER": "integer", "VARCHAR": "character varying",
            "DOUBLE": "double precision", "TIMESTAMP": "timestamp", "BOOLEAN": "boolean",
            "DATE": "date"}


def load_into_postgres(duckdb_path: Path, params: dict[str, str], schema: str = "raw",
                       source_schema: str = "raw") -> dict[str, int]:
    """Copy the generated tables from a DuckDB file into PostgreSQL (replacing `schema`).

    Streams CSV through COPY, so no extension download is needed (DuckDB's postgres
    extension would fetch one at run time).
    """
    import io

    import duckdb
    import psycopg2

    src = duckdb.connect(str(duckdb_path), read_only=True)
    con = psycopg2.connect(host=params["host"], port=int(params["port"]), user=params["user"],
                           password=params.get("password", ""), dbname=params["dbname"])
    counts: dict[str, int] = {}
    try:
        cur = con.cursor()
        cur.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        cur.execute(f'CREATE SCHEMA "{schema}"')
        tables = [r[0] for r in src.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ? "
            "ORDER BY table_name", [source_schema]).fetchall()]
        for table in tables:
            columns = src.execute(
                "SELECT column_name, data_type FROM information_schema.columns WHERE "
                "table_schema = ? AND table_name = ? ORDER BY ordinal_position",
                [source_schema, table]).fetchall()
            ddl = ", ".join(f'"{c}" {PG_TYPES.get(t, "text")}' for c, t in columns)
            cur.execute(f'CREATE TABLE "{schema}"."{table}" ({ddl})')
            buffer = io.StringIO()
            rows = src.execute(f'SELECT * FROM "{source_schema}"."{table}"').fetchall()
            import csv

            writer = csv.writer(buffer)
            for row in rows:
                writer.writerow(["\\N" if v is None else v for v in row])
            buffer.seek(0)
            cur.copy_expert(f'COPY "{schema}"."{table}" FROM STDIN WITH (FORMAT csv, '
                            "NULL '\\N')", buffer)
            counts[table] = len(rows)
        con.commit()
    finally:
        con.close()
        src.close()
    return counts

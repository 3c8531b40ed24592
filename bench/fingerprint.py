"""The fingerprint's cost next to the floor scan (issue #16: at most one scan's time).

In one process on the same DuckDB file (2 threads), the median of three runs of: the floor
query (`peers.floor_sql()`, one scan evaluating the simple checks), `Warehouse.fingerprint` of
the source relation (the schema from the catalog, then one query: row count, sum and xor of
DuckDB's native row hash), and the md5-of-the-row-text fingerprint it replaced.

    python bench/fingerprint.py --rows 1000000       # writes bench/fingerprint.{json,md}

"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

RUNS = 3


def _median(fn: Callable[[], object]) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return round(statistics.median(times), 3)


def measure(db: Path) -> dict[str, float]:
    from peers import ROOT, floor_sql
    from sqlglot import exp

    from validator.compiler.sql.dialects import Dialect, get_dialect
    from validator.engines.warehouse import Warehouse
    from validator.settings import Settings

    floor = floor_sql()
    env = {"LABELPACT_DUCKDB": str(db), "LABELPACT_DUCKDB_MEMORY": "2GB"}
    settings = Settings(project_dir=ROOT, target="duckdb", env=env)
    with Warehouse(settings) as wh:
        wh.query("SET threads = 2")
        columns = [c for c, _ in wh.schema("raw.annotations")]
        duck = get_dialect("duckdb")
        # The fingerprint before issue #16: md5 of the row as text (the default dialect's row
        # hash, with DuckDB's hex parsing), summed and xor-ed the same way.
        h = Dialect.row_hash(duck, [exp.column(c, quoted=True) for c in columns])
        old_sql = (
            exp.select(
                exp.Count(this=exp.Star()),
                exp.Sum(this=exp.cast(h.copy(), "decimal(38, 0)")),
                exp.func("BIT_XOR", h.copy()),
            )
            .from_(exp.to_table("raw.annotations"))
            .sql(dialect="duckdb")
        )
        wh.query(floor)  # warm the file cache once for every contender alike
        return {
            "floor_s": _median(lambda: wh.query(floor)),
            "fingerprint_s": _median(lambda: wh.fingerprint("raw.annotations")),
            "md5_fingerprint_s": _median(lambda: wh.query(old_sql)),
        }


def report(rows: int, result: dict[str, float]) -> list[str]:
    floor = result["floor_s"]
    return [
        f"Fingerprint of raw.annotations, {rows:,} rows (median of {RUNS}, one process, "
        "2 threads, same file):",
        "",
        "| query | s | x floor |",
        "| --- | ---: | ---: |",
        f"| floor scan (simple checks, one scan) | {floor} | 1.00 |",
        f"| `Warehouse.fingerprint` (schema + native row hash) | {result['fingerprint_s']} | "
        f"{result['fingerprint_s'] / floor:.2f} |",
        f"| previous fingerprint (md5 of the row text) | {result['md5_fingerprint_s']} | "
        f"{result['md5_fingerprint_s'] / floor:.2f} |",
    ]


def main(argv: list[str] | None = None) -> dict[str, object]:
    from run import dataset

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    result = measure(dataset(args.rows))
    payload: dict[str, object] = {"rows": args.rows, **result}
    (BENCH / "fingerprint.json").write_text(json.dumps(payload, indent=2) + "\n")
    lines = report(args.rows, result)
    (BENCH / "fingerprint.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return payload


if __name__ == "__main__":
    main()

"""Benchmarks, side by side in one run: labelpact validate, dbt build of the compiled project,
the single-scan floor query, the same simple checks as plain dbt generic tests, and the
compiled Great Expectations suites over SQL; then labelpact validate on a large table, an
incremental validation of a batch appended to it against that batch validated alone, and the
compile speed of many contracts (bench/compile.py).

    ./run bench                          # 10M side by side, 100M + 1M incremental, 200 contracts
    ./run bench --rows 1000000 --large 0 --contracts 0     # a quick look

Each contender runs in its own process; wall time and peak RSS come from os.wait4. Results go
to bench/results.json and bench/results.md (ratios to the floor query).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PY = sys.executable

FLOOR_SQL = """
SELECT
  count(*) FILTER (WHERE annotation_id IS NULL) AS id_null,
  count(*) - count(DISTINCT annotation_id) AS id_dupes,
  count(*) FILTER (WHERE item_id IS NULL OR annotator_id IS NULL OR label IS NULL
                   OR instruction_version IS NULL OR annotated_at IS NULL OR batch_id IS NULL
                   OR tool IS NULL) AS required_null,
  count(*) FILTER (WHERE label NOT IN ('cat', 'dog', 'bird', 'fish', 'other')) AS bad_label,
  count(*) FILTER (WHERE split NOT IN ('train', 'validation', 'test')) AS bad_split,
  count(*) FILTER (WHERE NOT regexp_matches(annotator_id, '^ann_[0-9]+$')) AS bad_pattern,
  count(*) FILTER (WHERE confidence < 0 OR confidence > 1) AS bad_confidence,
  count(*) FILTER (WHERE annotated_at > current_timestamp::TIMESTAMP) AS future,
  count(*) - count(DISTINCT (item_id, annotator_id, annotated_at)) AS key_dupes
FROM raw.annotations
"""

PLAIN_DBT_SCHEMA = """
version: 2
sources:
  - name: raw
    schema: raw
    tables:
      - name: annotations
        columns:
          - name: annotation_id
            data_tests: [not_null, unique]
          - name: item_id
            data_tests: [not_null]
          - name: annotator_id
            data_tests: [not_null]
          - name: label
            data_tests:
              - not_null
              - accepted_values: {arguments: {values: [cat, dog, bird, fish, other]}}
          - name: split
            data_tests:
              - accepted_values: {arguments: {values: [train, validation, test]}}
          - name: instruction_version
            data_tests: [not_null]
          - name: annotated_at
            data_tests: [not_null]
          - name: batch_id
            data_tests: [not_null]
          - name: tool
            data_tests: [not_null]
"""


def measure(
    cmd: list[str], env: dict[str, str] | None = None, cwd: Path = ROOT
) -> dict[str, float]:
    """Wall seconds and peak RSS (MB) of one command run in its own process."""
    start = time.monotonic()
    proc = subprocess.Popen(
        cmd,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert proc.stdout is not None
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - start
    if proc.returncode not in (0, 1, 2):
        sys.stderr.write(output.decode(errors="replace")[-3000:])
        raise SystemExit(f"benchmark command failed: {' '.join(cmd)}")
    return {
        "wall_s": round(wall, 3),
        "peak_mb": round(usage.ru_maxrss / 1024, 1),
        "exit": proc.returncode,
    }


def dataset(rows: int) -> Path:
    db = BENCH / ".data" / str(rows) / "labelpact.duckdb"
    if not db.exists():
        print(f"generating {rows:,} rows (cached in {db.parent}) ...", flush=True)
        from validator.example import data as exampledata

        exampledata.generate(db, rows=rows, seed=7, progress=lambda m: print("  " + m))
    return db


def floor(db: Path) -> dict[str, float]:
    code = (
        "import duckdb,time,sys; c=duckdb.connect(sys.argv[1], read_only=True);"
        "c.execute('SET threads=2'); t=time.monotonic(); c.execute(sys.argv[2]).fetchall();"
        "print(time.monotonic()-t)"
    )
    result = measure([PY, "-c", code, str(db), FLOOR_SQL])
    return result


def plain_dbt(db: Path) -> dict[str, float]:
    project = Path(tempfile.mkdtemp(prefix="labelpact-plain-dbt-"))
    (project / "models").mkdir()
    (project / "dbt_project.yml").write_text(
        "name: plain\nversion: '1.0'\nconfig-version: 2\nprofile: plain\n"
        "flags: {send_anonymous_usage_stats: false}\n"
    )
    (project / "profiles.yml").write_text(
        f"plain:\n  target: d\n  outputs:\n    d: {{type: duckdb, path: '{db}', threads: 2}}\n"
    )
    (project / "models" / "schema.yml").write_text(PLAIN_DBT_SCHEMA)
    try:
        return measure([str(Path(PY).parent / "dbt"), "build", "--quiet"], cwd=project)
    finally:
        shutil.rmtree(project, ignore_errors=True)


def empty_project(project: Path) -> None:
    """A dbt project with no models, on its own DuckDB file: dbt's fixed cost."""
    project.mkdir(parents=True, exist_ok=True)
    (project / "dbt_project.yml").write_text(
        "name: empty\nversion: '1.0'\nconfig-version: 2\nprofile: empty\n"
        "flags: {send_anonymous_usage_stats: false}\n"
    )
    (project / "profiles.yml").write_text(
        f"empty:\n  target: d\n  outputs:\n    d: {{type: duckdb, path: '{project}/e.duckdb'}}\n"
    )


def empty_dbt() -> dict[str, float]:
    project = Path(tempfile.mkdtemp(prefix="labelpact-empty-dbt-"))
    empty_project(project)
    try:
        return measure([str(Path(PY).parent / "dbt"), "build", "--quiet"], cwd=project)
    finally:
        shutil.rmtree(project, ignore_errors=True)


def labelpact_validate(db: Path, out: Path, *flags: str) -> dict[str, float]:
    ledger = out.parent / "bench-ledger.jsonl"
    result = measure(
        [PY, "-m", "validator", "validate", *flags, "--format", "json", "-o", str(out)],
        env={"LABELPACT_DUCKDB": str(db), "LABELPACT_LEDGER": str(ledger)},
    )
    report = json.loads(out.read_text())
    result["sql_s"] = round(sum(c["duration"] for c in report["checks"]), 3)
    result["checks"] = len(report["checks"])
    result["slowest"] = sorted(
        ((round(c["duration"], 3), c["check_id"]) for c in report["checks"]), reverse=True
    )[:8]
    return result


def gx_sql(db: Path) -> dict[str, float]:
    return measure([PY, "-m", "validator", "gx", "run", "--duckdb", str(db), "--schema", "raw"])


def compiled_dbt(db: Path) -> dict[str, float]:
    return measure(
        [str(Path(PY).parent / "dbt"), "build", "--quiet"], env={"LABELPACT_DUCKDB": str(db)}
    )


def large_and_incremental(large: int, batch: int) -> dict[str, dict[str, object]]:
    """`large` rows validated in full, then `batch` rows appended in new batches and
    validated with --incremental, then `batch` rows validated alone; all on DuckDB files."""
    from validator.example import data as exampledata

    results: dict[str, dict[str, object]] = {}
    work = BENCH / ".data" / "incremental"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    db = work / "labelpact.duckdb"
    print(f"copying the {large:,}-row data set ...", flush=True)
    shutil.copy(dataset(large), db)
    try:
        print(f"labelpact validate, {large:,} rows ...", flush=True)
        results[f"labelpact validate, {large:,} rows"] = labelpact_validate(db, work / "full.json")
        print(f"appending {batch:,} rows in new batches ...", flush=True)
        exampledata.append_batches(db, base_rows=large, rows=batch)
        print("labelpact validate --incremental ...", flush=True)
        results[f"labelpact validate --incremental, {batch:,} new rows on {large:,}"] = (
            labelpact_validate(db, work / "incremental.json", "--incremental")
        )
    finally:
        db.unlink(missing_ok=True)  # several GB
    print(f"labelpact validate, {batch:,} rows alone ...", flush=True)
    alone = BENCH / ".data" / str(batch) / "alone.json"
    results[f"labelpact validate, {batch:,} rows alone"] = labelpact_validate(dataset(batch), alone)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--rows",
        type=int,
        default=10_000_000,
        help="rows of the side-by-side comparison (default 10M)",
    )
    parser.add_argument(
        "--large",
        type=int,
        default=100_000_000,
        help="rows of the large and incremental runs (0: skip them)",
    )
    parser.add_argument(
        "--batch",
        type=int,
        default=1_000_000,
        help="rows appended for the incremental run (default 1M)",
    )
    parser.add_argument(
        "--contracts", type=int, default=200, help="contracts of the compile-speed run (0: skip it)"
    )
    args = parser.parse_args(argv)
    db = dataset(args.rows)
    out = BENCH / ".data" / str(args.rows) / "validate.json"
    results: dict[str, dict[str, object]] = {}
    print("floor query ...", flush=True)
    results["floor (one hand-written DuckDB scan)"] = floor(db)
    print("fingerprint next to the floor scan ...", flush=True)
    from fingerprint import main as fingerprint_bench
    from fingerprint import report as fingerprint_report

    fingerprint = fingerprint_bench(["--rows", str(args.rows)])
    print("empty dbt project ...", flush=True)
    results["dbt build, empty project"] = empty_dbt()
    print("plain dbt generic tests ...", flush=True)
    results["plain dbt generic tests (simple checks)"] = plain_dbt(db)
    print("dbt build of the compiled project ...", flush=True)
    results["dbt build, labelpact project (all checks)"] = compiled_dbt(db)
    print("GX over SQL (compiled suites, DuckDB) ...", flush=True)
    results["GX 1.x over SQL (compiled suites)"] = gx_sql(db)
    print("labelpact validate ...", flush=True)
    results["labelpact validate (all checks)"] = labelpact_validate(db, out)
    scale: dict[str, dict[str, object]] = {}
    if args.large:
        scale = large_and_incremental(args.large, args.batch)
    compile_speed: dict[str, object] = {}
    if args.contracts:
        print(f"compile speed, {args.contracts} contracts ...", flush=True)
        from compile import main as compile_bench

        compile_speed = compile_bench(["--contracts", str(args.contracts)])
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    payload = {
        "rows": args.rows,
        "machine": machine,
        "results": results,
        "scale": scale,
        "compile": compile_speed,
        "fingerprint": fingerprint,
    }
    (BENCH / "results.json").write_text(json.dumps(payload, indent=2) + "\n")
    lines = report(args.rows, machine, results, scale, compile_speed)
    lines += ["", *fingerprint_report(args.rows, fingerprint)]  # type: ignore[arg-type]
    (BENCH / "results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


def report(
    rows: int,
    machine: str,
    results: dict[str, dict[str, object]],
    scale: dict[str, dict[str, object]],
    compile_speed: dict[str, object],
) -> list[str]:
    """The Markdown tables of one run."""

    def wall(r: dict[str, object]) -> float:
        return float(r["wall_s"])  # type: ignore[arg-type]

    base = wall(results["floor (one hand-written DuckDB scan)"])
    lines = [
        f"Annotations: {rows:,} rows; machine: {machine}",
        "",
        "| contender | wall s | x floor | SQL s | peak MB |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, r in results.items():
        lines.append(
            f"| {name} | {r['wall_s']} | {wall(r) / base:.1f} | {r.get('sql_s', '')} "
            f"| {r['peak_mb']} |"
        )
    slow = results["labelpact validate (all checks)"].get("slowest", [])
    lines += [
        "",
        "Slowest labelpact checks (s): "
        + ", ".join(  # type: ignore[union-attr]
            f"{cid} {s}" for s, cid in slow
        ),
    ]
    if scale:
        lines += ["", "| run | wall s | SQL s | peak MB |", "| --- | ---: | ---: | ---: |"]
        lines += [
            f"| {name} | {r['wall_s']} | {r.get('sql_s', '')} | {r['peak_mb']} |"
            for name, r in scale.items()
        ]
        runs = list(scale.values())
        ten = wall(results["labelpact validate (all checks)"])
        lines += [
            "",
            f"Large run / {rows:,}-row run: {wall(runs[0]) / ten:.1f}x; incremental "
            f"run / the batch validated alone: {wall(runs[1]) / wall(runs[2]):.2f}x",
        ]
    if compile_speed:
        c = compile_speed

        def w(key: str) -> float:
            return float(c[key]["wall_s"])  # type: ignore[index]

        lines += [
            "",
            f"Compile: {c['contracts']} contracts ({c['files']} files): lint "
            f"{w('lint')} s, compile {w('compile')} s (wall, Python start-up included); "
            f"dbt parse: empty project {w('dbt_parse_empty')} s, example project "
            f"{w('dbt_parse_example_project')} s "
            f"({w('dbt_parse_example_project') / w('dbt_parse_empty'):.2f}x), the "
            f"{c['contracts']}-contract project {w('dbt_parse_generated')} s "
            f"({w('dbt_parse_generated') / w('dbt_parse_empty'):.1f}x; again with "
            f"nothing changed {w('dbt_reparse_generated_unchanged')} s)",
        ]
    return lines


if __name__ == "__main__":
    raise SystemExit(main())

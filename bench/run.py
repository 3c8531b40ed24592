"""Benchmarks, side by side in one run (issue #17).

The same 14 simple checks (not null on 8 columns, a unique id, accepted values on 2 columns,
one regex, one range, the column set and types; bench/peers.py) run by: one hand-written
DuckDB scan (the floor), plain dbt, the compiled GX suite over SQL, labelpact validate, and
datacontract-cli (in its own virtualenv under target/bench/, installed from the package
registry on first use) on the DuckDB file and on Parquet. Then all example checks through
dbt build, GX and labelpact validate; where validate's time goes, phase by phase; validate on
a large table, an incremental validation of a batch appended to it against that batch
validated alone, and the compile speed of many contracts (bench/compile.py).

Nothing is timed before every contender has passed a small clean data set and failed a small
faulty one (a bad label and a duplicated id) on exactly the checks those break; the benchmark
stops, naming the contender, otherwise.

    ./run bench                   # 10M side by side (median of 3), 100M + 1M incremental, 200
    ./run bench --quick           # 200k rows, one run each, no large/compile runs: minutes
    ./run bench --rows 1000000 --large 0 --contracts 0 --repeat 1

Each contender runs in its own process; wall time, CPU time and peak RSS come from os.wait4.
The load average is recorded beside the results (the machine may be shared). Results go to
bench/results.json and bench/results.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import contenders as lab
import peers
from report import report

ROOT = peers.ROOT
BENCH = ROOT / "bench"
PY = sys.executable
DRY_ROWS = 20_000


def measure(
    cmd: list[str], env: dict[str, str] | None = None, cwd: Path = ROOT
) -> dict[str, object]:
    """Wall seconds, CPU seconds and peak RSS (MB) of one command in its own process; stops
    the benchmark when the command fails (exit 3 or worse)."""
    run = lab.measure(cmd, env, cwd)
    if run.exit not in (0, 1, 2):
        sys.stderr.write(run.output[-3000:])
        raise SystemExit(f"benchmark command failed: {' '.join(cmd)}")
    return run.summary()


def dataset(rows: int) -> Path:
    """The DuckDB file of `rows` example rows, generated once into bench/.data."""
    return lab.prepare(rows).duckdb


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


def empty_dbt(repeat: int) -> dict[str, object]:
    runs = []
    for _ in range(repeat):
        project = Path(tempfile.mkdtemp(prefix="labelpact-empty-dbt-"))
        empty_project(project)
        try:
            runs.append(measure([lab.DBT, "build", "--quiet"], cwd=project))
        finally:
            shutil.rmtree(project, ignore_errors=True)
    runs.sort(key=lambda r: float(r["wall_s"]))  # type: ignore[arg-type]
    return {**runs[len(runs) // 2], "runs_s": [r["wall_s"] for r in runs]}


def labelpact_validate(db: Path, out: Path, *flags: str) -> dict[str, object]:
    """labelpact validate (all example checks) on `db`, with the report's per-check times."""
    ledger = out.parent / "bench-ledger.jsonl"
    result = measure(
        [PY, "-m", "validator", "validate", *flags, "--format", "json", "-o", str(out)],
        env={"LABELPACT_DUCKDB": str(db), "LABELPACT_LEDGER": str(ledger)},
    )
    report_ = json.loads(out.read_text())
    result["sql_s"] = round(sum(c["duration"] for c in report_["checks"]), 3)
    result["checks"] = len(report_["checks"])
    # the slowest checks and what each read (an incremental run says "whole table" or "new
    # batches"): where the time of a large or incremental run went
    slowest = sorted(report_["checks"], key=lambda c: -c["duration"])[:8]
    result["slowest"] = [
        [c["check_id"], round(c["duration"], 2), c["message"].partition("checked: ")[2]]
        for c in slowest
    ]
    return result


def profile(data: lab.DataSet, project: Path) -> dict[str, object]:
    """bench/profile_validate.py on a copy of `data`, twice in fresh processes: the first run
    has dbt build the models (`cold`), the second replays that run without dbt (nothing dbt
    reads changed; what is returned): validate's phases, and the process."""
    copy = lab.WORK / "profile" / "labelpact.duckdb"
    shutil.rmtree(copy.parent, ignore_errors=True)  # no state of an earlier benchmark
    copy.parent.mkdir(parents=True)
    shutil.copy(data.duckdb, copy)
    runs = []
    try:
        for _ in range(2):
            run = lab.measure(
                [
                    PY,
                    str(BENCH / "profile_validate.py"),
                    "--project-dir",
                    str(project),
                    "--ledger",
                    str(copy.parent / "ledger.jsonl"),
                ],
                {"LABELPACT_DUCKDB": str(copy), "PYTHONPATH": str(ROOT)},
            )
            if run.exit != 0:
                raise lab.BenchError(f"profile of validate failed:\n{run.output[-3000:]}")
            runs.append({**json.loads(run.output.strip().splitlines()[-1]), **run.summary()})
    finally:
        copy.unlink(missing_ok=True)
    cold, warm = runs
    if cold["replayed"] or not warm["replayed"]:
        raise lab.BenchError("profile of validate: expected dbt first, then a replay")
    return {**warm, "cold": cold}


def large_and_incremental(large: int, batch: int) -> dict[str, dict[str, object]]:
    """`large` rows validated in full, then `batch` rows appended in new batches and
    validated with --incremental, then `batch` rows validated alone; all on DuckDB files."""
    from validator.example import data as exampledata

    results: dict[str, dict[str, object]] = {}
    work = BENCH / ".data" / "incremental"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    db = work / "labelpact.duckdb"
    # dbt builds the models once, on the batch-sized data at the same path: the measured runs,
    # like a team's after its first, replay that run (nothing dbt reads changed since)
    shutil.copy(dataset(batch), db)
    labelpact_validate(db, work / "warm-up.json")
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
        print(f"labelpact validate, {batch:,} rows alone ...", flush=True)
        shutil.copy(dataset(batch), db)
        results[f"labelpact validate, {batch:,} rows alone"] = labelpact_validate(
            db, work / "alone.json"
        )
    finally:
        db.unlink(missing_ok=True)  # several GB
    return results


def _kept(stage: str, failed: dict[str, str], run: Any, *args: Any) -> Any:
    """`run(*args)`, or {} with the failure kept in `failed`: a stage that fails after the
    side-by-side must not lose the results measured before it."""
    try:
        return run(*args)
    except (Exception, SystemExit) as exc:  # a failed command raises SystemExit
        failed[stage] = str(exc) or type(exc).__name__
        print(f"{stage} FAILED ({failed[stage]}); the other results are kept", flush=True)
        return {}


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--rows",
        type=int,
        default=None,
        help="rows of the side-by-side comparison (default 10M; --quick 200k)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="200k rows, one run per contender, no large, incremental or "
        "compile runs (a look in a few minutes)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=None,
        help="runs per contender, the median is reported (default 3; --quick 1)",
    )
    parser.add_argument(
        "--large",
        type=int,
        default=None,
        help="rows of the large and incremental runs (default 100M; 0: skip)",
    )
    parser.add_argument(
        "--batch",
        type=int,
        default=1_000_000,
        help="rows appended for the incremental run (default 1M)",
    )
    parser.add_argument(
        "--contracts",
        type=int,
        default=None,
        help="contracts of the compile-speed run (default 200; 0: skip it)",
    )
    parser.add_argument(
        "--no-datacontract",
        action="store_true",
        help="leave datacontract-cli out (reported as left out)",
    )
    parser.add_argument(
        "--dry-run-only",
        action="store_true",
        help="only check that every contender passes clean data and fails "
        "faulty data; time nothing",
    )
    args = parser.parse_args(argv)
    quick = args.quick
    args.rows = args.rows or (200_000 if quick else 10_000_000)
    args.repeat = args.repeat or (1 if quick else 3)
    args.large = args.large if args.large is not None else (0 if quick else 100_000_000)
    args.contracts = args.contracts if args.contracts is not None else (0 if quick else 200)
    return args


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    load = {"start": os.getloadavg()}
    use_dc = not args.no_datacontract
    if use_dc:
        peers.datacontract_venv()
    found = lab.contenders(datacontract=use_dc)
    print(f"dry run: {len(found)} contenders on {DRY_ROWS:,} clean and faulty rows ...", flush=True)
    dry = lab.dry_run(
        found,
        lab.prepare(DRY_ROWS, datacontract=use_dc),
        lab.prepare(DRY_ROWS, faulty=True, datacontract=use_dc),
    )
    try:
        lab.require_correct(dry)
    except lab.BenchError as exc:
        print(f"BENCHMARK STOPPED: {exc}", file=sys.stderr)
        return 1
    print("dry run: every contender passes clean data and fails the faults", flush=True)
    if args.dry_run_only:
        return 0
    data = lab.prepare(args.rows, datacontract=use_dc)
    results: dict[str, dict[str, object]] = {}
    print("fingerprint next to the floor scan ...", flush=True)
    from fingerprint import main as fingerprint_bench
    from fingerprint import report as fingerprint_report

    fingerprint = fingerprint_bench(["--rows", str(args.rows)])
    print("dbt build, empty project ...", flush=True)
    results["dbt build, empty project (dbt's fixed cost; no checks)"] = empty_dbt(args.repeat)
    load_max = max(os.getloadavg())
    for contender in found:
        print(f"{contender.name} ({contender.scope}) ...", flush=True)
        load_max = max(load_max, os.getloadavg()[0])
        results[f"{contender.name} ({contender.scope})"] = lab.timed(contender, data, args.repeat)
    print("profile of labelpact validate ...", flush=True)
    profiles = {
        "simple": profile(data, lab.simple_project()),
        "all": profile(data, ROOT),
    }
    load["after_side_by_side"] = os.getloadavg()
    load["max_1min_seen"] = round(load_max, 2)  # type: ignore[assignment]
    failed: dict[str, str] = {}
    scale = (
        _kept("large and incremental runs", failed, large_and_incremental, args.large, args.batch)
        if args.large
        else {}
    )
    compile_speed: dict[str, object] = {}
    if args.contracts:
        print(f"compile speed, {args.contracts} contracts ...", flush=True)
        from compile import main as compile_bench

        compile_speed = _kept(
            "compile speed", failed, compile_bench, ["--contracts", str(args.contracts)]
        )
    load["end"] = os.getloadavg()
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    payload = {
        "command": " ".join(["./run bench", *(sys.argv[1:] if argv is None else argv)]),
        "rows": args.rows,
        "repeat": args.repeat,
        "machine": machine,
        "load": load,
        "measured_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "datacontract": peers.DATACONTRACT if use_dc else "left out (--no-datacontract)",
        "dry_run": dry,
        "results": results,
        "profiles": profiles,
        "scale": scale,
        "compile": compile_speed,
        "fingerprint": fingerprint,
        "failed": failed,
    }
    (BENCH / "results.json").write_text(json.dumps(payload, indent=2) + "\n")
    lines = report(payload)
    lines += ["", *fingerprint_report(args.rows, fingerprint)]  # type: ignore[arg-type]
    (BENCH / "results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

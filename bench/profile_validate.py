"""Where one `labelpact validate` spends its time, phase by phase, in one fresh process.

    LABELPACT_DUCKDB=bench/.data/200000/labelpact.duckdb \\
        .venv/bin/python bench/profile_validate.py --project-dir . --ledger /tmp/l.jsonl

Phases: importing labelpact; loading the contracts and checking the compiled artifacts are
current; the models: `dbt run` (dbt's import and parse included; their enforced contracts are
the schema checks), or its replay without dbt when nothing dbt reads changed since it last ran
(run the script twice to see both); the checks on one connection (beside it the checks' own
SQL, summed: a shared scan's time is split among its checks); the fingerprints (with the batch
fingerprints of contracts that validate incrementally) and failing-row samples; the ledger.
The parent measures the process's wall time, so Python's own start-up is the difference.
Prints one JSON object.
"""

from __future__ import annotations

import time

START = time.monotonic()

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--project-dir", type=Path, required=True)
    parser.add_argument("--ledger", type=Path, required=True)
    args = parser.parse_args(argv)
    clock: list[tuple[float, float]] = [(time.monotonic(), time.process_time())]

    def now() -> tuple[float, float]:
        return time.monotonic(), time.process_time()

    from validator.settings import Settings
    from validator.verdict.validate import validate

    clock.append(now())
    settings = Settings.from_env(project_dir=args.project_dir, ledger_path=args.ledger)
    stamps: list[tuple[str, tuple[float, float]]] = []
    run = validate(settings, progress=lambda m: stamps.append((m, now())))
    clock.append(now())

    def at(prefix: str) -> tuple[float, float]:
        return next(t for m, t in stamps if m.startswith(prefix))

    marks = [
        ("imports (labelpact)", clock[1]),
        ("contracts + artifact check", at("dbt run:")),
        ("models: dbt run, or its replay (schema checks)", at("dbt run finished")),
        ("checks (shared scans, one connection)", at("checks finished")),
        ("fingerprints (+ batch state), samples", at("ledger entry")),
        ("ledger and its mirror", clock[2]),
    ]
    phases, previous = {}, clock[0]
    for name, mark in marks:
        phases[name] = {
            "wall_s": round(mark[0] - previous[0], 3),
            "cpu_s": round(mark[1] - previous[1], 3),
        }
        previous = mark
    check_sql = sum(r.duration for r in run.results)
    slowest = sorted(((round(r.duration, 3), r.check_id) for r in run.results), reverse=True)
    return {
        "in_process_s": round(clock[2][0] - START, 3),
        "replayed": run.replayed,
        "phases": phases,
        "check_sql_s": round(check_sql, 3),
        "checks": len(run.results),
        "slowest": slowest[:6],
        "all": slowest,
        "exit": int(run.exit_code),
    }


if __name__ == "__main__":
    print(json.dumps(main()))
    sys.exit(0)

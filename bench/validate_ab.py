"""Before/after of `labelpact validate` in one run, as ratios to the floor scan (issue #17).

On a shared machine wall times drift by 2-3x between minutes, so the contenders run
interleaved (floor, then each validate path, `--repeat` rounds) and each is reported as a ratio
to the floor of the same round. The two validate paths are the same code with the checks run
either by `dbt build` (one dbt node per check: how validate ran before) or on one connection
with shared scans (now); fixed costs (imports, parse, fingerprint, ledger) are in both.

    .venv/bin/python bench/validate_ab.py --rows 1000000 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import contenders as lab
import peers

RUN = """
import sys
from pathlib import Path
from validator.settings import Settings
from validator.verdict.validate import validate
settings = Settings.from_env(project_dir=Path(sys.argv[1]), ledger_path=Path(sys.argv[2]))
run = validate(settings, dbt_tests=sys.argv[3] == "dbt")
assert run.results, "no checks ran"
"""


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    data = lab.prepare(args.rows)
    work = lab.WORK / "validate-ab"
    work.mkdir(parents=True, exist_ok=True)
    db = work / "labelpact.duckdb"
    shutil.copy(data.duckdb, db)
    env = {"LABELPACT_DUCKDB": str(db), "PYTHONPATH": str(lab.ROOT)}
    projects = {"simple": lab.simple_project(), "all": lab.ROOT}
    runs: dict[str, list[dict[str, float]]] = {}
    for _ in range(args.repeat):
        floor = lab.measure(peers.floor_command(data.duckdb))
        runs.setdefault("floor", []).append({"wall": floor.wall_s, "cpu": floor.cpu_s})
        for scope, project in projects.items():
            for how in ("dbt", "shared"):
                ledger = work / f"ledger-{scope}-{how}.jsonl"
                cmd = [lab.PY, "-c", RUN, str(project), str(ledger), how]
                run = lab.measure(cmd, env)
                if run.exit != 0:
                    raise SystemExit(run.output[-3000:])
                runs.setdefault(f"{scope}/{how}", []).append(
                    {
                        "wall": run.wall_s,
                        "cpu": run.cpu_s,
                        "x_floor": run.wall_s / floor.wall_s,
                        "cpu_x_floor": run.cpu_s / floor.cpu_s,
                        "peak_mb": run.peak_mb,
                    }
                )
    db.unlink(missing_ok=True)
    summary = {
        name: {k: round(statistics.median(r[k] for r in rs), 3) for k in rs[0]}
        for name, rs in runs.items()
    }
    return {"rows": args.rows, "repeat": args.repeat, "median": summary}


def report(result: dict[str, object]) -> list[str]:
    median: dict[str, dict[str, float]] = result["median"]  # type: ignore[assignment]
    lines = [
        f"validate before/after, {result['rows']:,} rows, median of {result['repeat']} "
        "interleaved rounds (`bench/validate_ab.py`); 'dbt' = checks run by `dbt build`, one "
        "node each (before), 'shared' = checks on one connection with shared scans (after):",
        "",
        "| run | wall s | x floor (same round) | CPU s | CPU x floor | peak MB |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, m in median.items():
        lines.append(
            f"| {name} | {m['wall']} | {m.get('x_floor', 1.0)} | {m['cpu']} | "
            f"{m.get('cpu_x_floor', 1.0)} | {m.get('peak_mb', '')} |"
        )
    return lines


if __name__ == "__main__":
    out = main()
    print(json.dumps(out))
    print("\n".join(report(out)))

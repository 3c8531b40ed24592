"""Spark at scale (issue #15): `dbt build` and `labelpact validate` of the example contracts,
then `labelpact gate`, on N annotations in a local Spark session (`local[2]`, dbt-spark's
`session` method, the repository's `spark` profile target), next to DuckDB on the same data in
the same run.

The example tables are generated once (bench/.data, as for the other benchmarks), exported to
Parquet by DuckDB and saved as tables of the Spark warehouse (a Hive metastore under
bench/.data/spark-N) by a Spark session opened through the same dbt profile. Each timed command
is a fresh process; its wall time, and the CPU time and peak memory of its whole process tree
(Python and the JVM it starts) sampled from /proc every 0.2 s, are recorded.

    python bench/spark.py --rows 10000000           # results in bench/spark.json and .md
    python bench/spark.py --rows 200000 --out /tmp  # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import contenders as lab

ROOT = lab.ROOT
BENCH = ROOT / "bench"
PAGE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class TreeRun:
    """One command: wall seconds, CPU seconds and peak RSS (MB) of its whole process tree."""

    command: str
    wall_s: float
    cpu_s: float
    peak_mb: float
    exit: int


def _processes() -> dict[int, tuple[int, float, int]]:
    """pid: (parent pid, CPU seconds, resident bytes) of every process, from /proc."""
    found = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
            rss_pages = int(Path(entry.path, "statm").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue  # the process ended while being read
        fields = stat[stat.rindex(")") + 2 :].split()
        cpu = (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime
        found[int(entry.name)] = (int(fields[1]), cpu, rss_pages * PAGE)
    return found


def _tree(root: int, procs: dict[int, tuple[int, float, int]]) -> list[int]:
    children: dict[int, list[int]] = {}
    for pid, (parent, _, _) in procs.items():
        children.setdefault(parent, []).append(pid)
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        if pid in procs:
            tree.append(pid)
            todo.extend(children.get(pid, []))
    return tree


def measure_tree(name: str, cmd: list[str], env: dict[str, str], log: Path) -> TreeRun:
    """Run `cmd`; sample its process tree until it ends. Exit 3 or worse stops the bench."""
    start = time.monotonic()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT
        )
        peak, cpu_by_pid = 0, {}
        while proc.poll() is None:
            procs = _processes()
            tree = _tree(proc.pid, procs)
            peak = max(peak, sum(procs[p][2] for p in tree))
            cpu_by_pid.update({p: procs[p][1] for p in tree})
            time.sleep(0.2)
    wall = time.monotonic() - start
    if proc.returncode not in (0, 1):
        sys.stderr.write(log.read_text(errors="replace")[-3000:])
        raise SystemExit(f"{name} failed (exit {proc.returncode}); its output: {log}")
    return TreeRun(
        name, round(wall, 2), round(sum(cpu_by_pid.values()), 2), peak >> 20, proc.returncode
    )


def spark_env(warehouse: Path, work: Path) -> dict[str, str]:
    return {
        "LABELPACT_SPARK_WAREHOUSE": str(warehouse),
        "LABELPACT_SPARK_SCHEMA": "labelpact",
        "LABELPACT_LEDGER": str(work / "ledger-spark.jsonl"),
    }


def load_into_spark(data: lab.DataSet, warehouse: Path) -> None:
    """Save every table of the DuckDB file's `raw` schema as a table of the Spark warehouse,
    through a session opened by the profile's `spark` target (done once per data set)."""
    done = warehouse / "loaded"
    if done.exists():
        return
    import duckdb

    parquet = warehouse / "parquet"
    parquet.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(data.duckdb), read_only=True) as con:
        tables = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'raw'"
            ).fetchall()
        ]
        for table in tables:
            con.execute(f"COPY raw.{table} TO '{parquet / table}.parquet' (FORMAT parquet)")
    print(f"loading {', '.join(tables)} into the Spark warehouse {warehouse} ...", flush=True)
    subprocess.run(
        [sys.executable, __file__, "--load", str(parquet)],
        cwd=ROOT,
        env={**os.environ, **spark_env(warehouse, warehouse)},
        check=True,
    )
    done.write_text("\n".join(tables))


def _load(parquet: Path) -> None:
    """(In the loader process.) The session comes from the profile, as dbt opens it."""
    from pyspark.sql import SparkSession, functions
    from pyspark.sql.types import TimestampNTZType

    from validator.engines.warehouse import Warehouse
    from validator.settings import Settings

    with Warehouse(Settings(project_dir=ROOT, target="spark")) as warehouse:
        warehouse.query("SELECT 1")  # dbt opens the connection (and the session) on first use
        spark = SparkSession.builder.getOrCreate()
        spark.sql("CREATE DATABASE IF NOT EXISTS raw")
        for file in sorted(parquet.glob("*.parquet")):
            frame = spark.read.parquet(str(file))
            for field in frame.schema.fields:  # DuckDB's TIMESTAMP is zone-less in Parquet
                if isinstance(field.dataType, TimestampNTZType):
                    frame = frame.withColumn(
                        field.name, functions.col(field.name).cast("timestamp")
                    )
            frame.write.mode("overwrite").saveAsTable(f"raw.{file.stem}")


def commands(
    engine: str, data: lab.DataSet, work: Path
) -> list[tuple[str, list[str], dict[str, str]]]:
    py = [sys.executable, "-m", "validator"]
    if engine == "spark":
        env = spark_env(data.root / "spark", work)
    else:
        env = {
            "LABELPACT_DUCKDB": str(data.duckdb),
            "LABELPACT_LEDGER": str(work / "ledger-duckdb.jsonl"),
        }
    target = ["--target", engine, "--project-dir", str(ROOT)]
    dbt = [
        lab.DBT,
        "build",
        "--quiet",
        "--project-dir",
        str(ROOT),
        "--profiles-dir",
        str(ROOT),
        "--target",
        engine,
        "--target-path",
        str(work / f"dbt-{engine}"),
    ]
    return [
        (f"dbt build ({engine})", dbt, env),
        (
            f"labelpact validate ({engine})",
            [
                *py,
                "validate",
                *target,
                "--format",
                "json",
                "-o",
                str(work / f"validate-{engine}.json"),
            ],
            env,
        ),
        (f"labelpact gate ({engine})", [*py, "gate", "annotations", *target], env),
    ]


def run(rows: int, out: Path) -> list[TreeRun]:
    data = lab.prepare(rows)
    load_into_spark(data, data.root / "spark")
    work = ROOT / "target" / "bench" / "spark"
    work.mkdir(parents=True, exist_ok=True)
    results = []
    for engine in ("duckdb", "spark"):
        for name, cmd, env in commands(engine, data, work):
            print(f"{name} ...", flush=True)
            results.append(measure_tree(name, cmd, env, work / f"{name.replace(' ', '_')}.log"))
            print(f"  {results[-1]}", flush=True)
    write(rows, results, out)
    return results


def write(rows: int, results: list[TreeRun], out: Path) -> None:
    load = os.getloadavg()
    (out / "spark.json").write_text(
        json.dumps(
            {"rows": rows, "load_average": load, "runs": [asdict(r) for r in results]}, indent=2
        )
        + "\n"
    )
    lines = [
        f"`python bench/spark.py --rows {rows}`: {rows:,} annotations, the example contracts "
        f"(all checks); Spark `local[2]` in the process (dbt-spark `session`), DuckDB on the "
        f"same data; measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load "
        f"average at the end {tuple(round(x, 1) for x in load)} on {os.cpu_count()} cores.",
        "",
        "| command | wall s | CPU s (process tree) | peak MB (process tree) | exit |",
        "| --- | ---: | ---: | ---: | ---: |",
        *(f"| {r.command} | {r.wall_s} | {r.cpu_s} | {r.peak_mb} | {r.exit} |" for r in results),
    ]
    (out / "spark.md").write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--out", type=Path, default=BENCH)
    parser.add_argument("--load", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load:
        _load(args.load)
    else:
        run(args.rows, args.out)


if __name__ == "__main__":
    main()

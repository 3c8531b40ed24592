"""The contenders of the side-by-side benchmark, how each is run, and how its results are read.

Before anything is timed, `dry_run` runs every contender on a small clean data set and on a
small faulty one (a bad label and a duplicated id): each must pass the first and fail the
second, on exactly those two checks where it runs only the 14 simple checks, or on at least
those two where it runs all example checks. A contender that cannot see the faults would time
a no-op, so the benchmark stops instead.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import peers
import yaml

ROOT = peers.ROOT
BENCH = ROOT / "bench"
DATA = BENCH / ".data"
WORK = ROOT / "target" / "bench"
PY = sys.executable
DBT = str(Path(PY).parent / "dbt")
FAULTS = {peers.BAD_LABEL, peers.UNIQUE}


@dataclass
class Run:
    """One contender process: wall seconds, peak RSS, exit code and what it printed."""

    wall_s: float
    cpu_s: float
    peak_mb: float
    exit: int
    output: str

    def summary(self) -> dict[str, object]:
        return {
            "wall_s": self.wall_s,
            "cpu_s": self.cpu_s,
            "peak_mb": self.peak_mb,
            "exit": self.exit,
        }


# Runs argv[1:] in a child and reports that child's rusage as the last line of the output.
# The command is started from this small, freshly started process, not from the benchmark's:
# Linux keeps a process's peak RSS across exec, so a command forked from the benchmark (whose
# own memory grows to hundreds of MB generating data) would report at least that peak.
_LAUNCHER = (
    "import json, os, sys\n"
    "pid = os.posix_spawnp(sys.argv[1], sys.argv[1:], os.environ)\n"
    "_, status, u = os.wait4(pid, 0)\n"
    "sys.stdout.flush()\n"
    "print(RUSAGE + json.dumps([u.ru_utime + u.ru_stime, u.ru_maxrss]), flush=True)\n"
    "sys.exit(os.waitstatus_to_exitcode(status))\n"
)
_RUSAGE = "\n@@labelpact-bench-rusage@@ "


def measure(cmd: list[str], env: dict[str, str] | None = None, cwd: Path = ROOT) -> Run:
    """Run `cmd` in its own process; wall time, CPU time (user + system, its threads and
    waited-for children included) and peak RSS of that process, from os.wait4 in a small
    launcher (see `_LAUNCHER`). CPU time is the steadier number on a shared machine: waiting
    for a core is not counted."""
    start = time.monotonic()
    launcher = f"RUSAGE = {_RUSAGE!r}\n{_LAUNCHER}"
    proc = subprocess.run(
        [sys.executable, "-I", "-S", "-c", launcher, *cmd],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    wall = time.monotonic() - start
    text = proc.stdout.decode(errors="replace")
    output, found, usage = text.rpartition(_RUSAGE)
    if not found:  # the command could not be started
        raise BenchError(f"could not run {' '.join(cmd)}:\n{text[-2000:]}")
    cpu, maxrss = json.loads(usage)
    return Run(round(wall, 3), round(cpu, 3), round(maxrss / 1024, 1), proc.returncode, output)


@dataclass(frozen=True)
class DataSet:
    """One copy of the annotations: the DuckDB file, its Parquet export and the DuckDB file
    rebuilt for datacontract-cli, all in one directory."""

    root: Path

    @property
    def duckdb(self) -> Path:
        return self.root / "labelpact.duckdb"

    @property
    def parquet(self) -> Path:
        return self.root / "annotations.parquet"

    @property
    def datacontract_duckdb(self) -> Path:
        return self.root / "datacontract.duckdb"

    def copy(self, to: Path) -> DataSet:
        shutil.rmtree(to, ignore_errors=True)
        shutil.copytree(self.root, to)
        return DataSet(to)


def prepare(
    rows: int, faulty: bool = False, datacontract: bool = False, base: Path = DATA
) -> DataSet:
    """The data set of `rows` rows (cached under `base`, bench/.data). Faulty: 5 labels are
    'catt' (the generator's `bad_label` fault) and one row is stored twice (a duplicated id)."""
    import duckdb

    from validator.example import data as exampledata

    data = DataSet(base / (f"{rows}-faulty" if faulty else str(rows)))
    if not data.duckdb.exists():
        print(
            f"generating {rows:,} rows{' (faulty)' if faulty else ''} in {data.root} ...",
            flush=True,
        )
        data.root.mkdir(parents=True, exist_ok=True)
        scratch = data.root / "generating.duckdb"
        exampledata.generate(
            scratch,
            rows=rows,
            seed=7,
            fault="bad_label" if faulty else None,
            progress=lambda m: print("  " + m, flush=True),
        )
        if faulty:
            with duckdb.connect(str(scratch)) as con:
                con.execute(
                    "INSERT INTO raw.annotations SELECT * FROM raw.annotations WHERE "
                    "annotation_id = (SELECT min(annotation_id) FROM raw.annotations)"
                )
        scratch.rename(data.duckdb)
    if not data.parquet.exists():
        with duckdb.connect(str(data.duckdb), read_only=True) as con:
            con.execute("SET threads = 2")
            con.execute(f"COPY raw.annotations TO '{_literal(data.parquet)}' (FORMAT parquet)")
    if datacontract and not data.datacontract_duckdb.exists():
        peers.rebuild_for_datacontract(data.parquet, data.datacontract_duckdb)
    return data


def _literal(path: Path) -> str:
    return str(path).replace("'", "''")


# --- the contenders -------------------------------------------------------------------------

Command = Callable[[DataSet, Path], tuple[list[str], dict[str, str], Path]]
Failing = Callable[[Run, Path], set[str]]


@dataclass
class Contender:
    """A way to run the checks: `command(data, work)` gives the process to run, `failing(run,
    work)` reads which checks failed (as labelpact check ids) from its output or its files."""

    name: str
    scope: str  # "simple" (the 14 checks) or "all" (every example check)
    command: Command
    failing: Failing
    needs_datacontract: bool = False
    notes: list[str] = field(default_factory=list)
    # one untimed run first (labelpact validate: dbt builds the models once, later runs replay)
    warm_up: bool = False


def _dbt_failing(run: Run, work: Path, prefix: str) -> set[str]:
    results = json.loads((work / "dbt-target" / "run_results.json").read_text())
    failing = set()
    for r in results["results"]:
        if r["status"] not in ("fail", "error", "skipped", "runtime error"):
            continue
        kind, _, name = r["unique_id"].split(".")[:3]
        if kind == "model" and name == "annotations":
            failing.add(peers.SCHEMA)
        else:
            failing.add(name.removeprefix(prefix).replace("__", "."))
    return failing


def _dbt_command(
    project: Path, data: DataSet, work: Path
) -> tuple[list[str], dict[str, str], Path]:
    cmd = [
        DBT,
        "build",
        "--quiet",
        "--project-dir",
        str(project),
        "--profiles-dir",
        str(project),
        "--target-path",
        str(work / "dbt-target"),
        "--log-path",
        str(work / "dbt-logs"),
    ]
    return cmd, {"LABELPACT_DUCKDB": str(data.duckdb)}, project


def _validate(project: Callable[[], Path], state: Path | None = None) -> Command:
    """labelpact validate on the data. `state`: a fixed directory holding the ledger and
    labelpact's state, the data at a fixed path in it (a symbolic link), so every run after the
    first replays dbt's recorded run of the models (nothing dbt reads changed: a team's every
    run after its first); None: a new ledger each run, so dbt builds the models each time."""

    def command(data: DataSet, work: Path) -> tuple[list[str], dict[str, str], Path]:
        cmd = [
            PY,
            "-m",
            "validator",
            "validate",
            "--project-dir",
            str(project()),
            "--format",
            "json",
            "-o",
            str(work / "validate.json"),
        ]
        db, ledger = data.duckdb, work / "ledger.jsonl"
        if state is not None:
            state.mkdir(parents=True, exist_ok=True)
            db, ledger = state / "labelpact.duckdb", state / "ledger.jsonl"
            db.unlink(missing_ok=True)
            db.symlink_to(data.duckdb.resolve())
        return cmd, {"LABELPACT_DUCKDB": str(db), "LABELPACT_LEDGER": str(ledger)}, ROOT

    return command


def _validate_failing(run: Run, work: Path) -> set[str]:
    report = json.loads((work / "validate.json").read_text())
    return {c["check_id"] for c in report["checks"] if c["status"] in ("fail", "error", "skipped")}


def _gx(contracts: Callable[[], Path]) -> Command:
    def command(data: DataSet, work: Path) -> tuple[list[str], dict[str, str], Path]:
        return (
            [
                PY,
                "-m",
                "validator",
                "gx",
                "run",
                str(contracts()),
                "--schema",
                "raw",
            ],
            {"LABELPACT_DUCKDB": str(data.duckdb)},  # the profile's target reads this file
            ROOT,
        )

    return command


def _gx_failing(run: Run, work: Path) -> set[str]:
    return set(re.findall(r"^(?:FAIL|ERROR)\s+(\S+?):?(?:\s|$)", run.output, re.MULTILINE))


def _datacontract(server: str) -> Command:
    def command(data: DataSet, work: Path) -> tuple[list[str], dict[str, str], Path]:
        contract = work / "datacontract.yaml"
        contract.write_text(
            yaml.safe_dump(
                peers.odcs_contract(data.datacontract_duckdb, data.parquet), sort_keys=False
            )
        )
        cmd = [
            str(peers.DATACONTRACT_VENV / "bin" / "datacontract"),
            "test",
            str(contract),
            "--server",
            server,
            "--output-format",
            "json",
            "--output",
            str(work / "datacontract.json"),
        ]
        return cmd, {"COLUMNS": "200"}, work

    return command


def _datacontract_failing(run: Run, work: Path) -> set[str]:
    return peers.datacontract_failing(json.loads((work / "datacontract.json").read_text()))


def _floor_failing(run: Run, work: Path) -> set[str]:
    counts = json.loads(run.output.strip().splitlines()[-1])
    return {check for check, n in counts.items() if n}


_PREPARED: set[Path] = set()
_PREPARING = threading.Lock()


def _once(project: Path, make: Callable[[Path], Path]) -> Path:
    """`make(project)` once per process (fresh each run: the compiler may have changed), also
    when two contenders of the dry run ask for it at the same time."""
    with _PREPARING:
        if project not in _PREPARED:
            make(project)
            _PREPARED.add(project)
    return project


def simple_project(work: Path = WORK) -> Path:
    """The labelpact project of the simple contract (compiled once per process)."""
    return _once(work / "simple-project", peers.simple_project)


def contenders(datacontract: bool, work: Path = WORK) -> list[Contender]:
    """Every contender; datacontract-cli's two only when its virtualenv is wanted."""
    plain = work / "plain-dbt-project"

    def plain_project() -> Path:
        return _once(plain, peers.plain_dbt_project)

    found = [
        Contender(
            "floor (one hand-written DuckDB scan)",
            "simple",
            lambda d, w: (peers.floor_command(d.duckdb), {}, ROOT),
            _floor_failing,
        ),
        Contender(
            "plain dbt generic tests + model contract",
            "simple",
            lambda d, w: _dbt_command(plain_project(), d, w),
            lambda r, w: _dbt_failing(r, w, ""),
        ),
        Contender(
            "GX 1.x over SQL (compiled suite)",
            "simple",
            _gx(lambda: simple_project(work) / "contracts"),
            _gx_failing,
        ),
        Contender(
            "labelpact validate",
            "simple",
            _validate(lambda: simple_project(work), work / "warm" / "simple"),
            _validate_failing,
            warm_up=True,
        ),
        Contender(
            "labelpact validate, dbt building the models (a first run)",
            "simple",
            _validate(lambda: simple_project(work)),
            _validate_failing,
        ),
    ]
    if datacontract:
        found += [
            Contender(
                "datacontract-cli 1.2.8 on the DuckDB file",
                "simple",
                _datacontract("duckdb"),
                _datacontract_failing,
                needs_datacontract=True,
            ),
            Contender(
                "datacontract-cli 1.2.8 on Parquet (types not checked)",
                "simple",
                _datacontract("parquet"),
                _datacontract_failing,
                needs_datacontract=True,
            ),
        ]
    found += [
        Contender(
            "dbt build, labelpact project",
            "all",
            lambda d, w: _dbt_command(ROOT, d, w),
            lambda r, w: _dbt_failing(r, w, "lp_"),
        ),
        Contender(
            "GX 1.x over SQL (compiled suites)", "all", _gx(lambda: ROOT / "contracts"), _gx_failing
        ),
        Contender(
            "labelpact validate",
            "all",
            _validate(lambda: ROOT, work / "warm" / "all"),
            _validate_failing,
            warm_up=True,
        ),
    ]
    return found


def run_once(contender: Contender, data: DataSet, work: Path) -> tuple[Run, set[str]]:
    """Run a contender on `data` with its own scratch directory; the checks that failed."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    cmd, env, cwd = contender.command(data, work)
    run = measure(cmd, env, cwd)
    try:
        failing = contender.failing(run, work)
    except (OSError, ValueError, KeyError, IndexError) as exc:
        raise BenchError(
            f"{contender.name} ({contender.scope}): no results to read ({exc}); "
            f"exit {run.exit}, output:\n{run.output[-3000:]}"
        ) from exc
    return run, failing


class BenchError(Exception):
    """A contender did not do the work it is timed for."""


# --- correctness before timing --------------------------------------------------------------


def verdict(
    contender: Contender, clean: tuple[Run, set[str]], faulty: tuple[Run, set[str]]
) -> list[str]:
    """What is wrong with a contender's results on the clean and the faulty data set."""
    problems = []
    label = f"{contender.name} ({contender.scope})"
    (clean_run, clean_failing), (faulty_run, faulty_failing) = clean, faulty
    if clean_failing or clean_run.exit not in (0, 2):
        problems.append(
            f"{label}: the clean data set fails {sorted(clean_failing)} (exit {clean_run.exit})"
        )
    if faulty_run.exit in (0, 2):
        problems.append(
            f"{label}: passes (exit {faulty_run.exit}) on a bad label and a duplicated id"
        )
    missed = FAULTS - faulty_failing
    if missed:
        problems.append(
            f"{label}: does not fail {sorted(missed)} on the faulty data set "
            f"(failing: {sorted(faulty_failing)})"
        )
    extra = faulty_failing - FAULTS
    if contender.scope == "simple" and extra:
        problems.append(f"{label}: also fails {sorted(extra)} on the faulty data set")
    return problems


def dry_run(
    found: list[Contender], clean: DataSet, faulty: DataSet, workers: int = 2, work: Path = WORK
) -> dict[str, dict[str, object]]:
    """Every contender on both small data sets (each on its own copy, `workers` at a time):
    per contender, what failed and the `problems` that make it unfit to be timed."""

    def one(index: int) -> dict[str, object]:
        contender = found[index]
        base = work / "dry-run" / str(index)
        outcomes = []
        try:
            for data in (clean, faulty):
                copy = data.copy(base / "data" / data.root.name)
                outcomes.append(run_once(contender, copy, base / "work" / data.root.name))
        except BenchError as exc:
            return {"problems": [str(exc)]}
        return {
            "clean_failing": sorted(outcomes[0][1]),
            "faulty_failing": sorted(outcomes[1][1]),
            "clean_exit": outcomes[0][0].exit,
            "faulty_exit": outcomes[1][0].exit,
            "wall_s": [outcomes[0][0].wall_s, outcomes[1][0].wall_s],
            "problems": verdict(contender, outcomes[0], outcomes[1]),
        }

    with ThreadPoolExecutor(max_workers=workers) as pool:
        records = list(pool.map(one, range(len(found))))
    return {f"{c.name} ({c.scope})": r for c, r in zip(found, records, strict=True)}


def require_correct(records: dict[str, dict[str, object]]) -> None:
    """Raise BenchError naming every contender of a dry run that is unfit to be timed."""
    problems = [p for r in records.values() for p in r["problems"]]  # type: ignore[attr-defined]
    if problems:
        raise BenchError(
            "dry run: these contenders would time a no-op or the wrong work:\n  "
            + "\n  ".join(problems)
        )


def timed(contender: Contender, data: DataSet, repeat: int) -> dict[str, object]:
    """Median wall time of `repeat` fresh processes, and the peak RSS of the median run."""
    runs = []
    if contender.warm_up:
        run_once(contender, data, WORK / "timed" / "warm-up")
    for i in range(repeat):
        run, _failing = run_once(
            contender, data, WORK / "timed" / re.sub(r"\W+", "-", contender.name) / str(i)
        )
        if run.exit not in (0, 1, 2):
            raise BenchError(f"{contender.name}: exit {run.exit}:\n{run.output[-3000:]}")
        runs.append(run)
    median = statistics.median(r.wall_s for r in runs)
    chosen = min(runs, key=lambda r: abs(r.wall_s - median))
    return {
        "wall_s": round(median, 3),
        "cpu_s": chosen.cpu_s,
        "peak_mb": chosen.peak_mb,
        "runs_s": [r.wall_s for r in runs],
        "scope": contender.scope,
    }

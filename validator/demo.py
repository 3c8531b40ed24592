"""`labelpact demo`: the whole story on example data, from a fresh clone, in about a minute."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from .dbt_run import BuildResult, DbtProject
from .errors import ExitCode
from .lint import lint
from .project import compile_contracts, write_artifacts
from .resolve import load_contracts

DEMO_FAULTS = ("missing_provenance", "low_agreement", "retired_instruction_version",
               "unadjudicated_disagreement", "mistyped_column")

Say = Callable[[str], None]


def run_demo(rows: int, workdir: Path, say: Say = print, project_dir: Path = Path("."),
             faults: tuple[str, ...] = DEMO_FAULTS) -> int:
    """Generate, lint, compile, build clean data, then show each injected fault caught."""
    from . import exampledata

    started = time.monotonic()
    workdir.mkdir(parents=True, exist_ok=True)
    contracts_dir = project_dir / "contracts"
    say(f"1. lint {contracts_dir}/")
    report = lint([contracts_dir])
    say(f"   {report.summary()}")
    if report.exit_code == ExitCode.VIOLATIONS:
        return int(ExitCode.INVALID)
    say("2. compile contracts -> dbt models, tests and GX suites")
    contracts = load_contracts([contracts_dir])
    changed = write_artifacts(compile_contracts(contracts, root=project_dir), project_dir)
    say(f"   {len(contracts)} contracts, {changed} files changed")
    clean_db = workdir / "clean" / "labelpact.duckdb"
    say(f"3. generate {rows:,} example annotations -> {clean_db}")
    counts = exampledata.generate(clean_db, rows=rows, seed=7)
    say("   " + ", ".join(f"{t}: {n:,}" for t, n in counts.items()))
    project = DbtProject(project_dir)
    say("4. dbt build on clean data")
    clean = project.build(env={"LABELPACT_DUCKDB": str(clean_db.resolve())})
    _summarise(clean, say)
    ok = clean.success and not clean.failing_ids
    say("   PASS: every check holds" if ok else "   UNEXPECTED: clean data failed")
    for number, fault in enumerate(faults, start=5):
        db = workdir / fault / "labelpact.duckdb"
        exampledata.generate(db, rows=rows, seed=7, fault=fault)
        say(f"{number}. inject fault '{fault}': {exampledata.FAULTS[fault]}")
        result = project.build(env={"LABELPACT_DUCKDB": str(db.resolve())})
        if result.failing_ids:
            for cid in sorted(result.failing_ids):
                o = result.outcomes[cid]
                count = f"{o.failures} failing" if o.failures is not None else o.status
                say(f"   caught: {cid} ({o.status}, {count})")
        else:
            ok = False
            say("   MISSED: dbt build passed")
    say(f"done in {time.monotonic() - started:.0f}s; the project is plain dbt: "
        f"LABELPACT_DUCKDB={clean_db} dbt build")
    return int(ExitCode.OK if ok else ExitCode.VIOLATIONS)


def _summarise(result: BuildResult, say: Say) -> None:
    by_status: dict[str, int] = {}
    for outcome in result.outcomes.values():
        by_status[outcome.status] = by_status.get(outcome.status, 0) + 1
    say("   " + ", ".join(f"{n} {s}" for s, n in sorted(by_status.items())))

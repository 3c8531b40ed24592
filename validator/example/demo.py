"""`labelpact demo`: the whole story on example data, from a fresh clone, in about a minute."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from validator.compiler.artifacts import compile_contracts, write_artifacts
from validator.contract.lint import lint
from validator.contract.resolve import load_contracts
from validator.engines.dbt_runner import CheckOutcome, DbtProject
from validator.errors import ExitCode
from validator.output.failures import schema_mismatches
from validator.settings import Settings
from validator.verdict.gate import Verdict, gate
from validator.verdict.ledger import Ledger
from validator.verdict.validate import validate, validate_incremental

DEMO_FAULTS = (
    "low_agreement",
    "retired_instruction_version",
    "unadjudicated_disagreement",
    "revision_cycle",
    "hasty_annotator",
    "mistyped_column",
)

Say = Callable[[str], None]


def run_demo(
    rows: int,
    workdir: Path,
    say: Say = print,
    project_dir: Path = Path("."),
    faults: tuple[str, ...] = DEMO_FAULTS,
) -> int:
    """Generate, lint, compile, build clean data, then show each injected fault caught."""
    started = time.monotonic()
    workdir.mkdir(parents=True, exist_ok=True)
    prepared = _prepare(rows, workdir, project_dir, say)
    if prepared is None:
        return int(ExitCode.INVALID)
    settings, clean_db = prepared
    project = DbtProject.from_settings(settings)
    ok = _validate_and_gate(rows, settings, project, clean_db, say)
    ok = _faults_caught(rows, workdir, project, faults, say) and ok
    say(
        f"done in {time.monotonic() - started:.0f}s. The project is plain dbt; rerun the build "
        f"of step 7's warehouse (it fails: the provenance gap is still there):\n"
        f"   LABELPACT_DUCKDB={clean_db} .venv/bin/dbt build"
    )
    return int(ExitCode.OK if ok else ExitCode.VIOLATIONS)


def _prepare(rows: int, workdir: Path, project_dir: Path, say: Say) -> tuple[Settings, Path] | None:
    """Steps 1-3: lint, compile, generate the clean warehouse (None: the contracts are bad)."""
    from validator.example import data as exampledata

    contracts_dir = project_dir / "contracts"
    say(f"1. lint {contracts_dir}/")
    report = lint([contracts_dir])
    say(f"   {report.summary()}")
    if report.exit_code == ExitCode.VIOLATIONS:
        return None
    say("2. compile contracts -> dbt models, tests and GX suites")
    contracts = load_contracts([contracts_dir])
    changed = write_artifacts(compile_contracts(contracts, root=project_dir), project_dir)
    say(f"   {len(contracts)} contracts, {changed} files changed")
    clean_db = workdir / "warehouse" / "labelpact.duckdb"
    say(f"3. generate {rows:,} example annotations -> {clean_db}")
    counts = exampledata.generate(clean_db, rows=rows, seed=7)
    say("   " + ", ".join(f"{t}: {n:,}" for t, n in counts.items()))
    note = exampledata.rows_note(rows, counts)
    if note:
        say(f"   ({note})")
    # The repository's profiles.yml takes its DuckDB file from LABELPACT_DUCKDB.
    settings = Settings(
        project_dir=project_dir,
        ledger_path=workdir / "ledger.jsonl",
        env={"LABELPACT_DUCKDB": str(clean_db.resolve())},
    )
    return settings, clean_db


def _answer(verdict: Verdict) -> str:
    return "PASS" if verdict else "REFUSED: " + verdict.reason


def _validate_and_gate(
    rows: int, settings: Settings, project: DbtProject, clean_db: Path, say: Say
) -> bool:
    """Steps 4-8: validate, gate, a new batch validated incrementally, a provenance gap the
    gate and validate refuse, the ledger verified. True when every step behaved."""
    from validator.example import data as exampledata

    say("4. labelpact validate: dbt builds the models, the checks run in shared scans, ledger")
    run = validate(settings, project=project)
    ok = run.exit_code == ExitCode.OK
    passed = sum(r.status == "pass" for r in run.results)
    say(f"   {passed}/{len(run.results)} checks pass; ledger entry {run.ledger_seq}")
    verdict = gate("annotations", settings=settings)
    say(f"5. labelpact gate annotations -> {_answer(verdict)}")
    ok = ok and verdict.allowed
    added = exampledata.append_batches(clean_db, base_rows=rows, rows=max(100, rows // 10))
    say(
        f"6. a new labelling batch lands ({added['annotations']:,} annotations): labelpact "
        "validate --incremental"
    )
    inc = validate_incremental(settings, project=project)
    verdict = gate("annotations", settings=settings)
    say(
        f"   {inc.mode}: {sum(r.status == 'pass' for r in inc.results)}/{len(inc.results)} "
        f"checks pass in {inc.duration:.1f}s (the full run: {run.duration:.1f}s); gate -> "
        f"{_answer(verdict)}"
    )
    ok = ok and inc.mode == "incremental" and inc.exit_code == ExitCode.OK and verdict.allowed
    gap = exampledata.append_batches(
        clean_db, base_rows=rows, rows=max(100, rows // 10), missing_tool=5
    )
    say(
        f"7. another batch lands ({gap['annotations']:,} annotations), 5 of its labels "
        "without a tool (a provenance gap)"
    )
    verdict = gate("annotations", settings=settings)
    say(f"   gate -> {_answer(verdict)}")
    ok = ok and not verdict.allowed
    run = validate(settings, project=project)
    failing = [r for r in run.results if r.status != "pass"]
    for r in failing:
        say(
            f"   validate: {r.status.upper()} {r.check_id} ({r.failures} failing rows; "
            f"owner {r.owner})"
        )
    verdict = gate("annotations", settings=settings)
    say(f"   gate -> {_answer(verdict)}")
    ok = ok and not verdict.allowed and bool(failing)
    problems, entries = Ledger(settings.ledger_path).verify()
    say(
        f"8. ledger verify: {len(entries)} entries, "
        f"{'chain intact' if not problems else 'TAMPERED: ' + problems[0]}"
    )
    return ok and not problems


def _faults_caught(
    rows: int, workdir: Path, project: DbtProject, faults: tuple[str, ...], say: Say
) -> bool:
    """Steps 9 on: each fault injected into fresh data, and what `dbt build` caught."""
    from validator.example import data as exampledata

    ok = True
    for number, fault in enumerate(faults, start=9):
        db = workdir / fault / "labelpact.duckdb"
        exampledata.generate(db, rows=rows, seed=7, fault=fault)
        say(f"{number}. inject fault '{fault}': {exampledata.FAULTS[fault]}")
        result = project.build(env={"LABELPACT_DUCKDB": str(db.resolve())})
        if result.failing_ids:
            for cid in sorted(result.failing_ids):
                say(f"   dbt build caught: {cid} ({_caught(result.outcomes[cid])})")
        else:
            ok = False
            say("   MISSED: dbt build passed")
    return ok


def _caught(outcome: CheckOutcome) -> str:
    """`12 failing rows`, or for a schema check the columns that do not match."""
    if outcome.failures is not None:
        return f"{outcome.failures:,} failing row{'s' if outcome.failures != 1 else ''}"
    mismatches = schema_mismatches(outcome.message)
    if mismatches:
        return "; ".join(
            f"column {m.column}: {m.problem}"
            + (
                f" ({m.warehouse_type} in the warehouse, {m.contract_type} in the contract)"
                if m.problem == "type mismatch"
                else ""
            )
            for m in mismatches
        )
    return outcome.message.splitlines()[0][:200] if outcome.message else outcome.status

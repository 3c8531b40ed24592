"""Faults at run time: each gives a clear error and a non-zero exit, and the ledger never holds
a partial entry or a false "pass"."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from helpers import ROOT

from validator.errors import EngineError, ExitCode, LabelpactError
from validator.verdict.ledger import Ledger
from validator.verdict.validate import validate


def _env(db: Path, ledger: Path) -> dict[str, str]:
    return dict(os.environ, LABELPACT_DUCKDB=str(db), LABELPACT_LEDGER=str(ledger))


def _copy(warehouses, tmp_path: Path, fault: str | None = None) -> Path:  # type: ignore[no-untyped-def]
    db = tmp_path / "wh" / "labelpact.duckdb"
    db.parent.mkdir(exist_ok=True)
    shutil.copy(warehouses.path(fault), db)
    return db


def test_unreachable_warehouse_is_an_engine_error_and_records_nothing(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.jsonl"
    env = dict(
        os.environ,
        DBT_TARGET="postgres",
        LABELPACT_PG_HOST="127.0.0.1",
        LABELPACT_PG_PORT="1",
        LABELPACT_LEDGER=str(ledger),
    )
    proc = subprocess.run(
        [sys.executable, "-m", "validator", "validate"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == ExitCode.INVALID
    assert "labelpact: error:" in proc.stderr and "Traceback" not in proc.stderr
    assert not ledger.exists() or Ledger(ledger).verify() == ([], [])


def test_missing_table_fails_the_verdict_never_passes(warehouses, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db = _copy(warehouses, tmp_path)
    con = duckdb.connect(str(db))
    con.execute("DROP TABLE raw.items")
    con.close()
    settings = warehouses.settings(None, tmp_path / "l.jsonl", db)
    try:
        run = validate(settings, project=warehouses.project)
    except EngineError as exc:  # no relation to fingerprint: nothing recorded
        assert "items" in str(exc)
        assert not settings.ledger_path.exists()
        return
    assert run.verdicts["items"].status == "fail"
    assert run.exit_code == ExitCode.VIOLATIONS
    problems, entries = Ledger(settings.ledger_path).verify()
    assert problems == [] and entries[-1].record["contracts"]["items"]["status"] == "fail"


def test_dbt_compile_error_is_reported_not_a_pass(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(
        ROOT,
        project,
        ignore=shutil.ignore_patterns(".venv", "target", ".git", "bench", "tests", "*.duckdb"),
    )
    model = project / "models" / "labelpact" / "items.sql"
    model.write_text(model.read_text().replace("select *", "select * {% if %}"))
    proc = subprocess.run(
        [sys.executable, "-m", "validator", "validate", "--project-dir", str(project)],
        cwd=ROOT,
        env=_env(tmp_path / "none.duckdb", tmp_path / "l.jsonl"),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == ExitCode.INVALID
    assert "stale" in proc.stderr  # a hand-edited model is caught before dbt even runs


def test_killed_mid_validate_leaves_a_verifiable_ledger(warehouses, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db = _copy(warehouses, tmp_path)
    ledger = tmp_path / "ledger.jsonl"
    for delay in (0.5, 2.5, 4.5):
        proc = subprocess.Popen(
            [sys.executable, "-m", "validator", "validate"],
            cwd=ROOT,
            env=_env(db, ledger),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    problems, entries = Ledger(ledger).verify()
    assert problems == []
    assert all(e.record["contracts"]["annotations"]["status"] == "pass" for e in entries)


def _limited(limit: int) -> None:
    import resource

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # write() then fails with EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def test_disk_full_while_writing_the_report(
    warehouses,
    tmp_path: Path,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from validator.cli import main
    from validator.compiler import artifacts as project

    db = _copy(warehouses, tmp_path)
    ledger = tmp_path / "ledger.jsonl"
    report = tmp_path / "out" / "report.json"
    report.parent.mkdir()
    monkeypatch.setenv("LABELPACT_DUCKDB", str(db))
    monkeypatch.setenv("LABELPACT_LEDGER", str(ledger))

    def full_disk(directory: Path) -> tuple[int, str]:
        path = directory / ".labelpact-full.tmp"
        path.touch()
        return os.open("/dev/full", os.O_WRONLY), str(path)  # every write: ENOSPC

    monkeypatch.setattr(project, "_temp_file", full_disk)
    assert main(["validate", "--format", "json", "-o", str(report)]) == ExitCode.INVALID
    err = capsys.readouterr().err
    assert "No space left on device" in err and "nothing was changed" in err
    assert list(report.parent.iterdir()) == []  # no report, no temp file left behind
    problems, entries = Ledger(ledger).verify()
    assert problems == [] and len(entries) == 1  # the verdict itself was recorded


def test_disk_full_while_appending_to_the_ledger_leaves_no_partial_entry(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.jsonl")
    ledger.append({"contracts": {"a": {"status": "pass"}}})
    size = ledger.path.stat().st_size
    code = (
        "import sys, signal, resource; sys.path.insert(0, sys.argv[2]);"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN);"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[3]),) * 2);"
        "from validator.verdict.ledger import Ledger, LedgerError\n"
        "try:\n Ledger(__import__('pathlib').Path(sys.argv[1])).append("
        "{'contracts': {'a': {'status': 'pass', 'pad': 'x' * 5000}}})\n"
        "except LedgerError as e:\n print(e); sys.exit(3)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(ledger.path), str(ROOT), str(size + 1000)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 3 and "nothing was recorded" in proc.stdout
    assert ledger.path.stat().st_size == size
    assert ledger.verify()[0] == []


def test_gx_raising_is_a_clear_engine_error(warehouses) -> None:  # type: ignore[no-untyped-def]
    from validator.compiler.plan import build_plans
    from validator.contract.resolve import load_contracts
    from validator.engines.gx_runner import run_suites

    plans = [
        p for p in build_plans(load_contracts([ROOT / "contracts"])) if p.contract.name == "items"
    ]
    with pytest.raises(EngineError, match=r"Great Expectations failed: .*no_such_schema"):
        run_suites(plans, duckdb_path=warehouses.path(None), schema="no_such_schema")


@pytest.mark.parametrize(
    "args", [["gate", "nope"], ["validate", "--select", "nope"], ["report", "--contract", "nope"]]
)
def test_unknown_contract_is_a_clear_usage_error(args: list[str], tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "validator", *args],
        cwd=ROOT,
        env=_env(tmp_path / "x.duckdb", tmp_path / "l.jsonl"),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode in (ExitCode.INVALID, ExitCode.VIOLATIONS)
    assert "Traceback" not in proc.stderr
    assert "nope" in proc.stdout + proc.stderr


def test_dbt_parse_error_is_an_engine_error(warehouses, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    project = tmp_path / "project"
    shutil.copytree(
        ROOT,
        project,
        ignore=shutil.ignore_patterns(
            ".venv", "target", ".git", "bench", "tests", "*.duckdb", "logs"
        ),
    )
    # the project's own (not labelpact's) macro is broken: dbt cannot parse the project
    (project / "macros" / "team_macros.sql").write_text("{% test broken(model) %}\nselect {{ \n")
    db = _copy(warehouses, tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "validator", "validate", "--project-dir", str(project)],
        cwd=ROOT,
        env=_env(db, tmp_path / "l.jsonl"),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == ExitCode.INVALID
    assert "dbt could not parse" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "l.jsonl").exists()


def test_compile_changes_nothing_when_one_file_cannot_be_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from validator.compiler import artifacts as project

    files = {f"d/f{i}.sql": f"new {i}\n" for i in range(5)}
    (tmp_path / "d").mkdir()
    for i in range(5):
        (tmp_path / "d" / f"f{i}.sql").write_text(f"old {i}\n")
    real, calls = project._temp_file, []

    def third_is_full(directory: Path) -> tuple[int, str]:
        calls.append(directory)
        if len(calls) == 3:
            path = directory / ".labelpact-full.tmp"
            path.touch()
            return os.open("/dev/full", os.O_WRONLY), str(path)
        return real(directory)

    monkeypatch.setattr(project, "_temp_file", third_is_full)
    with pytest.raises(LabelpactError, match="nothing was changed"):
        project.write_artifacts(files, tmp_path)
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == [f"f{i}.sql" for i in range(5)]
    assert [(tmp_path / "d" / f"f{i}.sql").read_text() for i in range(5)] == [
        f"old {i}\n" for i in range(5)
    ]
    monkeypatch.setattr(project, "_temp_file", real)
    assert project.write_artifacts(files, tmp_path) == 5
    assert (tmp_path / "d" / "f4.sql").read_text() == "new 4\n"


def test_a_report_written_into_the_project_root_keeps_the_compiled_artifacts(
    tmp_path: Path,
) -> None:
    """`labelpact validate -o report.json` in the project root once removed every compiled
    model, test and suite: the one-file write pruned them as stale artifacts."""
    from validator.cli import _emit
    from validator.compiler.artifacts import check_artifacts, compile_contracts, write_artifacts
    from validator.contract.resolve import load_contracts

    shutil.copytree(ROOT / "contracts", tmp_path / "contracts")
    files = compile_contracts(load_contracts([tmp_path / "contracts"]), root=tmp_path)
    write_artifacts(files, tmp_path)
    _emit('{"ok": true}', tmp_path / "report.json")
    assert check_artifacts(files, tmp_path, ["contracts"]) == []
    assert (tmp_path / "report.json").read_text() == '{"ok": true}\n'

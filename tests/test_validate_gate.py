"""validate, gate and reports against real warehouses (DuckDB, PostgreSQL, Spark) built by dbt
in-process, read through the dbt adapter of the profile's target."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest
from helpers import ROOT

from validator.cli import main
from validator.errors import ExitCode
from validator.output import run_report as reports
from validator.settings import Settings
from validator.verdict.gate import gate, parse_duration
from validator.verdict.ledger import Ledger
from validator.verdict.validate import validate


def _settings(engine, tmp_path: Path, fault: str | None = None) -> Settings:  # type: ignore[no-untyped-def]
    """The profile's target for `engine` with `fault` loaded (DuckDB: a copy of the file)."""
    ledger = tmp_path / "ledger.jsonl"
    if engine.name != "duckdb":
        return engine.settings(fault, ledger)
    db = tmp_path / "wh" / "labelpact.duckdb"
    db.parent.mkdir(exist_ok=True)
    shutil.copy(engine.path(fault), db)
    return engine.settings(fault, ledger, db)


FIRST_ROW = "annotation_id = (SELECT min(annotation_id) FROM raw.annotations)"
CHANGE_ONE_ROW = f"UPDATE raw.annotations SET confidence = 0.99 WHERE {FIRST_ROW}"


def _change_one_row(engine, settings: Settings) -> Callable[[], None]:  # type: ignore[no-untyped-def]
    """Change one row of raw.annotations; returns what puts the clean data back (the data and
    validation are shared with other tests, see `clean_runs`)."""
    if engine.name == "postgres":
        import psycopg2

        p = engine.params
        con = psycopg2.connect(
            host=p["host"], port=int(p["port"]), user=p["user"], dbname=p["dbname"]
        )
        con.cursor().execute(CHANGE_ONE_ROW)
        con.commit()
        con.close()
        engine.loaded = False  # the shared server's data is no longer the clean data
        return lambda: engine.load(None)
    if engine.name == "spark":  # plain Spark tables have no UPDATE: load a changed copy
        changed = settings.ledger_path.parent / "changed.duckdb"
        shutil.copy(engine.path(None), changed)
        with duckdb.connect(str(changed)) as con:
            con.execute(CHANGE_ONE_ROW)
        engine.server.load(changed)
        engine.loaded = False
        return lambda: engine.load(None)
    db = settings.env["LABELPACT_DUCKDB"]
    with duckdb.connect(db) as con:
        [(before,)] = con.execute(
            f"SELECT confidence FROM raw.annotations WHERE {FIRST_ROW}"
        ).fetchall()
        con.execute(CHANGE_ONE_ROW)

    def restore() -> None:
        with duckdb.connect(db) as con:
            con.execute(f"UPDATE raw.annotations SET confidence = ? WHERE {FIRST_ROW}", [before])

    return restore


@pytest.fixture(scope="module")
def clean_runs() -> dict[str, tuple[Settings, Any]]:
    """One validation of the clean data per engine (its settings and run), shared by the tests
    that read its outcome, its one-entry ledger and the warehouse it ran on (a validation
    costs ~7 s on Spark). A test that changes the data puts it back (`_change_one_row`)."""
    return {}


def _clean_run(engine, runs, tmp_path_factory) -> tuple[Settings, Any]:  # type: ignore[no-untyped-def]
    if engine.name not in runs:
        settings = _settings(engine, tmp_path_factory.mktemp(f"clean-{engine.name}"))
        runs[engine.name] = (settings, validate(settings, project=engine.project))
    engine.env(None)  # PostgreSQL, Spark: load the clean data again if another test replaced it
    return runs[engine.name]


@pytest.fixture()
def settings(engine, clean_runs, tmp_path_factory) -> Settings:  # type: ignore[no-untyped-def]
    return _clean_run(engine, clean_runs, tmp_path_factory)[0]


@pytest.fixture()
def validated(engine, clean_runs, tmp_path_factory):  # type: ignore[no-untyped-def]
    return _clean_run(engine, clean_runs, tmp_path_factory)[1]


def test_clean_validation_passes_and_is_recorded(validated, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    assert validated.exit_code == ExitCode.OK
    assert {v.status for v in validated.verdicts.values()} == {"pass"}
    fp = validated.verdicts["annotations"].fingerprint
    assert fp["version"] == "1.2.0"
    from validator.engines.warehouse import Warehouse

    with Warehouse(settings) as wh:
        ((count,),) = wh.query("SELECT COUNT(*) FROM raw.annotations")[1]
    assert fp["rows"] == count > 1000
    entries = Ledger(settings.ledger_path).entries()
    assert [e.seq for e in entries] == [1]
    assert entries[0].record["contracts"]["annotations"]["fingerprint"] == fp
    assert entries[0].record["environment"]["versions"]["dbt-core"]


def test_gate_passes_for_fresh_passing_unchanged_data(validated, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    verdict = gate("annotations", max_age="1h", settings=settings)
    assert verdict.allowed, verdict.reasons
    assert verdict.ledger_seq == 1


def test_gate_refuses_stale_verdicts(validated, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    verdict = gate("annotations", max_age="24h", settings=settings, now=later)
    assert not verdict.allowed
    assert verdict.reasons[0].startswith("latest validation is 2.0d old; the limit is 1.0d")


def test_gate_refuses_changed_data(validated, settings: Settings, engine) -> None:  # type: ignore[no-untyped-def]
    restore = _change_one_row(engine, settings)
    try:
        verdict = gate("annotations", settings=settings)
        assert not verdict.allowed
        assert len(verdict.reasons) == 1
        assert verdict.reasons[0].startswith("data changed since validation")
        # other contracts' data did not change
        assert gate("items", settings=settings).allowed
    finally:
        restore()
    # the validation is shared with other tests: its data is as it was again
    assert gate("annotations", settings=settings).allowed


def test_gate_refuses_failed_verdicts_and_hides_pii(engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings = _settings(engine, tmp_path, "bad_pattern")
    run = validate(settings, select=["annotations"], project=engine.project)
    assert run.exit_code == ExitCode.VIOLATIONS
    failed = [r for r in run.results if r.status != "pass"]
    assert [r.check_id for r in failed] == ["annotations.annotator_id.pattern"]
    assert failed[0].failures == 5
    assert 0 < len(failed[0].sample) <= 5
    assert all(s["annotator_id"] == "<pii>" for s in failed[0].sample)
    assert "annotator-7" not in json.dumps(reports.to_json(run))
    verdict = gate("annotations", settings=settings)
    assert not verdict.allowed
    assert "failed: annotations.annotator_id.pattern" in verdict.reasons[0]


def test_a_schema_failure_is_reported_apart_from_the_checks_it_kept_from_running(
    warehouses, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """The console and the gate name the failed schema check, and count the checks dbt did not
    run after it as not run (not as failed, and never as passed)."""
    settings = _settings(warehouses, tmp_path, "mistyped_column")
    run = validate(settings, select=["annotations"], project=warehouses.project)
    verdict = run.verdicts["annotations"]
    assert verdict.status == "fail"
    assert verdict.failing == ["annotations.schema"]
    skipped = sorted(r.check_id for r in run.results if r.status == "skipped")
    assert skipped and sorted(verdict.not_run) == skipped
    text = reports.console(run)
    assert "confidence" in text and "type mismatch" in text
    assert f"{len(skipped)} checks not run: annotations.schema failed" in text
    answer = gate("annotations", settings=settings)
    assert answer.reasons[0].endswith("failed: annotations.schema")
    assert answer.reasons[1].startswith(f"{len(skipped)} checks not run")


def test_gate_without_any_validation(warehouses, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings = _settings(warehouses, tmp_path)
    verdict = gate("annotations", settings=settings)
    assert not verdict.allowed
    assert "no validation of 'annotations'" in verdict.reasons[0]


def test_warnings_need_allow_warnings(warehouses, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings = warehouses.settings("label_skew", tmp_path / "ledger.jsonl")
    run = validate(settings, select=["annotations"], project=warehouses.project)
    assert run.exit_code == ExitCode.WARNINGS
    assert not gate("annotations", settings=settings).allowed
    assert gate("annotations", settings=settings, allow_warnings=True).allowed


def test_junit_report_parses_with_a_junit_reader(warehouses, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from junitparser import Failure, JUnitXml

    settings = warehouses.settings("missing_notes", tmp_path / "ledger.jsonl")
    run = validate(settings, project=warehouses.project, record=False)
    path = tmp_path / "report.xml"
    path.write_text(reports.junit(run))
    xml = JUnitXml.fromfile(str(path))
    cases = {case.name: case for suite in xml for case in suite}
    assert len(cases) == len(run.results)
    failing = [
        name for name, case in cases.items() if any(isinstance(r, Failure) for r in case.result)
    ]
    assert failing == ["annotations.uncertainty.notes_required"]


def test_openlineage_facets_load_in_the_openlineage_client(
    warehouses, clean_runs, tmp_path_factory
) -> None:  # type: ignore[no-untyped-def]
    validated = _clean_run(warehouses, clean_runs, tmp_path_factory)[1]  # DuckDB's clean run
    from openlineage.client.generated.data_quality_assertions_dataset import (
        Assertion,
        DataQualityAssertionsDatasetFacet,
    )
    from openlineage.client.serde import Serde

    doc = reports.openlineage(validated)
    assert len(doc["inputs"]) == 5  # one per example contract
    for dataset in doc["inputs"]:
        facet = dataset["inputFacets"]["dataQualityAssertions"]
        model = DataQualityAssertionsDatasetFacet(
            assertions=[Assertion(**a) for a in facet["assertions"]]
        )
        round_trip = Serde.to_dict(model)
        for ours, theirs in zip(facet["assertions"], round_trip["assertions"], strict=True):
            assert {k: theirs[k] for k in ours} == ours
        assert all(a["success"] for a in facet["assertions"])


def test_parse_duration() -> None:
    assert parse_duration("90s") == dt.timedelta(seconds=90)
    assert parse_duration("24h") == dt.timedelta(days=1)
    with pytest.raises(Exception, match="invalid duration 'soon'"):
        parse_duration("soon")


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "validator", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.slow
def test_concurrent_validate_and_gate_keep_the_ledger_intact(warehouses, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import os

    settings = _settings(warehouses, tmp_path)
    env = dict(
        os.environ,
        LABELPACT_DUCKDB=settings.env["LABELPACT_DUCKDB"],
        LABELPACT_LEDGER=str(settings.ledger_path),
    )
    procs = []
    for i in range(6):
        cmd = ["validate", "--select", "items"] if i % 2 == 0 else ["gate", "items"]
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "validator", *cmd],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    outcomes = []
    for p in procs:
        out, err = p.communicate(timeout=600)
        outcomes.append((p.args[3], p.returncode, out + err))
    for command, code, output in outcomes:
        if command == "validate":
            assert code == 0 or (code == 3 and "busy" in output), output
        else:  # a gate may run before any validate finished
            assert (
                code == 0
                or (code == 1 and "no validation" in output)
                or (code == 3 and "busy" in output)
            ), output
    problems, entries = Ledger(settings.ledger_path).verify()
    assert problems == []
    assert len(entries) == sum(1 for c, code, _ in outcomes if c == "validate" and code == 0)
    assert entries
    assert _cli("ledger", "verify", env=env).returncode == 0


def test_validate_with_gx_records_both_engines(engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """GX reads the warehouse of the profile's target (PostgreSQL: its credentials; Spark: the
    session dbt built in, through GX's Spark datasource)."""
    settings = _settings(engine, tmp_path, "missing_notes")
    run = validate(settings, select=["annotations"], project=engine.project, gx=True)
    by_id = {r.check_id: r for r in run.results}
    assert all(r.gx_status is not None for r in run.results)
    failed = by_id["annotations.uncertainty.notes_required"]
    assert (failed.status, failed.gx_status, failed.failures, failed.gx_failures) == (
        "fail",
        "fail",
        5,
        5,
    )
    assert {r.check_id for r in run.results if r.status != "pass"} == {failed.check_id}
    entry = Ledger(settings.ledger_path).entries()[-1]
    assert {c["id"]: c["gx_status"] for c in entry.record["checks"]}[failed.check_id] == "fail"


def test_ledger_is_mirrored_in_the_warehouse(
    validated, settings: Settings, engine, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """The mirror keys rows by ledger: on the shared PostgreSQL and Spark warehouses earlier
    tests' ledgers mirrored there too, and a second ledger with more entries than this one
    (its entry 2 once looked deleted from this file) mirrors beside it without clashing."""
    from dataclasses import replace

    from validator.verdict.ledger import compare_with_warehouse, mirror_to_warehouse

    assert validated.warnings == []
    entries = Ledger(settings.ledger_path).entries()
    assert compare_with_warehouse(settings, entries) == []
    other = replace(settings, ledger_path=tmp_path / "other" / "ledger.jsonl")
    other_ledger = Ledger(other.ledger_path)
    for when in ("2001-01-01T00:00:00+00:00", "2001-01-02T00:00:00+00:00"):
        mirror_to_warehouse(other, other_ledger.append(entries[0].record | {"started_at": when}))
    other_entries = other_ledger.entries()
    assert other_entries[0].hash != entries[0].hash
    assert compare_with_warehouse(other, other_entries) == []
    assert compare_with_warehouse(settings, entries) == []
    assert compare_with_warehouse(other, other_entries[:1]) == [
        "entry 2: in the warehouse mirror but not in the file"
    ]
    # an entry edited in the file no longer matches the warehouse copy
    edited = entries[0].record | {"started_at": "1999-01-01T00:00:00+00:00"}
    forged = [type(entries[0])(entries[0].seq, entries[0].prev, entries[0].hash, edited)]
    assert compare_with_warehouse(settings, forged) == [
        "entry 1: differs between the file and the warehouse mirror"
    ]


def test_ledger_mirror_fills_a_mirror_that_missed_entries(
    validated, settings: Settings, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """Entries whose mirror write never happened (a failed write, a ledger from before the
    mirror was keyed by ledger) are reported missing, and `ledger mirror` fills them in; a
    ledger that does not verify is not copied."""
    from dataclasses import replace

    from validator.verdict.ledger import compare_with_warehouse, mirror_all

    record = Ledger(settings.ledger_path).entries()[0].record
    third = replace(settings, ledger_path=tmp_path / "third" / "ledger.jsonl")
    ledger = Ledger(third.ledger_path)
    for when in ("2002-01-01T00:00:00+00:00", "2002-01-02T00:00:00+00:00"):
        ledger.append(record | {"started_at": when})
    entries = ledger.entries()
    ledger_id = ledger.ledger_id()
    assert ledger_id is not None
    [never] = compare_with_warehouse(third, entries)
    assert never.startswith(f"ledger {ledger_id[:12]}: no entries in the warehouse mirror")
    mirror_all(third, entries[:1], ledger_id)
    assert compare_with_warehouse(third, entries) == [
        "entry 2: missing from the warehouse mirror (`labelpact ledger mirror` copies it)"
    ]
    mirror_all(third, entries, ledger_id)
    mirror_all(third, entries, ledger_id)  # idempotent
    assert compare_with_warehouse(third, entries) == []


def test_ledger_mirror_command_refuses_a_ledger_that_does_not_verify(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = Ledger(tmp_path / "ledger.jsonl")
    for i in range(2):
        ledger.append({"contracts": {"annotations": {"status": "pass", "i": i}}})
    lines = ledger.path.read_text().splitlines()
    lines[0] = lines[0].replace('"pass"', '"fail"')
    ledger.path.write_text("\n".join(lines) + "\n")
    code = main(["ledger", "mirror", "--project-dir", str(ROOT), "--ledger", str(ledger.path)])
    out = capsys.readouterr()
    assert code == 1
    assert "TAMPERED: entry 1" in out.out and "not mirrored" in out.err


def test_gate_of_an_unknown_contract_is_invalid_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A mistyped name must not read as "no validation yet, run validate"."""
    ledger = str(tmp_path / "ledger.jsonl")
    assert main(["gate", "nosuch", "--project-dir", str(ROOT), "--ledger", ledger]) == 3
    err = capsys.readouterr().err
    assert "unknown contract 'nosuch'; expected one of: adjudications, annotations," in err
    assert "run `labelpact validate`" not in err
    assert main(["gate", "annotatons", "--project-dir", str(ROOT), "--ledger", ledger]) == 3
    assert "unknown contract 'annotatons'; did you mean 'annotations'?" in capsys.readouterr().err


def _cli_validate(settings: Settings, monkeypatch: pytest.MonkeyPatch, *extra: str) -> int:
    monkeypatch.setenv("LABELPACT_DUCKDB", settings.env["LABELPACT_DUCKDB"])
    ledger = str(settings.ledger_path)
    return main(
        ["validate", "--select", "items", "--project-dir", str(ROOT), "--ledger", ledger, *extra]
    )


def test_validate_refuses_a_broken_ledger_and_new_ledger_starts_over(
    warehouses, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:  # type: ignore[no-untyped-def]
    """One bad line must not block every gate while validate keeps appending behind it."""
    settings = _settings(warehouses, tmp_path)
    ledger = Ledger(settings.ledger_path)
    for i in range(2):
        ledger.append({"contracts": {"items": {"status": "pass", "i": i}}})
    broken = settings.ledger_path.read_text().replace('"i":0', '"i":7')
    settings.ledger_path.write_text(broken)
    assert _cli_validate(settings, monkeypatch) == 3
    err = capsys.readouterr().err
    assert "TAMPERED: entry 1 (line 1): contents were edited" in err
    assert "does not verify; nothing was validated or appended" in err
    assert "`labelpact ledger rotate`" in err
    assert settings.ledger_path.read_text() == broken
    assert _cli_validate(settings, monkeypatch, "--new-ledger") == 0
    captured = capsys.readouterr()
    [kept] = tmp_path.glob("ledger.*Z.jsonl")
    assert f"moved {settings.ledger_path} -> {kept} (kept for audit)" in captured.err
    assert kept.read_text() == broken
    problems, entries = ledger.verify()
    assert problems == [] and [e.seq for e in entries] == [1]
    assert entries[0].record["contracts"]["items"]["status"] == "pass"


def test_a_rolled_back_ledger_stays_evident_after_the_next_validate(
    warehouses, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:  # type: ignore[no-untyped-def]
    """The file and head put back one entry: the next validate appends a new entry 2, but the
    mirror keeps the old entry 2 (the evidence) and validate says so; so does `ledger mirror`.
    Then the source table is dropped: gate refuses naming it, validate names it."""
    from validator.verdict.ledger import (
        ROLLBACK_WARNING,
        compare_with_warehouse,
        mirror_to_warehouse,
    )

    settings = _settings(warehouses, tmp_path)
    assert _cli_validate(settings, monkeypatch) == 0
    ledger = Ledger(settings.ledger_path)
    earlier = (ledger.path.read_bytes(), ledger.head_path.read_bytes())
    first = ledger.entries()[0]
    later = ledger.append(first.record | {"started_at": "2001-01-01T00:00:00+00:00"})
    mirror_to_warehouse(settings, later)
    ledger.path.write_bytes(earlier[0])
    ledger.head_path.write_bytes(earlier[1])
    assert compare_with_warehouse(settings, ledger.entries()) == [
        "entry 2: in the warehouse mirror but not in the file"
    ]
    capsys.readouterr()
    assert _cli_validate(settings, monkeypatch) == 0
    err = capsys.readouterr().err
    assert f"WARNING: ledger entry 2 not mirrored to the warehouse: {ROLLBACK_WARNING} 2" in err
    assert "may have been rolled back" in err
    entries = ledger.entries()
    assert entries[1].hash != later.hash
    assert compare_with_warehouse(settings, entries) == [
        "entry 2: differs between the file and the warehouse mirror"
    ]
    assert compare_with_warehouse(settings, [first, later]) == []  # the old row is still there
    mirror = ["ledger", "mirror", "--project-dir", str(ROOT), "--ledger", str(ledger.path)]
    assert main(mirror) == 1
    assert f"{ROLLBACK_WARNING} 2 for this ledger" in capsys.readouterr().err
    assert compare_with_warehouse(settings, [first, later]) == []

    with duckdb.connect(settings.env["LABELPACT_DUCKDB"]) as con:
        con.execute("DROP TABLE raw.items")
    answer = gate("items", settings=settings)
    assert not answer.allowed
    gone = 'contract \'items\': its source "labelpact"."raw"."items" does not exist on duckdb '
    assert any(r.startswith(gone) for r in answer.reasons), answer.reasons
    assert _cli_validate(settings, monkeypatch) == 3
    assert gone in capsys.readouterr().err

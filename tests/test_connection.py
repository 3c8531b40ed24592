"""One connection path: the project, profile and target are found as dbt finds them, and every
query labelpact runs goes through the dbt adapter of that target (regressions of issue #14)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from helpers import ROOT

from validator.engines.warehouse import Warehouse
from validator.errors import EngineError
from validator.settings import Settings
from validator.verdict.ledger import Ledger
from validator.verdict.validate import validate


def _profiles(directory: Path, path: Path, target: str = "team") -> Path:
    """A team's own profiles.yml (outside the project) with a DuckDB target at `path`."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "profiles.yml").write_text(
        f"labelpact:\n  target: other\n  outputs:\n"
        f"    other: {{type: duckdb, path: '{directory / 'never.duckdb'}'}}\n"
        f"    {target}: {{type: duckdb, path: '{path}', threads: 1}}\n",
        encoding="utf-8",
    )
    return directory


def test_settings_follow_dbts_precedence(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "models").mkdir(parents=True)
    (project / "dbt_project.yml").write_text("name: p\n", encoding="utf-8")
    below = project / "models"
    # defaults: the project is found upwards from the working directory; no profiles.yml in
    # it, so ~/.dbt; the profile's own default target
    s = Settings.from_env({}, cwd=below)
    assert (s.project_dir, s.profiles_dir, s.target) == (project, Path.home() / ".dbt", None)
    assert s.ledger_path == project / ".labelpact" / "ledger.jsonl"
    (project / "profiles.yml").write_text("{}\n", encoding="utf-8")
    assert Settings.from_env({}, cwd=below).profiles_dir == project
    env = {"DBT_PROJECT_DIR": "/elsewhere", "DBT_PROFILES_DIR": "/profiles", "DBT_TARGET": "prod"}
    s = Settings.from_env(env, cwd=below)
    assert (s.project_dir, s.profiles_dir, s.target) == (
        Path("/elsewhere"),
        Path("/profiles"),
        "prod",
    )
    s = Settings.from_env(env, cwd=below, project_dir=project, profiles_dir=tmp_path, target="dev")
    assert (s.project_dir, s.profiles_dir, s.target) == (project, tmp_path, "dev")


def test_a_missing_duckdb_file_is_named_and_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "gone" / "warehouse.duckdb"
    (tmp_path / "gone").mkdir()
    settings = Settings(
        project_dir=ROOT, ledger_path=tmp_path / "l.jsonl", env={"LABELPACT_DUCKDB": str(missing)}
    )
    with pytest.raises(EngineError, match=f"database file {missing} does not exist"):
        validate(settings)
    assert not missing.exists()  # dbt would have created it empty
    assert not settings.ledger_path.exists()


def test_replacement_scans_are_off_on_labelpacts_duckdb_connections(warehouses, tmp_path):  # type: ignore[no-untyped-def]
    settings = warehouses.settings(None, tmp_path / "l.jsonl")
    with Warehouse(settings) as wh:
        _, rows = wh.query("SELECT current_setting('python_enable_replacements')")
        assert rows == [(False,)]
        lp_trap = duckdb.sql("SELECT 42 AS answer")  # noqa: F841 - a variable named like a table
        with pytest.raises(EngineError, match="lp_trap"):
            wh.query("SELECT * FROM lp_trap")


def test_the_warehouse_describes_the_profiles_target(warehouses, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings = warehouses.settings(None, tmp_path / "l.jsonl")
    where = Warehouse(settings).describe()
    assert (where["adapter"], where["target"], where["profile"]) == (
        "duckdb",
        "duckdb",
        "labelpact",
    )
    assert where["location"]["path"] == str(warehouses.path(None))


def test_validate_builds_and_reads_the_warehouse_the_profile_names(warehouses, tmp_path):  # type: ignore[no-untyped-def]
    """The team's profiles directory and target reach every part of the run: dbt builds in the
    file the profile names (a name other than the default's) and the verdict reads it."""
    db = tmp_path / "data" / "team.duckdb"
    db.parent.mkdir()
    shutil.copy(warehouses.path(None), db)
    profiles = _profiles(tmp_path / "dot-dbt", db)
    ledger = tmp_path / "ledger.jsonl"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LABELPACT_", "DBT_"))}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "validator",
            "validate",
            "--select",
            "items",
            "--project-dir",
            str(ROOT),
            "--profiles-dir",
            str(profiles),
            "--target",
            "team",
            "--ledger",
            str(ledger),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    with duckdb.connect(str(db), read_only=True) as con:
        built = con.sql(
            "SELECT table_schema FROM information_schema.tables WHERE table_name = 'items'"
        ).fetchall()
    assert sorted(built) == [("main",), ("raw",)]  # the model dbt built, beside its source
    assert not (profiles / "never.duckdb").exists()
    record = Ledger(ledger).entries()[-1].record
    assert record["environment"]["engine"] == "duckdb"
    assert record["environment"]["target"] == "team"
    assert record["environment"]["warehouse"]["path"] == str(db)
    assert record["contracts"]["items"]["fingerprint"]["relation"].startswith('"team"')


def test_labelpacts_postgres_sessions_are_read_only(postgres_warehouses, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Reads go through the profile's credentials in a read-only session; only the ledger
    mirror (`audit=True`) may write."""
    settings = postgres_warehouses.settings(None, tmp_path / "l.jsonl")
    with Warehouse(settings) as wh:
        assert wh.describe()["adapter"] == "postgres"
        with pytest.raises(EngineError, match="read-only transaction"):
            wh.query("CREATE TABLE raw.lp_must_not_exist (x INTEGER)")


def test_gx_run_reads_the_profiles_target(warehouses, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    from validator.cli import main

    monkeypatch.setenv("LABELPACT_DUCKDB", str(warehouses.path("bad_pattern")))
    monkeypatch.chdir(ROOT)
    assert main(["gx", "run", "--select", "annotations"]) == 1
    out = capsys.readouterr().out
    assert "FAIL   annotations.annotator_id.pattern (5 failing)" in out


def test_labelpact_yml_places_contracts_and_ledger(tmp_path: Path) -> None:
    """labelpact's own settings come from the project's labelpact.yml; flag/env still win."""
    from validator.settings import Settings

    (tmp_path / "dbt_project.yml").write_text("name: p\nprofile: p\n")
    (tmp_path / "labelpact.yml").write_text("contracts: data/contracts\nledger: audit/l.jsonl\n")
    s = Settings.from_env({}, cwd=tmp_path, project_dir=tmp_path)
    assert s.contracts_dir == tmp_path / "data" / "contracts"
    assert s.ledger_path == tmp_path / "audit" / "l.jsonl"
    env = {"LABELPACT_LEDGER": str(tmp_path / "env.jsonl")}
    assert Settings.from_env(env, project_dir=tmp_path).ledger_path == tmp_path / "env.jsonl"


def test_contracts_elsewhere_are_named_not_called_stale(tmp_path: Path) -> None:
    """Regression: with no contracts under the project, validate said "compiled artifacts are
    stale, run labelpact compile"; it now names the directory it read, or the contracts that
    were never compiled, and the command that fixes it."""
    from validator.errors import LabelpactError, UsageError
    from validator.settings import Settings
    from validator.verdict.validate import load_plans

    project = tmp_path / "project"
    project.mkdir()
    (project / "dbt_project.yml").write_text("name: p\nprofile: p\n")
    with pytest.raises(UsageError, match=r"no contracts directory .*contracts"):
        load_plans(Settings(project_dir=project))
    shutil.copytree(ROOT / "contracts", project / "contracts")
    with pytest.raises(
        LabelpactError, match=r"are not compiled into .* yet; run `labelpact compile"
    ):
        load_plans(Settings(project_dir=project))

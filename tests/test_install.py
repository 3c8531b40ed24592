"""labelpact as a team installs it: a wheel built from this repository, in a fresh virtualenv
outside the repository, driving a new dbt project whose profiles live in another directory.

The fresh virtualenv gets the wheel itself (`pip install --no-deps`); its dependencies (dbt,
GX, ...) come from this test run's environment through a path entry, because installing them
again from the registry would cost minutes per run. `validator` and its package data (macros,
the dbt package, the JSON Schema) are therefore read from the installed wheel, never from the
repository: the test asserts where `validator` was imported from.

One project per engine (DuckDB, PostgreSQL): `labelpact init`, `init --from` a table created
there, `lint`, `compile`, `dbt build`, `validate`, `gate`; and a second project that installs
labelpact's dbt package from the wheel through packages.yml.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import pytest
from helpers import ROOT

ENGINES = ("duckdb", "postgres")
DBT = str(Path(sys.executable).with_name("dbt"))


# The fresh virtualenv must not see this checkout: no PYTHONPATH (a test runner may set one).
CLEAN_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The `bin` directory of a fresh virtualenv holding labelpact's wheel."""
    base = tmp_path_factory.mktemp("install")
    dist = base / "dist"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(dist)],
        capture_output=True,
        text=True,
        check=False,
        env=CLEAN_ENV,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    assert "deprecat" not in (build.stdout + build.stderr).lower()
    (wheel,) = dist.glob("labelpact-*.whl")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, env=CLEAN_ENV)
    python = venv / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
        capture_output=True,
        text=True,
        check=False,
        env=CLEAN_ENV,
        cwd=base,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
        env=CLEAN_ENV,
    ).stdout.strip()
    # the dependencies, from this environment (see the module docstring)
    (Path(site) / "labelpact_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    where = subprocess.run(
        [str(python), "-c", "import validator; print(validator.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        cwd=base,
        env=CLEAN_ENV,
    ).stdout.strip()
    assert where.startswith(site), f"validator imported from {where}, not the wheel"
    return venv / "bin"


def _profile(engine: str, base: Path, pg: Any) -> str:
    if engine == "duckdb":
        return (
            f"    dev:\n      type: duckdb\n      path: {base / 'team.duckdb'}\n      threads: 2\n"
        )
    p = pg.params
    return (
        "    dev:\n      type: postgres\n"
        f"      host: {p['host']}\n      port: {p['port']}\n      user: {p['user']}\n"
        f"      password: '{p.get('password', '')}'\n      dbname: {p['dbname']}\n"
        "      schema: team\n      threads: 2\n"
    )


def _create_table(engine: str, base: Path, pg: Any) -> None:
    """The team's table, in a schema of its own (the PostgreSQL server is shared with the
    engine-parametrised tests, whose example data lives in `raw`)."""
    rows = ", ".join(
        f"({i}, 'ann_{i % 4}', '{['cat', 'dog', 'bird'][i % 3]}', {(i % 10) / 10}, "
        f"TIMESTAMP '2026-01-01 00:00:00' + INTERVAL '{i} minutes', 'item_{i // 3}')"
        for i in range(300)
    )
    ddl = [
        "CREATE SCHEMA IF NOT EXISTS team_raw",
        "DROP TABLE IF EXISTS team_raw.annotations",
        "CREATE TABLE team_raw.annotations (annotation_id BIGINT, annotator_id VARCHAR,"
        " label VARCHAR, confidence DOUBLE PRECISION, annotated_at TIMESTAMP, item_id VARCHAR)",
        f"INSERT INTO team_raw.annotations VALUES {rows}",
    ]
    if engine == "duckdb":
        import duckdb

        con = duckdb.connect(str(base / "team.duckdb"))
        for sql in ddl:
            con.execute(sql)
        con.close()
        return
    import psycopg2

    p = pg.params
    con = psycopg2.connect(
        host=p["host"], port=int(p["port"]), user=p["user"], dbname=p["dbname"],
        password=p.get("password", ""),
    )  # fmt: skip
    con.autocommit = True
    with con.cursor() as cur:
        for sql in ddl:
            cur.execute(sql)
    con.close()


@pytest.fixture(params=ENGINES)
def team(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A new dbt project (profiles in another directory) with a table, and its environment."""
    engine = request.param
    pg = request.getfixturevalue("pg_server") if engine == "postgres" else None
    project, profiles = tmp_path / "team_project", tmp_path / "team_profiles"
    project.mkdir()
    profiles.mkdir()
    (project / "dbt_project.yml").write_text(
        'name: team_labels\nversion: "1.0.0"\nconfig-version: 2\nprofile: team\n'
    )
    (profiles / "profiles.yml").write_text(
        "team:\n  target: dev\n  outputs:\n" + _profile(engine, tmp_path, pg)
    )
    _create_table(engine, tmp_path, pg)
    env = {k: v for k, v in CLEAN_ENV.items() if not k.startswith(("LABELPACT_", "DBT_"))}
    env["DBT_PROFILES_DIR"] = str(profiles)
    return project, env


def _run(cmd: list[str], project: Path, env: dict[str, str]) -> str:
    proc = subprocess.run(
        cmd, cwd=project, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert proc.returncode == 0, f"{' '.join(cmd)}:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def test_a_team_project_from_init_to_gate(
    installed: Path, team: tuple[Path, dict[str, str]]
) -> None:
    project, env = team
    lp = str(installed / "labelpact")
    out = _run([lp, "init"], project, env)
    assert "wrote labelpact.yml" in out and "created contracts/" in out
    assert "kept labelpact.yml" in _run([lp, "init"], project, env)  # idempotent
    out = _run([lp, "init", "--from", "team_raw.annotations"], project, env)
    contract = (project / "contracts" / "annotations.yml").read_text()
    assert "annotation_id: {type: bigint, required: true, unique: true}" in contract
    assert "label: {type: varchar, required: true, accepted_values: [bird, cat, dog]}" in contract
    assert "confidence: {type: double, required: true, between: [0, 1]}" in contract
    assert "# provenance: {annotator: annotator_id, timestamp: annotated_at}" in contract
    assert "1 contract(s) OK" in _run([lp, "lint"], project, env)
    _run([lp, "compile", "contracts"], project, env)
    assert (project / "macros" / "labelpact" / "labelpact_tests.sql").exists()
    assert (project / "models" / "labelpact" / "annotations.yml").exists()
    build = _run([DBT, "build"], project, env)
    assert "Completed successfully" in build
    out = _run([lp, "validate"], project, env)
    assert "annotations 0.1.0: PASS" in out
    assert "PASS annotations" in _run([lp, "gate", "annotations"], project, env)


def test_labelpacts_dbt_package_from_the_wheel(installed: Path, tmp_path: Path) -> None:
    """A second project installs the dbt package shipped inside the wheel (packages.yml)."""
    site = next((installed.parent / "lib").glob("python3*/site-packages"))
    package = site / "validator" / "dbt_package"
    assert (package / "dbt_project.yml").is_file()
    project = tmp_path / "consumer"
    (project / "models").mkdir(parents=True)
    (project / "dbt_project.yml").write_text(
        'name: consumer\nversion: "1.0.0"\nconfig-version: 2\nprofile: consumer\n'
    )
    (project / "profiles.yml").write_text(
        "consumer:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
        f"      path: {tmp_path / 'c.duckdb'}\n"
    )
    (project / "packages.yml").write_text(f"packages:\n  - local: {package}\n")
    (project / "models" / "labels.sql").write_text(
        "select * from (values (1, 'cat'), (2, 'dog')) as t(id, label)"
    )
    (project / "models" / "schema.yml").write_text(
        "version: 2\nmodels:\n  - name: labels\n    columns:\n      - name: label\n"
        "        data_tests: [{labelpact.accepted_values: {arguments: {values: [cat, dog]}}}]\n"
    )
    env = {k: v for k, v in CLEAN_ENV.items() if not k.startswith(("LABELPACT_", "DBT_"))}
    env["DBT_PROFILES_DIR"] = str(project)
    _run([DBT, "deps"], project, env)
    assert "PASS=2" in _run([DBT, "build"], project, env)

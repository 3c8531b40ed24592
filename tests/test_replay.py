"""`validate` replays dbt's last `dbt run` without dbt when nothing dbt reads changed
(`engines/replay.py`, `engines/recorded.py`): the replayed run must give dbt's verdict on every
kind of fault, fall back to dbt when a relation's columns differ from what dbt accepted, and
never replay after a change to anything dbt reads."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest
from helpers import EXPECTED, ROOT, SCHEMA_FAULTS

from validator.engines import recorded, replay
from validator.settings import Settings
from validator.verdict.validate import _selector, load_plans, validate

# Faults the replay treats differently: data only (the checks read the replayed views), the
# shared per-item table (rebuilt by the replay), the key and every schema fault (the columns
# differ from what dbt accepted: dbt builds).
FAULTS = [
    "bad_label",
    "duplicate_key",
    "unadjudicated_disagreement",
    "undercovered_items",
    *sorted(SCHEMA_FAULTS),
]
assert set(FAULTS) <= set(EXPECTED)


def _outcomes(run: Any) -> dict[str, tuple[str, int | None]]:
    return {r.check_id: (r.status, r.failures) for r in run.results}


@pytest.fixture(scope="module")
def recorded_clean(duckdb_warehouses, tmp_path_factory):  # type: ignore[no-untyped-def]
    """A DuckDB file validated once by dbt on clean data (which recorded the run), and that
    run's result."""
    base = tmp_path_factory.mktemp("replay")
    db = base / "data" / "labelpact.duckdb"  # the catalog is named after the file
    db.parent.mkdir()
    shutil.copy(duckdb_warehouses.path(None), db)
    settings = duckdb_warehouses.settings(None, base / "ledger" / "ledger.jsonl", db)
    run = validate(settings, project=duckdb_warehouses.project)
    assert not run.replayed
    return base, db, run


def _key(settings: Settings, selector: str) -> str:
    key = replay.run_digest(settings, selector)
    assert key is not None
    return key


def _recorded_settings(recorded_clean: Any) -> Settings:
    """Settings of the recorded run itself (its file, its ledger and state)."""
    base, db, _ = recorded_clean
    return Settings(
        project_dir=ROOT,
        ledger_path=base / "ledger" / "ledger.jsonl",
        env={"LABELPACT_DUCKDB": str(db)},
    )


def _replaying(recorded_clean: Any, source: Path, tmp_path: Path) -> Settings:  # type: ignore[no-untyped-def]
    """Settings on the recorded file with `source`'s data in it, and the recorded state."""
    base, db, _ = recorded_clean
    shutil.copy(source, db)
    shutil.copytree(base / "ledger" / "state", tmp_path / "state")
    return Settings(
        project_dir=ROOT,
        ledger_path=tmp_path / "ledger.jsonl",
        env={"LABELPACT_DUCKDB": str(db)},
    )


def test_an_unchanged_project_is_replayed_with_the_same_verdict(
    recorded_clean, duckdb_warehouses, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    settings = _replaying(recorded_clean, duckdb_warehouses.path(None), tmp_path)
    said: list[str] = []
    run = validate(settings, progress=said.append)
    assert run.replayed
    assert any("replayed without dbt" in m for m in said)
    assert _outcomes(run) == _outcomes(recorded_clean[2])
    fingerprints = {n: v.fingerprint for n, v in run.verdicts.items()}
    assert fingerprints == {n: v.fingerprint for n, v in recorded_clean[2].verdicts.items()}
    # the ledger says the models were not built by dbt this time
    record = json.loads(settings.ledger_path.read_text().splitlines()[-1])["record"]
    assert record["models"] == "replayed dbt run"


@pytest.mark.parametrize("fault", FAULTS)
def test_a_replayed_run_gives_dbt_builds_verdict(
    recorded_clean, duckdb_warehouses, fault: str, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    settings = _replaying(recorded_clean, duckdb_warehouses.path(fault), tmp_path)
    run = validate(settings)
    by_dbt = duckdb_warehouses.build(fault).outcomes  # `dbt build`, one node per check
    assert _outcomes(run) == {i: (o.status, o.failures) for i, o in by_dbt.items()}
    failing = {r.check_id for r in run.results if r.status in ("fail", "error", "warn")}
    assert failing == EXPECTED[fault]
    # columns that differ from what dbt accepted are dbt's to judge: no replay
    assert run.replayed is (fault not in SCHEMA_FAULTS)


def test_a_changed_model_is_built_by_dbt_again(
    recorded_clean, duckdb_warehouses, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """A model whose relation was altered behind labelpact's back is rebuilt from the
    recorded SQL (a view over the source, as dbt built it)."""
    settings = _replaying(recorded_clean, duckdb_warehouses.path(None), tmp_path)
    with duckdb.connect(str(recorded_clean[1])) as con:
        con.execute("CREATE OR REPLACE VIEW main.annotations AS SELECT 1 AS one")
    run = validate(settings)
    assert run.replayed
    assert _outcomes(run) == _outcomes(recorded_clean[2])


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    """A copy of the repository's dbt project (what dbt reads of it)."""
    copy = tmp_path / "project"
    copy.mkdir()
    for name in ("dbt_project.yml", "profiles.yml"):
        shutil.copy(ROOT / name, copy / name)
    for name in ("models", "macros", "checks", "contracts"):
        shutil.copytree(ROOT / name, copy / name)
    return copy


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


CHANGES = {
    "a model": lambda p: (p / "models" / "labelpact" / "annotations.sql").write_text(
        (p / "models" / "labelpact" / "annotations.sql").read_text() + "\n-- edited\n"
    ),
    "a macro": lambda p: (p / "macros" / "new.sql").write_text("{% macro x() %}1{% endmacro %}"),
    "an installed package": lambda p: _write(p / "dbt_packages" / "pkg" / "macros" / "m.sql", "x"),
    "the project file": lambda p: (p / "dbt_project.yml").write_text(
        (p / "dbt_project.yml").read_text() + "\nvars: {x: 1}\n"
    ),
    "the profile": lambda p: (p / "profiles.yml").write_text(
        (p / "profiles.yml").read_text().replace("threads: 2", "threads: 1", 1)
    ),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_anything_dbt_reads_changes_the_digest(project: Path, change: str) -> None:
    settings = Settings(project_dir=project, env={"LABELPACT_DUCKDB": "x.duckdb"})
    before = replay.run_digest(settings, "annotations")
    assert before == replay.run_digest(settings, "annotations")  # stable
    CHANGES[change](project)
    assert replay.run_digest(settings, "annotations") != before


def test_a_linked_local_package_is_read_through_its_link(project: Path, tmp_path: Path) -> None:
    """`dbt deps` installs a local package as a symbolic link in dbt_packages."""
    package = tmp_path / "local_package"
    _write(package / "macros" / "m.sql", "{% macro m() %}1{% endmacro %}")
    (project / "dbt_packages").mkdir()
    (project / "dbt_packages" / "pkg").symlink_to(package)
    (package / "macros" / "loop").symlink_to(package)  # a cycle is walked once
    settings = Settings(project_dir=project)
    before = replay.run_digest(settings, "annotations")
    (package / "macros" / "m.sql").write_text("{% macro m() %}2{% endmacro %}")
    assert replay.run_digest(settings, "annotations") != before


def test_the_digest_follows_the_variables_dbt_reads_and_nothing_else(project: Path) -> None:
    def digest(**env: str) -> str | None:
        settings = Settings(project_dir=project, env={"LABELPACT_DUCKDB": "x.duckdb", **env})
        return replay.run_digest(settings, "annotations")

    base = digest()
    assert digest(LABELPACT_DUCKDB_MEMORY="2GB") != base  # named by env_var() in the profile
    assert digest(DBT_TARGET_PATH="elsewhere") != base  # one of dbt's own flags
    assert digest(SOMETHING_ELSE="1") == base
    assert replay.run_digest(Settings(project_dir=project, target="postgres"), "x") != (
        replay.run_digest(Settings(project_dir=project), "x")
    )
    (project / "README.md").write_text("not read by dbt")
    assert digest() == base
    assert replay.run_digest(Settings(project_dir=project), "annotations items") != (
        replay.run_digest(Settings(project_dir=project), "annotations")
    )


def test_projects_that_dbt_does_more_for_are_not_replayed(project: Path) -> None:
    """Run hooks and paths given by Jinja: what dbt runs cannot be told without it."""
    settings = Settings(project_dir=project)
    text = (project / "dbt_project.yml").read_text()
    (project / "dbt_project.yml").write_text(text + "\non-run-start: ['select 1']\n")
    assert replay.run_digest(settings, "x") is None
    (project / "dbt_project.yml").write_text(text.replace('["models"]', '["{{ var(1) }}"]'))
    assert replay.run_digest(settings, "x") is None


def test_a_replayed_validate_does_not_import_dbt(
    recorded_clean, duckdb_warehouses, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """The point of replaying: the next process pays neither dbt's import nor its parse (the
    gate, on the same recorded connection, neither)."""
    settings = _replaying(recorded_clean, duckdb_warehouses.path(None), tmp_path)
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from validator.settings import Settings\n"
        "from validator.verdict.validate import validate\n"
        "from validator.verdict.gate import gate\n"
        f"s = Settings(project_dir=Path({str(ROOT)!r}), ledger_path=Path("
        f"{str(settings.ledger_path)!r}), env={dict(settings.env)!r})\n"
        "run = validate(s)\n"
        "verdict = gate('annotations', settings=s)\n"
        "dbt = sorted(m for m in sys.modules if m.split('.')[0] == 'dbt')\n"
        "print(run.replayed, verdict.allowed, dbt)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=os.getcwd(),
    ).stdout.split("\n")[-2]
    assert out == "True True []"


def test_the_selector_is_what_was_recorded(recorded_clean) -> None:  # type: ignore[no-untyped-def]
    settings = _recorded_settings(recorded_clean)
    _, plans = load_plans(settings)
    selector, other = _selector(plans), _selector(plans[:1])
    assert replay.load(settings, selector, _key(settings, selector)) is not None
    assert replay.load(settings, other, _key(settings, other)) is None  # never recorded
    assert recorded.recorded_profile(settings) is not None


def test_great_expectations_opens_the_recorded_file(recorded_clean) -> None:  # type: ignore[no-untyped-def]
    """`validate --gx` after a recorded run: GX reads the file the profile names."""
    from validator.engines.gx_sources import DuckDBSource, _source

    settings = _recorded_settings(recorded_clean)
    wh = recorded.warehouse_for(settings)
    assert isinstance(wh, recorded.DuckDBFile)
    source = _source(None, None, None, "raw", warehouse=wh)
    assert isinstance(source, DuckDBSource)
    assert str(recorded_clean[1].resolve()) in source.url


def test_a_relation_that_cannot_be_described_leaves_the_models_to_dbt(
    recorded_clean, duckdb_warehouses, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    from validator.errors import EngineError

    settings = _replaying(recorded_clean, duckdb_warehouses.path(None), tmp_path)
    _, plans = load_plans(settings)
    selector = _selector(plans)
    data = replay.load(settings, selector, _key(settings, selector))
    assert data is not None
    wh = recorded.warehouse_for(settings)

    def unreadable(self: Any, relation: str) -> list[tuple[str, str]]:
        raise EngineError(f"relation {relation} does not exist or has no columns")

    monkeypatch.setattr(recorded.DuckDBFile, "schema", unreadable)
    with wh:
        assert replay.replay(data, wh) is None

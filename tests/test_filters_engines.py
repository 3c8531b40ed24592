"""`where:` filters on every engine: the example export (cancelled drafts and gold answers
among its rows, `validator/example/export.py`) is built by dbt and validated by GX on DuckDB,
PostgreSQL and Spark; both count only the rows the filters keep, and agree.

The export lives in its own schema (`raw_export`) and dbt project (a copy of the repository's
project with the example's contract), so the shared engines' example data is left as it is.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from helpers import ROOT

from validator.cli import main
from validator.compiler.plan import Kind, build_plans
from validator.contract.resolve import load_contracts
from validator.engines.dbt_runner import DbtProject
from validator.engines.gx_runner import run_suites
from validator.example import export

CONTRACTS = ROOT / "examples" / "export" / "contracts"
# With the filters, only the two items that lost a label to a cancellation fail (coverage);
# without them agreement, uncertainty and coverage fail too (tests/test_filters.py).
EXPECTED = {"export_annotations.coverage.min_annotations": 2}
COUNT_UNITS_DIFFER = {Kind.UNIQUE.value, Kind.UNIQUE_KEY.value, Kind.SCHEMA.value}


@pytest.fixture(scope="module")
def export_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A dbt project with the export's contract compiled, and the export in a DuckDB file."""
    root = tmp_path_factory.mktemp("export")
    for name in ("dbt_project.yml", "profiles.yml"):
        shutil.copy(ROOT / name, root / name)
    shutil.copytree(ROOT / "macros", root / "macros")
    shutil.copytree(CONTRACTS, root / "contracts")
    assert main(["compile", str(root / "contracts"), "--project-dir", str(root)]) == 0
    export.write_duckdb(root / "export.duckdb")
    return root


def _engine(name: str, root: Path, request: pytest.FixtureRequest) -> tuple[Any, dict[str, Any]]:
    """(dbt env, GX source arguments) for `name`, with the export loaded there."""
    db = root / "export.duckdb"
    if name == "postgres":
        from validator.example.data import load_into_postgres

        params = request.getfixturevalue("pg_server").params
        load_into_postgres(db, params, schema=export.SCHEMA, source_schema=export.SCHEMA)
        url = f"postgresql+psycopg2://{params['user']}@{params['host']}:{params['port']}/"
        return {f"LABELPACT_PG_{k.upper()}": v for k, v in params.items()}, {
            "sqlalchemy_url": url + params["dbname"]
        }
    if name == "spark":
        from validator.engines.warehouse import Warehouse
        from validator.settings import Settings

        server = request.getfixturevalue("spark_server")
        server.load(db, schema=export.SCHEMA)
        env = dict(server.env)
        settings = Settings(project_dir=root, target="spark", env=env)
        return env, {"warehouse": Warehouse(settings)}
    return {"LABELPACT_DUCKDB": str(db)}, {"duckdb_path": db}


@pytest.mark.parametrize("engine_name", ["duckdb", "postgres", "spark"])
def test_dbt_and_gx_count_only_the_filtered_rows(
    engine_name: str, export_project: Path, request: pytest.FixtureRequest
) -> None:
    env, source = _engine(engine_name, export_project, request)
    target = None if engine_name == "duckdb" else engine_name
    dbt = DbtProject(export_project, env=env, target=target).build(env=env)
    assert {cid: o.failures for cid, o in dbt.outcomes.items() if o.failed} == EXPECTED
    assert not [cid for cid, o in dbt.outcomes.items() if o.status == "error"]

    plans = build_plans(load_contracts([export_project / "contracts"]))
    gx = run_suites(plans, schema=export.SCHEMA, **source)
    assert {r.check_id for r in gx if r.status == "error"} == set()
    failing = {r.check_id: r.failures for r in gx if r.status in ("fail", "warn")}
    assert failing == EXPECTED
    for r in gx:
        if r.kind not in COUNT_UNITS_DIFFER and r.check_id in dbt.outcomes:
            assert r.failures == dbt.outcomes[r.check_id].failures, r.check_id


def test_incremental_validation_honours_the_filter(export_project: Path, tmp_path: Path) -> None:
    """Batch b3 (cancelled drafts that would break its agreement, two items short of counted
    labels) arrives after b1 and b2 were validated: the incremental run reads b3 alone,
    through the filters, and gives the full run's verdict."""
    import duckdb

    from validator.settings import Settings
    from validator.verdict.validate import validate, validate_incremental

    db = tmp_path / "export.duckdb"
    db.write_bytes((export_project / "export.duckdb").read_bytes())
    table = f'"{export.SCHEMA}"."{export.TABLE}"'
    con = duckdb.connect(str(db))
    records = f'"{export.SCHEMA}"."{export.ADJUDICATIONS}"'
    con.execute(f"DELETE FROM {table} WHERE batch = 'b3'")
    con.execute(f"DELETE FROM {records} WHERE item_id LIKE 'b3%'")
    con.close()
    settings = Settings(
        project_dir=export_project,
        ledger_path=tmp_path / "ledger.jsonl",
        env={"LABELPACT_DUCKDB": str(db)},
    )
    project = DbtProject(export_project, env=settings.env)
    first = validate(settings, select=["export_annotations"], project=project)
    assert {r.check_id for r in first.results if r.status == "fail"} == set()
    con = duckdb.connect(str(db))
    marks = ", ".join("?" for _ in export.COLUMNS)
    con.executemany(
        f"INSERT INTO {table} VALUES ({marks})", [r for r in export.rows() if r[5] == "b3"]
    )
    con.executemany(
        f"INSERT INTO {records} VALUES (?, ?, ?, ?)",
        [r for r in export.adjudications() if r[0].startswith("b3")],
    )
    con.close()
    inc = validate_incremental(settings, select=["export_annotations"], project=project)
    full = validate(settings, select=["export_annotations"], project=project, record=False)
    assert inc.mode == "incremental", inc.warnings
    outcomes = {r.check_id: (r.status, r.failures) for r in inc.results}
    assert outcomes == {r.check_id: (r.status, r.failures) for r in full.results}
    by_id = {r.check_id: r for r in inc.results}
    alpha = by_id["export_annotations.agreement.krippendorff_alpha"]
    assert alpha.status == "pass" and "new batches" in alpha.message
    assert '"is_cancelled"' in alpha.sql and "'b3'" in alpha.sql and "'b1'" not in alpha.sql
    coverage = by_id["export_annotations.coverage.min_annotations"]
    assert (coverage.status, coverage.failures) == ("fail", 2)
    assert "new items" in coverage.message


def test_every_filtered_kind_runs_and_dbt_and_gx_agree(tmp_path: Path) -> None:
    """The golden case `filters` (every filtered kind, with revisions: current rows, then the
    filter) built by dbt and validated by GX on DuckDB, over data where most rules fail."""
    import duckdb

    for name in ("dbt_project.yml", "profiles.yml"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "macros", tmp_path / "macros")
    shutil.copytree(ROOT / "tests" / "golden" / "filters" / "contracts", tmp_path / "contracts")
    assert main(["compile", str(tmp_path / "contracts"), "--project-dir", str(tmp_path)]) == 0
    db = tmp_path / "wh.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE SCHEMA raw")
    con.execute(
        "CREATE TABLE raw.filtered AS SELECT i::BIGINT AS annotation_id, 'i' || (i % 7) AS "
        "item_id, 'ann_' || (i % 3) AS annotator, CASE WHEN i % 4 = 0 THEN 'dog' ELSE 'cat' "
        "END AS label, (i % 10) / 10.0 AS score, CASE WHEN i % 5 = 0 THEN 'why' END AS notes, "
        "'b' || (i % 3) AS batch, i % 6 = 0 AS is_cancelled, i % 11 = 0 AS is_gold, "
        "CASE WHEN i % 13 = 0 THEN i - 1 END::BIGINT AS parent_id FROM range(1, 60) AS r(i)"
    )
    con.execute(
        "CREATE TABLE raw.filtered_adjudications AS SELECT 'i' || i AS item_id, 'cat' AS "
        "decision, 'lead' AS adjudicator, 'r' AS rationale FROM range(0, 3) AS r(i)"
    )
    con.execute(
        "CREATE TABLE raw.filtered_items AS SELECT 'i' || i AS item_id FROM range(0, 9) r(i)"
    )
    con.close()
    env = {"LABELPACT_DUCKDB": str(db)}
    dbt = DbtProject(tmp_path, env=env).build(env=env)
    assert not [cid for cid, o in dbt.outcomes.items() if o.status == "error"]
    plans = build_plans(load_contracts([tmp_path / "contracts"]))
    filtered = {
        c.id for p in plans for c in p.checks if getattr(c.params, "where", None) is not None
    }
    # all but adjudication.decision and the revisions rules, and the four role not-nulls of
    # agreement (item, rater, label) and coverage (item) on the rows their filters keep
    assert len(filtered) == 16
    gx = run_suites(plans, schema="raw", duckdb_path=db)
    assert {r.check_id for r in gx if r.status == "error"} == set()
    gx_failing = {r.check_id: r.failures for r in gx if r.status in ("fail", "warn")}
    dbt_failing = {cid: o.failures for cid, o in dbt.outcomes.items() if o.failed}
    assert gx_failing == dbt_failing
    assert dbt_failing == {
        "filtered.uncertainty.notes_required": 10,
        "filtered.uncertainty.batch_low_confidence": 3,
        "filtered.uncertainty.batch_mean_confidence": 3,
        "filtered.adjudication.missing": 4,
        "filtered.coverage.max_annotations": 7,
        "filtered.coverage.unannotated_items": 2,
    }

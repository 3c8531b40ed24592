"""Argilla 2.x exports, and `labelpact import ... --to dbt` (the active dbt target).

The fixtures follow Argilla's own serialisation (argilla 2.8 `Record.to_dict` for
`records.json` of `Dataset.to_disk`, `GenericIO.to_list(flatten=True)` for the flattened rows
`to_datasets()`/`to_hub` publish). Hostile Argilla exports are in test_interop_import's list.
The dbt-target import runs through the dbt adapter of DuckDB and of a real PostgreSQL server.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest
from helpers import ROOT

from validator.cli import main
from validator.compiler.plan import build_plans
from validator.contract.lint import lint
from validator.contract.resolve import load_contracts
from validator.errors import EngineError, RecordError
from validator.interop import import_export, reader
from validator.interop.rows import COLUMNS, ImportOptions
from validator.interop.table import Destination
from validator.settings import Settings

FIXTURES = ROOT / "tests" / "fixtures" / "interop"
RECORDS = FIXTURES / "argilla" / "records.json"
HUB = FIXTURES / "argilla_hub.jsonl"
U1, U2, U3 = (f"7d9a1c2e-0000-4000-8000-00000000000{i}" for i in (1, 2, 3))


def _rows(path: Path, **options: Any) -> list[dict[str, Any]]:
    return list(reader("argilla")(path, ImportOptions(**options)))


def _pick(rows: list[dict[str, Any]], *fields: str) -> list[tuple[Any, ...]]:
    return [tuple(r[f] for f in fields) for r in rows]


def test_argilla_records_json() -> None:
    rows = _rows(RECORDS, instruction_field="metadata.guideline")
    fields = ("item_id", "annotation_id", "label_index", "annotator", "label", "result_type")
    server3 = "c2f0e5a4-1111-4e0b-9b7e-aa0000000003"
    assert _pick(rows, *fields) == [
        ("t-1", f"t-1:topic:{U1}", 0, U1, "billing", "label"),
        ("t-1", f"t-1:topic:{U2}", 0, U2, "account", "label"),  # two annotators
        ("t-1", "t-1:topic:suggestion", 0, "model:distilbert-2026-02", "billing", "label"),
        ("t-1", f"t-1:tags:{U1}", 0, U1, "refund", "multi_label"),
        ("t-1", f"t-1:tags:{U1}", 1, U1, "urgent", "multi_label"),
        ("t-2", f"t-2:topic:{U1}", 0, U1, "technical", "label"),
        ("t-2", f"t-2:topic:{U3}", 0, U3, None, None),  # discarded, no value: still a row
        ("t-2", f"t-2:quality:{U1}", 0, U1, "4", "rating"),
        ("t-2", f"t-2:entities:{U2}", 0, U2, "PRODUCT", "span"),
        ("t-2", f"t-2:entities:{U2}", 1, U2, "SYMPTOM", "span"),
        ("t-2", "t-2:tags:suggestion", 0, "model:setfit", "bug", "multi_label"),
        ("t-2", "t-2:tags:suggestion", 1, "model:setfit", "mobile", "multi_label"),
        # no `id`: the server id; a ranking in rank order
        (server3, f"{server3}:ranking:{U2}", 0, U2, "team", "ranking"),
        (server3, f"{server3}:ranking:{U2}", 1, U2, "pro", "ranking"),
    ]  # t-4 has no response and no suggestion: no row
    assert [r["answer"] for r in rows[5:10]] == ["submitted", "discarded", "draft"] + [
        "submitted"
    ] * 2
    assert [r["is_cancelled"] for r in rows] == [False] * 6 + [True] + [False] * 7
    assert [r["is_prediction"] for r in rows] == [
        r["annotation_id"].endswith("suggestion") for r in rows
    ]
    assert [r["score"] for r in rows if r["is_prediction"]] == [0.91, 0.8, 0.55]  # per label
    assert {r["score"] for r in rows if not r["is_prediction"]} == {None}
    assert {r["project"] for r in rows} == {"support-tickets"}  # .argilla/dataset.json
    assert {r["tool"] for r in rows} == {"argilla"}
    assert [r["instruction_version"] for r in rows][::5] == ["v2", "v3", "v3"]


def test_argilla_flattened_hub_rows_carry_the_response_status() -> None:
    rows = _rows(HUB, project="tickets")
    assert _pick(rows, "item_id", "annotator", "label", "answer", "is_cancelled") == [
        ("t-1", U1, "billing", "submitted", False),
        ("t-1", U2, "account", "submitted", False),
        ("t-1", "model:distilbert-2026-02", "billing", None, False),
        ("t-2", U1, "technical", "submitted", False),
        ("t-2", U3, None, "discarded", True),
    ]
    assert rows[2]["is_prediction"] and rows[2]["score"] == 0.91
    assert {r["project"] for r in rows} == {"tickets"}
    # the same records in both shapes give the same rows for `topic`
    nested = [r for r in _rows(RECORDS, project="tickets") if ":topic:" in r["annotation_id"]]
    drop = ("answer",)  # records.json (to_disk) does not carry the response status
    assert [{k: v for k, v in r.items() if k not in drop} for r in nested] == [
        {k: v for k, v in r.items() if k not in drop} for r in rows
    ]


def test_argilla_control_keeps_one_question() -> None:
    rows = _rows(RECORDS, control="entities")
    assert _pick(rows, "label") == [("PRODUCT",), ("SYMPTOM",)]


# --- the active dbt target ------------------------------------------------------------------


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    for name in ("dbt_project.yml", "profiles.yml"):
        shutil.copy(ROOT / name, project / name)
    shutil.copytree(ROOT / "macros", project / "macros")
    return project


def _read(settings: Settings, sql: str) -> list[tuple[Any, ...]]:
    from validator.engines.warehouse import Warehouse

    with Warehouse(settings) as wh:
        return wh.query(sql)[1]


@pytest.fixture(params=["duckdb", "postgres"])
def dbt_target(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings whose profile's active target is an empty DuckDB file or the test server."""
    project = _project(tmp_path)
    if request.param == "duckdb":
        database = tmp_path / "labelpact.duckdb"  # the catalog name the profile expects
        duckdb.connect(str(database)).close()
        return Settings(project_dir=project, env={"LABELPACT_DUCKDB": str(database)})
    params = request.getfixturevalue("pg_server").params
    env = {f"LABELPACT_PG_{k.upper()}": v for k, v in params.items()}
    return Settings(project_dir=project, target="postgres", env=env)


def test_import_to_the_dbt_target_then_validate(
    dbt_target: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The table lands on the profile's target through its dbt adapter, replaces an earlier
    import, its contract lints clean and the data passes it there."""
    settings = dbt_target
    schema = f"imp_{tmp_path.name[-8:].lower().replace('-', '_')}"  # a schema per test
    table = f"{schema}.argilla"
    dest = Destination.parse(Path("dbt"), table, settings)
    import_export("prodigy", FIXTURES / "prodigy.jsonl", dest)  # replaced by the next import
    contract = settings.project_dir / "contracts" / "argilla.yml"
    args = ["import", "argilla", str(RECORDS), "--to", "dbt", "--table", table]
    args += ["--project-dir", str(settings.project_dir), "--contract", str(contract)]
    args += ["--instruction-field", "metadata.guideline"]
    if settings.target:
        args += ["--target", settings.target]
    for name, value in settings.env.items():  # the CLI renders the profile from the environment
        monkeypatch.setenv(name, value)
    assert main(args) == 0
    got = _read(settings, f"SELECT {', '.join(COLUMNS)} FROM {table}")
    want = _rows(RECORDS, instruction_field="metadata.guideline")
    assert len(got) == len(want) == 14
    assert sorted(map(_plain, got)) == sorted(_plain(tuple(r.values())) for r in want)
    tables = _read(
        settings,
        "SELECT table_name FROM information_schema.tables "
        f"WHERE table_schema = '{schema}' ORDER BY 1",
    )
    assert tables == [("argilla",)]  # no staging table left behind
    report = lint([contract.parent], strict=True)
    assert report.problems == []
    assert main(["compile", str(contract.parent), "--project-dir", str(settings.project_dir)]) == 0

    from validator.verdict.validate import validate

    run = validate(
        Settings(
            project_dir=settings.project_dir,
            target=settings.target,
            ledger_path=tmp_path / "ledger.jsonl",
            env=settings.env,
        )
    )
    assert [r.check_id for r in run.results if r.status != "pass"] == []
    (plan,) = build_plans(load_contracts([contract]))
    assert len(run.results) == len(plan.checks) > 10


def test_a_bad_export_leaves_the_dbt_target_as_it_was(dbt_target: Settings, tmp_path: Path) -> None:
    settings = dbt_target
    schema = f"bad_{tmp_path.name[-8:].lower().replace('-', '_')}"
    dest = Destination.parse(Path("dbt"), f"{schema}.annotations", settings)
    import_export("argilla", RECORDS, dest)
    bad = tmp_path / "records.json"
    bad.write_text(RECORDS.read_text().replace('"status": "draft"', '"status": "done"'))
    with pytest.raises(RecordError, match=r"record t-2 \(#2\), response #1 to `quality`"):
        import_export("argilla", bad, dest)
    assert _read(settings, f"SELECT count(*) FROM {schema}.annotations") == [(14,)]
    assert not list(tmp_path.glob(".labelpact-import-*"))


def _plain(values: tuple[Any, ...]) -> tuple[str, ...]:
    """Driver values compared as text (PostgreSQL's double vs Python's float print alike)."""
    return tuple("<null>" if v is None else str(v) for v in values)


def test_a_failure_while_loading_drops_the_staging_table(
    dbt_target: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The warehouse refusing a batch half-way leaves the old table and no staging table."""
    from validator.interop import load

    settings = dbt_target
    schema = f"half_{tmp_path.name[-8:].lower().replace('-', '_')}"
    dest = Destination.parse(Path("dbt"), f"{schema}.annotations", settings)
    import_export("prodigy", FIXTURES / "prodigy.jsonl", dest)
    from validator.engines.warehouse import Warehouse

    write = Warehouse.write
    loads: list[int] = []

    def rejected_half_way(self: Warehouse, statements: Any) -> None:
        sqls = [s if isinstance(s, str) else s.sql(self.dialect.sqlglot) for s in statements]
        if sqls[0].startswith("INSERT"):
            loads.append(len(sqls))
            # DuckDB loads the staged Parquet file in one INSERT; others in batches of 5 rows
            if len(loads) == (1 if self.dialect.reads_local_parquet else 2):
                sqls = [sqls[0].replace("annotations__labelpact_import", "no_such_table", 1)]
        write(self, sqls)

    monkeypatch.setattr(load, "INSERT_BATCH", 5)
    monkeypatch.setattr(Warehouse, "write", rejected_half_way)
    with pytest.raises(EngineError, match="query failed"):
        import_export("argilla", RECORDS, dest)
    assert loads
    assert _read(settings, f"SELECT count(*) FROM {schema}.annotations") == [(8,)]
    tables = _read(
        settings,
        f"SELECT table_name FROM information_schema.tables WHERE table_schema = '{schema}'",
    )
    assert tables == [("annotations",)]


def test_hostile_values_round_trip_through_the_dbt_target(
    dbt_target: Settings, tmp_path: Path
) -> None:
    """Quotes, backslashes, SQL, control characters, non-ASCII and non-finite scores arrive
    as they were (every value is a literal rendered by sqlglot in the target's dialect)."""
    labels = ["it's", "back\\slash\\", "'); DROP TABLE raw.x; --", "tab\there\nnewline", "ünï 猫"]
    export = tmp_path / "hostile.jsonl"
    scores = ["NaN", "Infinity", "-Infinity", "0.5", "1e-300"]  # JSON as Python writes it
    lines = [
        f'{{"_input_hash": {i}, "_task_hash": {i}, "answer": "accept", '
        f'"label": {json.dumps(label)}, "meta": {{"score": {score}}}}}'
        for i, (label, score) in enumerate(zip(labels, scores, strict=True))
    ]
    export.write_text("\n".join(lines) + "\n")
    schema = f"hostile_{tmp_path.name[-8:].lower().replace('-', '_')}"
    import_export("prodigy", export, Destination.parse(Path("dbt"), f"{schema}.t", dbt_target))
    got = _read(dbt_target, f"SELECT item_id, label, score FROM {schema}.t")
    assert sorted((int(i), lab, str(s)) for i, lab, s in got) == [
        (0, labels[0], "nan"),
        (1, labels[1], "inf"),
        (2, labels[2], "-inf"),
        (3, labels[3], "0.5"),
        (4, labels[4], "1e-300"),
    ]

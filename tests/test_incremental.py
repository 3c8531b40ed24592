"""`validate --incremental` gives the verdict a full validation gives on the same data.

Each scenario generates base data, validates it in full (which leaves the state), appends new
batches (with faults where the scenario says), then compares the incremental run with a full
validation of the combined data: every check's status and failure count, and the fingerprint.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest
from helpers import ROOT

from validator.engines.dbt_runner import DbtProject
from validator.example import data as exampledata
from validator.example import layout
from validator.output.run_report import console, to_json
from validator.settings import Settings
from validator.verdict.gate import gate
from validator.verdict.ledger import Ledger
from validator.verdict.validate import ValidationRun, validate, validate_incremental

BASE, NEW = 3000, 700
Change = Callable[[Any], None]


@pytest.fixture(scope="module")
def project(duckdb_warehouses) -> DbtProject:  # type: ignore[no-untyped-def]
    return duckdb_warehouses.project  # parsed once per session


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("base") / "labelpact.duckdb"
    exampledata.generate(db, rows=BASE, seed=7)
    return db


def _sql(db: Path, *statements: str) -> None:
    con = duckdb.connect(str(db))
    try:
        for s in statements:
            con.execute(s)
    finally:
        con.close()


def _new_ids(db: Path) -> tuple[int, int]:
    """Smallest and largest annotation id of the appended rows."""
    first = layout.Layout.for_rows(BASE, 7).n_items * layout.SLOTS
    con = duckdb.connect(str(db), read_only=True)
    try:
        lo, hi = con.execute(
            "SELECT min(annotation_id), max(annotation_id) FROM "
            f"raw.annotations WHERE annotation_id >= {first}"
        ).fetchone()
    finally:
        con.close()
    return int(lo), int(hi)


def _duckdb_settings(db: Path, ledger: Path) -> Settings:
    """The repository's profile, pointed at the DuckDB file `db`."""
    return Settings(project_dir=ROOT, ledger_path=ledger, env={"LABELPACT_DUCKDB": str(db)})


def _outcomes(run: ValidationRun) -> dict[str, tuple[str, int | None]]:
    return {r.check_id: (r.status, r.failures) for r in run.results}


def _scenario(
    tmp_path: Path, base: Path, project: DbtProject, before: list[str], after: list[str]
) -> tuple[ValidationRun, ValidationRun, Settings]:
    db = tmp_path / "wh" / "labelpact.duckdb"
    db.parent.mkdir()
    db.write_bytes(base.read_bytes())
    if before:
        _sql(db, *before)
    settings = _duckdb_settings(db, tmp_path / "ledger.jsonl")
    validate(settings, select=["annotations"], project=project)
    exampledata.append_batches(db, base_rows=BASE, rows=NEW, seed=7)
    if after:
        lo, hi = _new_ids(db)
        _sql(db, *[s.format(lo=lo, hi=hi) for s in after])
    inc = validate_incremental(settings, select=["annotations"], project=project)
    full = validate(settings, select=["annotations"], project=project, record=False)
    return inc, full, settings


# the first (min) or second (max) annotation id above {lo} + 30 (ids have gaps)
PAIR = (
    "SELECT {}(annotation_id) FROM (SELECT annotation_id FROM raw.annotations "
    "WHERE annotation_id > {{lo}} + 30 ORDER BY annotation_id LIMIT 2) AS p"
)
SCENARIOS: dict[str, tuple[list[str], list[str]]] = {
    "clean": ([], []),
    "faults in the new batch": (
        [],
        [
            # a key duplicated across an old and a new batch, and one within the new batch
            "UPDATE raw.annotations SET annotation_id = 8 WHERE annotation_id = {lo}",
            "UPDATE raw.annotations SET annotation_id = {lo} + 1 WHERE annotation_id = {lo} + 2",
            "UPDATE raw.annotations SET label = 'zebra' "
            "WHERE annotation_id IN ({lo} + 1, {lo} + 2)",
            "UPDATE raw.annotations SET tool = NULL WHERE annotation_id = {lo} + 9",
            "UPDATE raw.annotations SET confidence = 1.5 WHERE annotation_id = {lo} + 10",
            # a label of an item the items table does not have (looked up among the items
            # the new rows name)
            "UPDATE raw.annotations SET item_id = 'zz-missing' WHERE annotation_id = "
            "(SELECT min(annotation_id) FROM raw.annotations WHERE annotation_id > {lo} + 10)",
            # agreement collapses in one new batch
            "UPDATE raw.annotations SET label = CASE annotation_id % 5 WHEN 0 THEN 'cat' WHEN 1 "
            "THEN 'dog' WHEN 2 THEN 'bird' WHEN 3 THEN 'fish' ELSE 'other' END "
            "WHERE batch_id = (SELECT max(batch_id) FROM raw.annotations)",
            # a new item loses its adjudication and another gets a single label
            "DELETE FROM raw.adjudications WHERE item_id = (SELECT max(item_id) FROM "
            "raw.adjudications)",
            "DELETE FROM raw.annotations WHERE item_id = (SELECT max(item_id) FROM raw.items) "
            "AND annotation_id % 8 > 0",
            # correction chains within the new batches: a dangling parent, a cycle of two
            "UPDATE raw.annotations SET parent_annotation_id = 999999998 "
            "WHERE annotation_id = {lo} + 20",
            *(
                f"UPDATE raw.annotations SET parent_annotation_id = ({PAIR.format(a)}) "
                f"WHERE annotation_id = ({PAIR.format(b)})"
                for a, b in (("max", "min"), ("min", "max"))
            ),
            # a newcomer unsure of all 40 of their labels, all 'other': per-annotator low
            # confidence and label mix fail on the new batches' counts
            "UPDATE raw.annotations SET annotator_id = 'newcomer', confidence = 0.1, "
            "label = 'other' "
            "WHERE annotation_id IN (SELECT annotation_id FROM raw.annotations "
            "WHERE annotation_id > {lo} + 100 ORDER BY annotation_id LIMIT 40)",
            # every audit of the new labels finds an error (the audit rules read the whole
            # table here: a new row took an old row's key, which older audits may name)
            "UPDATE raw.audit_results SET verdict = 'incorrect', error_type = 'wrong_class' "
            "WHERE annotation_id >= {lo}",
        ],
    ),
    "faults in the new batch's audits": (
        [],
        [
            "UPDATE raw.audit_results SET verdict = 'incorrect', error_type = 'wrong_class' "
            "WHERE annotation_id >= {lo}",
        ],
    ),
    "faults in the old batches carry over": (
        [
            "UPDATE raw.annotations SET label = 'zebra' WHERE annotation_id < 40",
            "UPDATE raw.annotations SET annotator_id = 'nobody' WHERE annotation_id = 41",
            # one annotator disagrees with everyone in the old batches: per-annotator agreement
            # fails on the stored counts plus the new batches'
            "UPDATE raw.annotations SET label = 'zebra' WHERE annotator_id = "
            "(SELECT min(annotator_id) FROM raw.annotations)",
            # ... and is unsure of all their labels: low confidence fails on the stored counts
            # plus the new batches'
            "UPDATE raw.annotations SET confidence = 0.1 WHERE annotator_id = "
            "(SELECT min(annotator_id) FROM raw.annotations)",
            # a dangling parent in an old batch stays a failure of the chain rules
            "UPDATE raw.annotations SET parent_annotation_id = 999999999 WHERE annotation_id = 42",
            # an item nobody labelled: it stays without annotations
            "DELETE FROM raw.annotations WHERE item_id = (SELECT min(item_id) FROM raw.items)",
            # the first batch's audits all found errors: its audited error rate fails
            "UPDATE raw.audit_results SET verdict = 'incorrect', error_type = 'wrong_class' "
            "WHERE annotation_id IN (SELECT annotation_id FROM raw.annotations "
            "WHERE batch_id = 'b0001')",
        ],
        [],
    ),
    # an item arrives that no new row labels, or a new row labels an older item nobody had:
    # items without annotations are counted over the whole table
    "a new item nobody labels: unannotated items read the whole table": (
        [],
        ["INSERT INTO raw.items VALUES ('zz-unlabelled', 'train', 's3://x/zz')"],
    ),
    "a new row labels an older unlabelled item: unannotated items read the whole table": (
        ["DELETE FROM raw.annotations WHERE item_id = (SELECT min(item_id) FROM raw.items)"],
        [
            "UPDATE raw.annotations SET item_id = (SELECT min(item_id) FROM raw.items) "
            "WHERE annotation_id = {lo}",
        ],
    ),
    # a new row labels an item that older rows labelled: rules per item read the whole table
    "a new row labels an item older rows labelled: items read the whole table": (
        [],
        [
            "UPDATE raw.annotations SET item_id = (SELECT min(item_id) FROM raw.annotations) "
            "WHERE annotation_id = {lo}",
        ],
    ),
    # audits of older labels arrive, or change: the audit rules read the whole table
    "a new audit of an old label: audits read the whole table": (
        [],
        [
            "INSERT INTO raw.audit_results (annotation_id, item_id, auditor_id, verdict, "
            "error_type, audited_at) SELECT annotation_id, item_id, 'aud_99', 'incorrect', "
            "'wrong_class', annotated_at FROM raw.annotations WHERE annotation_id = "
            "(SELECT min(annotation_id) FROM raw.annotations)",
        ],
    ),
    "an old audit's verdict changed: audits read the whole table": (
        [],
        [
            "UPDATE raw.audit_results SET verdict = CASE verdict WHEN 'correct' THEN "
            "'incorrect' ELSE 'correct' END WHERE annotation_id = (SELECT min(annotation_id) "
            "FROM raw.audit_results)",
        ],
    ),
    "an old batch changed: validated in full": (
        [],
        [
            "DELETE FROM raw.annotations WHERE annotation_id = 9",
        ],
    ),
    "a new correction of an old row: validated in full": (
        [],
        [
            "UPDATE raw.annotations SET parent_annotation_id = 16 WHERE annotation_id = {lo} + 1",
        ],
    ),
    "an old row names a new row as its parent: validated in full": (
        [],
        [
            "UPDATE raw.annotations SET parent_annotation_id = {hi} WHERE annotation_id = 17",
        ],
    ),
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_incremental_verdict_equals_full_verdict(
    tmp_path: Path, base: Path, project: DbtProject, name: str
) -> None:
    before, after = SCENARIOS[name]
    inc, full, settings = _scenario(tmp_path, base, project, before, after)
    assert _outcomes(inc) == _outcomes(full)
    assert inc.verdicts["annotations"].fingerprint == full.verdicts["annotations"].fingerprint
    assert inc.verdicts["annotations"].status == full.verdicts["annotations"].status
    fell_back = any(w.startswith("validated in full") for w in inc.warnings)
    assert fell_back == name.endswith("validated in full")
    assert inc.mode == ("full" if fell_back else "incremental")
    if name.startswith("faults"):
        assert full.verdicts["annotations"].status == "fail"
    by_id = {r.check_id: r for r in inc.results}
    audits = [by_id[f"annotations.audits.{g}_error_rate"] for g in ("batch", "annotator")]
    if not fell_back:  # the audit rules add the new labels' audits unless older ones changed
        whole = name.endswith("audits read the whole table") or name == "faults in the new batch"
        assert all(("whole table" in a.message) == whole for a in audits), name
        # the stored count of items without annotations stands unless the new rows label an
        # item that is not new, or an item arrives that they do not label
        whole = name.endswith("items read the whole table")
        assert ("whole table" in by_id["annotations.coverage.unannotated_items"].message) == whole
    if name.startswith("faults"):  # each fault fails its rule, computed incrementally
        audited = audits[0].status == "fail" and "whole table" not in audits[0].message
        assert audited == (name != "faults in the new batch")
    if name == "faults in the old batches carry over":
        assert by_id["annotations.coverage.unannotated_items"].failures == 1
    if not fell_back:  # rules per item read the new batches unless they label older items
        whole = name.startswith("a new row labels an")
        assert ("whole table" in by_id["annotations.coverage.min_annotations"].message) == whole
    if name in ("faults in the new batch", "faults in the old batches carry over"):
        for check in (
            "annotators.low_confidence",
            "annotators.label_mix",
            "revisions.parent_exists",
        ):
            assert by_id[f"annotations.{check}"].status == "fail", check
            assert "whole table" not in by_id[f"annotations.{check}"].message
    if name == "faults in the new batch":
        assert by_id["annotations.revisions.no_cycles"].failures == 2
        missing = by_id["annotations.item_id.relationship"]
        assert (missing.failures, missing.message) == (1, "1 failing; checked: new batches")
        assert '"items" WHERE "item_id" IN (SELECT "item_id" FROM' in missing.sql
    if name == "faults in the old batches carry over":
        agreement = by_id["annotations.agreement.per_annotator"]
        assert agreement.status == "fail" and "added to the stored counts" in agreement.message
    if name == "faults in the new batch":  # failing rows of the new batch are shown
        sample = by_id["annotations.label.accepted_values"].sample
        assert {row["label"] for row in sample} == {"zebra"}
        assert by_id["annotations.annotation_id.unique"].sample
        assert all(
            row.get("annotator_id") in (None, "<pii>") for r in inc.results for row in r.sample
        )
    # the gate recomputes the fingerprint of the whole table: it matches the incremental one
    verdict = gate("annotations", settings=settings, allow_warnings=True)
    assert ("data changed" in verdict.reason) is False


@pytest.mark.parametrize("where", ["stored", "totals"])
def test_sums_beyond_the_limit_read_the_whole_table(
    tmp_path: Path, base: Path, project: DbtProject, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """A rule whose sums outgrow MAX_SUMS is counted on the whole table, with the verdict of a
    full run: either the sums were too many to store ("stored"), or the stored sums plus the new
    batches' are too many to judge in one query ("totals")."""
    from validator.verdict import incremental, incremental_run

    if where == "stored":
        monkeypatch.setattr(incremental, "MAX_SUMS", 3)
    monkeypatch.setattr(incremental_run, "MAX_SUMS", 3)
    inc, full, _ = _scenario(
        tmp_path, base, project, *SCENARIOS["faults in the old batches carry over"]
    )
    assert inc.mode == "incremental", inc.warnings
    assert _outcomes(inc) == _outcomes(full)
    by_id = {r.check_id: r for r in inc.results}
    # per-annotator label mix and low confidence: one sum per annotator (and label), > 3
    for check in ("annotators.label_mix", "annotators.low_confidence"):
        result = by_id[f"annotations.{check}"]
        assert result.status == "fail" and "whole table" in result.message, check


def test_incremental_run_reads_only_the_new_batches(
    tmp_path: Path, base: Path, project: DbtProject
) -> None:
    inc, _, _ = _scenario(tmp_path, base, project, [], [])
    by_id = {r.check_id: r for r in inc.results}
    assert "new batches" in by_id["annotations.label.accepted_values"].message
    assert "new batches" in by_id["annotations.agreement.krippendorff_alpha"].message
    assert "against the whole table" in by_id["annotations.annotation_id.unique"].message
    assert "new items" in by_id["annotations.coverage.min_annotations"].message
    assert "new batches" in by_id["annotations.revisions.parent_exists"].message
    assert "whole table" in by_id["annotations.annotators.turnaround"].message
    mix = by_id["annotations.annotators.label_mix"]
    assert "added to the stored counts" in mix.message
    assert "\"batch_id\" IN ('b0006'" in mix.sql and "'b0005'" not in mix.sql
    low = by_id["annotations.annotators.low_confidence"]
    assert "added to the stored counts" in low.message and "new items" not in low.message
    assert "\"batch_id\" IN ('b0006'" in low.sql and "'b0005'" not in low.sql
    agreement = by_id["annotations.agreement.per_annotator"]
    assert "added to the stored counts" in agreement.message
    audits = by_id["annotations.audits.annotator_error_rate"]
    assert "added to the stored counts" in audits.message
    assert "\"batch_id\" IN ('b0006'" in audits.sql and "'b0005'" not in audits.sql
    by_batch = by_id["annotations.audits.batch_error_rate"]  # new groups: nothing to add to
    assert by_batch.message == "checked: new batches" and "'b0005'" not in by_batch.sql
    assert "\"batch_id\" IN ('b0006'" in agreement.sql and "'b0005'" not in agreement.sql
    sql = by_id["annotations.label.accepted_values"].sql
    # the base data has batches b0001-b0005: only the appended ones are read
    assert "\"batch_id\" IN ('b0006'" in sql and "'b0005'" not in sql


@pytest.mark.parametrize(
    ("known", "new", "natural"),
    [
        (["b0998", "b0999"], ["b1000", "b1001"], False),  # after them in the warehouse's order
        (["b9998", "b9999"], ["b10000", "b10001"], True),  # only in natural order
    ],
)
def test_new_batches_are_found_without_a_pass_over_the_old_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, known: list[str], new: list[str], natural: bool
) -> None:
    import json

    from validator.engines.warehouse import Warehouse
    from validator.verdict.batches import new_batch_counts

    db = tmp_path / "w.duckdb"
    _sql(
        db,
        "CREATE TABLE t (batch_id VARCHAR)",
        *(f"INSERT INTO t SELECT '{b}' FROM range(3)" for b in known),
        *(f"INSERT INTO t SELECT '{b}' FROM range(2)" for b in new),
    )
    issued: list[str] = []
    real = Warehouse.query

    def recorded(self: Warehouse, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        issued.append(sql)
        return real(self, sql)

    monkeypatch.setattr(Warehouse, "query", recorded)
    with Warehouse(_duckdb_settings(db, tmp_path / "l.jsonl")) as wh:
        total, found = new_batch_counts(wh, "main.t", "batch_id", {json.dumps(b): 3 for b in known})
    assert (total, found) == (3 * len(known) + 2 * len(new), {json.dumps(b): 2 for b in new})
    assert not any("NOT (" in s for s in issued)  # no pass over the known batches
    assert any("LENGTH(" in s for s in issued) == natural


def test_without_state_the_run_is_full_and_says_why(
    tmp_path: Path, base: Path, project: DbtProject
) -> None:
    db = tmp_path / "labelpact.duckdb"
    db.write_bytes(base.read_bytes())
    settings = _duckdb_settings(db, tmp_path / "l.jsonl")
    run = validate_incremental(settings, select=["annotations"], project=project)
    assert run.mode == "full"
    assert any("no state for 'annotations'" in w for w in run.warnings)
    again = validate_incremental(settings, select=["annotations"], project=project)
    assert again.mode == "incremental" and again.exit_code == run.exit_code
    assert to_json(again)["mode"] == "incremental"
    assert "(incremental: new batches)" in console(again)
    entries = Ledger(settings.ledger_path).verify()[1]
    assert [e.record.get("mode", "full") for e in entries] == ["full", "incremental"]


def _pg_sync(db: Path, params: dict[str, str]) -> None:
    """Make PostgreSQL's `raw` tables equal the DuckDB file's, in place (views stay)."""
    import psycopg2

    exampledata.load_into_postgres(db, params, schema="raw_next")
    con = psycopg2.connect(
        host=params["host"], port=int(params["port"]), user=params["user"], dbname=params["dbname"]
    )
    try:
        cur = con.cursor()
        for table in layout.TABLES:
            cur.execute(f"DELETE FROM raw.{table}")
            cur.execute(f"INSERT INTO raw.{table} SELECT * FROM raw_next.{table}")
        cur.execute("DROP SCHEMA raw_next CASCADE")
        con.commit()
    finally:
        con.close()


def test_incremental_verdict_equals_full_verdict_on_postgres(
    tmp_path: Path, base: Path, pg_server
) -> None:  # type: ignore[no-untyped-def]
    import psycopg2

    params = dict(pg_server.params, dbname="labelpact_incremental")
    admin = psycopg2.connect(**{k: v for k, v in pg_server.params.items() if k != "password"})
    admin.autocommit = True
    admin.cursor().execute(f"DROP DATABASE IF EXISTS {params['dbname']}")
    admin.cursor().execute(f"CREATE DATABASE {params['dbname']}")
    admin.close()
    db = tmp_path / "labelpact.duckdb"
    db.write_bytes(base.read_bytes())
    exampledata.load_into_postgres(db, params)
    settings = Settings(
        project_dir=ROOT,
        target="postgres",
        ledger_path=tmp_path / "ledger.jsonl",
        env={f"LABELPACT_PG_{k.upper()}": v for k, v in params.items()},
    )
    _new_batches_with_faults(settings, db, lambda: _pg_sync(db, params))


def _new_batches_with_faults(
    settings: Settings, db: Path, sync: Callable[[], None], project: DbtProject | None = None
) -> None:
    """Validate `db`'s data in the warehouse of `settings`, append faulty batches to `db`,
    `sync` them into the warehouse: the incremental verdict equals the full one."""
    project = project or DbtProject.from_settings(settings)
    validate(settings, select=["annotations"], project=project)
    exampledata.append_batches(db, base_rows=BASE, rows=NEW, seed=7)
    lo, hi = _new_ids(db)
    _sql(db, *[s.format(lo=lo, hi=hi) for s in SCENARIOS["faults in the new batch"][1]])
    sync()
    inc = validate_incremental(settings, select=["annotations"], project=project)
    full = validate(settings, select=["annotations"], project=project, record=False)
    assert inc.mode == "incremental", inc.warnings
    assert _outcomes(inc) == _outcomes(full)
    assert inc.verdicts["annotations"].fingerprint == full.verdicts["annotations"].fingerprint
    assert full.verdicts["annotations"].status == "fail"
    assert gate("annotations", settings=settings).allowed is False


def test_incremental_verdict_equals_full_verdict_on_spark(
    tmp_path: Path, base: Path, spark_warehouses
) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "labelpact.duckdb"
    db.write_bytes(base.read_bytes())
    server = spark_warehouses.server
    server.load(db)
    spark_warehouses.loaded = False  # the shared session's raw tables are this test's now
    settings = Settings(
        project_dir=ROOT,
        target="spark",
        ledger_path=tmp_path / "ledger.jsonl",
        env=dict(server.env),
    )
    _new_batches_with_faults(settings, db, lambda: server.load(db), spark_warehouses.project)


def test_incremental_queries_read_old_batches_only_where_documented(
    tmp_path: Path, base: Path, project: DbtProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every statement of an incremental run that reads the annotations either names the new
    batches, or is one of the documented whole-table reads: the row count (the change
    detector), the count of the rows whose batch sorts after the validated ones, and
    the checks reported as reading the whole table (their own SQL and failing-row samples).
    In particular no statement groups or counts the old batches' rows batch by batch."""
    from validator.engines.warehouse import Warehouse

    db = tmp_path / "wh" / "labelpact.duckdb"
    db.parent.mkdir()
    db.write_bytes(base.read_bytes())
    settings = _duckdb_settings(db, tmp_path / "ledger.jsonl")
    validate(settings, select=["annotations"], project=project)
    exampledata.append_batches(db, base_rows=BASE, rows=NEW, seed=7)
    issued: list[str] = []
    real = Warehouse.query

    def recorded(self: Warehouse, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        issued.append(sql)
        return real(self, sql)

    monkeypatch.setattr(Warehouse, "query", recorded)
    inc = validate_incremental(settings, select=["annotations"], project=project)
    assert inc.mode == "incremental"
    whole = {r.sql for r in inc.results if "whole table" in r.message and r.sql}
    detector = 'SELECT COUNT(*) FROM "labelpact"."main"."annotations"'
    # the batches after the last validated one (b0005): a range old blocks can be skipped for
    discovery = 'WHERE "batch_id" > \'b0005\' GROUP BY "batch_id"'
    reads = [s for s in issued if '"annotations"' in s]
    assert detector in reads and any(discovery in s for s in reads)
    assert not any("NOT (\"batch_id\" IN ('b0001'" in s for s in reads)  # no fallback pass
    # the items' fingerprint already shows the new rows label new items only: no probe of the
    # old rows for them
    assert not any("AS lp_i FROM" in s for s in reads)
    unexplained = [
        s
        for s in reads
        if "\"batch_id\" IN ('b0006'" not in s
        and s != detector
        and not s.startswith("DESCRIBE ")  # the catalog: column names and types, no rows
        and discovery not in s
        and s not in whole
        and not any(w in s for w in whole)  # a whole-table check's failing-row sample
    ]
    assert unexplained == []
    # the old bookkeeping query, every batch grouped and counted, is gone
    assert not any(s.endswith('GROUP BY "batch_id"') and "WHERE" not in s for s in reads)

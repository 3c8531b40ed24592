"""`where:` row filters: lint of bad filters (located), the filter changes results (it is not a
no-op), diff sees a changed filter, every dialect renders it, incremental runs honour it.
dbt and GX on DuckDB, PostgreSQL and Spark: tests/test_filters_engines.py."""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path

import duckdb
import pytest
import sqlglot
import yaml
from helpers import ROOT
from sqlglot import exp

from validator.compiler.plan import Plan, build_plans
from validator.compiler.sql.checks import failing_rows
from validator.compiler.sql.dialects import DIALECTS, get_dialect
from validator.contract.diff import diff
from validator.contract.lint import lint
from validator.contract.model import Contract
from validator.contract.resolve import load_contracts
from validator.example import export

CONTRACT = ROOT / "examples" / "export" / "contracts" / "export_annotations.yml"
FILTER = "NOT is_cancelled AND NOT is_gold"
SECTIONS = ("adjudication", "agreement", "coverage", "label_distribution", "uncertainty")


def _contract_text(section: str, where: str) -> str:
    """The example contract with `section`'s filter replaced by `where`."""
    data = yaml.safe_load(CONTRACT.read_text(encoding="utf-8"))
    data[section]["where"] = where
    return yaml.safe_dump(data, sort_keys=False)


def _where_position(text: str, section: str) -> tuple[int, int]:
    """1-based line and column of the value of `section`'s `where:` in `text`."""
    lines = text.splitlines()
    start = lines.index(f"{section}:")
    for i in range(start + 1, len(lines)):
        if lines[i].startswith("  where:"):
            return i + 1, len("  where: ") + 1
    raise AssertionError(f"no where in {section}")


def _write(directory: Path, text: str) -> Path:
    """The contract `text` beside the example's adjudication records; returns its path."""
    records = CONTRACT.parent / "export_adjudications.yml"
    (directory / records.name).write_text(records.read_text(encoding="utf-8"), encoding="utf-8")
    path = directory / CONTRACT.name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("section", "where", "message"),
    [
        (
            "agreement",
            "NOT is_cancelled AND (",
            "agreement.where: not valid SQL: incomplete expression: nothing valid follows '('",
        ),
        (
            "agreement",
            "NOT is_cancelled is_gold",
            "agreement.where: two expressions side by side ('NOT is_cancelled' then 'is_gold')",
        ),
        (
            "agreement",
            "NOT is_cancelled)",
            "agreement.where: not valid SQL: unexpected ')' after 'NOT is_cancelled'",
        ),
        (
            "agreement",
            "label IN ('a', 'b'",
            "agreement.where: not valid SQL: missing ')' after",
        ),
        ("coverage", "DELETE FROM export_annotations", "coverage.where: must be a boolean"),
        (
            "coverage",
            "is_gold IN (SELECT is_gold FROM export_annotations)",
            "coverage.where: SUBQUERY is not allowed in a filter",
        ),
        (
            "label_distribution",
            "NOT is_canceled",
            "label_distribution.where: unknown column 'is_canceled' (did you mean 'is_cancelled'?)",
        ),
        ("uncertainty", "score + 1", "uncertainty.where: must be a boolean expression"),
        (
            "uncertainty",
            "(batch)",
            "uncertainty.where: must be a boolean expression: column 'batch' is varchar",
        ),
        ("uncertainty", "NOT score", "uncertainty.where: NOT needs a boolean: column 'score'"),
        ("coverage", "is_gold AND (label)", "coverage.where: AND needs a boolean: column 'label'"),
        ("agreement", "is_gold; DROP TABLE x", "agreement.where: must be one expression"),
        ("agreement", "pg_sleep(10) IS NULL", "agreement.where: function pg_sleep()"),
    ],
)
def test_bad_filters_are_located_lint_errors(
    section: str, where: str, message: str, tmp_path: Path
) -> None:
    text = _contract_text(section, where)
    path = _write(tmp_path, text)
    problems = lint([tmp_path]).problems
    assert len(problems) == 1, [p.render(False) for p in problems]
    problem = problems[0]
    assert problem.message.startswith(message), problem.message
    line, col = _where_position(text, section)
    assert (problem.loc.line, problem.loc.col) == (line, col)
    assert problem.render(False).startswith(f"{path}:{line}:{col}: error: {section}.where:")


@pytest.mark.parametrize("where", ["is_gold", "(NOT is_gold)", "score >= 0.5 OR label IS NULL"])
def test_good_filters_lint_clean(where: str, tmp_path: Path) -> None:
    _write(tmp_path, _contract_text("coverage", where))
    assert lint([tmp_path], strict=True).problems == []


def _failures(plans: list[Plan], db: Path) -> dict[str, int]:
    """Failing rows (or groups) of every check, counted on DuckDB."""
    d = get_dialect("duckdb")
    out: dict[str, int] = {}
    con = duckdb.connect(str(db), read_only=True)
    try:
        for plan in plans:
            for check in plan.checks:
                if check.kind == "schema":
                    continue
                query = failing_rows(
                    check, lambda n: exp.to_table(f"{export.SCHEMA}.{n}"), d, plan.contract.key
                )
                row = con.execute(f"SELECT count(*) FROM ({d.render(query)})").fetchone()
                assert row is not None
                if row[0]:
                    out[check.id] = int(row[0])
    finally:
        con.close()
    return out


def _annotations_plan() -> Plan:
    plans = build_plans(load_contracts([CONTRACT.parent]))
    return next(p for p in plans if p.contract.name == "export_annotations")


def _unfiltered(contract: Contract) -> Contract:
    s = contract.sections
    if s.agreement is None:
        return contract
    changes = {name: dataclasses.replace(getattr(s, name), where=None) for name in SECTIONS}
    return dataclasses.replace(contract, sections=dataclasses.replace(s, **changes))


@pytest.fixture(scope="module")
def export_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("export") / "export.duckdb"
    export.write_duckdb(db)
    return db


def test_the_filter_changes_what_the_rules_count(export_db: Path) -> None:
    contracts = load_contracts([CONTRACT.parent])
    annotations = next(c for c in contracts if c.name == "export_annotations")
    assert all(getattr(annotations.sections, name).where == FILTER for name in SECTIONS)
    with_filter = _failures(build_plans(contracts), export_db)
    without = _failures(build_plans([_unfiltered(c) for c in contracts]), export_db)
    # non-cancelled, non-gold annotations: three per item, agreeing; two items lost one
    assert with_filter == {"export_annotations.coverage.min_annotations": 2}
    # every annotation: cancelled drafts (label `other`, low score) break agreement in b2 and
    # b3 and the uncertainty bound there, and dispute ten items nobody adjudicated; gold
    # answers and drafts over-cover 25 items
    assert without == {
        "export_annotations.adjudication.missing": 10,
        "export_annotations.agreement.krippendorff_alpha": 2,
        "export_annotations.uncertainty.batch_low_confidence": 2,
        "export_annotations.coverage.max_annotations": 25,
    }


def test_the_filtered_agreement_matches_an_independent_computation(export_db: Path) -> None:
    """Krippendorff's alpha per batch over the kept rows, from the `krippendorff` package."""
    import krippendorff
    import numpy as np

    plan = _annotations_plan()
    check = next(c for c in plan.checks if c.kind == "agreement")
    d = get_dialect("duckdb")
    values = check.params.values(check, lambda n: exp.to_table(f"{export.SCHEMA}.{n}"))  # type: ignore[attr-defined]
    con = duckdb.connect(str(export_db), read_only=True)
    got = {str(g).lstrip("="): v for g, *_, v in con.execute(d.render(values)).fetchall()}
    rows = con.execute(
        f"SELECT batch, annotator, item_id, label FROM {export.SCHEMA}.{export.TABLE} "
        "WHERE NOT is_cancelled AND NOT is_gold"
    ).fetchall()
    con.close()
    for batch in ("b1", "b2", "b3"):
        mine = [r for r in rows if r[0] == batch]
        raters, items = sorted({r[1] for r in mine}), sorted({r[2] for r in mine})
        codes = {"cat": 0, "dog": 1, "bird": 2, "other": 3}
        matrix = np.full((len(raters), len(items)), np.nan)
        for _, rater, item, label in mine:
            matrix[raters.index(rater), items.index(item)] = codes[label]
        expected = krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal")
        assert got[batch] == pytest.approx(expected, abs=1e-9)


def test_diff_sees_a_changed_filter() -> None:
    base = yaml.safe_load(CONTRACT.read_text(encoding="utf-8"))
    changed = copy.deepcopy(base)
    changed["agreement"]["where"] = "NOT is_cancelled"
    del changed["coverage"]["where"]
    kinds = [(c.kind, c.path, c.breaking) for c in diff(base, changed).changes]
    assert kinds == [
        ("filter_changed", "agreement.where", True),
        ("filter_removed", "coverage.where", True),
    ]
    unfiltered = copy.deepcopy(base)
    del unfiltered["uncertainty"]["where"]
    report = diff(unfiltered, base)
    assert [(c.kind, c.path) for c in report.changes] == [("filter_added", "uncertainty.where")]
    assert "major" in (report.version_problem or "")


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_every_dialect_renders_the_filter(dialect: str) -> None:
    engine = get_dialect(dialect)
    plan = _annotations_plan()
    filtered = [c for c in plan.checks if getattr(c.params, "where", None)]
    assert {c.id.split(".")[1] for c in filtered} == set(SECTIONS)
    for check in filtered:
        sql = engine.render(failing_rows(check, lambda n: exp.to_table(f"s.{n}"), engine))
        tree = sqlglot.parse_one(sql, read=engine.sqlglot)
        for column in tree.find_all(exp.Column):  # compared whatever alias qualifies them
            column.set("table", None)
        # a WHERE, or a CASE WHEN inside a per-item count (which keeps items counting zero)
        conditions = [w.this.sql(dialect=engine.sqlglot) for w in tree.find_all(exp.Where, exp.If)]
        expected = sqlglot.parse_one('NOT "is_cancelled" AND NOT "is_gold"', read="postgres")
        assert expected.sql(dialect=engine.sqlglot) in conditions, (check.id, sql)


def test_filters_travel_through_odcs(tmp_path: Path) -> None:
    """ODCS export then import gives the same contracts, filters included."""
    from validator.interop.odcs import export_contracts, import_document

    back = tmp_path / "back"
    back.mkdir()
    for name, text in export_contracts([CONTRACT.parent]).items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        for contract_name, contract_text in import_document(tmp_path / name).items():
            (back / contract_name).write_text(contract_text, encoding="utf-8")
    before = {c.name: c.sections for c in load_contracts([CONTRACT.parent])}
    after = {c.name: c.sections for c in load_contracts([back])}
    assert after == before
    assert after["export_annotations"].agreement.where == FILTER  # type: ignore[union-attr]


def test_an_item_whose_rows_are_all_filtered_out_fails_the_minimum(
    export_db: Path, tmp_path: Path
) -> None:
    """Dropping an item's last kept rows must not make it pass `min_annotations`: the item
    counts zero kept annotations, it does not vanish from the groups."""
    import shutil

    db = tmp_path / "export.duckdb"
    shutil.copy(export_db, db)
    table = f"{export.SCHEMA}.{export.TABLE}"
    before = _failures(build_plans(load_contracts([CONTRACT.parent])), db)
    with duckdb.connect(str(db)) as con:
        item = con.execute(
            f"SELECT min(item_id) FROM {table} WHERE NOT is_cancelled AND NOT is_gold"
        ).fetchone()[0]  # type: ignore[index]
        con.execute(f"UPDATE {table} SET is_cancelled = true WHERE item_id = ?", [item])
    after = _failures(build_plans(load_contracts([CONTRACT.parent])), db)
    check = "export_annotations.coverage.min_annotations"
    assert after[check] == before[check] + 1


def test_role_columns_of_a_filtered_section_must_be_non_null_only_on_kept_rows(
    export_db: Path, tmp_path: Path
) -> None:
    """A cancelled task may carry no label: agreement's `label` role is required on the rows
    its filter keeps, not on every row."""
    import shutil

    db = tmp_path / "export.duckdb"
    shutil.copy(export_db, db)
    table = f"{export.SCHEMA}.{export.TABLE}"
    plans = build_plans(load_contracts([CONTRACT.parent]))
    checks = {c.id: c for p in plans for c in p.checks}
    assert "export_annotations.label.not_null" not in checks
    assert checks["export_annotations.agreement.label_not_null"].kind == "role_not_null"
    before = _failures(plans, db)
    with duckdb.connect(str(db)) as con:
        con.execute(f"UPDATE {table} SET label = NULL WHERE is_cancelled")
    assert _failures(plans, db) == before  # filtered out: no failure
    with duckdb.connect(str(db)) as con:
        con.execute(
            f"UPDATE {table} SET label = NULL WHERE annotation_id = (SELECT min(annotation_id) "
            f"FROM {table} WHERE NOT is_cancelled AND NOT is_gold)"
        )
    assert _failures(plans, db)["export_annotations.agreement.label_not_null"] == 1

"""The example-data generator: exact contract schemas, clean data passes every rule, each fault
breaks exactly its rule, deterministic output.

The rules are written here in plain SQL (and Krippendorff's alpha in numpy), independently of
the validator's own check compiler, so the two can be compared.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml
from helpers import ROOT

from validator.example import data as exampledata
from validator.example.data import FAULTS, generate
from validator.example.layout import LABELS

ROWS = 2000
TYPES = {"bigint": "BIGINT", "varchar": "VARCHAR", "double": "DOUBLE", "timestamp": "TIMESTAMP"}
CONTRACTS = {
    c["contract"]: c
    for c in (yaml.safe_load(p.read_text()) for p in sorted((ROOT / "contracts").glob("*.yml")))
}

# Current rows: those no other row names as its parent.
CUR = (
    "SELECT * FROM annotations AS a WHERE NOT EXISTS "
    "(SELECT 1 FROM annotations AS c WHERE c.parent_annotation_id = a.annotation_id)"
)
FLAGGED = (
    "SELECT *, NOT EXISTS (SELECT 1 FROM annotations AS c "
    "WHERE c.parent_annotation_id = a.annotation_id) AS is_current FROM annotations AS a"
)
DISAGREE = f"SELECT item_id FROM ({CUR}) GROUP BY item_id HAVING count(DISTINCT label) > 1"

SEMANTIC_RULES: dict[str, str] = {
    "instructions.known": "SELECT * FROM annotations WHERE instruction_version NOT IN "
    "(SELECT version FROM instruction_versions)",
    "instructions.approved": "SELECT * FROM annotations AS a JOIN instruction_versions AS r "
    "ON r.version = a.instruction_version WHERE r.approved_by IS NULL "
    "OR r.approved_at IS NULL OR r.approved_at > r.effective_from",
    "instructions.active": "SELECT * FROM annotations AS a JOIN instruction_versions AS r "
    "ON r.version = a.instruction_version WHERE a.annotated_at < "
    "r.effective_from OR a.annotated_at >= r.retired_at",
    "instructions.no_overlap": "SELECT * FROM instruction_versions AS a JOIN "
    "instruction_versions AS b ON a.version < b.version WHERE "
    "a.effective_from < coalesce(b.retired_at, 'infinity') AND "
    "b.effective_from < coalesce(a.retired_at, 'infinity')",
    "instructions.split_single_version": "SELECT 1 FROM annotations WHERE split IN "
    "('validation', 'test') HAVING "
    "count(DISTINCT instruction_version) > 1",
    "uncertainty.notes_required": "SELECT * FROM annotations WHERE confidence < 0.3 AND "
    "(notes IS NULL OR trim(notes) = '')",
    "uncertainty.batch_low_share": "SELECT batch_id FROM annotations GROUP BY batch_id "
    "HAVING avg((confidence < 0.5)::INT) > 0.2",
    "uncertainty.batch_mean": "SELECT batch_id FROM annotations GROUP BY batch_id "
    "HAVING avg(confidence) NOT BETWEEN 0.6 AND 1.0",
    "label_distribution.max_share": f"SELECT batch_id, label, count(*) / sum(count(*)) OVER "
    f"(PARTITION BY batch_id) AS share FROM ({CUR}) "
    f"GROUP BY batch_id, label QUALIFY share > 0.6",
    "adjudication.missing": f"{DISAGREE} EXCEPT SELECT item_id FROM adjudications",
    "adjudication.unneeded": f"SELECT item_id FROM adjudications EXCEPT ALL {DISAGREE}",
    "adjudication.after_last_label": "SELECT * FROM adjudications AS d JOIN (SELECT item_id, "
    "max(annotated_at) AS last_at FROM annotations GROUP BY "
    "item_id) AS a USING (item_id) WHERE d.adjudicated_at <= "
    "a.last_at",
    "adjudication.rationale_nonempty": "SELECT * FROM adjudications WHERE trim(rationale) = ''",
    "adjudication.adjudicator": "SELECT * FROM adjudications "
    "WHERE NOT regexp_full_match(adjudicator_id, 'adj_[0-9]+')",
    "revisions.parent_exists": "SELECT * FROM annotations WHERE parent_annotation_id NOT IN "
    "(SELECT annotation_id FROM annotations)",
    "revisions.same_lineage": "SELECT * FROM annotations AS c JOIN annotations AS p ON "
    "p.annotation_id = c.parent_annotation_id WHERE c.annotation_id <> "
    "p.annotation_id AND (c.item_id <> p.item_id OR c.annotator_id "
    "<> p.annotator_id)",
    "revisions.time_order": "SELECT * FROM annotations AS c JOIN annotations AS p ON "
    "p.annotation_id = c.parent_annotation_id WHERE c.annotation_id <> "
    "p.annotation_id AND c.annotated_at <= p.annotated_at",
    "revisions.no_cycles": """
        WITH RECURSIVE walk(start, cur, depth) AS (
          SELECT annotation_id, parent_annotation_id, 1 FROM annotations
          WHERE parent_annotation_id IS NOT NULL
          UNION ALL
          SELECT w.start, a.parent_annotation_id, w.depth + 1 FROM walk AS w
          JOIN annotations AS a ON a.annotation_id = w.cur
          WHERE a.parent_annotation_id IS NOT NULL AND w.cur <> w.start AND w.depth < 50)
        SELECT DISTINCT start FROM walk WHERE cur = start""",
    "revisions.single_current": f"SELECT item_id, annotator_id FROM ({FLAGGED}) GROUP BY ALL "
    f"HAVING count(*) FILTER (WHERE is_current) <> 1",
    "coverage.min": f"SELECT item_id FROM ({CUR}) GROUP BY item_id HAVING count(*) < 2",
    "coverage.max": f"SELECT item_id FROM ({CUR}) GROUP BY item_id HAVING count(*) > 6",
    "coverage.unannotated": "SELECT item_id FROM items EXCEPT SELECT item_id FROM annotations",
    "split_matches_item": "SELECT * FROM annotations AS a JOIN items AS i ON i.item_id = "
    "a.item_id WHERE a.split IS DISTINCT FROM i.split",
}


def _q(value: Any) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _contract_rules() -> dict[str, str]:
    """Column rules written in the contracts: required, unique, values, pattern, ranges ..."""
    rules = {}
    for table, contract in CONTRACTS.items():
        for col, spec in contract["columns"].items():
            name = f"{table}.{col}"
            if spec.get("required"):
                rules[f"{name}.not_null"] = f"SELECT * FROM {table} WHERE {col} IS NULL"
            if spec.get("unique") or contract["key"] == [col]:
                rules[f"{name}.unique"] = (
                    f"SELECT {col} FROM {table} WHERE {col} IS NOT NULL "
                    f"GROUP BY {col} HAVING count(*) > 1"
                )
            if "accepted_values" in spec:
                values = ", ".join(_q(v) for v in spec["accepted_values"])
                rules[f"{name}.accepted_values"] = (
                    f"SELECT * FROM {table} WHERE {col} NOT IN ({values})"
                )
            if "pattern" in spec:
                rules[f"{name}.pattern"] = (
                    f"SELECT * FROM {table} WHERE NOT regexp_matches({col}, {_q(spec['pattern'])})"
                )
            if "between" in spec:
                lo, hi = spec["between"]
                rules[f"{name}.between"] = (
                    f"SELECT * FROM {table} WHERE {col} < {lo} OR {col} > {hi}"
                )
            if spec.get("not_in_future"):
                rules[f"{name}.not_in_future"] = (
                    f"SELECT * FROM {table} WHERE {col} > now()::TIMESTAMP"
                )
            if "references" in spec:
                ref = spec["references"]
                rules[f"{name}.references"] = (
                    f"SELECT * FROM {table} WHERE {col} NOT IN "
                    f"(SELECT {ref['column']} FROM {ref['contract']})"
                )
    return rules


RULES = _contract_rules() | SEMANTIC_RULES
SCHEMA_FAULT_COLUMNS = {
    "missing_column": "tool",
    "extra_column": "extra_col",
    "mistyped_column": "confidence",
}
EXPECTED: dict[str, set[str]] = {
    "missing_column": {"annotations.schema"},
    "extra_column": {"annotations.schema"},
    "mistyped_column": {"annotations.schema"},
    "missing_provenance": {"annotations.tool.not_null"},
    "duplicate_key": {"annotations.annotation_id.unique"},
    "bad_label": {"annotations.label.accepted_values"},
    "bad_pattern": {"annotations.annotator_id.pattern"},
    "confidence_out_of_range": {"annotations.confidence.between"},
    "future_timestamp": {"annotations.annotated_at.not_in_future"},
    "orphan_item": {"annotations.item_id.references"},
    "unknown_instruction_version": {"instructions.known"},
    "retired_instruction_version": {"instructions.active"},
    "unapproved_instruction_version": {"instructions.approved"},
    "overlapping_instruction_windows": {"instructions.no_overlap"},
    "split_version_mix": {"instructions.split_single_version"},
    "missing_notes": {"uncertainty.notes_required"},
    "low_confidence_batch": {"uncertainty.batch_low_share", "uncertainty.batch_mean"},
    "low_agreement": {"agreement.alpha", "audits.annotator", "audits.batch"},
    "unadjudicated_disagreement": {"adjudication.missing"},
    "invalid_adjudication_decision": {"adjudications.decision.accepted_values"},
    "missing_adjudication_rationale": {"adjudications.rationale.not_null"},
    "unneeded_adjudication": {"adjudication.unneeded"},
    "orphan_revision": {"revisions.parent_exists"},
    "revision_cycle": {"revisions.no_cycles"},
    "revision_time_order": {"revisions.time_order"},
    "duplicate_current_revision": {"revisions.single_current"},
    "undercovered_items": {"coverage.min", "coverage.unannotated"},
    "overcovered_items": {"coverage.max"},
    "label_skew": {"label_distribution.max_share"},
    "careless_annotator": {"audits.annotator", "agreement.per_annotator"},
    # an annotator who labels everything 'other' is also wrong, and disagrees, most of the time
    "skewed_annotator": {"annotators.label_mix", "audits.annotator", "agreement.per_annotator"},
    "unsure_annotator": {"annotators.low_confidence"},
    "overcorrected_annotator": {"annotators.corrected"},
    "hasty_annotator": {"annotators.turnaround"},
}


def krippendorff_nominal(items: np.ndarray, labels: np.ndarray) -> float:
    """Krippendorff's alpha (nominal) from one (item, label) pair per rating."""
    _, item_idx = np.unique(items, return_inverse=True)
    _, label_idx = np.unique(labels, return_inverse=True)
    counts = np.zeros((item_idx.max() + 1, label_idx.max() + 1))
    np.add.at(counts, (item_idx, label_idx), 1)
    m = counts.sum(axis=1)
    counts, m = counts[m >= 2], m[m >= 2]  # only pairable items count
    # coincidences o_ck = sum_u n_uc (n_uk - [c = k]) / (m_u - 1)
    coincidence = np.einsum("uc,uk->ck", counts / (m - 1)[:, None], counts)
    coincidence -= np.diag((counts / (m - 1)[:, None]).sum(axis=0))
    n_c = coincidence.sum(axis=1)
    n = n_c.sum()
    observed = coincidence.sum() - np.trace(coincidence)
    expected = (n * n - (n_c * n_c).sum()) / (n - 1)
    return float(1 - observed / expected)


def batch_alphas(con: duckdb.DuckDBPyConnection) -> dict[str, float]:
    rows = con.execute(f"SELECT batch_id, item_id, label FROM ({CUR}) ORDER BY ALL").fetchall()
    data = np.array(rows, dtype=object)
    return {
        b: krippendorff_nominal(data[data[:, 0] == b, 1], data[data[:, 0] == b, 2])
        for b in sorted(set(data[:, 0]))
    }


def schema_of(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    return [
        (c, t)
        for c, t in con.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = "
            "'raw' AND table_name = ? ORDER BY ordinal_position",
            [table],
        ).fetchall()
    ]


def contract_schema(table: str) -> list[tuple[str, str]]:
    return [(c, TYPES[s["type"]]) for c, s in CONTRACTS[table]["columns"].items()]


def failing_rules(con: duckdb.DuckDBPyConnection, skip_column: str | None = None) -> set[str]:
    """Names of the rules with at least one violation (rules using `skip_column` skipped)."""
    failing = {f"{t}.schema" for t in CONTRACTS if schema_of(con, t) != contract_schema(t)}
    for name, sql in RULES.items():
        if skip_column and re.search(rf"\b{skip_column}\b", sql + name):
            continue
        if con.execute(f"SELECT count(*) FROM ({sql})").fetchone()[0]:  # type: ignore[index]
            failing.add(name)
    if skip_column != "confidence" and min(batch_alphas(con).values()) < 0.6:
        failing.add("agreement.alpha")
    failing |= {f"audits.{g}" for g in ("annotator", "batch") if audit_failures(con, g)}
    if con.execute(f"SELECT count(*) FROM ({PER_ANNOTATOR})").fetchone()[0]:  # type: ignore[index]
        failing.add("agreement.per_annotator")
    return failing | annotator_failures(con, skip_column)


def annotator_failures(con: duckdb.DuckDBPyConnection, skip_column: str | None) -> set[str]:
    """The `annotators:` rules in pandas, for annotators with 30+ labels: current label mix more
    than 0.4 (total variation) from everyone's current labels, more than 70% of labels with a
    confidence below 0.5, more than 30% of labels corrected by a later row, a median time per
    label under 5 s or a 90th percentile over 300 s."""
    df = con.execute(
        "SELECT annotation_id, annotator_id, label, parent_annotation_id FROM annotations"
    ).df()
    corrected = df["annotation_id"].isin(df["parent_annotation_id"].dropna())
    cur = df[~corrected]
    mix = pd.crosstab(cur["annotator_id"], cur["label"], normalize="index")
    tv = (mix - cur["label"].value_counts(normalize=True)).abs().sum(axis=1) / 2
    judged = cur["annotator_id"].value_counts().reindex(tv.index) >= 30
    failing = {"annotators.label_mix"} if (judged & (tv > 0.4)).any() else set()
    fixed = df.assign(c=corrected).groupby("annotator_id")["c"].agg(["size", "mean"])
    if ((fixed["size"] >= 30) & (fixed["mean"] > 0.3)).any():
        failing.add("annotators.corrected")
    took = con.execute("SELECT annotator_id, seconds_spent FROM annotations").df()
    took = took.dropna().groupby("annotator_id")["seconds_spent"]
    # pandas' quantile interpolates linearly, as PERCENTILE_CONT does
    pace = took.agg(["size", "median"]).assign(p90=took.quantile(0.9))
    if ((pace["size"] >= 30) & ((pace["median"] < 5) | (pace["p90"] > 300))).any():
        failing.add("annotators.turnaround")
    if skip_column != "confidence":
        conf = con.execute(
            "SELECT annotator_id, confidence < 0.5 AS low FROM annotations "
            "WHERE confidence IS NOT NULL"
        ).df()
        low = conf.groupby("annotator_id")["low"].agg(["size", "mean"])
        if ((low["size"] >= 30) & (low["mean"] > 0.7)).any():
            failing.add("annotators.low_confidence")
    return failing


# Each current label against the adjudicated decision, else the unique mode of the other current
# labels of its item; annotators with 20+ such labels must match on at least 40%.
PER_ANNOTATOR = f"""
    WITH cur AS ({CUR}),
    others AS (SELECT a.annotation_id, o.label, count(*) AS n FROM cur AS a JOIN cur AS o
               ON o.item_id = a.item_id AND o.annotation_id <> a.annotation_id GROUP BY ALL),
    modes AS (SELECT annotation_id, CASE WHEN count(*) FILTER (WHERE n = top) = 1
                     THEN max(label) FILTER (WHERE n = top) END AS mode
              FROM (SELECT *, max(n) OVER (PARTITION BY annotation_id) AS top FROM others)
              GROUP BY annotation_id),
    refs AS (SELECT a.annotator_id, a.label, coalesce(d.decision, m.mode) AS ref FROM cur AS a
             LEFT JOIN modes AS m USING (annotation_id) LEFT JOIN adjudications AS d
             USING (item_id))
    SELECT annotator_id FROM refs WHERE ref IS NOT NULL GROUP BY annotator_id
    HAVING count(*) >= 20 AND avg((label = ref)::INT) < 0.4"""


def audit_failures(con: duckdb.DuckDBPyConnection, group: str) -> list[str]:
    """Groups whose audited error rate exceeds 0.3 at the lower end of the 95% Wilson interval
    (statsmodels' interval, not the validator's SQL)."""
    from statsmodels.stats.proportion import proportion_confint

    rows = con.execute(
        f"SELECT a.{group}_id, count(*), count(*) FILTER (WHERE v.verdict = 'incorrect') "
        "FROM annotations AS a JOIN audit_results AS v USING (annotation_id) GROUP BY 1"
    ).fetchall()
    return [g for g, n, e in rows if proportion_confint(e, n, 0.05, method="wilson")[0] > 0.3]


def connect(path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path))
    con.execute("SET schema = 'raw'")
    return con


def snapshot(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[Any, ...]]]:
    return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in CONTRACTS}


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    path = tmp_path_factory.mktemp("clean") / "clean.duckdb"
    generate(path, rows=ROWS, seed=7)
    return connect(path)


# --- schema and determinism -------------------------------------------------------------------


@pytest.mark.parametrize("table", sorted(CONTRACTS))
def test_tables_match_their_contract_exactly(clean: duckdb.DuckDBPyConnection, table: str) -> None:
    assert schema_of(clean, table) == contract_schema(table)


def test_same_seed_gives_identical_data(tmp_path: Path, clean: duckdb.DuckDBPyConnection) -> None:
    generate(tmp_path / "again.duckdb", rows=ROWS, seed=7)
    assert snapshot(connect(tmp_path / "again.duckdb")) == snapshot(clean)
    generate(tmp_path / "other.duckdb", rows=ROWS, seed=8)
    other = snapshot(connect(tmp_path / "other.duckdb"))
    assert other["annotations"] != snapshot(clean)["annotations"]


def test_faulty_data_is_deterministic_too(tmp_path: Path) -> None:
    for name in ("a", "b"):
        generate(tmp_path / f"{name}.duckdb", rows=1000, seed=3, fault="undercovered_items")
    assert snapshot(connect(tmp_path / "a.duckdb")) == snapshot(connect(tmp_path / "b.duckdb"))


def test_regenerating_replaces_the_tables(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    first = generate(path, rows=1000, fault="overcovered_items")
    assert generate(path, rows=1000) != first
    assert failing_rules(connect(path)) == set()


# --- clean data ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("rows", "seed"), [(ROWS, 7), (1000, 1), (6000, 11)])
def test_clean_data_breaks_no_rule(tmp_path: Path, rows: int, seed: int) -> None:
    path = tmp_path / "clean.duckdb"
    counts = generate(path, rows=rows, seed=seed)
    assert abs(counts["annotations"] - rows) < 0.1 * rows
    assert failing_rules(connect(path)) == set()


def test_agreement_is_comfortably_above_the_minimum(clean: duckdb.DuckDBPyConnection) -> None:
    alphas = batch_alphas(clean)
    assert len(alphas) >= 4
    assert all(0.68 <= a <= 0.9 for a in alphas.values()), alphas


def test_krippendorff_reference_value() -> None:
    # Krippendorff (2011), "Computing Krippendorff's alpha-reliability", nominal example: 0.743
    raw = [
        "1 2 3 3 2 1 4 1 2 . . .",
        "1 2 3 3 2 2 4 1 2 5 . 3",
        ". 3 3 3 2 3 4 2 2 5 1 .",
        "1 2 3 3 2 4 4 1 2 5 1 .",
    ]
    pairs = [(u, v) for row in raw for u, v in enumerate(row.split()) if v != "."]
    items, labels = (np.array(x) for x in zip(*pairs, strict=True))
    assert krippendorff_nominal(items, labels) == pytest.approx(0.743, abs=5e-4)


def test_clean_data_looks_like_real_annotation_work(clean: duckdb.DuckDBPyConnection) -> None:
    one = lambda sql: clean.execute(sql).fetchone()  # noqa: E731
    assert {
        r[0] for r in clean.execute("SELECT DISTINCT label FROM annotations").fetchall()
    } == set(LABELS)
    n_items, n_annotators, per_annotator = one(
        "SELECT count(DISTINCT item_id), count(DISTINCT annotator_id), "
        "count(*) / count(DISTINCT annotator_id) FROM annotations"
    )
    assert n_items == one("SELECT count(*) FROM items")[0]
    assert 20 <= n_annotators <= 500 and per_annotator >= 20
    # 3-5 current labels per item from distinct annotators
    assert one(
        f"SELECT min(n), max(n), min(a) = max(n) FROM (SELECT item_id, count(*) AS n, "
        f"count(DISTINCT annotator_id) AS a FROM ({CUR}) GROUP BY item_id)"
    )[:2] == (3, 5)
    assert one(
        f"SELECT bool_and(n = a) FROM (SELECT item_id, count(*) AS n, "
        f"count(DISTINCT annotator_id) AS a FROM ({CUR}) GROUP BY item_id)"
    )[0]
    train, validation, test = one(
        "SELECT avg((split = 'train')::INT), "
        "avg((split = 'validation')::INT), avg((split = 'test')::INT) "
        "FROM items"
    )
    assert 0.75 < train < 0.85 and 0.06 < validation < 0.14 and 0.06 < test < 0.14
    assert one(
        "SELECT bool_and(uri = 's3://labelpact-example/items/' || item_id || '.jpg') FROM items"
    )[0]
    assert one(
        "SELECT bool_and(regexp_full_match(batch_id, 'b[0-9]{4}')), "
        "bool_and(tool IN ('labelstudio-1.12', 'cvat-2.11')) FROM annotations"
    ) == (True, True)
    corrections, low, noted_high, latest = one(
        "SELECT avg((parent_annotation_id IS NOT NULL)::INT), avg((confidence < 0.5)::INT), "
        "avg((notes IS NOT NULL AND confidence >= 0.3)::INT), max(annotated_at) "
        "FROM annotations"
    )
    assert 0.01 < corrections < 0.035 and 0.05 < low < 0.11 and noted_high < 0.05
    assert str(latest) < "2026-01-01"
    assert one("SELECT max(adjudicated_at) FROM adjudications")[0].year <= 2025
    assert one("SELECT count(*) FROM adjudications")[0] > 0.2 * n_items
    # validation and test use one version only: v3
    assert clean.execute(
        "SELECT DISTINCT instruction_version FROM annotations WHERE split <> 'train'"
    ).fetchall() == [("v3",)]
    assert clean.execute(
        "SELECT version, supersedes, approved_at < effective_from "
        "FROM instruction_versions ORDER BY 1"
    ).fetchall() == [("v1", None, True), ("v2", "v1", True), ("v3", "v2", True)]


# --- faults -----------------------------------------------------------------------------------


def test_every_fault_is_described_and_expected() -> None:
    assert set(FAULTS) == set(EXPECTED)
    assert all(text and "\n" not in text for text in FAULTS.values())


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_fault_breaks_exactly_its_rule(tmp_path: Path, fault: str) -> None:
    path = tmp_path / f"{fault}.duckdb"
    generate(path, rows=ROWS, seed=7, fault=fault)
    con = connect(path)
    assert failing_rules(con, skip_column=SCHEMA_FAULT_COLUMNS.get(fault)) == EXPECTED[fault]


@pytest.mark.parametrize("fault", ["bad_label", "undercovered_items", "overcovered_items"])
def test_label_faults_keep_adjudications_consistent(tmp_path: Path, fault: str) -> None:
    # these change which items disagree, so their adjudications are recomputed
    generate(tmp_path / "f.duckdb", rows=ROWS, seed=7, fault=fault)
    con = connect(tmp_path / "f.duckdb")
    for rule in ("adjudication.missing", "adjudication.unneeded", "adjudication.after_last_label"):
        assert con.execute(f"SELECT count(*) FROM ({RULES[rule]})").fetchone() == (0,)


@pytest.mark.parametrize(
    ("rule", "change"),
    [
        ("adjudication.after_last_label", "UPDATE adjudications SET adjudicated_at = '2023-01-01'"),
        ("adjudication.rationale_nonempty", "UPDATE adjudications SET rationale = ' '"),
        ("adjudication.adjudicator", "UPDATE adjudications SET adjudicator_id = 'bob'"),
        (
            "revisions.same_lineage",
            "UPDATE annotations SET annotator_id = 'ann_999999' "
            "WHERE parent_annotation_id IS NOT NULL",
        ),
        ("split_matches_item", "UPDATE items SET split = 'test' WHERE split = 'train'"),
    ],
)
def test_rules_no_fault_exercises_still_detect_violations(
    tmp_path: Path, rule: str, change: str
) -> None:
    generate(tmp_path / "m.duckdb", rows=1000, seed=7)
    con = connect(tmp_path / "m.duckdb")
    con.execute(change)
    assert rule in failing_rules(con)


def test_unknown_fault_lists_the_valid_names(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"unknown fault 'nope'.*label_skew"):
        generate(tmp_path / "x.duckdb", fault="nope")


# --- formats and entry points -----------------------------------------------------------------


def test_parquet_output_matches_duckdb_output(
    tmp_path: Path, clean: duckdb.DuckDBPyConnection
) -> None:
    counts = generate(tmp_path / "pq", rows=ROWS, seed=7, fmt="parquet")
    assert sorted(p.name for p in (tmp_path / "pq").iterdir()) == sorted(
        f"{t}.parquet" for t in CONTRACTS
    )
    con = duckdb.connect()
    for table in CONTRACTS:
        rel = f"read_parquet('{tmp_path / 'pq' / table}.parquet')"
        described = [(c, t) for c, t, *_ in con.execute(f"DESCRIBE SELECT * FROM {rel}").fetchall()]
        assert described == contract_schema(table)
        rows = con.execute(f"SELECT * FROM {rel} ORDER BY ALL").fetchall()
        assert len(rows) == counts[table]
        assert rows == clean.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()


def test_other_schema_and_progress_messages(tmp_path: Path) -> None:
    messages: list[str] = []
    generate(
        tmp_path / "s.duckdb",
        rows=1000,
        schema="staging",
        fault="bad_label",
        progress=messages.append,
    )
    con = duckdb.connect(str(tmp_path / "s.duckdb"))
    assert con.execute("SELECT count(*) > 0 FROM staging.items").fetchone() == (True,)
    assert any(m.startswith("chunk 1/1") for m in messages)
    assert any("bad_label" in m for m in messages)


def test_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert exampledata.main(["--list-faults"]) == 0
    listing = capsys.readouterr().out
    assert all(name in listing for name in FAULTS)
    with pytest.raises(SystemExit):
        exampledata.main(["--help"])
    assert "example:" in capsys.readouterr().out
    out = tmp_path / "cli.duckdb"
    assert (
        exampledata.main(
            [
                "--rows",
                "1000",
                "--seed",
                "7",
                "--fault",
                "label_skew",
                "--format",
                "duckdb",
                str(out),
            ]
        )
        == 0
    )
    assert "annotations:" in capsys.readouterr().out
    assert failing_rules(connect(out)) == EXPECTED["label_skew"]

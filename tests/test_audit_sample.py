"""`labelpact audit sample`: deterministic for a seed, every stratum at its minimum, the size
respected, the same items on DuckDB and PostgreSQL; strata recomputed here with pandas."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest
from helpers import ROOT

from validator.audit.sample import Sample, draw_sample
from validator.cli import main
from validator.contract.model import Contract
from validator.contract.resolve import load_contracts
from validator.engines.warehouse import Warehouse
from validator.errors import UsageError
from validator.settings import Settings

CONTRACTS = {c.name: c for c in load_contracts([ROOT / "contracts"])}
RAW = {name: f"raw.{name}" for name in CONTRACTS}


def _draw(settings: Settings, **kw) -> Sample:  # type: ignore[no-untyped-def]
    with Warehouse(settings) as wh:
        return draw_sample(wh, CONTRACTS["annotations"], CONTRACTS, RAW, **kw)


@pytest.fixture(scope="module")
def duck(duckdb_warehouses) -> Settings:  # type: ignore[no-untyped-def]
    return Settings(project_dir=ROOT, env={"LABELPACT_DUCKDB": str(duckdb_warehouses.path(None))})


@pytest.fixture(scope="module")
def strata(duck: Settings) -> pd.DataFrame:
    """(dim, value, item) of every stratum, from the current rows, computed with pandas."""
    con = duckdb.connect(duck.env["LABELPACT_DUCKDB"], read_only=True)
    df = con.execute("SELECT * FROM raw.annotations").df()
    con.close()
    cur = df[~df.annotation_id.isin(df.parent_annotation_id.dropna())]
    parts = [
        cur[[c, "item_id"]].drop_duplicates().set_axis(["value", "item"], axis=1).assign(dim=c)
        for c in ("annotator_id", "batch_id", "label")
    ]
    low = cur[cur.confidence < 0.5][["item_id"]].drop_duplicates()
    parts.append(low.set_axis(["item"], axis=1).assign(dim="low_confidence", value="< 0.5"))
    n_labels = cur.groupby("item_id").label.nunique()
    dis = pd.DataFrame({"item": n_labels[n_labels > 1].index})
    parts.append(dis.assign(dim="disagreement", value="yes"))
    return pd.concat(parts)[["dim", "value", "item"]].astype(str)


def test_same_seed_same_sample_other_seed_other_sample(duck: Settings) -> None:
    a = _draw(duck, size=120, seed=3, min_per_stratum=1)
    b = _draw(duck, size=120, seed=3, min_per_stratum=1)
    c = _draw(duck, size=120, seed=4, min_per_stratum=1)
    assert a.rows == b.rows and a.items == b.items
    assert set(a.items) != set(c.items)
    assert len(set(a.items) & set(c.items)) < 0.8 * len(a.items)


@pytest.mark.parametrize(("size", "k"), [(150, 2), (400, 3)])
def test_every_stratum_gets_its_minimum_and_the_size_is_exact(
    duck: Settings, strata: pd.DataFrame, size: int, k: int
) -> None:
    sample = _draw(duck, size=size, seed=11, min_per_stratum=k)
    assert len(sample.items) == len(set(sample.items)) == size
    picked = strata[strata.item.isin(sample.items)].groupby(["dim", "value"]).size()
    sizes = strata.groupby(["dim", "value"]).size()
    assert set(picked.index) == set(sizes.index)  # every stratum is covered
    assert (picked >= sizes.clip(upper=k)).all()
    assert sample.strata == {f"{d}={v}": n for (d, v), n in picked.items()}
    # every row is a current label of a sampled item, every label of a sampled item is a row
    assert {r[1] for r in sample.rows} == set(sample.items)
    cur_labels = strata[(strata.dim == "annotator_id") & strata.item.isin(sample.items)]
    assert len(sample.rows) == len(cur_labels)


def test_the_rest_is_drawn_in_proportion(duck: Settings, strata: pd.DataFrame) -> None:
    """Beyond the minimum, items are a simple random sample: each batch's share of the sample
    is close to its share of the items."""
    sample = _draw(duck, size=400, seed=5, min_per_stratum=0)
    batches = strata[strata.dim == "batch_id"]
    share = batches.value.value_counts(normalize=True)
    got = batches[batches.item.isin(sample.items)].value.value_counts(normalize=True)
    assert ((got - share).abs() < 0.06).all(), (got, share)


def test_a_size_below_the_minimum_is_refused(duck: Settings) -> None:
    with pytest.raises(UsageError, match="--size 20 is too small"):
        _draw(duck, size=20, seed=1, min_per_stratum=2)


def test_unknown_by_column_is_named(duck: Settings) -> None:
    with pytest.raises(UsageError, match="did you mean"):
        _draw(duck, size=50, by=["batchid"])


def test_postgres_draws_the_same_items(duck: Settings, postgres_warehouses) -> None:  # type: ignore[no-untyped-def]
    postgres_warehouses.load(None)
    pg = Settings(project_dir=ROOT, target="postgres", env=postgres_warehouses.env(None))
    a = _draw(duck, size=150, seed=9, min_per_stratum=2)
    b = _draw(pg, size=150, seed=9, min_per_stratum=2)
    assert a.items == b.items
    assert a.strata == b.strata


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_command_writes_the_file(
    duckdb_warehouses, tmp_path: Path, suffix: str, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    assert duckdb_warehouses.build(None).success  # the dbt models the command reads
    out = tmp_path / f"audit{suffix}"
    monkeypatch.setenv("LABELPACT_DUCKDB", str(duckdb_warehouses.path(None)))  # the profile's file
    argv = ["audit", "sample", "annotations", "--size", "60", "--seed", "2"]
    assert main([*argv, "--project-dir", str(ROOT), "-o", str(out)]) == 0
    df = pd.read_csv(out) if suffix == ".csv" else pq.read_table(out).to_pandas()
    assert df["item"].nunique() == 60
    for column in (
        "annotator",
        "label",
        "confidence",
        "batch",
        "instruction_version",
        "adjudicated_label",
        "item_labels",
        "strata",
        "verdict",
        "error_type",
    ):
        assert column in df.columns
    assert not list(tmp_path.glob(".*.tmp"))  # written through a temporary file, renamed


# --- the contract's `where:` filters (the example export: cancelled drafts and gold answers) ---

EXPORT = ROOT / "examples" / "export" / "contracts"
EXPORT_RAW = {"export_annotations": "raw_export.export_annotations"}
EXPORT_RAW["export_adjudications"] = "raw_export.export_adjudications"
KEPT = "NOT is_cancelled AND NOT is_gold"  # the filter of every section of the export contract
KEPT_PD = "not is_cancelled and not is_gold"  # the same, for pandas


@pytest.fixture(scope="module")
def export_db(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    from validator.example import export

    db = tmp_path_factory.mktemp("audit_export") / "export.duckdb"
    export.write_duckdb(db)
    con = duckdb.connect(str(db))  # a multi-label table: key (annotation_id, label_index)
    con.execute(
        "CREATE TABLE raw_export.multi AS SELECT *, 0 AS label_index FROM "
        "raw_export.export_annotations UNION ALL SELECT * REPLACE ('dog' AS label), "
        "1 AS label_index FROM raw_export.export_annotations WHERE label = 'cat'"
    )
    con.close()
    return Settings(project_dir=ROOT, env={"LABELPACT_DUCKDB": str(db)})


def _export_rows(settings: Settings, table: str = "export_annotations") -> pd.DataFrame:
    con = duckdb.connect(settings.env["LABELPACT_DUCKDB"], read_only=True)
    df = con.execute(f"SELECT * FROM raw_export.{table}").df()
    con.close()
    return df


def _draw_export(settings: Settings, contract: Contract, **kw) -> Sample:  # type: ignore[no-untyped-def]
    contracts = {c.name: c for c in load_contracts([EXPORT])} | {contract.name: contract}
    relations = {**EXPORT_RAW, contract.name: EXPORT_RAW.get(contract.name, "raw_export.multi")}
    with Warehouse(settings) as wh:
        return draw_sample(wh, contract, contracts, relations, **kw)


def _export_contract(**where: str | None) -> Contract:
    """The export contract, with the filter of the named sections replaced."""
    c = {c.name: c for c in load_contracts([EXPORT])}["export_annotations"]
    changed = {k: replace(getattr(c.sections, k), where=w) for k, w in where.items()}
    return replace(c, sections=replace(c.sections, **changed))


def _stratum(sample: Sample, dim: str) -> set[str]:
    i = sample.columns.index("strata")
    return {str(r[1]) for r in sample.rows if f"{dim}=" in str(r[i])}


def test_the_sample_reads_only_the_rows_the_filters_keep(export_db: Settings) -> None:
    """Cancelled drafts and gold answers are neither sampled nor make an item disagree."""
    df = _export_rows(export_db)
    kept = df.query(KEPT_PD)
    sample = _draw_export(export_db, _export_contract(), size=30, min_per_stratum=0)
    assert set(sample.items) == set(kept.item_id)  # every item has counted rows
    annotations = {int(r[2]) for r in sample.rows}
    assert annotations == set(kept.annotation_id)
    n_labels = kept.groupby("item_id").label.nunique()
    assert _stratum(sample, "disagreement") == set(n_labels[n_labels > 1].index)
    assert not any("other" in str(r[sample.columns.index("item_labels")]) for r in sample.rows)


def test_low_confidence_reads_the_uncertainty_filter_disagreement_the_agreement_one(
    export_db: Settings,
) -> None:
    """With uncertainty counting cancelled drafts (score 0.1) and agreement only the annotators'
    labels, each stratum follows its own section; the sample holds the rows either counts."""
    df = _export_rows(export_db)
    contract = _export_contract(uncertainty="NOT is_gold", agreement=KEPT)
    sample = _draw_export(export_db, contract, size=30, min_per_stratum=0)
    low = df.query("not is_gold and score < 0.5").item_id
    assert _stratum(sample, "low_confidence") == set(low) != set()
    kept = df.query(KEPT_PD)
    n_labels = kept.groupby("item_id").label.nunique()
    assert _stratum(sample, "disagreement") == set(n_labels[n_labels > 1].index)
    assert {int(r[2]) for r in sample.rows} == set(df.query("not is_gold").annotation_id)


def test_a_missing_label_is_written_with_the_null_mark(export_db: Settings) -> None:
    """Without filters the cancelled drafts without a label are sampled: `(null)`, not None."""
    unfiltered = {s: None for s in ("agreement", "adjudication", "coverage", "uncertainty")}
    contract = _export_contract(label_distribution=None, **unfiltered)
    con = duckdb.connect(export_db.env["LABELPACT_DUCKDB"])
    con.execute("UPDATE raw_export.export_annotations SET label = NULL WHERE is_cancelled")
    con.close()
    try:
        sample = _draw_export(export_db, contract, size=30, min_per_stratum=0)
    finally:
        con = duckdb.connect(export_db.env["LABELPACT_DUCKDB"])
        con.execute("UPDATE raw_export.export_annotations SET label = 'other' WHERE is_cancelled")
        con.close()
    labels = [str(r[sample.columns.index("item_labels")]) for r in sample.rows]
    assert any("ann_3: (null)" in t for t in labels)  # the cancelled drafts of ann_3
    assert not any("None" in t for t in labels)


def test_a_composite_key_is_carried_whole(export_db: Settings, tmp_path: Path) -> None:
    """Key (annotation_id, label_index): each label row of an annotation is its own row of the
    sample, named by the whole key."""
    text = (EXPORT / "export_annotations.yml").read_text()
    text = text.replace("contract: export_annotations", "contract: multi")
    text = text.replace("key: [annotation_id]", "key: [annotation_id, label_index]")
    text = text.replace("unique: true, description: The annotation.", "description: The one.")
    text = text.replace("  item_id:", "  label_index: {type: integer, required: true}\n  item_id:")
    text = text.replace("raw_export.export_annotations", "raw_export.multi")
    (tmp_path / "multi.yml").write_text(text)
    shutil.copy(EXPORT / "export_adjudications.yml", tmp_path)
    contract = {c.name: c for c in load_contracts([tmp_path])}["multi"]
    sample = _draw_export(export_db, contract, size=30, min_per_stratum=0)
    assert sample.columns[2:4] == ["annotation", "label_index"]
    keys = [(int(r[2]), int(r[3])) for r in sample.rows]
    kept = _export_rows(export_db, "multi").query(KEPT_PD)
    assert sorted(keys) == sorted(zip(kept.annotation_id, kept.label_index, strict=True))
    assert len(set(keys)) == len(keys)

"""The HTML health report: numbers equal the warehouse, and the page renders in Chromium."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import duckdb
import krippendorff
import numpy as np
import pytest
from helpers import ROOT, assert_croissant_loads_cleanly, browser

from validator.contract.resolve import load_contracts
from validator.engines.dbt_runner import DbtProject
from validator.output.health import gather, render_html
from validator.verdict.validate import validate

ARTIFACTS = ROOT / "target" / "test-artifacts"


@pytest.fixture(scope="module")
def report(duckdb_warehouses, tmp_path_factory):  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("report")
    settings = duckdb_warehouses.settings("low_agreement", tmp / "ledger.jsonl")
    run = validate(settings, project=duckdb_warehouses.project)
    contracts = {c.name: c for c in load_contracts([ROOT / "contracts"])}
    project: DbtProject = duckdb_warehouses.project
    relations = {n: project.relation_name(n) for n in contracts}
    metrics = gather(settings, contracts["annotations"], contracts, relations)
    page = tmp / "report.html"
    page.write_text(render_html(metrics))
    return settings, run, metrics, page


def test_metrics_equal_the_data(report) -> None:  # type: ignore[no-untyped-def]
    settings, _run, metrics, _ = report
    con = duckdb.connect(settings.env["LABELPACT_DUCKDB"], read_only=True)
    df = con.execute("SELECT * FROM raw.annotations").df()
    con.close()
    assert metrics.rows == len(df)
    assert metrics.completeness["tool (tool)"] == pytest.approx(df["tool"].notna().mean())
    low = df.groupby("batch_id")["confidence"].apply(lambda s: float((s < 0.5).mean()))
    assert dict(metrics.low_share_by_batch) == pytest.approx(low.to_dict())
    # agreement of the randomised batch, recomputed with the reference package
    current = df[~df["annotation_id"].isin(df["parent_annotation_id"].dropna())]
    b1 = current[current["batch_id"] == "b0001"]
    cats = {c: i for i, c in enumerate(sorted(b1["label"].unique()))}
    matrix = (
        b1.pivot_table(index="annotator_id", columns="item_id", values="label", aggfunc="first")
        .apply(lambda col: col.map(cats))
        .to_numpy(float)
    )
    expected = krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal")
    assert dict(metrics.agreement_by_batch)["b0001"] == pytest.approx(expected, abs=1e-9)
    # the randomised batch also fails the audits (tests/helpers EXPECTED["low_agreement"])
    assert {c["id"] for c in metrics.failing_checks} == {
        "annotations.agreement.krippendorff_alpha",
        "annotations.audits.annotator_error_rate",
        "annotations.audits.batch_error_rate",
    }
    counts = current.groupby("item_id").size().value_counts().sort_index()
    assert metrics.coverage_histogram == [(int(k), int(v)) for k, v in counts.items()]
    assert metrics.adjudication_backlog == 0
    con = duckdb.connect(settings.env["LABELPACT_DUCKDB"], read_only=True)
    adjudicated = set(con.execute("SELECT item_id FROM raw.adjudications").df()["item_id"])
    con.close()
    unresolved = (current["confidence"] < 0.5) & ~current["item_id"].isin(adjudicated)
    assert metrics.unresolved_uncertainty_rate == pytest.approx(unresolved.mean())
    shares = {(mo, v): s for mo, v, s in metrics.version_share_by_month}
    month = df["annotated_at"].dt.strftime("%Y-%m")
    first = sorted(month.unique())[0]
    in_month = df[month == first]["instruction_version"].value_counts(normalize=True)
    for version, share in in_month.items():
        assert shares[(first, version)] == pytest.approx(share)


def test_page_renders_in_chromium_with_the_same_numbers(report, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, _, metrics, page = report
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "report.png"
    # one launch: the DOM after load and the screenshot
    dom, stderr = browser.render(page, tmp_path / "profile", shot, (1000, 2400))
    assert browser.console_messages(stderr) == []
    chart = re.search(r'aria-label="Agreement per batch[^"]*"(.*?)</svg>', dom, re.S)
    assert chart is not None
    shown = {
        label: float(value)
        for label, value in re.findall(r"<title>([^<]+): ([-0-9.]+)</title>", chart.group(1))
    }
    assert shown == pytest.approx({b: v or 0.0 for b, v in metrics.agreement_by_batch}, abs=5e-4)
    assert "annotations.agreement.krippendorff_alpha" in dom
    assert f"{metrics.adjudication_backlog} disagreeing item(s)" in dom
    assert f"{metrics.unresolved_uncertainty_rate:.4f} of current labels" in dom
    assert shot.stat().st_size > 10_000
    assert np.frombuffer(shot.read_bytes()[:8], dtype=np.uint8).tolist() == [
        137,
        80,
        78,
        71,
        13,
        10,
        26,
        10,
    ]  # a PNG


def test_croissant_from_the_report_loads_in_mlcroissant(report) -> None:  # type: ignore[no-untyped-def]
    from validator.output.croissant import croissant_metadata

    _, _, metrics, _ = report
    contract = {c.name: c for c in load_contracts([ROOT / "contracts"])}["annotations"]
    doc = croissant_metadata(metrics, contract, license="https://spdx.org/licenses/CC-BY-4.0.html")
    assert_croissant_loads_cleanly(doc)
    settings = report[0]
    con = duckdb.connect(settings.env["LABELPACT_DUCKDB"], read_only=True)
    tools = sorted(
        r[0]
        for r in con.execute(
            "SELECT DISTINCT tool FROM raw.annotations WHERE tool IS NOT NULL"
        ).fetchall()
    )
    con.close()
    assert doc["rai:dataAnnotationPlatform"] == tools and len(tools) >= 2
    items = sum(n for _, n in metrics.coverage_histogram)
    mean = sum(k * n for k, n in metrics.coverage_histogram) / items
    assert doc["rai:annotationsPerItem"].startswith(f"{mean:.2f} current annotations per item")
    assert any("registry: instruction_versions" in s for s in doc["rai:dataAnnotationProtocol"])
    analysis = " ".join(doc["rai:dataAnnotationAnalysis"])
    assert "krippendorff_alpha per batch_id, required >= 0.6" in analysis
    low = min(v for _, v in metrics.agreement_by_batch if v is not None)
    assert f"min {low:.3f}" in analysis
    # the low_agreement data fails its agreement check: a limitation the metadata states
    assert any("annotations.agreement.krippendorff_alpha" in s for s in doc["rai:dataLimitations"])
    assert doc["datePublished"] == metrics.validated_at[:10]


@pytest.mark.parametrize("name", ["postgres", "spark"])
def test_the_report_reads_every_engine_through_its_profile(report, name, request, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The same data in PostgreSQL and Spark gives the warehouse numbers it gives in DuckDB (which
    `test_metrics_equal_the_data` holds to pandas and krippendorff)."""
    _, _, expected, _ = report
    engine = request.getfixturevalue(f"{name}_warehouses")
    # the views the report reads, built now: a cached build of this fault may predate another
    # fault's build on the shared server, which replaced or dropped them
    assert engine.project.build(env=engine.env("low_agreement")).outcomes
    settings = engine.settings("low_agreement", tmp_path / "ledger.jsonl")
    contracts = {c.name: c for c in load_contracts([ROOT / "contracts"])}
    relations = {n: engine.project.relation_name(n) for n in contracts}
    got = gather(settings, contracts["annotations"], contracts, relations)
    assert got.rows == expected.rows
    assert got.completeness == pytest.approx(expected.completeness)
    assert got.confidence_histogram == expected.confidence_histogram
    assert dict(got.low_share_by_batch) == pytest.approx(dict(expected.low_share_by_batch))
    assert dict(got.agreement_by_batch) == pytest.approx(dict(expected.agreement_by_batch))
    assert got.coverage_histogram == expected.coverage_histogram
    assert got.unresolved_uncertainty_rate == pytest.approx(expected.unresolved_uncertainty_rate)
    assert {(m, v): x for m, v, x in got.version_share_by_month} == pytest.approx(
        {(m, v): x for m, v, x in expected.version_share_by_month}
    )
    # the dashboard's figures (test_dashboard holds DuckDB's to pandas)
    assert sorted(got.annotator_labels) == sorted(expected.annotator_labels)
    assert sorted(got.label_vs_decision) == sorted(expected.label_vs_decision)
    assert {(b, lab): s for b, lab, s in got.label_mix_by_batch} == pytest.approx(
        {(b, lab): s for b, lab, s in expected.label_mix_by_batch}
    )
    assert got.key.label_shares == pytest.approx(expected.key.label_shares)
    assert got.key.low_share == pytest.approx(expected.key.low_share)
    assert got.key.audits == expected.key.audits

    def flat(key: Any) -> dict[str, float]:
        return {
            f"{a}.{name}": -1.0 if value is None else float(value)
            for a, f in key.annotators.items()
            for name, value in dataclasses.asdict(f).items()
        }

    assert flat(got.key) == pytest.approx(flat(expected.key))


def test_report_picks_the_annotation_contract_or_asks() -> None:
    from validator.cli.data import _annotation_contract
    from validator.contract.resolve import load_contracts
    from validator.errors import UsageError

    contracts = {c.name: c for c in load_contracts([ROOT / "contracts"])}
    assert _annotation_contract(contracts) == "annotations"
    items = {"items": contracts["items"]}
    assert _annotation_contract(items) == "items"  # a project's only contract
    two = {n: contracts[n] for n in ("items", "adjudications")}
    with pytest.raises(UsageError, match="give --contract, one of: items, adjudications"):
        _annotation_contract(two)

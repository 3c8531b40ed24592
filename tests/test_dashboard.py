"""The dashboard (`labelpact report`) and the trends behind it.

Three `validate` runs over changing data leave three ledger entries whose key metrics equal
pandas/krippendorff/statsmodels computations on the data each run saw; the page shows them;
the metrics are inside the hash-chained, signed entry; and a page of fixed figures is laid out
as intended in headless Chromium (one launch for this module).
"""

from __future__ import annotations

import dataclasses
import html
import itertools
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import duckdb
import krippendorff
import numpy as np
import pandas as pd
import pytest
from helpers import ROOT, browser
from statsmodels.stats.proportion import proportion_confint

from validator.contract.resolve import load_contracts
from validator.errors import UsageError
from validator.example import export
from validator.output.dashboard import history
from validator.output.dashboard.charts import line_chart
from validator.output.health import Metrics, gather, render_html
from validator.settings import Settings
from validator.verdict.ledger import Ledger, ledger_for
from validator.verdict.pseudonyms import for_ledger, page_names, pseudonym, read_secret
from validator.verdict.run_metrics import (
    MAX_GROUPS,
    AnnotatorFigures,
    AnnotatorSummary,
    KeyMetrics,
    compact,
    from_record,
    wilson,
)
from validator.verdict.signing import TrustedKeys, generate_keys
from validator.verdict.validate import validate

# the data changes between the three validations: one batch loses confidence, then two
# annotators start labelling everything `other`
CHANGES = [
    [],
    ["UPDATE raw.annotations SET confidence = 0.2 WHERE batch_id = 'b0002'"],
    [
        "UPDATE raw.annotations SET label = 'other' WHERE annotator_id IN "
        "(SELECT DISTINCT annotator_id FROM raw.annotations ORDER BY annotator_id LIMIT 2)"
    ],
]


def _frames(db: Path) -> dict[str, pd.DataFrame]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {
            t: con.execute(f"SELECT * FROM raw.{t}").df()
            for t in ("annotations", "adjudications", "audit_results")
        }
    finally:
        con.close()


def _current(df: pd.DataFrame) -> pd.DataFrame:
    return df[~df["annotation_id"].isin(df["parent_annotation_id"].dropna())]


def _annotator_agreement(cur: pd.DataFrame, adj: pd.DataFrame) -> dict[str, tuple[int, float]]:
    """Each label against the adjudicated decision, else the unique majority of the other
    annotators' labels of the item; per annotator (labels with a reference, agreement)."""
    decisions = dict(zip(adj["item_id"], adj["decision"], strict=True))
    by_item = cur.groupby("item_id")["label"].apply(list).to_dict()
    refs = []
    for item, label in zip(cur["item_id"], cur["label"], strict=True):
        if item in decisions:
            refs.append(decisions[item])
            continue
        others = list(by_item[item])
        others.remove(label)
        counts = pd.Series(others).value_counts()
        unique_top = len(counts) > 0 and (len(counts) == 1 or counts.iloc[0] > counts.iloc[1])
        refs.append(counts.index[0] if unique_top else None)
    frame = cur.assign(ref=refs).dropna(subset=["ref"])
    grouped = frame.groupby("annotator_id")
    return {str(a): (len(g), float((g["label"] == g["ref"]).mean())) for a, g in grouped}


def _summary(agreement: dict[str, tuple[int, float]]) -> AnnotatorSummary:
    """The annotators the per-annotator rule judges (20 labels with a reference or more):
    lowest, median, highest agreement and how many are below its minimum 0.4."""
    judged = [a for n, a in agreement.values() if n >= 20]
    return AnnotatorSummary(
        len(judged),
        min(judged),
        float(np.median(judged)),
        max(judged),
        sum(a < 0.4 for a in judged),
    )


def _page_names(want: dict[str, Any]) -> dict[str, str]:
    """The page's names of the annotators (ids are personal data): numbered in id order."""
    return {a: f"annotator {i}" for i, a in enumerate(sorted(want["labels"]), start=1)}


def _expected(frames: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """Every key metric, computed with pandas (and krippendorff) from the raw tables."""
    df, adj, audits = frames["annotations"], frames["adjudications"], frames["audit_results"]
    cur = _current(df)
    conf = df.dropna(subset=["confidence"])
    alpha = {}
    cats = {c: i for i, c in enumerate(sorted(cur["label"].unique()))}
    for batch, rows in cur.groupby("batch_id"):
        matrix = (
            rows.pivot_table(
                index="annotator_id", columns="item_id", values="label", aggfunc="first"
            )
            .apply(lambda col: col.map(cats))
            .to_numpy(float)
        )
        alpha[batch] = krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal")
    audited = audits.merge(df, on="annotation_id", suffixes=("_audit", ""))
    audited["error"] = audited["verdict"] == "incorrect"
    return {
        "rows": len(df),
        "low_share": float((conf["confidence"] < 0.5).mean()),
        "label_shares": cur["label"].value_counts(normalize=True).to_dict(),
        "labels": df.groupby("annotator_id").size().to_dict(),
        "low_by_annotator": conf.groupby("annotator_id")["confidence"]
        .apply(lambda s: float((s < 0.5).mean()))
        .to_dict(),
        "agreement": alpha,
        "annotator_agreement": _annotator_agreement(cur, adj),
        "summary": _summary(_annotator_agreement(cur, adj)),
        "audits": {
            role: {
                str(g): (len(rows), int(rows["error"].sum())) for g, rows in audited.groupby(column)
            }
            for role, column in (("annotator", "annotator_id"), ("batch", "batch_id"))
        },
    }


@pytest.fixture(scope="module")
def three_runs(duckdb_warehouses, tmp_path_factory):  # type: ignore[no-untyped-def]
    """Three signed validations of a copy of the low-agreement warehouse, the data changed
    before the second and the third; the pandas figures of each; the dashboard after them."""
    tmp = tmp_path_factory.mktemp("dashboard")
    db = tmp / "labelpact.duckdb"
    shutil.copy(duckdb_warehouses.path("low_agreement"), db)
    private, public = generate_keys(tmp / "keys")
    settings = dataclasses.replace(
        duckdb_warehouses.settings("low_agreement", tmp / "ledger.jsonl", db=db),
        signing_key=private,
        trusted_keys=(public,),
    )
    expected = []
    for statements in CHANGES:
        con = duckdb.connect(str(db))
        for sql in statements:
            con.execute(sql)
        con.close()
        expected.append(_expected(_frames(db)))
        validate(settings, select=["annotations"], project=duckdb_warehouses.project)
    contracts = {c.name: c for c in load_contracts([ROOT / "contracts"])}
    relations = {n: duckdb_warehouses.project.relation_name(n) for n in contracts}
    metrics = gather(settings, contracts["annotations"], contracts, relations)
    return settings, expected, metrics, _frames(db)


def _assert_key_metrics(got: KeyMetrics, want: dict[str, Any], names: dict[str, str]) -> None:
    """`got` against pandas' `want`, annotators under the `names` `got` uses."""
    assert got.rows == want["rows"]
    assert got.low_share == pytest.approx(want["low_share"], abs=1e-6)
    assert got.label_shares == pytest.approx(want["label_shares"], abs=1e-6)
    assert got.agreement == pytest.approx(want["agreement"], abs=1e-6)
    raw = {name: a for a, name in names.items()}
    for who, fig in got.annotators.items():
        assert fig.labels == want["labels"][raw[who]]
        assert fig.low_share == pytest.approx(want["low_by_annotator"][raw[who]], abs=1e-6)
        n, agreement = want["annotator_agreement"][raw[who]]
        assert (fig.agreement_items, fig.agreement) == (n, pytest.approx(agreement, abs=1e-6))
    assert got.annotator_summary is not None
    assert dataclasses.astuple(got.annotator_summary) == pytest.approx(
        dataclasses.astuple(want["summary"]), abs=1e-6
    )
    for role, groups in got.audits.items():
        named = {names.get(g, g): v for g, v in want["audits"][role].items()}
        assert groups.items() <= named.items()


def test_the_trend_spans_three_validations_with_the_data_each_saw(three_runs) -> None:  # type: ignore[no-untyped-def]
    _, expected, metrics, _ = three_runs
    assert [p.seq for p in metrics.history] == [1, 2, 3]
    assert all(p.metrics is not None for p in metrics.history)
    for point, want in zip(metrics.history, expected, strict=True):
        assert point.metrics is not None
        # annotator ids are personal data and there is no pseudonym key: the ledger keeps
        # the id-free summary and no per-annotator figures
        assert point.metrics.annotators == {} and "annotator" not in point.metrics.audits
        _assert_key_metrics(point.metrics, want, {})
    # the changes moved the trend: low-confidence share up at run 2, `other` up at run 3
    lows = history.low_share(metrics.history)["low-confidence share"]
    assert lows[1] > lows[0] and lows[2] == pytest.approx(lows[1])
    others = [p.metrics.label_shares["other"] for p in metrics.history if p.metrics]
    assert others[2] > others[1] == pytest.approx(others[0])


def test_the_page_plots_the_three_recorded_values(three_runs) -> None:  # type: ignore[no-untyped-def]
    _, expected, metrics, _ = three_runs
    page = render_html(metrics)
    chart = re.search(r"id='trend-low'.*?</svg>", page, re.S)
    assert chart is not None
    shown = re.findall(r"<title>low-confidence share @ (#\d+): ([0-9.]+)</title>", chart.group(0))
    assert [run for run, _ in shown] == ["#1", "#2", "#3"]
    assert [float(v) for _, v in shown] == pytest.approx(
        [e["low_share"] for e in expected], abs=1e-4
    )
    labels = re.search(r"id='trend-labels'.*?</svg>", page, re.S)
    assert labels is not None
    other = re.findall(r"<title>other @ #\d+: ([0-9.]+)</title>", labels.group(0))
    assert [float(v) for v in other] == pytest.approx(
        [e["label_shares"]["other"] for e in expected], abs=1e-4
    )


def test_current_figures_equal_pandas(three_runs) -> None:  # type: ignore[no-untyped-def]
    _, expected, metrics, frames = three_runs
    names = _page_names(expected[-1])
    _assert_key_metrics(metrics.key, expected[-1], names)
    # uncapped on the page: every annotator, under the page's names
    assert set(metrics.key.annotators) == set(names.values())
    audits = expected[-1]["audits"]
    assert metrics.key.audits == audits | {
        "annotator": {names[a]: v for a, v in audits["annotator"].items()}
    }
    cur = _current(frames["annotations"])
    heat = cur.groupby(["annotator_id", "label"]).size()
    assert {(a, lab): n for a, lab, n in metrics.annotator_labels} == {
        (names[a], lab): n for (a, lab), n in heat.to_dict().items()
    }
    joined = cur.merge(frames["adjudications"], on="item_id")
    confusion = joined.groupby(["label", "decision"]).size()
    assert {(lab, d): n for lab, d, n in metrics.label_vs_decision} == confusion.to_dict()
    mix = cur.groupby("batch_id")["label"].value_counts(normalize=True)
    assert {(b, lab): s for b, lab, s in metrics.label_mix_by_batch} == pytest.approx(mix.to_dict())


def test_audit_intervals_are_wilson_intervals(three_runs) -> None:  # type: ignore[no-untyped-def]
    _, _, metrics, _ = three_runs
    page = render_html(metrics)
    for groups in metrics.key.audits.values():
        assert groups
        for group, (n, errors) in groups.items():
            lo, hi = proportion_confint(errors, n, alpha=0.05, method="wilson")
            assert wilson(errors, n, 0.95) == pytest.approx((lo, hi), abs=1e-9)
            # the table alternative lists every group (the chart the 40 surest excesses)
            cells = [n, errors, f"{errors / n:.3f}", f"{lo:.3f}", f"{hi:.3f}"]
            row = f"<td>{html.escape(group)}</td>" + "".join(
                f"<td class='num'>{c}</td>" for c in cells
            )
            assert row in page


def test_metrics_are_inside_the_signed_hash_chain(three_runs, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings, _, _, _ = three_runs
    ledger = ledger_for(settings)
    problems, entries = ledger.verify()
    assert problems == [] and all(e.signature for e in entries)
    assert all("annotations" in e.record["metrics"] for e in entries)
    # change one recorded figure in a copy: the entry no longer verifies
    lines = settings.ledger_path.read_text().splitlines()
    entry = json.loads(lines[1])
    entry["record"]["metrics"]["annotations"]["low_share"] = 0.0
    lines[1] = json.dumps(entry, sort_keys=True, separators=(",", ":"))
    copy = tmp_path / "ledger.jsonl"
    copy.write_text("\n".join(lines) + "\n")
    shutil.copy(ledger.head_path, Ledger(copy).head_path)  # the signed head anchor with it
    trusted = TrustedKeys(settings.trusted_keys)
    problems, _ = Ledger(copy, trusted=trusted).verify()
    assert problems == ["entry 2 (line 2): contents were edited (hash mismatch)"]


ANNOTATOR_ID = re.compile(r"ann_[0-9]+")


def test_no_annotator_id_reaches_the_ledger_or_the_page(three_runs) -> None:  # type: ignore[no-untyped-def]
    """annotator_id is `pii: true` and no pseudonym key is set: the append-only ledger never
    holds an id (only the id-free summary), the page numbers the annotators instead."""
    settings, expected, metrics, frames = three_runs
    ids = set(frames["annotations"]["annotator_id"])
    assert ids and all(ANNOTATOR_ID.fullmatch(a) for a in ids)
    text = settings.ledger_path.read_text()
    assert ANNOTATOR_ID.findall(text) == []
    spread = history.annotator_spread(metrics.history)
    assert spread["lowest"] == pytest.approx([e["summary"].lowest for e in expected], abs=1e-6)
    page = render_html(metrics)
    assert ANNOTATOR_ID.findall(page) == []
    assert "annotator 1" in page and "id='trend-annotator-spread'" in page
    # the failing per-annotator rule's sample names its annotators `rater`: hidden too
    assert "Sample of annotations.agreement.per_annotator" in page
    assert "<td>&lt;pii&gt;</td>" in page
    assert "id='trend-annotators'" not in page  # no per-annotator lines without ids


def test_with_a_pseudonym_key_the_ledger_keys_annotators_by_pseudonym(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """With a project secret the per-annotator figures are kept under keyed pseudonyms (the
    same annotator, the same pseudonym every run); without one they are left out."""
    contract = next(c for c in load_contracts([ROOT / "contracts"]) if c.name == "annotations")
    assert "annotator_id" in contract.pii_columns
    figures = AnnotatorFigures(labels=40, low_share=0.1, agreement=0.5, agreement_items=30)
    summary = AnnotatorSummary(2, 0.5, 0.6, 0.7, 0)
    km = KeyMetrics(
        rows=80,
        agreement={"b0001": 0.7},
        annotators={"ann_1": figures, "ann_2": figures},
        audits={"annotator": {"ann_1": (10, 1)}, "batch": {"b0001": (10, 1)}},
        annotator_summary=summary,
    )
    key = tmp_path / "pseudonym.key"
    key.write_text("0123456789abcdef0123456789abcdef\n")
    secret = read_secret(key)
    assert secret is not None
    keyed = json.dumps(compact(for_ledger(km, contract, secret)))
    plain = compact(for_ledger(km, contract, None))
    assert ANNOTATOR_ID.findall(keyed) == [] and ANNOTATOR_ID.findall(json.dumps(plain)) == []
    back = from_record(json.loads(keyed))
    assert set(back.annotators) == {pseudonym(secret, "ann_1"), pseudonym(secret, "ann_2")}
    assert back.audits["annotator"] == {pseudonym(secret, "ann_1"): (10, 1)}
    assert pseudonym(secret, "ann_1") != pseudonym(b"another secret of 16+ bytes", "ann_1")
    assert "annotators" not in plain and set(plain["audits"]) == {"batch"}
    assert from_record(plain).annotator_summary == summary
    assert page_names({"ann_1"}, secret)("ann_1") == pseudonym(secret, "ann_1")
    env = {"LABELPACT_PSEUDONYM_KEY": str(key)}
    assert Settings.from_env(env, project_dir=ROOT).pseudonym_key == key
    key.write_text("short")
    with pytest.raises(UsageError, match="too short"):
        read_secret(key)


def test_entries_without_metrics_still_verify_and_are_gaps(three_runs, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings, _, _, _ = three_runs
    ledger = Ledger(tmp_path / "ledger.jsonl")
    old, new = (e.record for e in ledger_for(settings).entries()[:2])
    ledger.append({k: v for k, v in old.items() if k != "metrics"})  # as written before #20
    ledger.append(new)
    problems, entries = ledger.verify()
    assert problems == []
    pts = history.points(entries, "annotations")
    assert [p.metrics is None for p in pts] == [True, False]
    series = history.low_share(pts)
    assert series["low-confidence share"][0] is None
    chart = line_chart("low", ["#1", "#2"], series, "low")
    assert chart.count("<circle") == 1 and "<polyline" not in chart  # a gap, not a zero
    assert "<td>#1</td><td>\u2013</td>" in chart  # the table alternative says so too


def test_compact_metrics_are_bounded_worst_groups_first() -> None:
    rng = np.random.default_rng(3)
    km = KeyMetrics(
        rows=10_000,
        agreement_metric="krippendorff_alpha",
        agreement={f"b{i:04d}": float(rng.uniform(0.3, 1)) for i in range(500)},
        annotators={
            f"ann_{i}": AnnotatorFigures(
                labels=100, low_share=0.1, agreement=float(rng.uniform(0.4, 1)), agreement_items=90
            )
            for i in range(400)
        },
        audits={"batch": {f"b{i:04d}": (20, i % 20) for i in range(100)}},
    )
    data = compact(km)
    assert len(json.dumps(data)) < 12_000
    assert data["omitted"] == {"agreement": 470, "annotators": 370, "audits.batch": 70}
    kept = data["agreement"]["groups"]
    assert len(kept) == MAX_GROUPS
    assert max(kept.values()) <= min(v for k, v in km.agreement.items() if k not in kept) + 1e-6
    worst = min(km.annotators, key=lambda a: km.annotators[a].agreement or 1.0)
    assert worst in data["annotators"]
    back = from_record(json.loads(json.dumps(data)))
    assert back.agreement == pytest.approx({k: km.agreement[k] for k in kept}, abs=1e-6)
    assert all(e / n >= 14 / 20 for n, e in back.audits["batch"].values())  # the top 30 rates


# --- the page in Chromium ---------------------------------------------------------------------


def fixed_metrics() -> Metrics:
    """Figures chosen by hand, so the page (and its layout) is the same on every run."""
    annotators = {
        f"ann_{i}": AnnotatorFigures(
            labels=40 + i, low_share=0.05 * i, agreement=0.9 - 0.1 * i, agreement_items=30
        )
        for i in range(5)
    }
    key = KeyMetrics(
        rows=1200,
        agreement_metric="krippendorff_alpha",
        agreement={"b1": 0.82, "b2": 0.41},
        low_share=0.12,
        label_shares={"cat": 0.5, "dog": 0.3, "other": 0.2},
        annotators=annotators,
        audits={
            "batch": {"b1": (40, 4), "b2": (30, 18)},
            "annotator": {"ann_0": (20, 2), "ann_4": (25, 15)},
        },
    )
    runs = []
    for seq, low in ((1, 0.05), (2, 0.09), (3, 0.12)):
        km = dataclasses.replace(
            key, low_share=low, label_shares={"cat": 0.6 - low, "dog": 0.3, "other": 0.1 + low}
        )
        runs.append(history.Point(seq, f"2026-11-0{seq}T10:00:00+00:00", "fail", km))
    return Metrics(
        contract="annotations",
        rows=1200,
        completeness={"annotator (annotator_id)": 1.0, "tool (tool)": 0.97},
        confidence_histogram=[("0.0-0.1", 10), ("0.5-0.6", 300), ("0.9-1.0", 890)],
        low_share_by_batch=[("b1", 0.05), ("b2", 0.3)],
        low_share_limit=0.2,
        agreement_by_batch=[("b1", 0.82), ("b2", 0.41)],
        agreement_min=0.6,
        agreement_metric="krippendorff_alpha",
        version_share_by_month=[
            ("2026-10", "v1", 1.0),
            ("2026-11", "v1", 0.4),
            ("2026-11", "v2", 0.6),
        ],
        coverage_histogram=[(2, 300), (3, 100)],
        adjudication_backlog=3,
        unresolved_uncertainty_rate=0.0125,
        failing_checks=[
            {
                "id": "annotations.agreement.krippendorff_alpha",
                "status": "fail",
                "failures": 1,
                "severity": "error",
                "owner": "labeling-platform@example.org",
                "sample": [{"group_key": "b2", "n_items": 100, "value": 0.41}],
            }
        ],
        validated_at="2026-11-03T10:00:00+00:00",
        status="fail",
        ledger_seq=3,
        key=key,
        annotator_min=0.6,
        annotator_min_items=20,
        annotator_labels=[("ann_0", "cat", 30), ("ann_0", "dog", 10), ("ann_1", "other", 41)],
        label_vs_decision=[("cat", "cat", 50), ("cat", "dog", 5), ("dog", "dog", 40)],
        label_mix_by_batch=[("b1", "cat", 0.5), ("b1", "dog", 0.5), ("b2", "other", 1.0)],
        label_reference={"cat": 0.5, "dog": 0.3, "other": 0.2},
        audit_max_rate=0.3,
        history=runs,
    )


SECTIONS = ["s-verdict", "s-agreement", "s-labels", "s-audits", "s-trends", "s-drift", "s-health"]
WINDOW = (1000, 5000)
FAIL_RGB = (0xC0, 0x39, 0x2B)


@pytest.fixture(scope="module")
def chromium_page(tmp_path_factory):  # type: ignore[no-untyped-def]
    """The fixed page rendered once: (html, DOM after load, layout boxes, screenshot pixels)."""
    from PIL import Image

    tmp = tmp_path_factory.mktemp("chromium")
    html = render_html(fixed_metrics())
    page = tmp / "report.html"
    page.write_text(browser.with_layout_probe(html, "section, figure, table, #verdict"))
    shot = tmp / "report.png"
    dom, stderr = browser.render(page, tmp / "profile", shot, WINDOW)
    assert browser.console_messages(stderr) == []
    pixels = np.asarray(Image.open(shot).convert("RGB"), dtype=np.int16)
    return html, dom, browser.layout(dom), pixels


def test_the_page_needs_no_script_and_no_network() -> None:
    html = render_html(fixed_metrics())
    assert "<script" not in html and "http://" not in html.replace(
        'xmlns="http://www.w3.org/2000/svg"', ""
    )
    assert "https://" not in html and " src=" not in html and "<link" not in html
    # every chart has a caption, an accessible name and a table alternative
    figures = re.findall(r"<figure id='([^']+)'.*?</figure>", html, re.S)
    assert len(figures) >= 8
    for body in re.findall(r"<figure .*?</figure>", html, re.S):
        assert "<figcaption>" in body and 'role="img" aria-label=' in body
        assert "<details><summary>Table:" in body and "<table" in body


def test_sections_are_laid_out_in_order_without_overlap(chromium_page) -> None:  # type: ignore[no-untyped-def]
    _, _, layout, _ = chromium_page
    boxes = layout["boxes"]
    width = layout["viewport"][0]
    assert [k for k in boxes if k.startswith("s-")] == SECTIONS
    tops = [(boxes[s][1], boxes[s][1] + boxes[s][3]) for s in SECTIONS]
    for (_, bottom), (top, _) in itertools.pairwise(tops):
        assert top >= bottom - 0.5
    for name, (x, _y, w, h) in boxes.items():
        assert w > 0 and h > 0, name
        assert x >= 0 and x + w <= width + 0.5, name  # nothing runs off the page sideways
    assert boxes["verdict"][1] < 300  # the verdict is the first thing on the page
    assert layout["viewport"][1] <= WINDOW[1]  # the screenshot holds the whole page


def test_the_screenshot_shows_what_the_layout_says(chromium_page) -> None:  # type: ignore[no-untyped-def]
    _, _, layout, pixels = chromium_page
    boxes = layout["boxes"]

    def region(name: str) -> Any:
        x, y, w, h = (round(v) for v in boxes[name])
        return pixels[y + 2 : y + h - 2, x + 2 : x + w - 2]

    banner = region("verdict")
    red = (np.abs(banner - np.array(FAIL_RGB)).sum(axis=2) < 30).mean()
    assert red > 0.6  # a red FAIL banner (white text on it)
    for name in SECTIONS:
        ink = (region(name) < 200).any(axis=2).mean()
        assert ink > 0.005, f"{name} is blank in the screenshot"
    # below the last section the page is empty
    end = round(boxes[SECTIONS[-1]][1] + boxes[SECTIONS[-1]][3]) + 40
    assert (pixels[end:] > 250).all()
    # the trend chart draws its three points: the first palette colour is there
    trend = region("trend-low")
    blue = (np.abs(trend - np.array((0x1F, 0x77, 0xB4))).sum(axis=2) < 40).sum()
    assert blue > 30


def test_chromium_shows_the_numbers_of_the_page(chromium_page) -> None:  # type: ignore[no-untyped-def]
    _, dom, _, _ = chromium_page
    shown = re.findall(r"<title>low-confidence share @ (#\d): ([0-9.]+)</title>", dom)
    assert shown == [("#1", "0.0500"), ("#2", "0.0900"), ("#3", "0.1200")]
    assert "FAIL: validated 2026-11-03T10:00:00+00:00 (ledger entry 3)" in dom
    lo, hi = proportion_confint(18, 30, alpha=0.05, method="wilson")
    assert f"<title>b2: 0.600 [{lo:.3f}, {hi:.3f}]</title>" in dom


# --- what the data can put on the page ----------------------------------------------------------

HOSTILE = "<script>alert('x')</script>'\"&<"


class _Page(HTMLParser):
    """The elements and the text of a page, as a browser's parser sees them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.text: list[str] = []
        self.attrs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += [v or "" for _, v in attrs]

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(page: str) -> _Page:
    parser = _Page()
    parser.feed(page)
    parser.close()
    return parser


def test_data_on_the_page_is_escaped_everywhere() -> None:
    """A label, an annotator id, a batch id and a sample value carrying markup reach every
    table, caption, title and heat map as text: no element comes from the data."""
    label, who, batch, value = (f"{role}{HOSTILE}" for role in ("L", "A", "B", "V"))
    m = fixed_metrics()
    m.agreement_by_batch = [(batch, 0.4)]
    m.low_share_by_batch = [(batch, 0.3)]
    m.key.agreement = {batch: 0.4}
    m.key.annotators = {who: AnnotatorFigures(labels=10, agreement=0.5, agreement_items=10)}
    m.key.audits = {"annotator": {who: (10, 5)}, "batch": {batch: (10, 5)}}
    m.annotator_labels = [(who, label, 3)]
    m.label_vs_decision = [(label, label, 3)]
    m.label_mix_by_batch = [(batch, label, 1.0)]
    m.label_reference = {label: 1.0}
    m.version_share_by_month = [("2026-11", value, 1.0)]
    m.failing_checks[0]["sample"] = [{"group_key": batch, "value": value, "label": label}]
    m.history = [
        dataclasses.replace(p, status=value, metrics=dataclasses.replace(m.key)) for p in m.history
    ]
    page = render_html(m)
    parsed = _parse(page)
    assert "script" not in parsed.tags
    text = "".join(parsed.text)
    for hostile in (label, who, batch, value):
        assert hostile in text  # the reader sees the value as it is
        assert hostile not in page  # and it never stands in the markup unescaped
    # every element name on the page is one the page itself writes
    assert set(parsed.tags) <= {
        "html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "nav", "ul", "li",
        "a", "section", "p", "details", "summary", "table", "thead", "tbody", "tfoot", "tr",
        "th", "td", "figure", "figcaption", "svg", "text", "rect", "line", "circle",
        "polyline", "caption",
    }  # fmt: skip


def test_undefined_agreement_is_a_dash_not_a_failing_zero() -> None:
    """A batch without pairable ratings has no agreement (the check passes it): no bar, no
    red, "\u2013" in the chart and its table."""
    m = fixed_metrics()
    m.agreement_by_batch = [("b1", 0.82), ("b9", None)]
    page = render_html(m)
    chart = re.search(r"<figure id='agreement-batch'.*?</figure>", page, re.S)
    assert chart is not None
    body = chart.group(0)
    assert "0.000" not in body and "b9:" not in body.replace("b9: undefined", "")
    assert "<title>b9: undefined</title>" in body
    assert "<td>b9</td><td>\u2013</td>" in body
    assert body.count("<rect") == 1 and "c0392b" not in body  # only b1's bar, and it passes


def test_a_batch_named_reference_keeps_its_own_row() -> None:
    m = fixed_metrics()
    m.label_mix_by_batch = [("b1", "cat", 1.0), ("reference", "dog", 1.0)]
    m.label_reference = {"cat": 0.5, "dog": 0.5}
    page = render_html(m)
    mix = re.search(r"<table id='label-mix'.*?</table>", page, re.S)
    assert mix is not None
    rows = re.findall(r"<tr><th scope='row'>([^<]*)</th>(.*?)</tr>", mix.group(0))
    cells = {name: re.findall(r">([0-9.]+)</td>", tds) for name, tds in rows}
    assert cells == {
        "b1": ["1.00", "0.00"],
        "reference": ["0.00", "1.00"],
        "reference (contract)": ["0.50", "0.50"],
    }


# --- `where:` filters: the page counts the rows the rules count --------------------------------


@pytest.fixture(scope="module")
def export_dashboard(tmp_path_factory):  # type: ignore[no-untyped-def]
    """The dashboard of the example export (cancelled drafts and gold answers among its rows,
    every section filtered to `NOT is_cancelled AND NOT is_gold`) and its rows as pandas."""
    tmp = tmp_path_factory.mktemp("export-dashboard")
    db = tmp / "export.duckdb"
    export.write_duckdb(db)
    contracts = {c.name: c for c in load_contracts([ROOT / "examples" / "export" / "contracts"])}
    relations = {n: f"{export.SCHEMA}.{n}" for n in contracts}
    settings = Settings(
        project_dir=ROOT, ledger_path=tmp / "ledger.jsonl", env={"LABELPACT_DUCKDB": str(db)}
    )
    metrics = gather(settings, contracts["export_annotations"], contracts, relations)
    con = duckdb.connect(str(db), read_only=True)
    try:
        frames = {
            t: con.execute(f"SELECT * FROM {export.SCHEMA}.{t}").df()
            for t in (export.TABLE, export.ADJUDICATIONS)
        }
    finally:
        con.close()
    return metrics, frames[export.TABLE], frames[export.ADJUDICATIONS]


def _low_by_batch(df: pd.DataFrame) -> dict[str, float]:
    scored = df.dropna(subset=["score"])
    return scored.groupby("batch")["score"].apply(lambda s: float((s < 0.5).mean())).to_dict()


def test_filtered_figures_count_only_the_kept_rows(export_dashboard) -> None:  # type: ignore[no-untyped-def]
    metrics, df, adj = export_dashboard
    kept = df[~df["is_cancelled"] & ~df["is_gold"]]
    # the filter matters here: over every row the figures differ
    assert _low_by_batch(df) != pytest.approx(_low_by_batch(kept))
    assert dict(metrics.low_share_by_batch) == pytest.approx(_low_by_batch(kept), abs=1e-9)
    scored = kept.dropna(subset=["score"])
    assert metrics.key.low_share == pytest.approx(float((scored["score"] < 0.5).mean()))
    bins = (scored["score"] * 10).astype(int).clip(upper=9).value_counts()
    assert {k: n for k, n in metrics.confidence_histogram} == {
        f"{b / 10:.1f}-{(b + 1) / 10:.1f}": n for b, n in bins.items()
    }
    shares = kept["label"].value_counts(normalize=True).to_dict()
    assert df["label"].value_counts(normalize=True).to_dict() != pytest.approx(shares)
    assert metrics.key.label_shares == pytest.approx(shares, abs=1e-9)
    heat = kept.dropna(subset=["label"]).groupby(["annotator", "label"]).size().to_dict()
    assert {(a, lab): n for a, lab, n in metrics.annotator_labels} == heat
    mix = kept.groupby("batch")["label"].value_counts(normalize=True).to_dict()
    assert {(b, lab): v for b, lab, v in metrics.label_mix_by_batch} == pytest.approx(mix)
    confusion = kept.merge(adj, on="item_id").groupby(["label", "decision"]).size().to_dict()
    assert {(lab, d): n for lab, d, n in metrics.label_vs_decision} == confusion
    # per annotator (ids not personal here): the cancelled drafts' author is not inflated
    per = {a: (f.labels, f.low_share) for a, f in metrics.key.annotators.items()}
    want = {
        a: (len(g), pytest.approx(float((g["score"].dropna() < 0.5).mean())))
        for a, g in kept.groupby("annotator")
    }
    assert per == want

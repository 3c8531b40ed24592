"""Agreement metrics computed in SQL match the reference libraries and published examples."""

from __future__ import annotations

import math

import duckdb
import krippendorff
import numpy as np
import pandas as pd
import pytest
import sqlglot
from sklearn.metrics import cohen_kappa_score
from sqlglot import exp
from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

from validator.compiler.sql.agreement import METRICS, agreement_query

CATS = ["a", "b", "c", "d"]
TOL = 1e-9


def _run(df: pd.DataFrame, **kwargs: object) -> dict[str, float | None]:
    con = duckdb.connect()
    con.register("ratings", df)
    query = agreement_query(exp.to_table("ratings"), **kwargs)  # type: ignore[arg-type]
    return {g: v for g, _, _, v in con.execute(query.sql(dialect="duckdb")).fetchall()}


@pytest.fixture(scope="module")
def reliability_trials() -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """40 random raters x items matrices with correlated labels and 20% missing ratings."""
    rng = np.random.default_rng(20261123)
    rows, ref = [], {}
    for trial in range(40):
        n_items, n_raters = int(rng.integers(5, 40)), int(rng.integers(2, 7))
        truth = rng.integers(0, 4, size=n_items)
        data = rng.integers(0, 4, size=(n_raters, n_items)).astype(float)
        agree = rng.random((n_raters, n_items)) < rng.uniform(0.2, 0.9)
        data[agree] = np.broadcast_to(truth, data.shape)[agree]
        data[rng.random(data.shape) < 0.2] = np.nan
        name = f"t{trial:02d}"
        ref[name] = data
        for r in range(n_raters):
            for i in range(n_items):
                if not np.isnan(data[r, i]):
                    rows.append((name, f"i{i}", f"r{r}", CATS[int(data[r, i])], data[r, i]))
    return pd.DataFrame(rows, columns=["trial", "item", "rater", "label", "num"]), ref


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval"])
def test_krippendorff_matches_reference_package(reliability_trials, level: str) -> None:  # type: ignore[no-untyped-def]
    df, ref = reliability_trials
    got = _run(
        df,
        item="item",
        rater="rater",
        label="num" if level == "interval" else "label",
        by="trial",
        metric="krippendorff_alpha",
        level=level,
        categories=CATS,
    )
    for trial, data in ref.items():
        expected = krippendorff.alpha(reliability_data=data, level_of_measurement=level)
        assert got[trial] == pytest.approx(expected, abs=TOL), trial


def test_fleiss_matches_statsmodels() -> None:
    rng = np.random.default_rng(7)
    rows, ref = [], {}
    for trial in range(40):
        n_items, n_raters = int(rng.integers(5, 50)), int(rng.integers(3, 8))
        truth = rng.integers(0, 4, size=n_items)
        data = np.where(
            rng.random((n_items, n_raters)) < 0.6,
            truth[:, None],
            rng.integers(0, 4, size=(n_items, n_raters)),
        )
        table, _ = aggregate_raters(data, n_cat=4)
        ref[f"t{trial:02d}"] = fleiss_kappa(table, method="fleiss")
        rows += [
            (f"t{trial:02d}", f"i{i}", f"r{r}", CATS[data[i, r]])
            for i in range(n_items)
            for r in range(n_raters)
        ]
    got = _run(
        pd.DataFrame(rows, columns=["trial", "item", "rater", "label"]),
        item="item",
        rater="rater",
        label="label",
        by="trial",
        metric="fleiss_kappa",
    )
    for trial, expected in ref.items():
        assert got[trial] == pytest.approx(expected, abs=TOL), trial


@pytest.mark.parametrize("weights", [None, "linear", "quadratic"])
def test_cohen_matches_scikit_learn(weights: str | None) -> None:
    rng = np.random.default_rng(11)
    rows, ref = [], {}
    for trial in range(40):
        n = int(rng.integers(5, 80))
        y1 = rng.integers(0, 4, size=n)
        y2 = np.where(rng.random(n) < 0.5, y1, rng.integers(0, 4, size=n))
        ref[f"t{trial:02d}"] = cohen_kappa_score(
            [CATS[x] for x in y1], [CATS[x] for x in y2], weights=weights, labels=CATS
        )
        for i in range(n):
            rows += [
                (f"t{trial:02d}", f"i{i}", "alice", CATS[y1[i]]),
                (f"t{trial:02d}", f"i{i}", "bob", CATS[y2[i]]),
            ]
    got = _run(
        pd.DataFrame(rows, columns=["trial", "item", "rater", "label"]),
        item="item",
        rater="rater",
        label="label",
        by="trial",
        metric="cohen_kappa",
        weights=weights,
        categories=CATS,
    )
    for trial, expected in ref.items():
        assert got[trial] == pytest.approx(expected, abs=TOL), trial


# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", 4 observers x 12 units.
K2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]


@pytest.mark.parametrize(
    ("level", "expected"), [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849)]
)
def test_krippendorff_published_example(level: str, expected: float) -> None:
    rows = [
        (None, f"u{u}", f"o{o}", str(v), float(v))
        for o, obs in enumerate(K2011)
        for u, v in enumerate(obs)
        if v is not None
    ]
    df = pd.DataFrame(rows, columns=["g", "item", "rater", "label", "num"])
    got = _run(
        df,
        item="item",
        rater="rater",
        label="num" if level == "interval" else "label",
        by=None,
        metric="krippendorff_alpha",
        level=level,
        categories=["1", "2", "3", "4", "5"],
    )
    assert round(got["all"], 3) == expected


def test_fleiss_published_example() -> None:
    # Fleiss (1971) as reproduced on Wikipedia: 10 subjects, 14 raters, 5 categories.
    table = [
        [0, 0, 0, 0, 14],
        [0, 2, 6, 4, 2],
        [0, 0, 3, 5, 6],
        [0, 3, 9, 2, 0],
        [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0],
        [3, 2, 6, 3, 0],
        [2, 5, 3, 2, 2],
        [6, 5, 2, 1, 0],
        [0, 2, 2, 3, 7],
    ]
    rows = []
    for s, counts in enumerate(table):
        rater = 0
        for c, n in enumerate(counts):
            for _ in range(n):
                rows.append((f"s{s}", f"r{rater}", f"c{c}"))
                rater += 1
    got = _run(
        pd.DataFrame(rows, columns=["item", "rater", "label"]),
        item="item",
        rater="rater",
        label="label",
        by=None,
        metric="fleiss_kappa",
    )
    assert round(got["all"], 3) == 0.210


def test_cohen_published_example() -> None:
    # Wikipedia: 50 grant proposals, two readers: 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no.
    pairs = [("y", "y")] * 20 + [("y", "n")] * 5 + [("n", "y")] * 10 + [("n", "n")] * 15
    rows = [r for i, (a, b) in enumerate(pairs) for r in ((f"p{i}", "A", a), (f"p{i}", "B", b))]
    got = _run(
        pd.DataFrame(rows, columns=["item", "rater", "label"]),
        item="item",
        rater="rater",
        label="label",
        by=None,
        metric="cohen_kappa",
    )
    assert got["all"] == pytest.approx(0.4, abs=TOL)


def _frame(rows: list[tuple[str, str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["g", "item", "rater", "label"])


@pytest.mark.parametrize("metric", METRICS)
def test_single_category_is_undefined_not_perfect(metric: str) -> None:
    rows = [("g", f"i{i}", r, "cat") for i in range(5) for r in ("A", "B")]
    got = _run(_frame(rows), item="item", rater="rater", label="label", by="g", metric=metric)
    assert got["g"] is None  # no chance disagreement: the coefficient is 0/0


def test_perfect_agreement_over_two_categories_is_one() -> None:
    rows = [("g", f"i{i}", r, "cat" if i % 2 else "dog") for i in range(6) for r in "ABC"]
    for metric in ("krippendorff_alpha", "fleiss_kappa"):
        got = _run(_frame(rows), item="item", rater="rater", label="label", by="g", metric=metric)
        assert got["g"] == pytest.approx(1.0)


def test_one_rater_gives_no_pairable_items() -> None:
    rows = [("g", f"i{i}", "A", "cat" if i % 2 else "dog") for i in range(6)]
    for metric in METRICS:
        got = _run(_frame(rows), item="item", rater="rater", label="label", by="g", metric=metric)
        assert got["g"] is None, metric


def test_cohen_with_three_raters_is_undefined() -> None:
    rows = [
        ("g", f"i{i}", r, "cat" if (i + len(r)) % 2 else "dog")
        for i in range(6)
        for r in ("A", "BB", "CCC")
    ]
    got = _run(
        _frame(rows), item="item", rater="rater", label="label", by="g", metric="cohen_kappa"
    )
    assert got["g"] is None


def test_hostile_identifiers_are_quoted() -> None:
    df = pd.DataFrame(
        {
            "select": ["i1", "i1", "i2", "i2"],
            'weird "name"': ["A", "B", "A", "B"],
            "label; drop table x": ["x", "x", "y", "x"],
        }
    )
    got = _run(
        df,
        item="select",
        rater='weird "name"',
        label="label; drop table x",
        by=None,
        metric="krippendorff_alpha",
    )
    expected = krippendorff.alpha(reliability_data=[[0, 1], [0, 0]], level_of_measurement="nominal")
    assert got["all"] == pytest.approx(expected)
    assert not math.isnan(got["all"])


@pytest.mark.parametrize(
    "dialect", ["duckdb", "postgres", "snowflake", "bigquery", "spark", "trino"]
)
@pytest.mark.parametrize("metric", METRICS)
def test_renders_and_parses_in_every_dialect(dialect: str, metric: str) -> None:
    query = agreement_query(
        exp.to_table("t"),
        item="i",
        rater="r",
        label="l",
        by="b",
        metric=metric,
        level="ordinal",
        categories=["x", "y"],
    )
    sqlglot.parse_one(query.sql(dialect=dialect), read=dialect)

"""Per-annotator agreement with the reference label (the adjudicated decision, else the unique
majority of the other annotators), computed in SQL, equals an independent pandas computation on
randomised data, with and without adjudications."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest
import sqlglot

from validator.compiler.kinds import AnnotatorAgreement
from validator.compiler.plan import Check
from validator.compiler.sql.dialects import get_dialect
from validator.errors import Location

LABELS = ["a", "b", "c", "d"]


def _data(seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    skill = {f"r{r}": rng.uniform(0.3, 0.95) for r in range(12)}
    rows, adj = [], []
    for i in range(300):
        truth = rng.choice(LABELS)
        raters = rng.choice(sorted(skill), size=int(rng.integers(1, 6)), replace=False)
        for r in raters:
            label = truth if rng.uniform() < skill[r] else rng.choice(LABELS)
            rows.append((len(rows) + 1, f"it{i}", str(r), str(label)))
        if rng.uniform() < 0.3:
            adj.append((f"it{i}", str(truth)))
    return (
        pd.DataFrame(rows, columns=["id", "item", "rater", "label"]),
        pd.DataFrame(adj, columns=["item", "decision"]),
    )


def _reference(df: pd.DataFrame, adj: pd.DataFrame | None) -> dict[str, tuple[int, float]]:
    """Plain pandas: for each label, the other labels of its item, their unique mode."""
    decided = dict(zip(adj["item"], adj["decision"], strict=True)) if adj is not None else {}
    refs = []
    for row in df.itertuples():
        if row.item in decided:
            refs.append(decided[row.item])
            continue
        others = df[(df["item"] == row.item) & (df["id"] != row.id)]["label"].value_counts()
        top = others[others == others.max()] if len(others) else others
        refs.append(top.index[0] if len(top) == 1 else None)
    df = df.assign(ref=refs).dropna(subset=["ref"])
    g = df.assign(hit=df["label"] == df["ref"]).groupby("rater")["hit"]
    return {
        r: (int(n), float(m)) for r, n, m in zip(g.size().index, g.size(), g.mean(), strict=True)
    }


def _check(adjudicated: bool, min_: float = 0.0, min_items: int = 1) -> Check:
    params = AnnotatorAgreement(
        key="id", item="item", rater="rater", label="label",
        records="adj" if adjudicated else None,
        rec_item="item" if adjudicated else None,
        rec_decision="decision" if adjudicated else None,
        min=min_, min_items=min_items,
    )  # fmt: skip
    return Check(
        "t.agreement.per_annotator", "t", "1", "o", "error", "", Location("x", 1, 1), params
    )


def _sql(con: duckdb.DuckDBPyConnection, check: Check, failing: bool) -> dict[str, tuple]:  # type: ignore[type-arg]
    p = check.params
    assert isinstance(p, AnnotatorAgreement)
    rel = lambda name: sqlglot.exp.to_table(name)  # noqa: E731
    q = p.failing_rows(check, rel, get_dialect("duckdb"), ()) if failing else p.values(check, rel)
    return {r[0]: tuple(r[1:]) for r in con.execute(q.sql("duckdb")).fetchall()}


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("adjudicated", [True, False])
def test_matches_pandas_on_random_data(seed: int, adjudicated: bool) -> None:
    df, adj = _data(seed)
    con = duckdb.connect()
    con.register("t", df)
    con.register("adj", adj)
    got = _sql(con, _check(adjudicated), failing=False)
    want = _reference(df, adj if adjudicated else None)
    assert set(got) == set(want)
    for rater, (n, share) in want.items():
        n_items, n_agree, agreement = got[rater]
        assert n_items == n and n_agree == round(share * n)
        assert agreement == pytest.approx(share, abs=1e-12)


@pytest.mark.parametrize("adjudicated", [True, False])
def test_counts_of_disjoint_items_add_up_to_the_whole(adjudicated: bool) -> None:
    """What `validate --incremental` relies on: `values` over two sets of items, added per
    annotator, equals `values` over all of them, and the rule judges the totals alike."""
    df, adj = _data(5)
    con = duckdb.connect()
    con.register("adj", adj)
    first = df["item"].isin({f"it{i}" for i in range(0, 300, 3)})
    parts = []
    for part in (df[first], df[~first]):
        con.register("t", part)
        parts.append([(r, *v) for r, v in _sql(con, _check(adjudicated), failing=False).items()])
    con.register("t", df)
    check = _check(adjudicated, min_=0.7, min_items=10)
    p = check.params
    assert isinstance(p, AnnotatorAgreement)
    total = p.add(*parts)
    assert {r[0]: tuple(r[1:]) for r in total} == _sql(con, check, failing=False)
    judged = con.execute(p.judge_rows(total).sql("duckdb")).fetchall()
    assert {r[0] for r in judged} == set(_sql(con, check, failing=True))
    assert judged  # the threshold judges someone


def test_fails_only_judged_annotators_below_the_minimum() -> None:
    df, adj = _data(4)
    con = duckdb.connect()
    con.register("t", df)
    con.register("adj", adj)
    want = _reference(df, adj)
    low = {r: n for r, (n, s) in want.items() if s < 0.6}
    min_items = max(low.values())  # judges the busiest low-agreement annotator only
    failing = _sql(con, _check(True, min_=0.6, min_items=min_items), failing=True)
    assert set(failing) == {r for r, n in low.items() if n >= min_items}
    assert failing and len(failing) < len(low)  # the others are too few to judge

"""The `annotators:` rules' figures, computed in SQL, equal independent pandas (and SciPy)
computations on randomised data: each annotator's label-mix divergence from the population
(total variation; Jensen-Shannon against `scipy.spatial.distance.jensenshannon`), rate of
low-confidence labels, rate of corrected labels, and median / 90th percentile time per label
(from a duration column and from two timestamps); the checks fail exactly the judged groups
out of bounds. DuckDB throughout; PostgreSQL and Spark for their own renderings of
percentiles, seconds between timestamps and logarithms."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest
import sqlglot
from scipy.spatial.distance import jensenshannon

from validator.compiler.kinds import (
    AnnotatorCorrected,
    AnnotatorLabelMix,
    AnnotatorLowConfidence,
    AnnotatorTurnaround,
    Params,
)
from validator.compiler.plan import Check
from validator.compiler.sql.dialects import get_dialect
from validator.errors import Location

LABELS = ["a", "b", "c", "d", "e"]
DUCKDB = get_dialect("duckdb")


def _data(seed: int) -> pd.DataFrame:
    """Annotators with their own label mix (r2 often unsure, r1 fast); ~15% of rows correct an
    earlier row (chains included); some confidences and durations missing."""
    rng = np.random.default_rng(seed)
    raters = [f"r{i}" for i in range(14)]
    mixes = {r: rng.dirichlet(np.ones(len(LABELS)) * rng.uniform(0.3, 5)) for r in raters}
    rows: list[dict[str, Any]] = []
    beta = {False: (4, 2), True: (2, 3)}  # r2 is unsure: 69% of their labels below 0.5
    for i in range(700):
        r = str(rng.choice(raters[: 3 + i % 11]))  # uneven label counts per annotator
        parent = int(rng.integers(0, i)) if i > 20 and rng.uniform() < 0.15 else None
        start = pd.Timestamp("2025-03-01") + pd.Timedelta(seconds=int(rng.integers(0, 10**7)))
        took = float(rng.lognormal(3, 1)) * (0.2 if r == "r1" else 1)
        rows.append(
            {
                "id": i,
                "rater": r,
                "label": str(rng.choice(LABELS, p=mixes[r])),
                "conf": None
                if rng.uniform() < 0.1
                else round(float(rng.beta(*beta[r == "r2"])), 3),
                "parent": parent,
                "secs": None if rng.uniform() < 0.05 else round(took, 3),
                "started": start,
                "finished": start + pd.Timedelta(milliseconds=round(took * 1000)),
            }
        )
    df = pd.DataFrame(rows)
    df["parent"] = df["parent"].astype("Int64")
    return df


def _check(params: Params) -> Check:
    return Check("t.annotators.x", "t", "1", "o", "error", "", Location("x", 1, 1), params)


def _run(df: pd.DataFrame, sql: Callable[[Check], sqlglot.exp.Query], params: Params) -> dict:  # type: ignore[type-arg]
    con = duckdb.connect()
    con.register("t", df)
    q = sql(_check(params))
    return {r[0]: tuple(r[1:]) for r in con.execute(q.sql("duckdb")).fetchall()}


def _rel(name: str) -> sqlglot.exp.Expr:
    return sqlglot.exp.to_table(name)


def _values(df: pd.DataFrame, params: Params) -> dict:  # type: ignore[type-arg]
    if isinstance(params, AnnotatorTurnaround):
        return _run(df, lambda c: params.values(c, _rel, DUCKDB), params)
    return _run(df, lambda c: params.values(c, _rel), params)  # type: ignore[attr-defined]


def _failing(df: pd.DataFrame, params: Params) -> set[str]:
    return set(_run(df, lambda c: params.failing_rows(c, _rel, DUCKDB, ()), params))


def _mix(measure: str, max_divergence: float = 1.0, min_labels: int = 1) -> AnnotatorLabelMix:
    return AnnotatorLabelMix(
        annotator="rater", label="label", measure=measure, max_divergence=max_divergence,
        min_labels=min_labels, current_key="id", current_parent="parent",
    )  # fmt: skip


def _mix_reference(df: pd.DataFrame, measure: str) -> dict[str, tuple[int, float]]:
    cur = df[~df["id"].isin(df["parent"].dropna())]
    q = cur["label"].value_counts(normalize=True).sort_index()
    out = {}
    for rater, g in cur.groupby("rater"):
        p = g["label"].value_counts(normalize=True).reindex(q.index, fill_value=0.0)
        if measure == "total_variation":
            d = float((p - q).abs().sum() / 2)
        else:  # SciPy returns the Jensen-Shannon distance: the square root of the divergence
            d = float(jensenshannon(p.to_numpy(), q.to_numpy(), base=2) ** 2)
        out[str(rater)] = (len(g), d)
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("measure", ["total_variation", "jensen_shannon"])
def test_label_mix_matches_pandas(seed: int, measure: str) -> None:
    df = _data(seed)
    got, want = _values(df, _mix(measure)), _mix_reference(df, measure)
    assert set(got) == set(want)
    for rater, (n, d) in want.items():
        assert got[rater][0] == n
        assert got[rater][1] == pytest.approx(d, abs=1e-9)


def test_label_mix_fails_judged_annotators_above_the_bound() -> None:
    df = _data(4)
    want = _mix_reference(df, "jensen_shannon")
    bound = float(np.median([d for _, d in want.values()]))
    min_labels = int(np.median([n for n, _ in want.values()]))
    failing = _failing(df, _mix("jensen_shannon", bound, min_labels))
    assert failing == {r for r, (n, d) in want.items() if n >= min_labels and d > bound}
    assert failing and failing != {r for r, (_, d) in want.items() if d > bound}


def _rates(df: pd.DataFrame, flag: pd.Series) -> dict[str, tuple[int, float]]:
    g = flag.groupby(df.loc[flag.index, "rater"])
    return {
        str(r): (int(n), float(m))
        for r, n, m in zip(g.size().index, g.size(), g.mean(), strict=True)
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_low_confidence_rate_matches_pandas(seed: int) -> None:
    df = _data(seed)
    rated = df.dropna(subset=["conf"])
    want = _rates(df, rated["conf"] < 0.5)
    params = AnnotatorLowConfidence(
        annotator="rater", confidence="conf", below=0.5, max_rate=0.3, min_labels=40
    )
    got = _values(df, params)
    assert {r: (v[0], pytest.approx(v[2], abs=1e-12)) for r, v in got.items()} == want
    assert all(v[1] == round(v[0] * v[2]) for v in got.values())  # n_low: the rate's numerator
    failing = {r for r, (n, m) in want.items() if n >= 40 and m > 0.3}
    assert _failing(df, params) == failing and "r2" in failing


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_corrected_rate_matches_pandas(seed: int) -> None:
    df = _data(seed)
    want = _rates(df, df["id"].isin(df["parent"].dropna()))
    params = AnnotatorCorrected(
        annotator="rater", key="id", parent="parent", max_rate=0.15, min_labels=30
    )
    got = _values(df, params)
    assert {r: (v[0], pytest.approx(v[2], abs=1e-12)) for r, v in got.items()} == want
    assert all(v[1] == round(v[0] * v[2]) for v in got.values())  # n_corrected
    failing = {r for r, (n, m) in want.items() if n >= 30 and m > 0.15}
    assert _failing(df, params) == failing and failing


def _chains(df: pd.DataFrame) -> pd.Series:
    """Each row's correction chain (the id at its root): rows of different chains never name
    each other as parent."""
    pairs = zip(df["id"], df["parent"], strict=True)
    parent = {int(i): (None if pd.isna(p) else int(p)) for i, p in pairs}

    def root(i: int) -> int:
        while parent.get(i) is not None and parent[i] != i:
            i = parent[i]  # type: ignore[assignment]
        return i

    return df["id"].map(root)


@pytest.mark.parametrize(
    "params",
    [
        AnnotatorLowConfidence(
            annotator="rater", confidence="conf", below=0.5, max_rate=0.3, min_labels=40
        ),
        AnnotatorCorrected(
            annotator="rater", key="id", parent="parent", max_rate=0.15, min_labels=30
        ),
    ],
    ids=["low_confidence", "corrected"],
)
def test_counts_of_disjoint_rows_add_up_to_the_whole(params: Any) -> None:
    """What `validate --incremental` relies on (ROW_SUMS): `values` over two sets of rows
    whose correction chains do not cross, added per annotator, equals `values` over all of
    them, and the rule judges the totals alike."""
    df = _data(6)
    first = _chains(df) % 3 == 0
    parts = [[(r, *v) for r, v in _values(p, params).items()] for p in (df[first], df[~first])]
    total = params.add(*parts)
    whole = _values(df, params)
    assert {r[0]: (r[1], r[2]) for r in total} == {r: (v[0], v[1]) for r, v in whole.items()}
    assert all(r[3] == pytest.approx(whole[r[0]][2], abs=1e-12) for r in total)
    con = duckdb.connect()
    judged = {r[0] for r in con.execute(params.judge_rows(total).sql("duckdb")).fetchall()}
    assert judged == _failing(df, params) and judged


@pytest.mark.parametrize("measure", ["total_variation", "jensen_shannon"])
def test_label_mix_counts_of_disjoint_rows_add_up_to_the_whole(measure: str) -> None:
    """What `validate --incremental` relies on for the label mix (ROW_SUMS): the counts per
    annotator and label of two sets of rows whose correction chains do not cross add up to
    the whole's, and the rule judged from the totals fails the annotators it fails over all
    rows."""
    df = _data(5)
    want = _mix_reference(df, measure)
    bound = float(np.median([d for _, d in want.values()]))
    params = _mix(measure, bound, min_labels=20)
    first = _chains(df) % 2 == 0

    def sums(part: pd.DataFrame) -> list[tuple[Any, ...]]:
        con = duckdb.connect()
        con.register("t", part)
        return con.execute(params.sums(_check(params), _rel).sql("duckdb")).fetchall()

    total = params.add(sums(df[first]), sums(df[~first]))
    assert total == params.add(sums(df))
    con = duckdb.connect()
    judged = {r[0]: r[1:] for r in con.execute(params.judge_rows(total).sql("duckdb")).fetchall()}
    assert set(judged) == _failing(df, params) and judged
    for rater, (n, d) in judged.items():
        assert (n, d) == (want[rater][0], pytest.approx(want[rater][1], abs=1e-9))


def _pace(took: pd.Series, by: pd.Series) -> dict[str, tuple[int, float, float]]:
    g = took.dropna().groupby(by)  # pandas' quantile interpolates linearly (PERCENTILE_CONT)
    return {str(k): (len(v), float(v.median()), float(v.quantile(0.9))) for k, v in g}


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("source", ["seconds", "timestamps"])
def test_turnaround_matches_pandas(seed: int, source: str) -> None:
    df = _data(seed)
    if source == "seconds":
        took, cols = df["secs"], {"seconds": "secs"}
    else:
        took = (df["finished"] - df["started"]).dt.total_seconds()
        cols = {"started": "started", "finished": "finished"}
    want = _pace(took, df["rater"])
    params = AnnotatorTurnaround(by="rater", min_median=5, max_p90=60, min_labels=20, **cols)
    got = _values(df, params)
    assert set(got) == set(want)
    for rater, (n, median, p90) in want.items():
        assert got[rater][0] == n
        assert got[rater][1] == pytest.approx(median, abs=1e-6)
        assert got[rater][2] == pytest.approx(p90, abs=1e-6)
    failing = {r for r, (n, m, p) in want.items() if n >= 20 and (m < 5 or p > 60)}
    assert _failing(df, params) == failing and "r1" in failing  # r1 works 5x faster


def _records(df: pd.DataFrame) -> list[tuple[Any, ...]]:
    """Rows as plain Python values (None for missing ones), for the warehouses' clients."""

    def plain(v: Any) -> Any:
        if pd.isna(v):
            return None
        return v.to_pydatetime() if isinstance(v, pd.Timestamp) else getattr(v, "item", lambda: v)()

    return [tuple(plain(v) for v in row) for row in df.astype(object).itertuples(index=False)]


SCHEMA = (
    "id BIGINT, rater STRING, label STRING, conf DOUBLE, parent BIGINT, secs DOUBLE, "
    "started TIMESTAMP, finished TIMESTAMP"
)


@pytest.fixture(scope="module")
def pg_random(pg_server: Any) -> Any:
    """The randomised data of seed 1 in a table of the tests' PostgreSQL server."""
    import psycopg2

    p = pg_server.params
    con = psycopg2.connect(host=p["host"], port=p["port"], user=p["user"], dbname=p["dbname"])
    con.autocommit = True
    df = _data(1)
    with con.cursor() as cur:
        cur.execute(
            "CREATE SCHEMA IF NOT EXISTS annot_rules; DROP TABLE IF EXISTS annot_rules.t; "
            "CREATE TABLE annot_rules.t (id BIGINT, rater TEXT, label TEXT, conf DOUBLE "
            "PRECISION, parent BIGINT, secs DOUBLE PRECISION, started TIMESTAMP, "
            "finished TIMESTAMP)"
        )
        cur.executemany(
            "INSERT INTO annot_rules.t VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            _records(df),
        )
    yield con, df
    con.close()


def _dialect_case(source: str, df: pd.DataFrame, dialect: str, rel: Any) -> tuple[str, dict]:  # type: ignore[type-arg]
    """(SQL in `dialect`, pandas' figures per annotator) of one rendering to compare."""
    params: Params
    if source == "jensen_shannon":
        params = _mix("jensen_shannon")
        return params.values(_check(params), rel).sql(dialect), dict(_mix_reference(df, source))
    if source == "seconds":
        took, cols = df["secs"], {"seconds": "secs"}
    else:
        took = (df["finished"] - df["started"]).dt.total_seconds()
        cols = {"started": "started", "finished": "finished"}
    params = AnnotatorTurnaround(by="rater", max_p90=60, min_labels=20, **cols)
    q = params.values(_check(params), rel, get_dialect(dialect))
    return q.sql(dialect), dict(_pace(took, df["rater"]))


def _assert_figures(rows: list[tuple[Any, ...]], want: dict) -> None:  # type: ignore[type-arg]
    got = {r[0]: tuple(float(x) for x in r[1:]) for r in rows}
    assert set(got) == set(want)
    for rater, figures in want.items():
        assert got[rater] == pytest.approx(figures, abs=1e-6)


SOURCES = ["seconds", "timestamps", "jensen_shannon"]


@pytest.mark.parametrize("source", SOURCES)
def test_postgres_dialect_matches_pandas(pg_random: Any, source: str) -> None:
    """PostgreSQL's own renderings (PERCENTILE_CONT ... WITHIN GROUP, EXTRACT(EPOCH ...), LN)."""
    con, df = pg_random
    rel = lambda name: sqlglot.exp.to_table(name, db="annot_rules")  # noqa: E731
    sql, want = _dialect_case(source, df, "postgres", rel)
    with con.cursor() as cur:
        cur.execute(sql)
        _assert_figures(cur.fetchall(), want)


@pytest.mark.parametrize("source", SOURCES)
def test_spark_dialect_matches_pandas(spark_server: Any, source: str) -> None:
    """Spark's own renderings (exact PERCENTILE, timestamps cast to seconds, LN), in the test
    session's Spark (started once for every Spark test)."""
    df = _data(1)
    spark = spark_server.session
    spark.createDataFrame(_records(df), SCHEMA).createOrReplaceTempView("annot_rules_t")
    sql, want = _dialect_case(
        source, df, "spark", lambda name: sqlglot.exp.to_table("annot_rules_t")
    )
    _assert_figures([tuple(r) for r in spark.sql(sql).collect()], want)

"""Agreement computed in SQL matches the reference libraries and published examples.

Every randomised check puts all its trials in one table with a `trial` column used as `by`, so
one query computes every trial; each check runs on DuckDB and on a real PostgreSQL server.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any

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

TOL = 1e-9
ORDER = ["low", "mid", "high", "top"]  # rank order, deliberately not alphabetical
ENGINES = ("duckdb", "postgres")
DIALECTS = ("duckdb", "postgres", "snowflake", "bigquery", "spark", "trino")
Result = dict[str | None, tuple[int, int, float | None]]


class DuckDBRunner:
    name = "duckdb"

    def __init__(self) -> None:
        self.con = duckdb.connect()

    def load(self, table: str, df: pd.DataFrame) -> None:
        self.con.register(table, df)

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        return self.con.execute(sql).fetchall()


class PostgresRunner:
    name = "postgres"
    types = {"O": "TEXT", "f": "DOUBLE PRECISION", "i": "BIGINT", "b": "BOOLEAN"}

    def __init__(self, params: dict[str, str]) -> None:
        import psycopg2

        self.con = psycopg2.connect(**{k: v for k, v in params.items() if v})
        self.con.autocommit = True

    def load(self, table: str, df: pd.DataFrame) -> None:
        from psycopg2.extras import execute_values

        name = exp.Table(this=exp.to_identifier(table, quoted=True))
        columns = [
            exp.ColumnDef(
                this=exp.to_identifier(str(c), quoted=True),
                kind=exp.DataType.build(self.types[df[c].dtype.kind]),
            )
            for c in df.columns
        ]
        create = exp.Create(kind="TABLE", this=exp.Schema(this=name, expressions=columns))
        rows = df.astype(object).where(df.notna(), None).itertuples(index=False, name=None)
        with self.con.cursor() as cur:
            cur.execute(exp.Drop(kind="TABLE", tables=[name.copy()], exists=True).sql("postgres"))
            cur.execute(create.sql("postgres"))
            execute_values(cur, f"INSERT INTO {name.sql('postgres')} VALUES %s", list(rows))

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        with self.con.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()


Runner = DuckDBRunner | PostgresRunner


@pytest.fixture(scope="module", params=ENGINES)
def db(request: pytest.FixtureRequest) -> Iterator[Runner]:
    if request.param == "duckdb":
        yield DuckDBRunner()
        return
    try:
        server = request.getfixturevalue("pg_server")
    except RuntimeError as e:  # no PostgreSQL binaries on this machine
        pytest.skip(str(e))
    runner = PostgresRunner(server.params)
    yield runner
    runner.con.close()


def _agreement(db: Runner, df: pd.DataFrame, table: str = "ratings", **kwargs: Any) -> Result:
    """Load `df` as `table` and run the query: {group_key: (n_items, n_ratings, value)}."""
    db.load(table, df)
    query = agreement_query(exp.Table(this=exp.to_identifier(table, quoted=True)), **kwargs)
    rows = db.query(query.sql(dialect=db.name))
    keys = [r[0] for r in rows]
    assert len(keys) == len(set(keys)), "one row per group"
    return {key: (n_items, n_ratings, value) for key, n_items, n_ratings, value in rows}


def _defined(compute: Callable[[], float]) -> float | None:
    """A reference value, or None where the reference library calls it undefined."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            value = float(compute())
        except ValueError:
            return None
    return None if math.isnan(value) else value


def _assert_close(got: float | None, expected: float | None, trial: str) -> None:
    if expected is None:
        assert got is None, trial
    else:
        assert got is not None and got == pytest.approx(expected, abs=TOL), trial


def _frame(rows: Sequence[tuple[Any, ...]]) -> pd.DataFrame:
    columns = ["g", "item", "rater", "label"] if len(rows[0]) == 4 else ["item", "rater", "label"]
    return pd.DataFrame(rows, columns=columns)


def _by_g(db: Runner, rows: Sequence[tuple[Any, ...]], metric: str, **kwargs: Any) -> Result:
    return _agreement(
        db, _frame(rows), item="item", rater="rater", label="label", by="g", metric=metric, **kwargs
    )


# Krippendorff's alpha -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reliability() -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """40 raters x units matrices of ranks 0..3, correlated, about a quarter missing."""
    rng = np.random.default_rng(20240611)
    rows, matrices = [], {}
    for t in range(40):
        n_raters, n_items = int(rng.integers(2, 7)), int(rng.integers(3, 30))
        truth = rng.integers(0, 4, n_items)
        data = rng.integers(0, 4, (n_raters, n_items)).astype(float)
        agree = rng.random(data.shape) < rng.uniform(0.2, 0.95)
        data[agree] = np.broadcast_to(truth, data.shape)[agree]
        data[rng.random(data.shape) < 0.25] = np.nan
        trial = f"t{t:02d}"
        matrices[trial] = data
        rows += [
            (trial, f"u{i}", f"r{r}", ORDER[int(data[r, i])], _score(data[r, i]))
            for r in range(n_raters)
            for i in range(n_items)
            if not np.isnan(data[r, i])
        ]
    return pd.DataFrame(rows, columns=["trial", "item", "rater", "label", "score"]), matrices


def _score(rank: Any) -> Any:
    """The interval value of a rank: a large offset, so precision loss would show."""
    return rank * 2.5 + 1e6


@pytest.mark.parametrize(
    ("level", "label", "categories"),
    [
        ("nominal", "label", None),
        ("ordinal", "label", ORDER),
        ("ordinal", "score", None),  # no categories: numeric labels ordered as numbers
        ("interval", "score", None),
    ],
)
def test_krippendorff_matches_reference_package(
    db: Runner, reliability: Any, level: str, label: str, categories: list[str] | None
) -> None:
    df, matrices = reliability
    got = _agreement(
        db,
        df,
        item="item",
        rater="rater",
        label=label,
        by="trial",
        metric="krippendorff_alpha",
        level=level,
        categories=categories,
    )
    assert set(got) == set(matrices)
    for trial, data in matrices.items():
        ratings = data if level != "interval" else _score(data)
        expected = _defined(
            lambda r=ratings: krippendorff.alpha(reliability_data=r, level_of_measurement=level)
        )
        _assert_close(got[trial][2], expected, trial)
        per_unit = (~np.isnan(data)).sum(axis=0)
        assert got[trial][:2] == ((per_unit >= 2).sum(), per_unit[per_unit >= 2].sum()), trial


# Fleiss' kappa --------------------------------------------------------------------------------


def _modal(sizes: np.ndarray) -> int | None:
    """The documented choice: the most common number of ratings (>= 2), ties to the larger."""
    counts = {int(n): int((sizes == n).sum()) for n in set(sizes.tolist()) if n >= 2}
    return max(counts, key=lambda n: (counts[n], n)) if counts else None


def test_fleiss_matches_statsmodels(db: Runner) -> None:
    rng = np.random.default_rng(1971)
    rows, expected = [], {}
    for t in range(40):
        n_items, pool = int(rng.integers(4, 40)), int(rng.integers(4, 9))
        base = int(rng.integers(2, pool))
        # Half the trials rate every item `base` times; the others mix in other numbers.
        sizes = (
            np.full(n_items, base)
            if t % 2
            else np.clip(base + rng.integers(-1, 2, n_items), 1, pool)
        )
        truth = rng.integers(0, 4, n_items)
        trial, labels = f"t{t:02d}", []
        for i, size in enumerate(sizes):
            y = np.where(rng.random(size) < 0.6, truth[i], rng.integers(0, 4, size))
            labels.append(y)
            raters = rng.choice(pool, size, replace=False)
            rows += [(trial, f"i{i}", f"r{r}", ORDER[v]) for r, v in zip(raters, y, strict=True)]
        n = _modal(sizes)
        used = [y for y in labels if len(y) == n]
        table = aggregate_raters(np.array(used), n_cat=4)[0] if used else None
        value = _defined(lambda tb=table: fleiss_kappa(tb, method="fleiss")) if used else None
        expected[trial] = (len(used), len(used) * (n or 0), value)
    got = _agreement(
        db,
        pd.DataFrame(rows, columns=["trial", "item", "rater", "label"]),
        item="item",
        rater="rater",
        label="label",
        by="trial",
        metric="fleiss_kappa",
    )
    for trial, (n_items, n_ratings, value) in expected.items():
        assert got[trial][:2] == (n_items, n_ratings), trial
        _assert_close(got[trial][2], value, trial)


def test_fleiss_modal_tie_takes_the_larger_number_of_ratings(db: Runner) -> None:
    rows = [("i1", r, "a") for r in "AB"] + [("i2", r, "b") for r in "AB"]
    rows += [("i3", r, "a") for r in "ABC"] + [("i4", r, "b") for r in "ABC"]
    rows += [("i5", "A", "a")]  # a single rating never counts
    got = _agreement(
        db, _frame(rows), item="item", rater="rater", label="label", by=None, metric="fleiss_kappa"
    )
    assert got["all"] == (2, 6, pytest.approx(fleiss_kappa([[3, 0], [0, 3]])))


# Cohen's kappa --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("weights", "categories"),
    [(None, None), (None, ORDER), ("linear", ORDER), ("quadratic", ORDER)],
)
def test_cohen_matches_scikit_learn(
    db: Runner, weights: str | None, categories: list[str] | None
) -> None:
    rng = np.random.default_rng(1960)
    labels = [*ORDER, "other"]  # "other" is outside the categories: dropped when they are given
    rows, expected = [], {}
    for t in range(40):
        n = int(rng.integers(3, 60))
        first, second = rng.choice(["ann", "bob", "cyd", "dee"], 2, replace=False)
        y1 = rng.integers(0, 5, n)
        y2 = np.where(rng.random(n) < rng.uniform(0.2, 0.9), y1, rng.integers(0, 5, n))
        has1, has2 = rng.random(n) < 0.9, rng.random(n) < 0.9
        trial = f"t{t:02d}"
        rows += [(trial, f"i{i}", first, labels[y1[i]]) for i in range(n) if has1[i]]
        rows += [(trial, f"i{i}", second, labels[y2[i]]) for i in range(n) if has2[i]]
        both = has1 & has2
        if categories:
            both &= (y1 < 4) & (y2 < 4)
        a, b = [labels[y] for y in y1[both]], [labels[y] for y in y2[both]]
        value = (
            _defined(lambda a=a, b=b: cohen_kappa_score(a, b, weights=weights, labels=categories))
            if a
            else None
        )
        expected[trial] = (int(both.sum()), value)
    got = _agreement(
        db,
        pd.DataFrame(rows, columns=["trial", "item", "rater", "label"]),
        item="item",
        rater="rater",
        label="label",
        by="trial",
        metric="cohen_kappa",
        weights=weights,
        categories=categories,
    )
    for trial, (n_items, value) in expected.items():
        assert got[trial][:2] == (n_items, 2 * n_items), trial
        _assert_close(got[trial][2], value, trial)


# Published worked examples --------------------------------------------------------------------

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: 4 observers x 12
# units, values 1..5, missing values as None.
K2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]


@pytest.mark.parametrize(
    ("level", "published"), [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849)]
)
def test_krippendorff_2011_example(db: Runner, level: str, published: float) -> None:
    rows = [
        (f"u{u}", f"o{o}", str(v), float(v))
        for o, values in enumerate(K2011)
        for u, v in enumerate(values)
        if v is not None
    ]
    df = pd.DataFrame(rows, columns=["item", "rater", "label", "score"])
    got = _agreement(
        db,
        df,
        item="item",
        rater="rater",
        label="score" if level == "interval" else "label",
        by=None,
        metric="krippendorff_alpha",
        level=level,
        categories=["1", "2", "3", "4", "5"],
    )
    n_items, n_ratings, value = got["all"]
    assert (n_items, n_ratings) == (11, 40)  # unit 12 has a single value
    assert value is not None and round(value, 3) == published
    data = np.array(K2011, dtype=float)
    assert value == pytest.approx(krippendorff.alpha(data, level_of_measurement=level), abs=TOL)


def test_fleiss_1971_example(db: Runner) -> None:
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
        labels = [f"c{c}" for c, n in enumerate(counts) for _ in range(n)]
        rows += [(f"s{s}", f"r{r}", label) for r, label in enumerate(labels)]
    got = _agreement(
        db, _frame(rows), item="item", rater="rater", label="label", by=None, metric="fleiss_kappa"
    )
    n_items, n_ratings, value = got["all"]
    assert (n_items, n_ratings) == (10, 140)
    assert value is not None and round(value, 3) == 0.210
    assert value == pytest.approx(fleiss_kappa(np.array(table)), abs=TOL)


@pytest.mark.parametrize(
    ("cells", "published"),
    [
        ((20, 5, 10, 15), 0.4),  # Wikipedia: 50 grant proposals, readers A and B
        ((45, 15, 25, 15), 0.1304),  # Wikipedia: same agreement (60%), different marginals
        ((25, 35, 5, 35), 0.2593),
    ],
)
def test_cohen_wikipedia_examples(
    db: Runner, cells: tuple[int, int, int, int], published: float
) -> None:
    yes_yes, yes_no, no_yes, no_no = cells
    pairs = (
        [("yes", "yes")] * yes_yes
        + [("yes", "no")] * yes_no
        + [("no", "yes")] * no_yes
        + [("no", "no")] * no_no
    )
    rows = [r for i, (a, b) in enumerate(pairs) for r in ((f"p{i}", "A", a), (f"p{i}", "B", b))]
    got = _agreement(
        db, _frame(rows), item="item", rater="rater", label="label", by=None, metric="cohen_kappa"
    )
    n_items, _, value = got["all"]
    assert n_items == len(pairs)
    assert value is not None and round(value, 4) == published


# Edge cases -----------------------------------------------------------------------------------


@pytest.mark.parametrize("metric", METRICS)
def test_one_category_is_undefined(db: Runner, metric: str) -> None:
    # Zero expected disagreement: the references give nan (or raise); here NULL, never 1.0.
    rows = [("g", f"i{i}", r, "cat") for i in range(5) for r in "AB"]
    assert _by_g(db, rows, metric)["g"] == (5, 10, None)


@pytest.mark.parametrize("metric", METRICS)
def test_perfect_agreement_over_two_categories_is_one(db: Runner, metric: str) -> None:
    rows = [("g", f"i{i}", r, "cat" if i % 2 else "dog") for i in range(6) for r in "AB"]
    assert _by_g(db, rows, metric)["g"] == (6, 12, pytest.approx(1.0))


@pytest.mark.parametrize("metric", METRICS)
def test_one_rater_is_undefined(db: Runner, metric: str) -> None:
    rows = [("g", f"i{i}", "A", "cat" if i % 2 else "dog") for i in range(6)]
    assert _by_g(db, rows, metric)["g"] == (0, 0, None)


def test_cohen_needs_exactly_two_raters(db: Runner) -> None:
    rows = [
        ("g", f"i{i}", r, "cat" if (i + len(r)) % 2 else "dog")
        for i in range(6)
        for r in ("A", "BB", "CCC")
    ]
    assert _by_g(db, rows, "cohen_kappa")["g"] == (0, 0, None)


@pytest.mark.parametrize("metric", METRICS)
def test_single_ratings_and_null_rows_do_not_count(db: Runner, metric: str) -> None:
    rng = np.random.default_rng(3)
    rows = [("g", f"i{i}", r, str(rng.integers(0, 3))) for i in range(30) for r in "AB"]
    clean = _by_g(db, rows, metric)["g"]
    # A third rater whose only row has no label must not make Cohen's group undefined.
    noise = [
        ("g", "lonely", "A", "0"),
        ("g", "i0", "C", None),
        ("g", None, "A", "1"),
        ("g", "i1", None, "2"),
    ]
    assert _by_g(db, rows + noise, metric)["g"] == clean


def test_null_group_is_its_own_group(db: Runner) -> None:
    rows = [
        (b, f"i{i}", r, "x" if (i * (b or 7) + len(r)) % 3 else "y")
        for b in (1, 2, None)
        for i in range(8)
        for r in ("A", "BB", "CCC")
    ]
    df = pd.DataFrame(rows, columns=["b", "item", "rater", "label"]).astype({"b": "Int64"})
    got = _agreement(
        db, df, item="item", rater="rater", label="label", by="b", metric="krippendorff_alpha"
    )
    assert set(got) == {"1", "2", None}
    alone = _agreement(
        db,
        df[df["b"].isna()].drop(columns="b"),
        item="item",
        rater="rater",
        label="label",
        by=None,
        metric="krippendorff_alpha",
    )
    assert got[None] == alone["all"]


@pytest.mark.parametrize("metric", METRICS)
def test_boolean_labels(db: Runner, metric: str) -> None:
    # Nominal labels are compared as text; PostgreSQL has no MIN or MAX over booleans.
    rows = [("g", f"i{i}", r, (i * len(r)) % 3 == 0) for i in range(12) for r in ("A", "BB")]
    as_text = [(g, i, r, str(v).lower()) for g, i, r, v in rows]
    assert _by_g(db, rows, metric) == _by_g(db, as_text, metric)


def test_labels_outside_categories_are_ignored(db: Runner) -> None:
    rows = [("g", f"i{i}", r, ORDER[(i + (r == "B")) % 4]) for i in range(12) for r in "AB"]
    clean = _by_g(db, rows, "krippendorff_alpha", level="ordinal", categories=ORDER)["g"]
    extra = [("g", "i0", "C", "unknown"), ("g", "i99", "A", "unknown"), ("g", "i99", "B", "low")]
    assert (
        _by_g(db, rows + extra, "krippendorff_alpha", level="ordinal", categories=ORDER)["g"]
        == clean
    )


def test_where_filters_rows_first(db: Runner) -> None:
    rows = [
        ("g", f"i{i}", r, "x" if (i + len(r)) % 3 else "y", True)
        for i in range(9)
        for r in ("A", "BB")
    ]
    stale = [("g", f"i{i}", "A", "z", False) for i in range(9)]
    df = pd.DataFrame(rows + stale, columns=["g", "item", "rater", "label", "is current"])
    got = _agreement(
        db,
        df,
        item="item",
        rater="rater",
        label="label",
        by="g",
        metric="krippendorff_alpha",
        where=exp.column("is current", quoted=True),
    )
    expected = _agreement(
        db,
        df[df["is current"]],
        item="item",
        rater="rater",
        label="label",
        by="g",
        metric="krippendorff_alpha",
    )
    assert got == expected


def test_duplicate_ratings_count_as_extra_ratings(db: Runner) -> None:
    # Documented: no deduplication; a repeated (item, rater) row is one more rating.
    rows = [
        ("g", f"i{i}", r, "x" if (i + len(r)) % 3 else "y") for i in range(9) for r in ("A", "BB")
    ]
    twice = _by_g(db, [*rows, ("g", "i0", "A", "y")], "krippendorff_alpha")["g"]
    renamed = _by_g(db, [*rows, ("g", "i0", "Z", "y")], "krippendorff_alpha")["g"]
    assert twice == renamed


HOSTILE = {
    "item": "select",
    "rater": 'weird "name"',
    "label": "label; drop table x",
    "by": "group by",
}


@pytest.mark.parametrize("metric", METRICS)
def test_hostile_identifiers_are_quoted(db: Runner, metric: str) -> None:
    df = pd.DataFrame(
        {
            "select": ["i1", "i1", "i2", "i2", "i3", "i3"],
            'weird "name"': ["A", "B", "A", "B", "A", "B"],
            "label; drop table x": ["x", "x", "y", "x", "y", "y"],
            "group by": ["b"] * 6,
        }
    )
    got = _agreement(db, df, table="my ratings; drop", **HOSTILE, metric=metric)
    expected = {
        "krippendorff_alpha": krippendorff.alpha(
            [[0, 1, 1], [0, 0, 1]], level_of_measurement="nominal"
        ),
        "fleiss_kappa": fleiss_kappa([[2, 0], [1, 1], [0, 2]]),
        "cohen_kappa": cohen_kappa_score(["x", "y", "y"], ["x", "x", "y"]),
    }[metric]
    assert got["b"] == (3, 6, pytest.approx(expected, abs=TOL))


def test_invalid_arguments_are_refused() -> None:
    table = exp.to_table("t")
    common: dict[str, Any] = {"item": "i", "rater": "r", "label": "l", "by": None}
    for bad in (
        {"metric": "scotts_pi"},
        {"metric": "krippendorff_alpha", "level": "ratio"},
        {"metric": "cohen_kappa", "weights": "cubic", "categories": ["a", "b"]},
        {"metric": "cohen_kappa", "weights": "linear"},
        {"metric": "krippendorff_alpha", "categories": ["a", "a"]},
    ):
        with pytest.raises(ValueError):
            agreement_query(table, **common, **bad)


# Rendering ------------------------------------------------------------------------------------

VARIANTS = [
    {"metric": "krippendorff_alpha", "level": "nominal"},
    {"metric": "krippendorff_alpha", "level": "ordinal", "categories": ORDER},
    {"metric": "krippendorff_alpha", "level": "interval"},
    {"metric": "fleiss_kappa"},
    {"metric": "cohen_kappa"},
    {"metric": "cohen_kappa", "weights": "linear", "categories": ORDER},
    {"metric": "cohen_kappa", "weights": "quadratic", "categories": ORDER},
]


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize(
    "variant", VARIANTS, ids=lambda v: "-".join(str(x) for k, x in v.items() if k != "categories")
)
def test_renders_and_parses_back_in_every_dialect(dialect: str, variant: dict[str, Any]) -> None:
    query = agreement_query(
        exp.to_table("ratings"), **HOSTILE, **variant, where=exp.column("is current", quoted=True)
    )
    sql = query.sql(dialect=dialect)
    statements = sqlglot.parse(sql, read=dialect)
    assert len(statements) == 1 and statements[0] is not None
    names = {c.name for c in statements[0].find_all(exp.Column)}
    assert {*HOSTILE.values(), "is current"} <= names

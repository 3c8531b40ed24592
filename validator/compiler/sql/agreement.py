"""Inter-annotator agreement computed in the warehouse: one SELECT, one row per group.

Alpha and Fleiss read the ratings once, reducing them to per-(group, item, value) counts; every
later step works on those counts, per-item totals and per-group marginals. Cohen reads them
twice (each group's raters, then one pivoted row per item). Nothing joins ratings to ratings,
so the cost is linear in the number of ratings whatever the number of raters or items; the
only product is the value x value table of linear weighted Cohen, as small as the category list.

- Krippendorff's alpha = 1 - (n - 1) * D_o / D_e over pairable values (items with at least two
  ratings), D_o = sum_i sum_ck n_ic n_ik d_ck / (m_i - 1), D_e = sum_ck n_c n_k d_ck, as in the
  `krippendorff` package. Nominal: sum_ck n_ic n_ik d_ck = m_i^2 - sum_c n_ic^2. Interval: the
  squared distances are summed from moments (m * sum x^2 - (sum x)^2, x centred per group so a
  large offset costs no precision). Ordinal: Krippendorff's metric (n_c + ... + n_k - (n_c +
  n_k) / 2)^2 equals (P_k - P_c)^2 with P_c = n_1 + ... + n_c - n_c / 2 over the pairable
  marginals in rank order, so it is the interval computation on P.
- Fleiss' kappa is statsmodels' `fleiss_kappa(table, method="fleiss")`, defined for items rated
  the same number of times. A group mixing 3- and 4-rating items uses the items with the modal
  number of ratings (ties: the larger number); `n_items` says how many entered.
- Cohen's kappa is scikit-learn's `cohen_kappa_score(y1, y2, weights=..., labels=categories)`
  for groups with exactly two distinct raters, over the items both rated; weights are on the
  rank in `categories`.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp

METRICS = ("krippendorff_alpha", "fleiss_kappa", "cohen_kappa")
LEVELS = ("nominal", "ordinal", "interval")
WEIGHTS = (None, "linear", "quadratic")

# The group key travels as '=' || CAST(by AS VARCHAR), and as '' when `by` is NULL, so NULL
# batches form their own group and every join on it is a plain (hashable) equality.
_GROUP_KEY = "CASE WHEN t.g = '' THEN NULL ELSE SUBSTRING(t.g, 2) END AS group_key"

# Counts are DOUBLE from the start: every division is a float division on every engine, and
# sums of whole numbers stay exact in a double far beyond 10M ratings.
_VALUE_COUNTS = """
WITH agreement_ratings AS (SELECT 1),
ic AS (SELECT g, item, v, CAST(COUNT(*) AS DOUBLE PRECISION) AS n_ic
       FROM agreement_ratings GROUP BY g, item, v),
"""
_COUNTS = _VALUE_COUNTS + "groups AS (SELECT g FROM ic GROUP BY g),\n"

# Krippendorff. Pairable values are all values minus those of single-rating items, so no
# per-item total has to be joined or windowed back onto the value counts.
_PAIRABLE = """
items AS (SELECT g, item, SUM(n_ic) AS m_i, SUM(n_ic * n_ic) AS sq, MIN(v) AS v_single
          FROM ic GROUP BY g, item),
marginals AS (SELECT g, v, SUM(n) AS n_c FROM (
                SELECT g, v, n_ic AS n FROM ic
                UNION ALL SELECT g, v_single AS v, -m_i AS n FROM items WHERE m_i = 1) AS u
              GROUP BY g, v HAVING SUM(n) > 0),
"""

# Nominal alpha in one pass over the value counts: each count carries its item's total m_i (a
# window, which spills to disk, where per-item totals joined or aggregated again beside the
# per-value counts ran out of DuckDB's 1 GB at 100M ratings), then everything sums per (group,
# value): the pairable marginal n_c, the item's share of D_o, n_ic * (m_i - n_ic) / (m_i - 1)
# (summing to (m_i^2 - sum_c n_ic^2) / (m_i - 1) per item), and n_ic / m_i (summing to 1 per
# item: the item count).
_ALPHA_NOMINAL = (
    _VALUE_COUNTS
    + """
totals AS (SELECT g, v, n_ic, SUM(n_ic) OVER (PARTITION BY g, item) AS m_i FROM ic),
per_value AS (SELECT g, v, SUM(CASE WHEN m_i >= 2 THEN n_ic ELSE 0 END) AS n_c,
              SUM(CASE WHEN m_i >= 2 THEN n_ic * (m_i - n_ic) / (m_i - 1) ELSE 0 END) AS d_o,
              SUM(CASE WHEN m_i >= 2 THEN n_ic / m_i ELSE 0 END) AS items
              FROM totals GROUP BY g, v),
groups AS (SELECT g FROM per_value GROUP BY g),
observed AS (SELECT g, CAST(ROUND(SUM(items)) AS BIGINT) AS n_items, SUM(n_c) AS n,
             SUM(d_o) AS d_o FROM per_value GROUP BY g HAVING SUM(n_c) > 0),
expected AS (SELECT g, COUNT(*) AS n_values, SUM(n_c * n_c) AS sum_sq
             FROM per_value WHERE n_c > 0 GROUP BY g)
SELECT {key}, COALESCE(o.n_items, 0) AS n_items,
       CAST(COALESCE(o.n, 0) AS BIGINT) AS n_ratings,
       CAST(CASE WHEN e.n_values >= 2
            THEN 1 - (o.n - 1) * o.d_o / (o.n * o.n - e.sum_sq) END AS DOUBLE PRECISION) AS value
FROM groups AS t LEFT JOIN observed AS o ON o.g = t.g LEFT JOIN expected AS e ON e.g = t.g
"""
)

_POSITIONS = {
    # Rank order of the pairable values; v is distinct within a group here.
    "ordinal": """
positions AS (SELECT g, v, n_c, SUM(n_c) OVER (PARTITION BY g ORDER BY v
              ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) - n_c / 2 AS x FROM marginals),
""",
    "interval": "positions AS (SELECT g, v, n_c, v AS x FROM marginals),\n",
}

# Values of single-rating items may be missing from `centred`; those items are dropped anyway.
_ALPHA_DISTANCE = """
centred AS (SELECT g, v, n_c, x - SUM(n_c * x) OVER (PARTITION BY g) / SUM(n_c) OVER
            (PARTITION BY g) AS x FROM positions),
expected AS (SELECT g, COUNT(*) AS n_values, SUM(n_c) AS n, SUM(n_c * x) AS s1,
             SUM(n_c * x * x) AS s2 FROM centred GROUP BY g),
moments AS (SELECT ic.g, ic.item, SUM(ic.n_ic) AS m_i, SUM(ic.n_ic * c.x) AS s1,
            SUM(ic.n_ic * c.x * c.x) AS s2
            FROM ic JOIN centred AS c ON c.g = ic.g AND c.v = ic.v GROUP BY ic.g, ic.item),
observed AS (SELECT g, COUNT(*) AS n_items, SUM((m_i * s2 - s1 * s1) / (m_i - 1)) AS d_o
             FROM moments WHERE m_i >= 2 GROUP BY g)
SELECT {key}, COALESCE(o.n_items, 0) AS n_items,
       CAST(COALESCE(e.n, 0) AS BIGINT) AS n_ratings,
       CAST(CASE WHEN e.n_values >= 2
            THEN 1 - (e.n - 1) * o.d_o / (e.n * e.s2 - e.s1 * e.s1) END AS DOUBLE PRECISION)
         AS value
FROM groups AS t LEFT JOIN observed AS o ON o.g = t.g LEFT JOIN expected AS e ON e.g = t.g
"""

_FLEISS = (
    _COUNTS
    + """
items AS (SELECT g, item, SUM(n_ic) AS m_i, SUM(n_ic * n_ic) AS sq FROM ic GROUP BY g, item),
sizes AS (SELECT g, m_i, COUNT(*) AS n_items FROM items WHERE m_i >= 2 GROUP BY g, m_i),
modal AS (SELECT g, m_i FROM (SELECT g, m_i, ROW_NUMBER() OVER (PARTITION BY g
          ORDER BY n_items DESC, m_i DESC) AS pick FROM sizes) AS s WHERE pick = 1),
used AS (SELECT i.g, i.item, i.m_i, i.sq FROM items AS i
         JOIN modal AS m ON m.g = i.g AND m.m_i = i.m_i),
observed AS (SELECT g, COUNT(*) AS n_items, SUM(m_i) AS n,
             AVG((sq - m_i) / (m_i * (m_i - 1))) AS p_bar FROM used GROUP BY g),
marginals AS (SELECT ic.g, ic.v, SUM(ic.n_ic) AS n_c FROM ic
              JOIN used AS u ON u.g = ic.g AND u.item = ic.item GROUP BY ic.g, ic.v),
chance AS (SELECT g, COUNT(*) AS n_values, SUM(n_c * n_c) AS sum_sq FROM marginals GROUP BY g)
SELECT {key}, COALESCE(o.n_items, 0) AS n_items,
       CAST(COALESCE(o.n, 0) AS BIGINT) AS n_ratings,
       CAST(CASE WHEN c.n_values >= 2
            THEN (o.p_bar - c.sum_sq / (o.n * o.n)) / (1 - c.sum_sq / (o.n * o.n)) END
         AS DOUBLE PRECISION) AS value
FROM groups AS t LEFT JOIN observed AS o ON o.g = t.g LEFT JOIN chance AS c ON c.g = t.g
"""
)

# Cohen: pass 1 finds each group's raters (GROUP BY beats COUNT(DISTINCT) here), pass 2 pivots
# every item of a two-rater group to (y1, y2).
_COHEN_PAIRS = """
WITH agreement_ratings AS (SELECT 1),
rater_list AS (SELECT g, rater FROM agreement_ratings GROUP BY g, rater),
raters AS (SELECT g, COUNT(*) AS n_raters, MIN(rater) AS r1, MAX(rater) AS r2
           FROM rater_list GROUP BY g),
pairs AS (SELECT b.g, b.item, MAX(CASE WHEN b.rater = r.r1 THEN b.v END) AS y1,
          MAX(CASE WHEN b.rater = r.r2 THEN b.v END) AS y2
          FROM agreement_ratings AS b JOIN raters AS r ON r.g = b.g WHERE r.n_raters = 2
          GROUP BY b.g, b.item),
both_rated AS (SELECT g, y1, y2 FROM pairs WHERE NOT y1 IS NULL AND NOT y2 IS NULL),
"""

# Per weighting: `observed` (n, w_o = sum of pair weights) and `expected` (w_e = sum over value
# pairs of n1_c * n2_k * w_ck, from the two raters' marginals).
_COHEN_WEIGHTS = {
    None: """
observed AS (SELECT g, CAST(COUNT(*) AS DOUBLE PRECISION) AS n,
             SUM(CASE WHEN y1 = y2 THEN 0 ELSE 1 END) AS w_o FROM both_rated GROUP BY g),
m1 AS (SELECT g, y1 AS v, CAST(COUNT(*) AS DOUBLE PRECISION) AS c FROM both_rated
       GROUP BY g, y1),
m2 AS (SELECT g, y2 AS v, CAST(COUNT(*) AS DOUBLE PRECISION) AS c FROM both_rated
       GROUP BY g, y2),
same AS (SELECT m1.g, SUM(m1.c * m2.c) AS agree FROM m1
         JOIN m2 ON m2.g = m1.g AND m2.v = m1.v GROUP BY m1.g),
expected AS (SELECT o.g, o.n * o.n - COALESCE(s.agree, 0) AS w_e FROM observed AS o
             LEFT JOIN same AS s ON s.g = o.g)
""",
    "linear": """
observed AS (SELECT g, CAST(COUNT(*) AS DOUBLE PRECISION) AS n, SUM(ABS(y1 - y2)) AS w_o
             FROM both_rated GROUP BY g),
m1 AS (SELECT g, y1 AS v, CAST(COUNT(*) AS DOUBLE PRECISION) AS c FROM both_rated
       GROUP BY g, y1),
m2 AS (SELECT g, y2 AS v, CAST(COUNT(*) AS DOUBLE PRECISION) AS c FROM both_rated
       GROUP BY g, y2),
expected AS (SELECT m1.g, SUM(m1.c * m2.c * ABS(m1.v - m2.v)) AS w_e FROM m1
             JOIN m2 ON m2.g = m1.g GROUP BY m1.g)
""",
    # sum_ck n1_c n2_k (x_c - x_k)^2 = n * sum y1^2 + n * sum y2^2 - 2 * sum y1 * sum y2
    "quadratic": """
observed AS (SELECT g, CAST(COUNT(*) AS DOUBLE PRECISION) AS n,
             SUM((y1 - y2) * (y1 - y2)) AS w_o, SUM(y1) AS s1, SUM(y1 * y1) AS q1,
             SUM(y2) AS s2, SUM(y2 * y2) AS q2 FROM both_rated GROUP BY g),
expected AS (SELECT g, n * q1 + n * q2 - 2 * s1 * s2 AS w_e FROM observed)
""",
}

_COHEN_RESULT = """
SELECT {key}, CAST(COALESCE(o.n, 0) AS BIGINT) AS n_items,
       CAST(2 * COALESCE(o.n, 0) AS BIGINT) AS n_ratings,
       CAST(CASE WHEN e.w_e > 0 THEN 1 - o.n * o.w_o / e.w_e END AS DOUBLE PRECISION) AS value
FROM raters AS t LEFT JOIN observed AS o ON o.g = t.g LEFT JOIN expected AS e ON e.g = t.g
"""


def agreement_query(
    relation: exp.Expr,
    *,
    item: str,
    rater: str,
    label: str,
    by: str | None,
    metric: str,
    level: str = "nominal",
    weights: str | None = None,
    categories: list[str] | None = None,
    where: exp.Expr | None = None,
) -> exp.Select:
    """Agreement per group: one row per `by` value (`group_key`, `n_items`, `n_ratings`, `value`).

    `group_key` is `by` cast to text ('all' when `by` is None; NULL for rows whose `by` is
    NULL, which form their own group). `n_items` and `n_ratings` count what entered the
    coefficient: pairable items (alpha), items with the modal number of ratings (Fleiss) or
    items both raters rated (Cohen). `value` is a DOUBLE, NULL when the coefficient is
    undefined: no pairable items, a single value among them (zero expected disagreement), or a
    Cohen group without exactly two raters.

    Rows with a NULL item, rater or label are ignored, and so are labels missing from
    `categories` where it gives ranks (ordinal alpha, Cohen). `where` filters rows first.
    One rating per (item, rater) is expected and nothing is deduplicated: alpha and Fleiss count
    a repeated rating as one more rating, Cohen keeps the rater's greatest label for the item.

    `relation` is a table or an aliased subquery. `level` applies to Krippendorff's alpha only
    and `weights` to Cohen's kappa only. `categories` (matched against the label cast to text)
    ranks the labels for ordinal alpha, else labels are cast to DOUBLE and ordered as numbers,
    and for Cohen, where weights need it; nominal alpha and Fleiss do not use it. Nominal
    labels are compared as text, interval labels as DOUBLE.

    >>> q = agreement_query(exp.to_table("ratings"), item="item_id", rater="annotator",
    ...                     label="label", by="batch_id", metric="fleiss_kappa")
    >>> "GROUP BY" in q.sql(dialect="duckdb")
    True
    """
    _check_arguments(metric, level, weights, categories)
    col = exp.column(label, quoted=True)
    # Nominal labels are compared as text: MIN/MAX pick them, and PostgreSQL has no MIN(boolean).
    text = exp.cast(col.copy(), "text")
    if metric == "krippendorff_alpha" and level != "nominal":
        value = _rank(col, categories) if level == "ordinal" and categories else _double(col)
        sql = _COUNTS + _PAIRABLE + _POSITIONS[level] + _ALPHA_DISTANCE
    elif metric == "krippendorff_alpha":
        value, sql = text, _ALPHA_NOMINAL
    elif metric == "fleiss_kappa":
        value, sql = text, _FLEISS
    else:
        # With categories, unweighted Cohen also compares ranks: labels outside the list drop
        # out, as in scikit-learn's `labels=`.
        value = _rank(col, categories) if categories else text
        sql = _COHEN_PAIRS + _COHEN_WEIGHTS[weights] + _COHEN_RESULT

    query = sqlglot.parse_one(sql.format(key=_GROUP_KEY), read="postgres")
    # The first CTE is a stand-in until here: the real one is built from sqlglot nodes. Its
    # name is unlikely to be the relation's, which Snowflake would read as a recursive CTE.
    ratings = next(c for c in query.find_all(exp.CTE) if c.alias == "agreement_ratings")
    ratings.set(
        "this",
        _ratings(relation, item=item, rater=rater, label=label, by=by, value=value, where=where),
    )
    assert isinstance(query, exp.Select)
    return query


def _check_arguments(
    metric: str, level: str, weights: str | None, categories: list[str] | None
) -> None:
    if metric not in METRICS:
        raise ValueError(f"unknown agreement metric {metric!r}; expected one of {METRICS}")
    if level not in LEVELS:
        raise ValueError(f"unknown level of measurement {level!r}; expected one of {LEVELS}")
    if weights not in WEIGHTS:
        raise ValueError(f"unknown Cohen weights {weights!r}; expected one of {WEIGHTS}")
    if categories is not None and len(set(categories)) != len(categories):
        raise ValueError("agreement categories must be distinct")
    if metric == "cohen_kappa" and weights and not categories:
        raise ValueError("weighted Cohen's kappa needs `categories` (the label order)")


def _double(value: exp.Expr) -> exp.Expr:
    return exp.cast(value, "double")


def _rank(label: exp.Expr, categories: list[str]) -> exp.Expr:
    """The 0-based position of the label in `categories` (NULL when absent), as DOUBLE."""
    whens = [
        exp.If(this=exp.Literal.string(str(name)), true=exp.Literal.number(rank))
        for rank, name in enumerate(categories)
    ]
    return _double(exp.Case(this=exp.cast(label.copy(), "text"), ifs=whens))


def _ratings(
    relation: exp.Expr,
    *,
    item: str,
    rater: str,
    label: str,
    by: str | None,
    value: exp.Expr,
    where: exp.Expr | None,
) -> exp.Select:
    """One row per usable rating: group key `g`, `item`, `rater` and the rated value `v`."""
    if by is None:
        group: exp.Expr = exp.Literal.string("=all")
    else:
        by_col = exp.column(by, quoted=True)
        group = exp.Case(
            ifs=[
                exp.If(this=exp.Is(this=by_col, expression=exp.Null()), true=exp.Literal.string(""))
            ],
            default=exp.DPipe(
                this=exp.Literal.string("="), expression=exp.cast(by_col.copy(), "text")
            ),
        )
    item_col, rater_col = exp.column(item, quoted=True), exp.column(rater, quoted=True)
    required: list[exp.Expr] = [item_col, rater_col, exp.column(label, quoted=True)]
    if value != required[-1]:
        required.append(value)  # a rank or a cast can be NULL where the label is not
    conditions: list[exp.Expr] = [
        exp.Not(this=exp.Is(this=c.copy(), expression=exp.Null())) for c in required
    ]
    if where is not None:
        conditions.append(exp.Paren(this=where.copy()))
    return (
        exp.select(
            exp.alias_(group, "g"),
            exp.alias_(item_col, "item"),
            exp.alias_(rater_col, "rater"),
            exp.alias_(value, "v"),
        )
        .from_(relation.copy())
        .where(exp.and_(*conditions))
    )

"""Inter-annotator agreement computed in the warehouse, per group, in a few aggregate passes.

Nothing is quadratic in raters or items: ratings are reduced to per-(group, item, value) counts,
and the only self-join pairs the (few) distinct values within one item. The value x value
tables that the chance terms need are per group and as small as the label set.

Definitions (checked against scikit-learn, statsmodels and the `krippendorff` package):

- Krippendorff's alpha = 1 - (n - 1) * sum(o_ck * d_ck) / sum(n_c * n_k * d_ck) over pairable
  values (items with at least two ratings), with o the coincidence matrix, n_c the value totals
  and d the squared nominal / ordinal / interval distance. Missing ratings are allowed.
- Fleiss' kappa uses the per-item agreement (sum n_ic^2 - m_i) / (m_i (m_i - 1)) averaged over
  items with m_i >= 2 and chance from the pooled value shares. On items with equal numbers of
  ratings this is exactly Fleiss (1971) / statsmodels; with unequal numbers it is the usual
  generalisation (each item weighted equally).
- Cohen's kappa needs exactly two distinct raters in the group and uses the items both rated;
  1 - sum(w * observed) / sum(w * expected), weights none / linear / quadratic on the rank in
  `categories` (scikit-learn's `cohen_kappa_score`).

Edge cases: a group whose chance disagreement is zero (one value only, e.g. everyone always
says "cat") has an undefined coefficient: `value` is NULL (the reference libraries return nan
or raise). Cohen with one or more than two raters is NULL. Rows with a NULL item, rater or
label are ignored. The caller passes one rating per (item, rater); several are all counted.
"""

from __future__ import annotations

from sqlglot import exp

from .templates import template

METRICS = ("krippendorff_alpha", "fleiss_kappa", "cohen_kappa")


def _value_expr(label: str, level: str, categories: list[str] | None) -> exp.Expression:
    """The rated value: the label itself (nominal), its rank (ordinal) or its number."""
    col = exp.column(label, quoted=True)
    if level == "nominal":
        return exp.cast(col, "text")
    if level == "ordinal" and categories:
        case = exp.Case()
        for rank, name in enumerate(categories):
            case = case.when(exp.EQ(this=exp.cast(col.copy(), "text"),
                                    expression=exp.Literal.string(str(name))),
                             exp.Literal.number(rank))
        return exp.cast(case, "double")
    return exp.cast(col, "double")


def _base(relation: exp.Expression, item: str, rater: str, label: str, by: str | None,
          value: exp.Expression) -> exp.Select:
    group = (exp.cast(exp.column(by, quoted=True), "text") if by
             else exp.Literal.string("all"))
    cols = [exp.column(c, quoted=True) for c in (item, rater, label)]
    return exp.select(
        exp.alias_(group, "g"),
        exp.alias_(exp.cast(cols[0], "text"), "item"),
        exp.alias_(exp.cast(cols[1], "text"), "rater"),
        exp.alias_(value, "v"),
    ).from_(relation.copy()).where(exp.and_(*[exp.Not(this=exp.Is(this=c.copy(),
                                                                   expression=exp.Null()))
                                              for c in cols]))


def _distance(level: str, a: str, b: str) -> str:
    """Template text for the squared distance between values in tables `a` and `b`."""
    if level == "nominal":
        return f"CASE WHEN {a}.v = {b}.v THEN 0.0 ELSE 1.0 END"
    if level == "interval":
        return f"({a}.v - {b}.v) * ({a}.v - {b}.v)"
    # ordinal: (values between c and k, inclusive, minus half of the two ends) squared
    span = (f"(CASE WHEN {a}.v <= {b}.v THEN {b}.cum - {a}.cum + ({a}.n_c - {b}.n_c) / 2.0 "
            f"ELSE {a}.cum - {b}.cum + ({b}.n_c - {a}.n_c) / 2.0 END)")
    return f"{span} * {span}"


def _krippendorff(base: exp.Select, level: str) -> exp.Select:
    dist_ck = _distance(level, "x", "y")
    return template(
        f"""
        WITH base AS (SELECT * FROM r_base AS b),
        ic AS (SELECT g, item, v, COUNT(*) AS n_ic FROM base GROUP BY g, item, v),
        im AS (SELECT g, item, SUM(n_ic) AS m_i FROM ic GROUP BY g, item),
        icp AS (SELECT ic.g, ic.item, ic.v, ic.n_ic, im.m_i FROM ic
                JOIN im ON im.g = ic.g AND im.item = ic.item WHERE im.m_i >= 2),
        nc AS (SELECT g, v, SUM(n_ic) AS n_c FROM icp GROUP BY g, v),
        ncc AS (SELECT g, v, n_c, SUM(n_c) OVER (PARTITION BY g ORDER BY v
                ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cum FROM nc),
        coin AS (SELECT a.g, a.v AS c, b.v AS k,
                 SUM(CAST(a.n_ic AS DOUBLE PRECISION) * b.n_ic / (a.m_i - 1)) AS o
                 FROM icp AS a JOIN icp AS b ON a.g = b.g AND a.item = b.item AND a.v <> b.v
                 GROUP BY a.g, a.v, b.v),
        observed AS (SELECT coin.g, SUM(coin.o * {dist_ck}) AS d_o FROM coin
                     JOIN ncc AS x ON x.g = coin.g AND x.v = coin.c
                     JOIN ncc AS y ON y.g = coin.g AND y.v = coin.k GROUP BY coin.g),
        expected AS (SELECT x.g, SUM(CAST(x.n_c AS DOUBLE PRECISION) * y.n_c * {dist_ck})
                     AS d_e FROM ncc AS x JOIN ncc AS y ON x.g = y.g AND x.v <> y.v
                     GROUP BY x.g),
        totals AS (SELECT g, SUM(n_c) AS n FROM nc GROUP BY g),
        groups AS (SELECT g, COUNT(DISTINCT item) AS n_items, COUNT(*) AS n_ratings
                   FROM base GROUP BY g)
        SELECT groups.g AS group_key, groups.n_items, groups.n_ratings,
               CASE WHEN expected.d_e > 0 THEN
                 1.0 - (totals.n - 1) * COALESCE(observed.d_o, 0.0) / expected.d_e
               END AS value
        FROM groups LEFT JOIN totals ON totals.g = groups.g
        LEFT JOIN observed ON observed.g = groups.g
        LEFT JOIN expected ON expected.g = groups.g
        """,
        tables={"r_base": base.subquery("b")})


def _fleiss(base: exp.Select) -> exp.Select:
    return template(
        """
        WITH base AS (SELECT * FROM r_base AS b),
        ic AS (SELECT g, item, v, COUNT(*) AS n_ic FROM base GROUP BY g, item, v),
        items AS (SELECT g, item, SUM(n_ic) AS m_i, SUM(n_ic * n_ic) AS sq FROM ic
                  GROUP BY g, item HAVING SUM(n_ic) >= 2),
        per_item AS (SELECT g, AVG(CAST(sq - m_i AS DOUBLE PRECISION) / (m_i * (m_i - 1)))
                     AS p_bar, SUM(m_i) AS n_total FROM items GROUP BY g),
        shares AS (SELECT ic.g, ic.v, SUM(ic.n_ic) AS n_c FROM ic
                   JOIN items ON items.g = ic.g AND items.item = ic.item GROUP BY ic.g, ic.v),
        chance AS (SELECT shares.g, SUM(CAST(shares.n_c AS DOUBLE PRECISION) * shares.n_c
                   / (per_item.n_total * per_item.n_total)) AS p_e
                   FROM shares JOIN per_item ON per_item.g = shares.g GROUP BY shares.g),
        groups AS (SELECT g, COUNT(DISTINCT item) AS n_items, COUNT(*) AS n_ratings
                   FROM base GROUP BY g)
        SELECT groups.g AS group_key, groups.n_items, groups.n_ratings,
               CASE WHEN chance.p_e < 1 THEN (per_item.p_bar - chance.p_e) / (1 - chance.p_e)
               END AS value
        FROM groups LEFT JOIN per_item ON per_item.g = groups.g
        LEFT JOIN chance ON chance.g = groups.g
        """,
        tables={"r_base": base.subquery("b")})


def _cohen(base: exp.Select, weights: str | None) -> exp.Select:
    if weights == "linear":
        w = "ABS(x.v - y.v)"
    elif weights == "quadratic":
        w = "(x.v - y.v) * (x.v - y.v)"
    else:
        w = "CASE WHEN x.v = y.v THEN 0.0 ELSE 1.0 END"
    w_pairs = w.replace("x.v", "p.y1").replace("y.v", "p.y2")
    return template(
        f"""
        WITH base AS (SELECT * FROM r_base AS b),
        raters AS (SELECT g, MIN(rater) AS r1, MAX(rater) AS r2,
                   COUNT(DISTINCT rater) AS n_raters FROM base GROUP BY g),
        pairs AS (SELECT b.g, b.item,
                  MAX(CASE WHEN b.rater = r.r1 THEN b.v END) AS y1,
                  MAX(CASE WHEN b.rater = r.r2 THEN b.v END) AS y2
                  FROM base AS b JOIN raters AS r ON r.g = b.g WHERE r.n_raters = 2
                  GROUP BY b.g, b.item),
        both_rated AS (SELECT * FROM pairs WHERE y1 IS NOT NULL AND y2 IS NOT NULL),
        n AS (SELECT g, COUNT(*) AS n_pairs FROM both_rated GROUP BY g),
        observed AS (SELECT p.g, SUM({w_pairs}) AS w_o FROM both_rated AS p GROUP BY p.g),
        m1 AS (SELECT g, y1 AS v, COUNT(*) AS c FROM both_rated GROUP BY g, y1),
        m2 AS (SELECT g, y2 AS v, COUNT(*) AS c FROM both_rated GROUP BY g, y2),
        expected AS (SELECT x.g, SUM(CAST(x.c AS DOUBLE PRECISION) * y.c * ({w})
                     / n.n_pairs) AS w_e FROM m1 AS x JOIN m2 AS y ON x.g = y.g
                     JOIN n ON n.g = x.g GROUP BY x.g),
        groups AS (SELECT g, COUNT(DISTINCT item) AS n_items, COUNT(*) AS n_ratings
                   FROM base GROUP BY g)
        SELECT groups.g AS group_key, groups.n_items, groups.n_ratings,
               CASE WHEN expected.w_e > 0 THEN 1.0 - observed.w_o / expected.w_e END AS value
        FROM groups LEFT JOIN observed ON observed.g = groups.g
        LEFT JOIN expected ON expected.g = groups.g
        """,
        tables={"r_base": base.subquery("b")})


def agreement_query(relation: exp.Expression, *, item: str, rater: str, label: str,
                    by: str | None, metric: str, level: str = "nominal",
                    weights: str | None = None,
                    categories: list[str] | None = None) -> exp.Select:
    """One row per group: `group_key`, `n_items`, `n_ratings`, `value` (NULL if undefined)."""
    if metric not in METRICS:
        raise ValueError(f"unknown agreement metric '{metric}'")
    if metric == "krippendorff_alpha":
        base = _base(relation, item, rater, label, by, _value_expr(label, level, categories))
        return _krippendorff(base, level)
    if metric == "fleiss_kappa":
        base = _base(relation, item, rater, label, by, _value_expr(label, "nominal", None))
        return _fleiss(base)
    value = (_value_expr(label, "ordinal", categories) if weights and categories
             else _value_expr(label, "interval" if weights else "nominal", None))
    return _cohen(_base(relation, item, rater, label, by, value), weights)

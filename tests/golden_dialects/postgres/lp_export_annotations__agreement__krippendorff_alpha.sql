SELECT
  *
FROM (
  WITH agreement_ratings AS (
    SELECT
      CASE WHEN "batch" IS NULL THEN '' ELSE '=' || CAST("batch" AS TEXT) END AS g,
      "item_id" AS item,
      "annotator" AS rater,
      CAST("label" AS TEXT) AS v
    FROM (
      SELECT
        *
      FROM analytics.export_annotations AS f
      WHERE
        NOT "f"."is_cancelled" AND NOT "f"."is_gold"
    ) AS cur
    WHERE
      NOT "item_id" IS NULL AND NOT "annotator" IS NULL AND NOT "label" IS NULL AND NOT CAST("label" AS TEXT) IS NULL
  ), ic AS (
    SELECT
      g,
      item,
      v,
      CAST(COUNT(*) AS DOUBLE PRECISION) AS n_ic
    FROM agreement_ratings
    GROUP BY
      g,
      item,
      v
  ), groups AS (
    SELECT
      g
    FROM ic
    GROUP BY
      g
  ), items AS (
    SELECT
      g,
      item,
      SUM(n_ic) AS m_i,
      SUM(n_ic * n_ic) AS sq,
      MIN(v) AS v_single
    FROM ic
    GROUP BY
      g,
      item
  ), marginals AS (
    SELECT
      g,
      v,
      SUM(n) AS n_c
    FROM (
      SELECT
        g,
        v,
        n_ic AS n
      FROM ic
      UNION ALL
      SELECT
        g,
        v_single AS v,
        -m_i AS n
      FROM items
      WHERE
        m_i = 1
    ) AS u
    GROUP BY
      g,
      v
    HAVING
      SUM(n) > 0
  ), observed AS (
    SELECT
      g,
      COUNT(*) AS n_items,
      SUM(m_i) AS n,
      SUM((
        m_i * m_i - sq
      ) / (
        m_i - 1
      )) AS d_o
    FROM items
    WHERE
      m_i >= 2
    GROUP BY
      g
  ), expected AS (
    SELECT
      g,
      COUNT(*) AS n_values,
      SUM(n_c * n_c) AS sum_sq
    FROM marginals
    GROUP BY
      g
  )
  SELECT
    CASE WHEN t.g = '' THEN NULL ELSE SUBSTRING(t.g FROM 2) END AS group_key,
    COALESCE(o.n_items, 0) AS n_items,
    CAST(COALESCE(o.n, 0) AS BIGINT) AS n_ratings,
    CAST(CASE WHEN e.n_values >= 2 THEN 1 - (
      o.n - 1
    ) * o.d_o / (
      o.n * o.n - e.sum_sq
    ) END AS DOUBLE PRECISION) AS value
  FROM groups AS t
  LEFT JOIN observed AS o
    ON o.g = t.g
  LEFT JOIN expected AS e
    ON e.g = t.g
) AS a
WHERE
  a.value < 0.6

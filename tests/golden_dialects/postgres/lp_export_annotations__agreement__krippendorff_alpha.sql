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
  ), totals AS (
    SELECT
      g,
      v,
      n_ic,
      SUM(n_ic) OVER (PARTITION BY g, item) AS m_i
    FROM ic
  ), per_value AS (
    SELECT
      g,
      v,
      SUM(CASE WHEN m_i >= 2 THEN n_ic ELSE 0 END) AS n_c,
      SUM(CASE WHEN m_i >= 2 THEN n_ic * (
        m_i - n_ic
      ) / (
        m_i - 1
      ) ELSE 0 END) AS d_o,
      SUM(CASE WHEN m_i >= 2 THEN n_ic / m_i ELSE 0 END) AS items
    FROM totals
    GROUP BY
      g,
      v
  ), groups AS (
    SELECT
      g
    FROM per_value
    GROUP BY
      g
  ), observed AS (
    SELECT
      g,
      CAST(ROUND(SUM(items)) AS BIGINT) AS n_items,
      SUM(n_c) AS n,
      SUM(d_o) AS d_o
    FROM per_value
    GROUP BY
      g
    HAVING
      SUM(n_c) > 0
  ), expected AS (
    SELECT
      g,
      COUNT(*) AS n_values,
      SUM(n_c * n_c) AS sum_sq
    FROM per_value
    WHERE
      n_c > 0
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

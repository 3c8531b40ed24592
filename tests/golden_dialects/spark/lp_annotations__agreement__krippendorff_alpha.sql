WITH base AS (
  SELECT
    *
  FROM (
    SELECT
      CAST(`batch_id` AS STRING) AS g,
      CAST(`item_id` AS STRING) AS item,
      CAST(`annotator_id` AS STRING) AS rater,
      CAST(`label` AS STRING) AS v
    FROM (
      SELECT
        *
      FROM analytics.annotations AS t
      WHERE
        NOT EXISTS(
          SELECT
            1
          FROM analytics.annotations AS c
          WHERE
            c.`parent_annotation_id` = t.`annotation_id`
        )
    ) AS cur
    WHERE
      NOT `item_id` IS NULL AND NOT `annotator_id` IS NULL AND NOT `label` IS NULL
  ) AS b
), ic AS (
  SELECT
    g,
    item,
    v,
    COUNT(*) AS n_ic
  FROM base
  GROUP BY
    g,
    item,
    v
), im AS (
  SELECT
    g,
    item,
    SUM(n_ic) AS m_i
  FROM ic
  GROUP BY
    g,
    item
), icp AS (
  SELECT
    ic.g,
    ic.item,
    ic.v,
    ic.n_ic,
    im.m_i
  FROM ic
  JOIN im
    ON im.g = ic.g AND im.item = ic.item
  WHERE
    im.m_i >= 2
), nc AS (
  SELECT
    g,
    v,
    SUM(n_ic) AS n_c
  FROM icp
  GROUP BY
    g,
    v
), ncc AS (
  SELECT
    g,
    v,
    n_c,
    SUM(n_c) OVER (
      PARTITION BY g
      ORDER BY v NULLS LAST
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS cum
  FROM nc
), coin AS (
  SELECT
    a.g,
    a.v AS c,
    b.v AS k,
    SUM(CAST(a.n_ic AS DOUBLE) * b.n_ic / (
      a.m_i - 1
    )) AS o
  FROM icp AS a
  JOIN icp AS b
    ON a.g = b.g AND a.item = b.item AND a.v <> b.v
  GROUP BY
    a.g,
    a.v,
    b.v
), observed AS (
  SELECT
    coin.g,
    SUM(coin.o * CASE WHEN x.v = y.v THEN 0.0 ELSE 1.0 END) AS d_o
  FROM coin
  JOIN ncc AS x
    ON x.g = coin.g AND x.v = coin.c
  JOIN ncc AS y
    ON y.g = coin.g AND y.v = coin.k
  GROUP BY
    coin.g
), expected AS (
  SELECT
    x.g,
    SUM(CAST(x.n_c AS DOUBLE) * y.n_c * CASE WHEN x.v = y.v THEN 0.0 ELSE 1.0 END) AS d_e
  FROM ncc AS x
  JOIN ncc AS y
    ON x.g = y.g AND x.v <> y.v
  GROUP BY
    x.g
), totals AS (
  SELECT
    g,
    SUM(n_c) AS n
  FROM nc
  GROUP BY
    g
), groups AS (
  SELECT
    g,
    COUNT(DISTINCT item) AS n_items,
    COUNT(*) AS n_ratings
  FROM base
  GROUP BY
    g
)
SELECT
  *
FROM (
  SELECT
    groups.g AS group_key,
    groups.n_items,
    groups.n_ratings,
    CASE
      WHEN expected.d_e > 0
      THEN 1.0 - (
        totals.n - 1
      ) * COALESCE(observed.d_o, 0.0) / expected.d_e
    END AS value
  FROM groups
  LEFT JOIN totals
    ON totals.g = groups.g
  LEFT JOIN observed
    ON observed.g = groups.g
  LEFT JOIN expected
    ON expected.g = groups.g
) AS a
WHERE
  a.value < 0.6

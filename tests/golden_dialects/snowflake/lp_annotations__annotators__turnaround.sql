SELECT
  *
FROM (
  WITH d AS (
    SELECT
      t."annotator_id" AS grp,
      CAST("t"."seconds_spent" AS DOUBLE) AS s
    FROM analytics.annotations AS t
    WHERE
      t."annotator_id" IS NOT NULL
  ), times AS (
    SELECT
      grp,
      s,
      COUNT(*) AS n
    FROM d
    WHERE
      s IS NOT NULL
    GROUP BY
      grp,
      s
  ), ranked AS (
    SELECT
      grp,
      s,
      SUM(n) OVER (PARTITION BY grp ORDER BY s ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS upto,
      SUM(n) OVER (PARTITION BY grp) AS total
    FROM times
  ), ranks AS (
    SELECT
      grp,
      s,
      upto,
      total,
      CAST(total - 1 AS DOUBLE) * 0.5 AS h5,
      CAST(total - 1 AS DOUBLE) * 0.9 AS h9
    FROM ranked
  ), ends AS (
    SELECT
      grp,
      MAX(total) AS total,
      MAX(h5) AS h5,
      MAX(h9) AS h9,
      MIN(CASE WHEN upto > FLOOR(h5) THEN s END) AS lo5,
      MIN(CASE WHEN upto > CEIL(h5) THEN s END) AS hi5,
      MIN(CASE WHEN upto > FLOOR(h9) THEN s END) AS lo9,
      MIN(CASE WHEN upto > CEIL(h9) THEN s END) AS hi9
    FROM ranks
    GROUP BY
      grp
  )
  SELECT
    grp AS group_key,
    CAST(total AS BIGINT) AS n_labels,
    lo5 + (
      h5 - FLOOR(h5)
    ) * (
      hi5 - lo5
    ) AS median_seconds,
    lo9 + (
      h9 - FLOOR(h9)
    ) * (
      hi9 - lo9
    ) AS p90_seconds
  FROM ends
) AS q
WHERE
  q.n_labels >= 30 AND (
    q.median_seconds < 5 OR q.p90_seconds > 300
  )

SELECT
  *
FROM (
  SELECT
    d.grp AS group_key,
    COUNT(*) AS n_labels,
    PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY
      d.s NULLS LAST) AS median_seconds,
    PERCENTILE_CONT(0.9) WITHIN GROUP (ORDER BY
      d.s NULLS LAST) AS p90_seconds
  FROM (
    SELECT
      t.`annotator_id` AS grp,
      CAST(`t`.`seconds_spent` AS FLOAT64) AS s
    FROM analytics.annotations AS t
    WHERE
      t.`annotator_id` IS NOT NULL
  ) AS d
  WHERE
    d.s IS NOT NULL
  GROUP BY
    d.grp
) AS q
WHERE
  q.n_labels >= 30 AND (
    q.median_seconds < 5 OR q.p90_seconds > 300
  )

SELECT
  *
FROM (
  SELECT
    annotator,
    n_labels,
    n_low,
    CAST(n_low AS FLOAT64) / n_labels AS low_rate
  FROM (
    SELECT
      t.`annotator_id` AS annotator,
      COUNT(*) AS n_labels,
      SUM(CASE WHEN t.`confidence` < 0.5 THEN 1 ELSE 0 END) AS n_low
    FROM analytics.annotations AS t
    WHERE
      t.`confidence` IS NOT NULL AND t.`annotator_id` IS NOT NULL
    GROUP BY
      t.`annotator_id`
  ) AS g
) AS q
WHERE
  q.n_labels >= 30 AND (
    q.low_rate > 0.7
  )

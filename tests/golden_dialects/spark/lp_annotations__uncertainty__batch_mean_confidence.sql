SELECT
  *
FROM (
  SELECT
    t.`batch_id`,
    COUNT(t.`confidence`) AS n_labels,
    AVG(CAST(t.`confidence` AS DOUBLE)) AS mean_confidence
  FROM analytics.annotations AS t
  WHERE
    t.`confidence` IS NOT NULL
  GROUP BY
    t.`batch_id`
) AS g
WHERE
  mean_confidence < 0.6 OR mean_confidence > 1.0

SELECT
  *
FROM (
  SELECT
    t."annotator_id" AS annotator,
    COUNT(*) AS n_labels,
    CAST(SUM(CASE WHEN t."confidence" < 0.5 THEN 1 ELSE 0 END) AS DOUBLE) / COUNT(*) AS low_rate
  FROM analytics.annotations AS t
  WHERE
    t."confidence" IS NOT NULL AND t."annotator_id" IS NOT NULL
  GROUP BY
    t."annotator_id"
) AS q
WHERE
  q.n_labels >= 30 AND (
    q.low_rate > 0.7
  )

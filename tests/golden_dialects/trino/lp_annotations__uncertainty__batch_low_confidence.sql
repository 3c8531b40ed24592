SELECT
  *
FROM (
  SELECT
    t."batch_id",
    COUNT(t."confidence") AS n_labels,
    CAST(SUM(CASE WHEN t."confidence" < 0.5 THEN 1 ELSE 0 END) AS DOUBLE) / COUNT(t."confidence") AS low_share
  FROM analytics.annotations AS t
  WHERE
    t."confidence" IS NOT NULL
  GROUP BY
    t."batch_id"
) AS g
WHERE
  low_share > 0.2

SELECT
  "item_id",
  COUNT(*) AS n_rows
FROM analytics.export_adjudications
WHERE
  NOT "item_id" IS NULL
GROUP BY
  "item_id"
HAVING
  COUNT(*) > 1

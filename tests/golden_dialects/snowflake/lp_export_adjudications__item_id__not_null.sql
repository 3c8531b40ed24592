SELECT
  "item_id"
FROM analytics.export_adjudications
WHERE
  "item_id" IS NULL

SELECT
  "item_id",
  "adjudicated_at"
FROM analytics.adjudications
WHERE
  "adjudicated_at" IS NULL

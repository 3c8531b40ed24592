SELECT
  "item_id",
  "decision"
FROM analytics.adjudications
WHERE
  "decision" IS NULL

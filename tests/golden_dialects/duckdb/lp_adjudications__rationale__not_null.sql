SELECT
  "item_id",
  "rationale"
FROM analytics.adjudications
WHERE
  "rationale" IS NULL

SELECT
  "item_id",
  "adjudicator_id"
FROM analytics.adjudications
WHERE
  "adjudicator_id" IS NULL

SELECT
  "item_id",
  "adjudicator"
FROM analytics.export_adjudications
WHERE
  "adjudicator" IS NULL

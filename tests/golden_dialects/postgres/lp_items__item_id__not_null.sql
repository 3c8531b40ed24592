SELECT
  "item_id"
FROM analytics.items
WHERE
  "item_id" IS NULL

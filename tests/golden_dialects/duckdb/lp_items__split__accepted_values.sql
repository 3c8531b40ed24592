SELECT
  "item_id",
  "split"
FROM analytics.items
WHERE
  "split" IS NOT NULL AND NOT "split" IN ('train', 'validation', 'test')

SELECT
  "item_id",
  "decision"
FROM analytics.adjudications
WHERE
  "decision" IS NOT NULL AND NOT "decision" IN ('cat', 'dog', 'bird', 'fish', 'other')

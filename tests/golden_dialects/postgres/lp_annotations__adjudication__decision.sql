SELECT
  a."item_id",
  a."decision"
FROM analytics.adjudications AS a
WHERE
  a."decision" IS NOT NULL AND NOT a."decision" IN ('cat', 'dog', 'bird', 'fish', 'other')

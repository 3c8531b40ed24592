SELECT
  `item_id`
FROM analytics.adjudications
WHERE
  `item_id` IS NULL

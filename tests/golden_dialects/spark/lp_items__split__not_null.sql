SELECT
  `item_id`,
  `split`
FROM analytics.items
WHERE
  `split` IS NULL

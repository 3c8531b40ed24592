SELECT
  `item_id`,
  `uri`
FROM analytics.items
WHERE
  `uri` IS NULL

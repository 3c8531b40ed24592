SELECT
  `item_id`,
  `decision`
FROM analytics.export_adjudications
WHERE
  `decision` IS NULL

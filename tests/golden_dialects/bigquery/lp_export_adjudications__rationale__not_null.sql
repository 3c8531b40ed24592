SELECT
  `item_id`,
  `rationale`
FROM analytics.export_adjudications
WHERE
  `rationale` IS NULL

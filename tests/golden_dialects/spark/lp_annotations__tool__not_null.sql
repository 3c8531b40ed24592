SELECT
  `annotation_id`,
  `tool`
FROM analytics.annotations
WHERE
  `tool` IS NULL

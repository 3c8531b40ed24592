SELECT
  `annotation_id`,
  `confidence`
FROM analytics.annotations
WHERE
  `confidence` < 0 OR `confidence` > 1

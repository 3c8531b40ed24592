SELECT
  `annotation_id`
FROM analytics.annotations
WHERE
  `annotation_id` IS NULL

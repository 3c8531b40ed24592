SELECT
  `annotation_id`,
  `label`
FROM analytics.annotations
WHERE
  `label` IS NOT NULL AND NOT `label` IN ('cat', 'dog', 'bird', 'fish', 'other')

SELECT
  `annotation_id`,
  `confidence`
FROM analytics.annotations
WHERE
  `confidence` < 0.3 AND (
    `notes` IS NULL OR TRIM(`notes`) = ''
  )

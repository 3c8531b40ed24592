SELECT
  "annotation_id",
  "split"
FROM analytics.annotations
WHERE
  "split" IS NOT NULL AND NOT "split" IN ('train', 'validation', 'test')

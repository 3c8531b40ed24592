SELECT
  "annotation_id",
  "batch_id"
FROM analytics.annotations
WHERE
  "batch_id" IS NULL

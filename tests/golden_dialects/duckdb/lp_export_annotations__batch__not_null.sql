SELECT
  "annotation_id",
  "batch"
FROM analytics.export_annotations
WHERE
  "batch" IS NULL

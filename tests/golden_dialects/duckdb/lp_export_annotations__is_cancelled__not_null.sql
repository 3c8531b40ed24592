SELECT
  "annotation_id",
  "is_cancelled"
FROM analytics.export_annotations
WHERE
  "is_cancelled" IS NULL

SELECT
  "annotation_id"
FROM analytics.export_annotations
WHERE
  "annotation_id" IS NULL

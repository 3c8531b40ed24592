SELECT
  "annotation_id",
  "label"
FROM analytics.export_annotations
WHERE
  "label" IS NULL

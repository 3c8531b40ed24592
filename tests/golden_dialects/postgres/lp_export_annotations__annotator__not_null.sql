SELECT
  "annotation_id",
  "annotator"
FROM analytics.export_annotations
WHERE
  "annotator" IS NULL

SELECT
  "annotation_id",
  "annotator_id"
FROM analytics.annotations
WHERE
  "annotator_id" IS NULL

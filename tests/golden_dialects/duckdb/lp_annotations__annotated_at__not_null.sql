SELECT
  "annotation_id",
  "annotated_at"
FROM analytics.annotations
WHERE
  "annotated_at" IS NULL

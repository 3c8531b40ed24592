SELECT
  "annotation_id",
  "annotated_at"
FROM analytics.annotations
WHERE
  "annotated_at" > CAST(CURRENT_TIMESTAMP AS TIMESTAMP)

SELECT
  "annotation_id",
  "label"
FROM analytics.annotations
WHERE
  "label" IS NULL

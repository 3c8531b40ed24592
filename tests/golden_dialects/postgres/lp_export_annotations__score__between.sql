SELECT
  "annotation_id",
  "score"
FROM analytics.export_annotations
WHERE
  "score" < 0 OR "score" > 1

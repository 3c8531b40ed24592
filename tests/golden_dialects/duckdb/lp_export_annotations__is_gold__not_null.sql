SELECT
  "annotation_id",
  "is_gold"
FROM analytics.export_annotations
WHERE
  "is_gold" IS NULL

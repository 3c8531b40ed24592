SELECT
  "annotation_id",
  "item_id"
FROM analytics.export_annotations
WHERE
  "item_id" IS NULL

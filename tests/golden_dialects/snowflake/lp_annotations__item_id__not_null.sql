SELECT
  "annotation_id",
  "item_id"
FROM analytics.annotations
WHERE
  "item_id" IS NULL

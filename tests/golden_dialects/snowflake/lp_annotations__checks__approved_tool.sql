SELECT
  "annotation_id",
  "tool"
FROM analytics.annotations
WHERE
  NOT (
    "tool" LIKE 'labelstudio-%' OR "tool" LIKE 'cvat-%'
  )

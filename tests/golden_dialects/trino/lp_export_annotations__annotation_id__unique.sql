SELECT
  "annotation_id",
  COUNT(*) AS n_rows
FROM analytics.export_annotations
WHERE
  NOT "annotation_id" IS NULL
GROUP BY
  "annotation_id"
HAVING
  COUNT(*) > 1

SELECT
  t."annotation_id",
  t."parent_annotation_id"
FROM analytics.annotations AS t
WHERE
  t."parent_annotation_id" IS NOT NULL AND NOT EXISTS(
    SELECT
      1
    FROM analytics.annotations AS o
    WHERE
      o."annotation_id" = t."parent_annotation_id"
  )

SELECT
  t."item_id",
  t."annotator_id",
  COUNT(*) AS n_current
FROM analytics.annotations AS t
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM analytics.annotations AS c
    WHERE
      c."parent_annotation_id" = t."annotation_id"
  )
GROUP BY
  t."item_id",
  t."annotator_id"
HAVING
  COUNT(*) <> 1

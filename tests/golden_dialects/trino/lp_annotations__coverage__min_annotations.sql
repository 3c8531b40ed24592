SELECT
  t."item_id",
  COUNT(*) AS n_annotations
FROM (
  SELECT
    *
  FROM analytics.annotations AS t
  WHERE
    NOT EXISTS(
      SELECT
        1
      FROM analytics.annotations AS c
      WHERE
        c."parent_annotation_id" = t."annotation_id"
    )
) AS t
WHERE
  t."item_id" IS NOT NULL
GROUP BY
  t."item_id"
HAVING
  COUNT(*) < 2

SELECT
  *
FROM (
  SELECT
    t."batch_id",
    t."label",
    COUNT(*) AS n_labels,
    CAST(COUNT(*) AS DOUBLE) / SUM(COUNT(*)) OVER (PARTITION BY t."batch_id") AS share
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
    t."label" IS NOT NULL
  GROUP BY
    t."batch_id",
    t."label"
) AS g
WHERE
  share > 0.6

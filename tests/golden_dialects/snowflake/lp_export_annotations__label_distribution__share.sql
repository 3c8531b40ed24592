SELECT
  *
FROM (
  SELECT
    t."batch",
    t."label",
    COUNT(*) AS n_labels,
    CAST(COUNT(*) AS DOUBLE) / SUM(COUNT(*)) OVER (PARTITION BY t."batch") AS share
  FROM (
    SELECT
      *
    FROM analytics.export_annotations AS f
    WHERE
      NOT "f"."is_cancelled" AND NOT "f"."is_gold"
  ) AS t
  WHERE
    t."label" IS NOT NULL
  GROUP BY
    t."batch",
    t."label"
) AS g
WHERE
  share > 0.6

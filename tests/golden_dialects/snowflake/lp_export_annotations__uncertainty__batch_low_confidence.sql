SELECT
  *
FROM (
  SELECT
    t."batch",
    COUNT(t."score") AS n_labels,
    CAST(SUM(CASE WHEN t."score" < 0.5 THEN 1 ELSE 0 END) AS DOUBLE) / COUNT(t."score") AS low_share
  FROM (
    SELECT
      *
    FROM analytics.export_annotations AS f
    WHERE
      NOT "f"."is_cancelled" AND NOT "f"."is_gold"
  ) AS t
  WHERE
    t."score" IS NOT NULL
  GROUP BY
    t."batch"
) AS g
WHERE
  low_share > 0.1

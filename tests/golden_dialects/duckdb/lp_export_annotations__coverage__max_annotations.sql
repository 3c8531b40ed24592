SELECT
  t."item_id",
  COUNT(*) AS n_annotations
FROM (
  SELECT
    *
  FROM analytics.export_annotations AS f
  WHERE
    NOT "f"."is_cancelled" AND NOT "f"."is_gold"
) AS t
WHERE
  t."item_id" IS NOT NULL
GROUP BY
  t."item_id"
HAVING
  COUNT(*) > 3

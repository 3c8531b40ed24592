SELECT
  t."item_id"
FROM analytics.annotations AS t
LEFT JOIN (
  SELECT DISTINCT
    "item_id"
  FROM analytics.items AS o
) AS o
  ON o."item_id" = t."item_id"
WHERE
  t."item_id" IS NOT NULL AND o."item_id" IS NULL

SELECT
  i."item_id"
FROM analytics.items AS i
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM analytics.annotations AS t
    WHERE
      t."item_id" = i."item_id"
  )

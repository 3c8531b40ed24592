SELECT
  t.`item_id`
FROM analytics.annotations AS t
WHERE
  t.`item_id` IS NOT NULL
  AND NOT EXISTS(
    SELECT
      1
    FROM analytics.items AS o
    WHERE
      o.`item_id` = t.`item_id`
  )

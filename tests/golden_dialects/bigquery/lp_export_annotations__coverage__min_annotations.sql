SELECT
  t.`item_id`,
  COUNT(CASE WHEN NOT `t`.`is_cancelled` AND NOT `t`.`is_gold` THEN 1 END) AS n_annotations
FROM analytics.export_annotations AS t
WHERE
  t.`item_id` IS NOT NULL
GROUP BY
  t.`item_id`
HAVING
  COUNT(CASE WHEN NOT `t`.`is_cancelled` AND NOT `t`.`is_gold` THEN 1 END) < 3

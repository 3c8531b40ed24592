SELECT
  t.`label`,
  t.`annotation_id`
FROM (
  SELECT
    *
  FROM analytics.export_annotations AS f
  WHERE
    NOT `f`.`is_cancelled` AND NOT `f`.`is_gold`
) AS t
WHERE
  t.`label` IS NULL

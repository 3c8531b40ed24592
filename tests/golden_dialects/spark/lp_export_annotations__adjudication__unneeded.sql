SELECT
  a.`item_id`
FROM analytics.export_adjudications AS a
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM (
      SELECT
        t.`item_id` AS item,
        COUNT(DISTINCT t.`label`) AS n_labels
      FROM (
        SELECT
          *
        FROM analytics.export_annotations AS f
        WHERE
          NOT `f`.`is_cancelled` AND NOT `f`.`is_gold`
      ) AS t
      WHERE
        t.`item_id` IS NOT NULL AND t.`label` IS NOT NULL
      GROUP BY
        t.`item_id`
    ) AS g
    WHERE
      g.item = a.`item_id` AND g.n_labels > 1
  )

SELECT
  *
FROM (
  WITH cur AS (
    SELECT
      t.`annotation_id` AS k,
      t.`item_id` AS item,
      t.`annotator_id` AS rater,
      CAST(t.`label` AS STRING) AS label
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
            c.`parent_annotation_id` = t.`annotation_id`
        )
    ) AS t
    WHERE
      t.`label` IS NOT NULL AND t.`item_id` IS NOT NULL AND t.`annotator_id` IS NOT NULL
  ), counts AS (
    SELECT
      item,
      label,
      COUNT(*) AS n
    FROM cur
    GROUP BY
      item,
      label
  ), tops AS (
    SELECT
      item,
      MAX(n) AS m1
    FROM counts
    GROUP BY
      item
  ), items AS (
    SELECT
      c.item,
      o.m1,
      SUM(CASE WHEN c.n = o.m1 THEN 1 ELSE 0 END) AS k1,
      MIN(CASE WHEN c.n = o.m1 THEN c.label END) AS lo1,
      MAX(CASE WHEN c.n = o.m1 THEN c.label END) AS hi1,
      MAX(CASE WHEN c.n < o.m1 THEN c.n END) AS m2
    FROM counts AS c
    JOIN tops AS o
      ON o.item = c.item
    GROUP BY
      c.item,
      o.m1
  ), majorities AS (
    SELECT
      c.item,
      c.rater,
      c.label,
      CASE WHEN n.n < i.m1 THEN CASE WHEN i.k1 = 1 THEN i.lo1 END WHEN i.k1 = 2 THEN CASE WHEN c.label = i.lo1 THEN i.hi1 ELSE i.lo1 END WHEN i.k1 = 1 AND i.m1 - 1 > COALESCE(i.m2, 0) THEN c.label END AS majority
    FROM cur AS c
    JOIN counts AS n
      ON n.item = c.item AND n.label = c.label
    JOIN items AS i
      ON i.item = c.item
  ), refs AS (
    SELECT
      m.rater,
      m.label,
      COALESCE(CAST(a.`decision` AS STRING), m.majority) AS ref
    FROM majorities AS m
    LEFT JOIN analytics.adjudications AS a
      ON a.`item_id` = m.item
  )
  SELECT
    rater,
    COUNT(ref) AS n_items,
    CAST(SUM(CASE WHEN label = ref THEN 1 ELSE 0 END) AS FLOAT64) / COUNT(ref) AS agreement
  FROM refs
  WHERE
    ref IS NOT NULL
  GROUP BY
    rater
) AS q
WHERE
  q.n_items >= 20 AND q.agreement < 0.4

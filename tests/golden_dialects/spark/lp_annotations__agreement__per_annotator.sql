WITH counts AS (
  SELECT
    item,
    label,
    COUNT(*) AS n
  FROM (
    SELECT
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
  ) AS c
  GROUP BY
    item,
    label
), tops AS (
  SELECT
    item,
    label,
    n,
    MAX(n) OVER (PARTITION BY item) AS m1
  FROM counts
), items AS (
  SELECT
    item,
    SUM(CASE WHEN n = m1 THEN 1 ELSE 0 END) AS k1,
    MIN(CASE WHEN n = m1 THEN label END) AS lo1,
    MAX(CASE WHEN n = m1 THEN label END) AS hi1,
    CASE WHEN MAX(m1) - 1 > COALESCE(MAX(CASE WHEN n < m1 THEN n END), 0) THEN 1 ELSE 0 END AS firm
  FROM tops
  GROUP BY
    item
), refs AS (
  SELECT
    i.item,
    CAST(a.`decision` AS STRING) AS dec,
    i.k1,
    i.lo1,
    i.hi1,
    i.firm
  FROM items AS i
  LEFT JOIN analytics.adjudications AS a
    ON a.`item_id` = i.item
  WHERE
    NOT CAST(a.`decision` AS STRING) IS NULL OR i.k1 <= 2
), judged AS (
  SELECT
    c.rater,
    CASE WHEN NOT r.dec IS NULL THEN 1 WHEN r.k1 = 1 THEN CASE WHEN c.label = r.lo1 THEN r.firm ELSE 1 END WHEN c.label = r.lo1 OR c.label = r.hi1 THEN 1 ELSE 0 END AS has_ref,
    CASE WHEN NOT r.dec IS NULL THEN CASE WHEN c.label = r.dec THEN 1 ELSE 0 END WHEN r.k1 = 1 AND c.label = r.lo1 THEN r.firm ELSE 0 END AS agrees
  FROM (
    SELECT
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
  ) AS c
  JOIN refs AS r
    ON r.item = c.item
)
SELECT
  *
FROM (
  SELECT
    rater,
    SUM(has_ref) AS n_items,
    SUM(agrees) AS n_agree,
    CAST(SUM(agrees) AS DOUBLE) / SUM(has_ref) AS agreement
  FROM judged
  GROUP BY
    rater
  HAVING
    SUM(has_ref) > 0
) AS q
WHERE
  q.n_items >= 20 AND q.agreement < 0.4

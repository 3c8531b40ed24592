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
), votes AS (
  SELECT
    c.k,
    c.item,
    c.rater,
    c.label,
    o.label AS cand,
    o.n - CASE WHEN o.label = c.label THEN 1 ELSE 0 END AS v
  FROM cur AS c
  JOIN counts AS o
    ON o.item = c.item
), tops AS (
  SELECT
    k,
    item,
    rater,
    label,
    cand,
    v,
    MAX(v) OVER (PARTITION BY k) AS top_v
  FROM votes
), majorities AS (
  SELECT
    k,
    item,
    rater,
    label,
    CASE WHEN MAX(top_v) > 0 AND SUM(CASE WHEN v = top_v THEN 1 ELSE 0 END) = 1 THEN MAX(CASE WHEN v = top_v THEN cand END) END AS majority
  FROM tops
  GROUP BY
    k,
    item,
    rater,
    label
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
  *
FROM (
  SELECT
    rater,
    COUNT(ref) AS n_items,
    CAST(SUM(CASE WHEN label = ref THEN 1 ELSE 0 END) AS DOUBLE) / COUNT(ref) AS agreement
  FROM refs
  WHERE
    ref IS NOT NULL
  GROUP BY
    rater
) AS q
WHERE
  q.n_items >= 20 AND q.agreement < 0.4

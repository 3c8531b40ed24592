WITH RECURSIVE edges AS (
  SELECT
    t.`annotation_id` AS child,
    t.`parent_annotation_id` AS parent
  FROM analytics.annotations AS t
  WHERE
    t.`parent_annotation_id` IS NOT NULL
), walk(start, cur, depth) AS (
  SELECT
    e.child,
    e.parent,
    1
  FROM edges AS e
  UNION ALL
  SELECT
    w.start,
    e.parent,
    w.depth + 1
  FROM walk AS w
  JOIN edges AS e
    ON e.child = w.cur
  WHERE
    w.cur <> w.start AND e.child <> e.parent AND w.depth < 100
)
SELECT DISTINCT
  w.start AS `annotation_id`
FROM walk AS w
WHERE
  w.cur = w.start

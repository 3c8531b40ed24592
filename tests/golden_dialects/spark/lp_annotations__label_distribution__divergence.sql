WITH obs AS (
  SELECT
    CAST(`batch_id` AS STRING) AS seg,
    CAST(t.`label` AS STRING) AS label,
    COUNT(*) AS n
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
    t.`label` IS NOT NULL
  GROUP BY
    1,
    2
), shares AS (
  SELECT
    seg,
    label,
    CAST(n AS DOUBLE) / SUM(n) OVER (PARTITION BY seg) AS share
  FROM obs
), grid AS (
  SELECT
    s.seg,
    r.label,
    r.share
  FROM (
    SELECT DISTINCT
      seg
    FROM obs
  ) AS s
  CROSS JOIN (
    SELECT
      'bird' AS label,
      CAST(0.2 AS DOUBLE) AS share
    UNION ALL
    SELECT
      'cat' AS label,
      CAST(0.3 AS DOUBLE) AS share
    UNION ALL
    SELECT
      'dog' AS label,
      CAST(0.25 AS DOUBLE) AS share
    UNION ALL
    SELECT
      'fish' AS label,
      CAST(0.15 AS DOUBLE) AS share
    UNION ALL
    SELECT
      'other' AS label,
      CAST(0.1 AS DOUBLE) AS share
  ) AS r
), diffs AS (
  SELECT
    COALESCE(g.seg, o.seg) AS seg,
    ABS(COALESCE(o.share, 0) - COALESCE(g.share, 0)) AS d
  FROM grid AS g
  FULL OUTER JOIN shares AS o
    ON o.seg = g.seg AND o.label = g.label
)
SELECT
  seg,
  SUM(d) / 2 AS divergence
FROM diffs
GROUP BY
  seg
HAVING
  SUM(d) / 2 > 0.2

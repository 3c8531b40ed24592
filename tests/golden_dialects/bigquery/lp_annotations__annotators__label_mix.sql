SELECT
  *
FROM (
  WITH per AS (
    SELECT
      *
    FROM (
      SELECT
        t.`annotator_id` AS annotator,
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
        t.`label` IS NOT NULL AND t.`annotator_id` IS NOT NULL
      GROUP BY
        t.`annotator_id`,
        CAST(t.`label` AS STRING)
    ) AS c
  ), pop AS (
    SELECT
      label,
      CAST(SUM(n) AS FLOAT64) / SUM(SUM(n)) OVER () AS q
    FROM per
    GROUP BY
      label
  ), tot AS (
    SELECT
      annotator,
      SUM(n) AS n_labels
    FROM per
    GROUP BY
      annotator
  ), grid AS (
    SELECT
      s.annotator,
      s.n_labels,
      o.q,
      CAST(COALESCE(r.n, 0) AS FLOAT64) / s.n_labels AS p
    FROM tot AS s
    CROSS JOIN pop AS o
    LEFT JOIN per AS r
      ON r.annotator = s.annotator AND r.label = o.label
  )
  SELECT
    annotator,
    n_labels,
    SUM(ABS(p - q)) / 2 AS divergence
  FROM grid
  GROUP BY
    annotator,
    n_labels
) AS q
WHERE
  q.n_labels >= 30 AND (
    q.divergence > 0.4
  )

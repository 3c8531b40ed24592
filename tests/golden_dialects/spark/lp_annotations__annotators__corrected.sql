SELECT
  *
FROM (
  SELECT
    annotator,
    n_labels,
    n_corrected,
    CAST(n_corrected AS DOUBLE) / n_labels AS corrected_rate
  FROM (
    SELECT
      t.`annotator_id` AS annotator,
      COUNT(*) AS n_labels,
      SUM(CASE WHEN c.corrected IS NULL THEN 0 ELSE 1 END) AS n_corrected
    FROM analytics.annotations AS t
    LEFT JOIN (
      SELECT DISTINCT
        f.`parent_annotation_id` AS corrected
      FROM analytics.annotations AS f
      WHERE
        f.`parent_annotation_id` IS NOT NULL
    ) AS c
      ON c.corrected = t.`annotation_id`
    WHERE
      t.`annotator_id` IS NOT NULL
    GROUP BY
      t.`annotator_id`
  ) AS g
) AS q
WHERE
  q.n_labels >= 30 AND (
    q.corrected_rate > 0.3
  )

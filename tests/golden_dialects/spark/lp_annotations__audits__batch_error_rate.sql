SELECT
  *
FROM (
  SELECT
    g.`batch_id`,
    g.n_audited,
    g.n_errors,
    g.error_rate,
    (
      g.error_rate + 3.8414588206941236 / (
        2 * g.n_audited
      ) - 1.9599639845400536 * SQRT(g.error_rate * (
        1 - g.error_rate
      ) / g.n_audited + 3.8414588206941236 / (
        4 * g.n_audited * g.n_audited
      ))
    ) / (
      1 + 3.8414588206941236 / g.n_audited
    ) AS error_rate_lower
  FROM (
    SELECT
      e.`batch_id`,
      CAST(COUNT(*) AS DOUBLE) AS n_audited,
      CAST(SUM(e.is_error) AS DOUBLE) AS n_errors,
      CAST(SUM(e.is_error) AS DOUBLE) / COUNT(*) AS error_rate
    FROM (
      SELECT
        t.`batch_id`,
        CASE WHEN a.`verdict` IN ('incorrect') THEN 1 ELSE 0 END AS is_error
      FROM analytics.annotations AS t
      JOIN analytics.audit_results AS a
        ON a.`annotation_id` = t.`annotation_id`
    ) AS e
    GROUP BY
      e.`batch_id`
  ) AS g
) AS w
WHERE
  w.error_rate_lower > 0.3

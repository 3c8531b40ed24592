SELECT
  *
FROM (
  SELECT
    w."batch_id",
    w.n_audited,
    w.n_errors,
    w.error_rate,
    (
      w.error_rate + 3.8414588206941236 / (
        2 * w.n
      ) - 1.9599639845400536 * SQRT(w.error_rate * (
        1 - w.error_rate
      ) / w.n + 3.8414588206941236 / (
        4 * w.n * w.n
      ))
    ) / (
      1 + 3.8414588206941236 / w.n
    ) AS error_rate_lower
  FROM (
    SELECT
      c."batch_id",
      c.n_audited,
      c.n_errors,
      CAST(c.n_errors AS DOUBLE) / c.n_audited AS error_rate,
      CAST(c.n_audited AS DOUBLE) AS n
    FROM (
      SELECT
        t."batch_id",
        COUNT(*) AS n_audited,
        SUM(CASE WHEN a."verdict" IN ('incorrect') THEN 1 ELSE 0 END) AS n_errors
      FROM analytics.annotations AS t
      JOIN analytics.audit_results AS a
        ON a."annotation_id" = t."annotation_id"
      GROUP BY
        t."batch_id"
    ) AS c
  ) AS w
) AS q
WHERE
  q.error_rate_lower > 0.3

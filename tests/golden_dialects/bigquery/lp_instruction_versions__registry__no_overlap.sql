SELECT
  a.`version` AS version_a,
  b.`version` AS version_b
FROM analytics.instruction_versions AS a
JOIN analytics.instruction_versions AS b
  ON a.`version` < b.`version`
WHERE
  (
    b.`retired_at` IS NULL OR a.`effective_from` < b.`retired_at`
  ) AND (
    a.`retired_at` IS NULL OR b.`effective_from` < a.`retired_at`
  )

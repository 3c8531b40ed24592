SELECT
  t.`annotation_id`,
  t.`instruction_version`,
  t.`annotated_at`
FROM analytics.annotations AS t
JOIN analytics.instruction_versions AS r
  ON r.`version` = t.`instruction_version`
WHERE
  t.`annotated_at` IS NOT NULL AND (
    t.`annotated_at` < r.`effective_from` OR (
      r.`retired_at` IS NOT NULL AND t.`annotated_at` >= r.`retired_at`
    )
  )

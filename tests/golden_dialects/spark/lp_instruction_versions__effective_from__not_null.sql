SELECT
  `version`,
  `effective_from`
FROM analytics.instruction_versions
WHERE
  `effective_from` IS NULL

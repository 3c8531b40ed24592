SELECT
  `version`,
  COUNT(*) AS n_rows
FROM analytics.instruction_versions
WHERE
  NOT `version` IS NULL
GROUP BY
  `version`
HAVING
  COUNT(*) > 1

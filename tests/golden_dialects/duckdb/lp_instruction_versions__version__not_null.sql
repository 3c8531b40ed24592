SELECT
  "version"
FROM analytics.instruction_versions
WHERE
  "version" IS NULL

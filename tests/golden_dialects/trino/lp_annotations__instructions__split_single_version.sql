SELECT
  "instruction_version",
  n_rows
FROM (
  SELECT
    t."instruction_version",
    COUNT(*) AS n_rows,
    COUNT(*) OVER () AS n_versions
  FROM analytics.annotations AS t
  WHERE
    t."split" IN ('validation', 'test') AND t."instruction_version" IS NOT NULL
  GROUP BY
    t."instruction_version"
) AS g
WHERE
  n_versions > 1

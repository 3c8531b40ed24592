SELECT
  t."annotation_id",
  t."instruction_version"
FROM analytics.annotations AS t
WHERE
  t."instruction_version" IS NOT NULL
  AND NOT EXISTS(
    SELECT
      1
    FROM analytics.instruction_versions AS r
    WHERE
      r."version" = t."instruction_version"
  )

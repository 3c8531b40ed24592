SELECT
  t.`annotation_id`,
  t.`instruction_version`
FROM analytics.annotations AS t
LEFT JOIN (
  SELECT DISTINCT
    `version`
  FROM analytics.instruction_versions AS r
) AS r
  ON r.`version` = t.`instruction_version`
WHERE
  t.`instruction_version` IS NOT NULL AND r.`version` IS NULL

SELECT
  t.`annotation_id`,
  t.`instruction_version`
FROM (
  SELECT
    *
  FROM analytics.annotations AS t
  WHERE
    NOT EXISTS(
      SELECT
        1
      FROM analytics.annotations AS c
      WHERE
        c.`parent_annotation_id` = t.`annotation_id`
    )
) AS t
WHERE
  t.`instruction_version` IS NOT NULL AND t.`split` IN ('test', 'validation') AND EXISTS(
    SELECT
      1
    FROM analytics.instruction_versions AS r
    WHERE
      r.`supersedes` = t.`instruction_version`
  )

SELECT
  "annotation_id",
  "instruction_version"
FROM analytics.annotations
WHERE
  "instruction_version" IS NULL

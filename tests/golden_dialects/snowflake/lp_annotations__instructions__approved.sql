SELECT
  t."annotation_id",
  t."instruction_version"
FROM analytics.annotations AS t
JOIN analytics.instruction_versions AS r
  ON r."version" = t."instruction_version"
WHERE
  r."approved_by" IS NULL OR r."approved_at" IS NULL OR r."approved_at" > t."annotated_at"

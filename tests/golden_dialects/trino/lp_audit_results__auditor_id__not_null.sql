SELECT
  "annotation_id",
  "auditor_id"
FROM analytics.audit_results
WHERE
  "auditor_id" IS NULL

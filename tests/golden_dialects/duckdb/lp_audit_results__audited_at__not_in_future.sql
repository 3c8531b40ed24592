SELECT
  "annotation_id",
  "auditor_id",
  "audited_at"
FROM analytics.audit_results
WHERE
  "audited_at" > CAST(CURRENT_TIMESTAMP AS TIMESTAMP)

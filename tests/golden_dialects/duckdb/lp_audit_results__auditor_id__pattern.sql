SELECT
  "annotation_id",
  "auditor_id"
FROM analytics.audit_results
WHERE
  NOT "auditor_id" IS NULL AND NOT REGEXP_MATCHES("auditor_id", '^aud_[0-9]+$')

SELECT
  "annotation_id",
  "auditor_id",
  "error_type"
FROM analytics.audit_results
WHERE
  "error_type" IS NOT NULL AND NOT "error_type" IN ('wrong_class', 'guideline_violation')

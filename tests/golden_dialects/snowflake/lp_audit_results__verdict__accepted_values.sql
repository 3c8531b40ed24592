SELECT
  "annotation_id",
  "auditor_id",
  "verdict"
FROM analytics.audit_results
WHERE
  "verdict" IS NOT NULL AND NOT "verdict" IN ('correct', 'incorrect')

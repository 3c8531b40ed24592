SELECT
  "annotation_id",
  "auditor_id",
  COUNT(*) AS n_rows
FROM analytics.audit_results
WHERE
  NOT "annotation_id" IS NULL AND NOT "auditor_id" IS NULL
GROUP BY
  "annotation_id",
  "auditor_id"
HAVING
  COUNT(*) > 1

SELECT
  `annotation_id`,
  `auditor_id`
FROM analytics.audit_results
WHERE
  `annotation_id` IS NULL

SELECT
  `annotation_id`,
  `auditor_id`,
  `item_id`
FROM analytics.audit_results
WHERE
  `item_id` IS NULL

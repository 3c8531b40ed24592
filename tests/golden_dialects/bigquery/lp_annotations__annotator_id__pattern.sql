SELECT
  `annotation_id`,
  `annotator_id`
FROM analytics.annotations
WHERE
  NOT `annotator_id` IS NULL AND NOT REGEXP_CONTAINS(`annotator_id`, '^ann_[0-9]+$')

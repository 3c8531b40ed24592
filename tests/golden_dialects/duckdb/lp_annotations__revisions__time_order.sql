SELECT
  c."annotation_id",
  c."parent_annotation_id",
  c."annotated_at"
FROM analytics.annotations AS c
JOIN analytics.annotations AS par
  ON par."annotation_id" = c."parent_annotation_id"
WHERE
  c."annotated_at" <= par."annotated_at" AND c."annotation_id" <> c."parent_annotation_id"

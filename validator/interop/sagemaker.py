"""SageMaker Ground Truth output manifests (JSON Lines): one data object per line.

Each line is the input line (`source-ref` or `source`) plus, per labelling job, a label
attribute `<name>` and `<name>-metadata` (`type`, `job-name`, `creation-date`,
`human-annotated`, and `class-name` + `confidence`, or `class-map` + `confidence-map`, or
`objects` for boxes). Chained jobs add more attribute pairs: each becomes rows. Handled types:
image and text classification (single and multi-label), object detection (one row per box),
label verification. `failure-reason` (the task expired or failed) is a cancelled row without a
label; `human-annotated: no` (automated data labelling) is a prediction. The output manifest
holds the consolidated label only: there is no worker id (per-worker answers are in the job's
worker-response files, which are not read), so `annotator` is null.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from validator.errors import RecordError
from validator.interop.jsonstream import json_lines
from validator.interop.rows import ImportOptions, Row, parse_time, row, text

TOOL = "sagemaker-ground-truth"
SINGLE = ("image-classification", "text-classification", "label-verification")
MULTI = ("image-classification-multilabel", "text-classification-multilabel")


def read(path: Path, options: ImportOptions) -> Iterator[Row]:
    """Rows of an output manifest (see module docstring)."""
    with path.open("rb") as handle:
        for number, where, record in json_lines(handle, path):
            if not isinstance(record, dict):
                raise RecordError(str(path), where, "each line must be a JSON object")
            yield from _line(record, number, options, str(path), where)


def _line(
    record: dict[str, Any], number: int, options: ImportOptions, path: str, where: str
) -> Iterator[Row]:
    item = text(record.get("source-ref")) or text(record.get("source"))
    if item is None:
        raise RecordError(path, where, "no `source-ref` or `source`")
    attributes = [k[: -len("-metadata")] for k in record if k.endswith("-metadata")]
    if not attributes:
        raise RecordError(path, where, "no label attribute (`<name>` with `<name>-metadata`)")
    version = options.version_of(record)
    for attr in attributes:
        meta = record[f"{attr}-metadata"]
        at = f"{where}, `{attr}`"
        if not isinstance(meta, dict):
            raise RecordError(path, at, "`-metadata` must be an object")
        try:
            created = parse_time(meta.get("creation-date"))
        except ValueError as exc:
            raise RecordError(path, at, f"bad `creation-date`: {exc}") from None
        base = {
            "tool": TOOL,
            "tool_version": options.tool_version,
            "project": options.project or text(meta.get("job-name")),
            "item_id": item,
            "annotation_id": f"{attr}:{number}",
            "created_at": created,
            "updated_at": created,
            "result_type": text(meta.get("type")),
            "is_prediction": meta.get("human-annotated") == "no",
            "is_gold": options.gold,
            "instruction_version": version,
        }
        if "failure-reason" in meta or attr not in record:
            yield row(**base, is_cancelled=True)
            continue
        labels = _labels(record[attr], meta, path, at)
        for index, (label, score) in enumerate(labels):
            yield row(**base, label_index=index, label=label, score=score)
        if not labels:
            yield row(**base)


def _labels(
    value: Any, meta: dict[str, Any], path: str, where: str
) -> list[tuple[str, float | None]]:
    kind = str(meta.get("type", "")).removeprefix("groundtruth/")
    classes = meta.get("class-map") or {}
    if kind in SINGLE:
        name = text(meta.get("class-name")) or text(classes.get(str(value)))
        if name is None:
            raise RecordError(path, where, "no `class-name` for the label")
        return [(name, _score(meta.get("confidence")))]
    if kind in MULTI:
        confidences = meta.get("confidence-map") or {}
        if not isinstance(value, list):
            raise RecordError(path, where, f"a {kind} label must be a list of class ids")
        return [(_class(classes, v, path, where), _score(confidences.get(str(v)))) for v in value]
    if kind == "object-detection":
        boxes = value.get("annotations") if isinstance(value, dict) else None
        objects = meta.get("objects") or []
        if not isinstance(boxes, list):
            raise RecordError(path, where, "an object-detection label needs `annotations`")
        return [
            (
                _class(classes, b.get("class_id") if isinstance(b, dict) else None, path, where),
                _score(objects[i].get("confidence"))
                if i < len(objects) and isinstance(objects[i], dict)
                else None,
            )
            for i, b in enumerate(boxes)
        ]
    raise RecordError(path, where, f"label type {meta.get('type')!r} is not supported")


def _class(classes: Any, class_id: Any, path: str, where: str) -> str:
    name = classes.get(str(class_id)) if isinstance(classes, dict) else None
    if name is None:
        raise RecordError(path, where, f"class id {class_id!r} is not in `class-map`")
    return str(name)


def _score(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None

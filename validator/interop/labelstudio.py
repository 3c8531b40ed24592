"""Label Studio's JSON export: an array of tasks, each with `annotations` and `predictions`.

Read with ijson one task at a time, so an export of millions of tasks never sits in memory.
Per annotation: `id`, `completed_by` (a user id, or a user object with `id` and `email`:
the id is the annotator either way, the email its own column), `was_cancelled`,
`ground_truth`, `created_at`, `updated_at` and `result` (regions: `value.<type>` holds the
labels for `choices`, `labels`, `rectanglelabels`, `polygonlabels`, `taxonomy`, ...). Predictions
have `model_version` and `score` (per prediction, or per region).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ijson

from validator.errors import RecordError
from validator.interop.jsonstream import array_items, first_char, short
from validator.interop.rows import ImportOptions, Row, parse_time, row, text

TOOL = "label-studio"
# result types whose value holds no label (free text, geometry links)
_NOT_LABELS = frozenset({"textarea", "relation", "pairwise", "video", "datetime"})


def read(path: Path, options: ImportOptions) -> Iterator[Row]:
    """Rows of a Label Studio JSON export (see module docstring)."""
    last = "the first task"
    with path.open("rb") as handle:
        _expect_array(handle, path)
        try:
            for n, task in enumerate(array_items(handle, path), start=1):
                where = f"task #{n}"
                if not isinstance(task, dict):
                    raise RecordError(str(path), where, "a task must be a JSON object")
                if text(task.get("id")) is None:
                    raise RecordError(str(path), where, "task has no `id`")
                where = f"task {text(task['id'])} (#{n})"
                yield from _task(task, options, str(path), where)
                last = where
        except ijson.JSONError as exc:
            raise RecordError(str(path), f"after {last}", f"invalid JSON: {short(exc)}") from None


def _expect_array(handle: Any, path: Path) -> None:
    if first_char(handle) != b"[":
        raise RecordError(
            str(path), "top level", "expected a JSON array of tasks (Label Studio's JSON export)"
        )


# keys of a task in the full JSON export; a record with other fields but none of these is a
# JSON-MIN record (its fields flattened: `image`, `choice`, `annotator`, `annotation_id`, ...)
_TASK_KEYS = ("annotations", "completions", "predictions", "data")


def _task(task: dict[str, Any], options: ImportOptions, path: str, where: str) -> Iterator[Row]:
    if set(task) - {"id"} and not any(k in task for k in _TASK_KEYS):
        raise RecordError(
            path,
            where,
            "this looks like Label Studio's JSON-MIN export (flat records without `annotations`"
            " or `predictions` lists), which drops who annotated what, cancellations and "
            "predictions: export the project as JSON instead (Export > JSON, or "
            "/api/projects/<id>/export?exportType=JSON) and import that file",
        )
    item = text(task["id"])
    project = options.project or text(task.get("project"))
    version = options.version_of(task)
    common = {
        "tool": TOOL,
        "tool_version": options.tool_version,
        "project": project,
        "item_id": item,
        "instruction_version": version,
    }
    annotations = task.get("annotations", task.get("completions", []))
    predictions = task.get("predictions", [])
    for key, records in (("annotations", annotations), ("predictions", predictions)):
        if not isinstance(records, list):
            raise RecordError(path, where, f"`{key}` must be a list")
    for i, ann in enumerate(annotations):
        yield from _annotation(ann, common, options, path, f"{where}, annotation #{i + 1}")
    for i, pred in enumerate(predictions):
        yield from _prediction(pred, common, options, path, f"{where}, prediction #{i + 1}")


def _annotator(completed_by: Any) -> tuple[str | None, str | None]:
    """(user id, email): exports write `completed_by` as the id or as a user object, so the
    id is the annotator in both (one person, one annotator across exports); the email, when
    the object has it, goes to its own (personal-data) column."""
    if isinstance(completed_by, dict):
        return text(completed_by.get("id")), text(completed_by.get("email"))
    return text(completed_by), None


def _times(record: dict[str, Any], path: str, where: str) -> dict[str, Any]:
    try:
        return {
            "created_at": parse_time(record.get("created_at")),
            "updated_at": parse_time(record.get("updated_at") or record.get("created_at")),
        }
    except ValueError as exc:
        raise RecordError(path, where, f"bad timestamp: {exc}") from None


def _annotation(
    ann: Any, common: dict[str, Any], options: ImportOptions, path: str, where: str
) -> Iterator[Row]:
    if not isinstance(ann, dict):
        raise RecordError(path, where, "an annotation must be a JSON object")
    ann_id = text(ann.get("id"))
    if ann_id is None:
        raise RecordError(path, where, "annotation has no `id`")
    for flag in ("was_cancelled", "ground_truth"):
        if not isinstance(ann.get(flag, False), bool):
            raise RecordError(path, where, f"`{flag}` must be true or false")
    annotator, email = _annotator(ann.get("completed_by"))
    base = dict(
        common,
        annotation_id=ann_id,
        annotator=annotator,
        annotator_email=email,
        is_cancelled=bool(ann.get("was_cancelled", False)),
        is_gold=bool(ann.get("ground_truth", False)) or options.gold,
        **_times(ann, path, where),
    )
    yield from _labelled(base, ann.get("result", []), options, path, where, None)


def _prediction(
    pred: Any, common: dict[str, Any], options: ImportOptions, path: str, where: str
) -> Iterator[Row]:
    if not isinstance(pred, dict):
        raise RecordError(path, where, "a prediction must be a JSON object")
    pred_id = text(pred.get("id"))
    model = text(pred.get("model_version"))
    score = pred.get("score")
    base = dict(
        common,
        # predictions imported with tasks may have no id yet: the position keeps rows unique
        annotation_id=f"prediction-{pred_id if pred_id is not None else where.split('#')[-1]}",
        annotator=f"model:{model}" if model else "model",
        is_prediction=True,
        is_gold=options.gold,
        **_times(pred, path, where),
    )
    yield from _labelled(base, pred.get("result", []), options, path, where, _number(score))


def _number(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


def _labelled(
    base: dict[str, Any],
    results: Any,
    options: ImportOptions,
    path: str,
    where: str,
    score: float | None,
) -> Iterator[Row]:
    if not isinstance(results, list):
        raise RecordError(path, where, "`result` must be a list")
    index = 0
    for r, result in enumerate(results):
        if not isinstance(result, dict):
            raise RecordError(path, where, f"result #{r + 1} must be a JSON object")
        if options.control and result.get("from_name") != options.control:
            continue
        kind = text(result.get("type"))
        value = result.get("value")
        if kind in _NOT_LABELS or kind is None or not isinstance(value, dict):
            continue
        labels = _labels(value.get(kind), kind)
        if labels is None:
            raise RecordError(path, where, f"result #{r + 1} ({kind}) has no `value.{kind}`")
        region = _number(result.get("score"))
        for label in labels:
            yield row(
                **base,
                label_index=index,
                label=label,
                result_type=kind,
                score=region if region is not None else score,
            )
            index += 1
    if index == 0:  # skipped, cancelled or empty: one row without a label
        yield row(**base, score=score)


def _labels(value: Any, kind: str) -> list[str] | None:
    if isinstance(value, list):
        # taxonomy: a list of paths, each a list of names
        return ["/".join(map(str, v)) if isinstance(v, list) else str(v) for v in value]
    if isinstance(value, (int, float, str)) and not isinstance(value, bool):
        return [text(value) or ""]  # rating, number
    return None

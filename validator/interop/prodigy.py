"""Prodigy's JSONL export (`prodigy db-out`): one answer of one annotator per line.

Per line: `_input_hash` (the item), `_task_hash` (the question), `_annotator_id` or
`_session_id` (who), `_timestamp` (Unix seconds), `answer` (accept / reject / ignore), and the
labels: `accept` (the chosen `options` of a choice task: one row each), `spans` (one row per
span label) or a top-level `label` (binary tasks; a rejected one keeps `answer: reject`).
`ignore` is a skipped task (`is_cancelled`); the output of the `review` recipe
(`_view_id: review`) is the reviewed, gold answer. Read line by line.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from validator.errors import RecordError
from validator.interop.jsonstream import json_lines
from validator.interop.rows import ImportOptions, Row, parse_time, row, text

TOOL = "prodigy"
ANSWERS = ("accept", "reject", "ignore")


def read(path: Path, options: ImportOptions) -> Iterator[Row]:
    """Rows of a Prodigy JSONL export (see module docstring)."""
    project = options.project or path.stem
    with path.open("rb") as handle:
        for _, where, record in json_lines(handle, path):
            if not isinstance(record, dict):
                raise RecordError(str(path), where, "each line must be a JSON object")
            yield from _answer(record, project, options, str(path), where)


def _answer(
    record: dict[str, Any], project: str, options: ImportOptions, path: str, where: str
) -> Iterator[Row]:
    item = text(record.get("_input_hash"))
    task = text(record.get("_task_hash"))
    if item is None or task is None:
        raise RecordError(path, where, "missing `_input_hash` or `_task_hash`")
    answer = record.get("answer")
    if answer not in ANSWERS:
        raise RecordError(path, where, f"`answer` must be one of {', '.join(ANSWERS)}")
    annotator = text(record.get("_annotator_id")) or text(record.get("_session_id"))
    try:
        at = parse_time(record.get("_timestamp"))
    except (ValueError, OverflowError, OSError) as exc:
        raise RecordError(path, where, f"bad `_timestamp`: {exc}") from None
    version = options.version_of(record)
    meta = record.get("meta")
    score = meta.get("score") if isinstance(meta, dict) else None
    base = {
        "tool": TOOL,
        "tool_version": options.tool_version,
        "project": project,
        "item_id": item,
        # one answer per annotator and question
        "annotation_id": f"{annotator or 'unknown'}:{task}",
        "annotator": annotator,
        "created_at": at,
        "updated_at": at,
        "answer": answer,
        "score": float(score) if isinstance(score, (int, float)) and score is not True else None,
        "is_cancelled": answer == "ignore",
        "is_gold": record.get("_view_id") == "review" or options.gold,
        "instruction_version": version,
    }
    labels = _labels(record, path, where)
    if not labels:
        yield row(**base)
    for index, (label, kind) in enumerate(labels):
        yield row(**base, label_index=index, label=label, result_type=kind)


def _labels(record: dict[str, Any], path: str, where: str) -> list[tuple[str, str]]:
    accept = record.get("accept")
    spans = record.get("spans")
    if accept is not None:
        if not isinstance(accept, list):
            raise RecordError(path, where, "`accept` must be a list of option ids")
        if record.get("answer") != "accept":
            return []  # the options chosen before rejecting or skipping are not labels
        return [(text(a) or "", "choice") for a in accept]
    if spans is not None:
        if not isinstance(spans, list) or not all(isinstance(s, dict) for s in spans):
            raise RecordError(path, where, "`spans` must be a list of objects")
        return [(text(s.get("label")) or "", "span") for s in spans if s.get("label") is not None]
    label = text(record.get("label"))
    return [(label, "binary")] if label is not None else []

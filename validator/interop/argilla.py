"""Argilla 2.x exports: a record per item, with each user's responses and a model's suggestions.

Two shapes of the same records are read:

- `records.json` of `Dataset.to_disk(path)` (= `dataset.records.to_json(path)`): a JSON array
  of records `{"id", "fields", "metadata", "suggestions": {question: {"value", "score",
  "agent"}}, "responses": {question: [{"value", "user_id"}]}, "status", "_server_id"}`. Argilla
  writes no response status there; a response that carries one (`"status"`, as the server's
  API does) keeps it.
- JSON Lines of the flattened records (`dataset.records.to_datasets().to_json(path)`, the form
  `Dataset.to_hub` publishes): one record per line with `<question>.responses`,
  `<question>.responses.users` and `<question>.responses.status` (parallel lists, status
  `submitted`, `draft` or `discarded`) and `<question>.suggestion`, `.suggestion.score`,
  `.suggestion.agent`.

Each user's response to each question is one annotation (`<record>:<question>:<user>`), its
status in `answer`; a discarded response is cancelled. A suggestion is a prediction by its agent.
Values become labels by their shape: text (label or text question), a number (rating), a list of
text (multi-label), spans (`{"label", "start", "end"}`) or a ranking (`{"value", "rank"}`, in
rank order). `--control QUESTION` keeps one question. Read one record at a time.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ijson

from validator.errors import RecordError
from validator.interop.jsonstream import array_items, first_char, json_lines, short
from validator.interop.rows import ImportOptions, Row, row, text

TOOL = "argilla"
STATUSES = ("submitted", "draft", "discarded")
_RESPONSES, _USERS, _STATUS = ".responses", ".responses.users", ".responses.status"
_SUGGESTION = ".suggestion"

# question -> (responses as (value, user, status), suggestion as (value, score, agent) or None)
Question = tuple[list[tuple[Any, Any, Any]], tuple[Any, Any, Any] | None]


def read(path: Path, options: ImportOptions) -> Iterator[Row]:
    """Rows of an Argilla export (see module docstring)."""
    project = options.project or _dataset_name(path) or path.stem
    with path.open("rb") as handle:
        start = first_char(handle)
        if start == b"[":
            yield from _from_array(handle, path, project, options)
        elif start == b"{":
            yield from _from_lines(handle, path, project, options)
        else:
            raise RecordError(
                str(path),
                "top level",
                "expected Argilla records: a JSON array (records.json of `to_disk`) or JSON "
                "Lines of flattened records (`to_datasets().to_json`)",
            )


def _dataset_name(path: Path) -> str | None:
    """The dataset's name from `.argilla/dataset.json`, which `to_disk` writes beside it."""
    meta = path.parent / ".argilla" / "dataset.json"
    try:
        return text(json.loads(meta.read_text(encoding="utf-8")).get("name"))
    except (OSError, ValueError, AttributeError):
        return None


def _from_array(handle: Any, path: Path, project: str, options: ImportOptions) -> Iterator[Row]:
    last = "the first record"
    try:
        for n, record in enumerate(array_items(handle, path, "record"), start=1):
            where = f"record #{n}"
            item = _item(record, str(path), where)
            where = f"record {item} (#{n})"
            questions = _nested(record, str(path), where)
            yield from _record(record, item, questions, project, options, str(path), where)
            last = where
    except ijson.JSONError as exc:
        raise RecordError(str(path), f"after {last}", f"invalid JSON: {short(exc)}") from None


def _from_lines(handle: Any, path: Path, project: str, options: ImportOptions) -> Iterator[Row]:
    for number, where, record in json_lines(handle, path):
        item = _item(record, str(path), where)
        where = f"line {number} (record {item})"
        questions = _flat(record, str(path), where)
        yield from _record(record, item, questions, project, options, str(path), where)


def _item(record: Any, path: str, where: str) -> str:
    if not isinstance(record, dict):
        raise RecordError(path, where, "a record must be a JSON object")
    item = text(record.get("id")) or text(record.get("_server_id"))
    if item is None:
        raise RecordError(path, where, "record has no `id` (or `_server_id`)")
    return item


def _nested(record: dict[str, Any], path: str, where: str) -> dict[str, Question]:
    responses = record.get("responses")
    suggestions = record.get("suggestions")
    responses = {} if responses is None else responses
    suggestions = {} if suggestions is None else suggestions
    if not isinstance(responses, dict) or not isinstance(suggestions, dict):
        raise RecordError(path, where, "`responses` and `suggestions` must be objects by question")
    out: dict[str, Question] = {}
    for question, answers in responses.items():
        if not isinstance(answers, list) or not all(isinstance(a, dict) for a in answers):
            raise RecordError(path, where, f"responses to `{question}` must be a list of objects")
        out[question] = (
            [(a.get("value"), a.get("user_id"), a.get("status")) for a in answers],
            None,
        )
    for question, s in suggestions.items():
        if not isinstance(s, dict):
            raise RecordError(path, where, f"the suggestion for `{question}` must be an object")
        given = out.get(question, ([], None))[0]
        out[question] = (given, (s.get("value"), s.get("score"), s.get("agent")))
    return out


def _flat(record: dict[str, Any], path: str, where: str) -> dict[str, Question]:
    names = [k[: -len(_RESPONSES)] for k in record if k.endswith(_RESPONSES)]
    names += [k[: -len(_SUGGESTION)] for k in record if k.endswith(_SUGGESTION)]
    out: dict[str, Question] = {}
    for question in dict.fromkeys(names):
        values = record.get(question + _RESPONSES)
        users = record.get(question + _USERS)
        statuses = record.get(question + _STATUS)
        columns = (values or [], users or [], statuses or [])
        if not all(isinstance(c, list) for c in columns):
            raise RecordError(path, where, f"`{question}.responses*` must be lists")
        if statuses is None:
            columns = (columns[0], columns[1], [None] * len(columns[0]))
        if len({len(c) for c in columns}) > 1:
            raise RecordError(
                path,
                where,
                f"`{question}.responses`, `.responses.users` and `.responses.status` "
                "differ in length",
            )
        suggestion = None
        if record.get(question + _SUGGESTION) is not None:
            key = question + _SUGGESTION
            suggestion = (record.get(key), record.get(key + ".score"), record.get(key + ".agent"))
        out[question] = (list(zip(*columns, strict=True)), suggestion)
    return out


def _record(
    record: dict[str, Any],
    item: str,
    questions: dict[str, Question],
    project: str,
    options: ImportOptions,
    path: str,
    where: str,
) -> Iterator[Row]:
    version = options.version_of(record)
    common = {
        "tool": TOOL,
        "tool_version": options.tool_version,
        "project": project,
        "item_id": item,
        "is_gold": options.gold,
        "instruction_version": version,
    }
    for question, (responses, suggestion) in questions.items():
        if options.control and question != options.control:
            continue
        seen: set[str] = set()
        for i, (value, user, status) in enumerate(responses):
            at = f"{where}, response #{i + 1} to `{question}`"
            annotator = text(user)
            if annotator is None:
                raise RecordError(path, at, "response has no `user_id`")
            if annotator in seen:
                raise RecordError(path, at, f"a second response by user {annotator}")
            seen.add(annotator)
            if status is not None and status not in STATUSES:
                raise RecordError(path, at, f"status must be one of {', '.join(STATUSES)}")
            base = dict(
                common,
                annotation_id=f"{item}:{question}:{annotator}",
                annotator=annotator,
                answer=status,
                is_cancelled=status == "discarded",
            )
            yield from _labelled(base, value, None, path, at)
        if suggestion is not None:
            value, score, agent = suggestion
            base = dict(
                common,
                annotation_id=f"{item}:{question}:suggestion",
                annotator=f"model:{text(agent)}" if text(agent) else "model",
                is_prediction=True,
            )
            yield from _labelled(base, value, score, path, f"{where}, suggestion for `{question}`")


def _labelled(base: Row, value: Any, score: Any, path: str, where: str) -> Iterator[Row]:
    labels = _labels(value)
    if labels is None:
        raise RecordError(path, where, f"a value of unsupported shape: {short(ValueError(value))}")
    scores = _scores(score, len(labels), path, where)
    if not labels:  # no value (a discarded or empty response): one row without a label
        yield row(**base, score=scores[0] if scores else None)
    for index, (label, kind) in enumerate(labels):
        yield row(**base, label_index=index, label=label, result_type=kind, score=scores[index])


def _labels(value: Any) -> list[tuple[str, str]] | None:
    if value is None:
        return []
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        return [(value, "label")]
    if isinstance(value, (int, float)):
        return [(text(value) or "", "rating")]
    if not isinstance(value, list):
        return None
    if all(isinstance(v, str) for v in value):
        return [(v, "multi_label") for v in value]
    if all(isinstance(v, dict) and isinstance(v.get("label"), str) for v in value):
        return [(v["label"], "span") for v in value]
    if all(isinstance(v, dict) and isinstance(v.get("rank"), int) for v in value):
        ranked = sorted(value, key=lambda v: v["rank"])
        if any(text(v.get("value")) is None for v in ranked):
            return None
        return [(text(v["value"]) or "", "ranking") for v in ranked]
    return None


def _scores(score: Any, n: int, path: str, where: str) -> list[float | None]:
    """One score per label: a suggestion has one score, or one per label of a multi-label."""
    if score is None:
        return [None] * max(n, 1)
    if isinstance(score, list):
        if len(score) != n or not all(_is_number(s) for s in score):
            raise RecordError(path, where, f"`score` must be a number or {n} numbers")
        return [float(s) for s in score]
    if not _is_number(score):
        raise RecordError(path, where, "`score` must be a number")
    return [float(score)] * max(n, 1)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)

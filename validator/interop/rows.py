"""The flat annotations table every importer writes: one row per label of one annotation.

An annotation with several labels (multi-label choices, several regions) becomes several rows
with the same `annotation_id` and increasing `label_index`; an annotation without any label (a
skipped or cancelled task) is one row with a null label, so it stays visible. Predictions
(pre-annotations by a model) are rows too, flagged `is_prediction`, with the model as annotator.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

# name -> (logical contract type, arrow type, nullable, description)
COLUMNS: dict[str, tuple[str, pa.DataType, bool, str]] = {
    "tool": ("varchar", pa.string(), False, "Annotation tool the export came from."),
    "tool_version": ("varchar", pa.string(), True, "Tool version, when given to the import."),
    "project": ("varchar", pa.string(), True, "Project, task or dataset in the tool."),
    "item_id": ("varchar", pa.string(), False, "The annotated item (task, example, image)."),
    "annotation_id": ("varchar", pa.string(), False, "The annotation (or prediction) id."),
    "label_index": ("integer", pa.int32(), False, "Position of the label in its annotation."),
    "annotator": ("varchar", pa.string(), True, "Who labelled (a model for predictions)."),
    "annotator_email": (
        "varchar",
        pa.string(),
        True,
        "The annotator's email, where the tool has it.",
    ),
    "created_at": ("timestamp", pa.timestamp("us"), True, "When the annotation was made (UTC)."),
    "updated_at": ("timestamp", pa.timestamp("us"), True, "When it last changed (UTC)."),
    "label": ("varchar", pa.string(), True, "The label; null for an annotation without one."),
    "result_type": ("varchar", pa.string(), True, "Kind of result (choices, box, span...)."),
    "answer": ("varchar", pa.string(), True, "The annotator's decision where the tool has one."),
    "score": ("double", pa.float64(), True, "Score or confidence, where the tool has one."),
    "is_cancelled": ("boolean", pa.bool_(), False, "Skipped or cancelled by the annotator."),
    "is_gold": ("boolean", pa.bool_(), False, "Ground truth / gold / reviewed answer."),
    "is_prediction": ("boolean", pa.bool_(), False, "A model's pre-annotation."),
    "instruction_version": ("varchar", pa.string(), True, "Labelling-instruction version."),
}
SCHEMA = pa.schema([pa.field(n, t, nullable=null) for n, (_, t, null, _) in COLUMNS.items()])
KEY = ("annotation_id", "label_index")
PII = frozenset({"annotator_email"})  # personal data: `pii: true` in a written contract

Row = dict[str, Any]


@dataclass(frozen=True)
class ImportOptions:
    """What the user maps onto the table; every format reads the same options."""

    project: str | None = None  # overrides the project the export names
    tool_version: str | None = None
    instruction_version: str | None = None  # one version for the whole export
    instruction_field: str | None = None  # or a field of each record (format-specific path)
    control: str | None = None  # Label Studio: only results of this control tag (from_name)
    gold: bool = False  # every row of this export is gold (e.g. a CVAT ground-truth job)

    def version_of(self, record: Any) -> str | None:
        """The instruction version of a JSON record: its `instruction_field`, else the one
        version given for the export."""
        if self.instruction_field:
            return text(dig(record, self.instruction_field)) or self.instruction_version
        return self.instruction_version


# An importer turns one export file into rows; it raises RecordError naming the bad record.
Reader = Callable[[Path, ImportOptions], Iterator[Row]]


def row(**values: Any) -> Row:
    """A complete row: every column present, flags defaulting to false."""
    out: Row = dict.fromkeys(COLUMNS)
    out.update(is_cancelled=False, is_gold=False, is_prediction=False, label_index=0)
    out.update(values)
    return out


def parse_time(value: Any) -> dt.datetime | None:
    """ISO 8601 text (`Z` or an offset allowed) or Unix seconds, as naive UTC; raises ValueError."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"not a timestamp: {value!r}")
    if isinstance(value, (int, float)):
        return dt.datetime.fromtimestamp(value, dt.UTC).replace(tzinfo=None)
    if not isinstance(value, str):
        raise ValueError(f"not a timestamp: {value!r}")
    parsed = dt.datetime.fromisoformat(value.strip())
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    return parsed


def text(value: Any) -> str | None:
    """An id or name as text (tools write ids as numbers or strings)."""
    if value is None or isinstance(value, (dict, list)):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def dig(record: Any, path: str) -> Any:
    """The value at a dotted path (`data.meta.guideline`) of nested dicts, or None."""
    node = record
    for part in path.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node

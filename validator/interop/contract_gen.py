"""A contract for an imported annotations table, written from what the import found.

Columns, types and descriptions come from the table's fixed layout (`rows.COLUMNS`); a column is
`required` when the format always fills it or the data has no null in it; the provenance roles
are declared for the columns that are complete; the observed labels become accepted values (up
to 200 of them) and scores in [0, 1] a range. The result lints clean and the data it was written
from passes it: a starting point to tighten (agreement, coverage, instructions) by hand.
"""

from __future__ import annotations

from typing import Any

import yaml

from validator.contract.structure import control_char, reserved_text
from validator.interop.rows import COLUMNS, KEY, PII
from validator.interop.table import Destination, Profile

# The table has one row per label: a rule counting rows per item counts labels, not
# annotations. Coverage is not declared here (the import cannot know how many annotations an
# item needs); the comment says how to count annotations with the contract's own `where:`.
HEADER = """\
# written by `labelpact import`; tighten it by hand
# One row per label of one annotation: an annotation with several labels (multi-label choices,
# several regions) has several rows, label_index 0, 1, ... Rules that count rows per item count
# labels. Every annotation has exactly one row with label_index = 0, so to count annotations
# per item (coverage) filter on it, e.g.:
#   coverage: {item: item_id, min_annotations: 3,
#              where: label_index = 0 AND NOT is_cancelled AND NOT is_prediction}
"""

PROVENANCE = {
    "annotator": "annotator",
    "timestamp": "created_at",
    "tool": "tool",
    "batch": "project",
}


def contract_yaml(name: str, dest: Destination, profile: Profile, owner: str, fmt: str) -> str:
    """The contract as YAML text."""
    doc: dict[str, Any] = {
        "contract": name,
        "version": "0.1.0",
        "owner": owner,
        "description": f"One label of one annotation, imported from a {fmt} export.",
        "source": {"dbt_source": dest.table} if dest.table else {"path": str(dest.path)},
        "key": list(KEY),
        "extra_columns": "forbid",
        "columns": {c: _column(c, profile) for c in COLUMNS},
    }
    complete = {role: col for role, col in PROVENANCE.items() if _complete(col, profile)}
    if complete:
        doc["provenance"] = complete
    return HEADER + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)


def _complete(column: str, profile: Profile) -> bool:
    return profile.rows > 0 and profile.nulls.get(column, 1) == 0


def _column(name: str, profile: Profile) -> dict[str, Any]:
    logical, _, nullable, description = COLUMNS[name]
    out: dict[str, Any] = {"type": logical}
    if not nullable or _complete(name, profile):
        out["required"] = True
    if name == "label" and 0 < profile.distinct_labels <= len(profile.labels):
        # a label a contract cannot carry (Jinja delimiters, control characters): no list
        if not any(reserved_text(v) or control_char(v) for v in profile.labels):
            out["accepted_values"] = profile.labels
    low, high = profile.score_range
    if name == "score" and low is not None and high is not None and low >= 0 and high <= 1:
        out["between"] = [0, 1]
    if name in PII:
        out["pii"] = True
    out["description"] = description
    return out

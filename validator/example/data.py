"""Deterministic, realistic example annotation data, with faults injected on request.

Every value is a function of (seed, item index, slot) through DuckDB's `hash()`, so the data is
generated inside the database, chunk by chunk (100M rows never sit in Python memory), and the
same seed gives the same data whatever the thread schedule. Adjudications are derived from the
same per-item formulas (which current labels disagree, when the last label was given) instead
of re-reading the table, so they cost one pass over the items. The tables match
`contracts/*.yml` column for column.

The SQL is assembled from generator constants and integers; the two user strings (schema name
and output path) go through `_ident` / `_string`.

    python -m validator.example.data --rows 100000 --fault low_agreement target/x/labelpact.duckdb
"""

from __future__ import annotations

import argparse
import math
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

LABELS = ("cat", "dog", "bird", "fish", "other")
PREVALENCE = (0.30, 0.25, 0.20, 0.15, 0.10)  # an uneven class mix, like real data
SLOTS = 8  # annotation_id = item * SLOTS + slot: slots 0-4 first labels, 5-6 corrections, 7 spare
BATCH_ITEMS = 1500
CHUNK_ITEMS = 1_000_000  # ~4M annotation rows per INSERT keeps memory flat at any size
HEAD_ITEMS = 5000  # faults pick victims among the first items: a small scan even at 100M rows
ROWS_PER_ITEM = 4.09  # 3-5 labels per item plus ~2% corrections
REVISED_SHARE = 0.08  # items with one corrected label; ~2% of all rows are corrections
AUDITED_SHARE = 0.2  # labels an auditor reviewed
TABLES = ("annotations", "instruction_versions", "adjudications", "items", "audit_results")

COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "annotations": (
        ("annotation_id", "BIGINT"),
        ("item_id", "VARCHAR"),
        ("annotator_id", "VARCHAR"),
        ("label", "VARCHAR"),
        ("confidence", "DOUBLE"),
        ("notes", "VARCHAR"),
        ("instruction_version", "VARCHAR"),
        ("annotated_at", "TIMESTAMP"),
        ("batch_id", "VARCHAR"),
        ("tool", "VARCHAR"),
        ("split", "VARCHAR"),
        ("parent_annotation_id", "BIGINT"),
    ),
    "instruction_versions": (
        ("version", "VARCHAR"),
        ("effective_from", "TIMESTAMP"),
        ("retired_at", "TIMESTAMP"),
        ("approved_by", "VARCHAR"),
        ("approved_at", "TIMESTAMP"),
        ("supersedes", "VARCHAR"),
    ),
    "adjudications": (
        ("item_id", "VARCHAR"),
        ("decision", "VARCHAR"),
        ("adjudicator_id", "VARCHAR"),
        ("rationale", "VARCHAR"),
        ("adjudicated_at", "TIMESTAMP"),
    ),
    "items": (("item_id", "VARCHAR"), ("split", "VARCHAR"), ("uri", "VARCHAR")),
    "audit_results": (
        ("annotation_id", "BIGINT"),
        ("item_id", "VARCHAR"),
        ("auditor_id", "VARCHAR"),
        ("verdict", "VARCHAR"),
        ("error_type", "VARCHAR"),
        ("audited_at", "TIMESTAMP"),
    ),
}

FAULTS: dict[str, str] = {
    "missing_column": "annotations.tool is dropped (schema: missing column)",
    "extra_column": "annotations gains extra_col VARCHAR (schema: extra column)",
    "mistyped_column": "annotations.confidence is VARCHAR (schema: wrong type)",
    "missing_provenance": "5 labels have no tool (required provenance is null)",
    "duplicate_key": "3 annotation_id values repeat (key not unique)",
    "bad_label": "5 labels are 'catt' (not an accepted value)",
    "bad_pattern": "5 annotator ids are 'annotator-7' (do not match ^ann_[0-9]+$)",
    "confidence_out_of_range": "5 confidences are 1.5 (outside [0, 1])",
    "future_timestamp": "3 labels are dated in 2099 (timestamp in the future)",
    "orphan_item": "an annotated item is missing from items (dangling item_id)",
    "unknown_instruction_version": "5 labels cite instruction version v9 (not in the registry)",
    "retired_instruction_version": "3 v1 labels are dated after v1 was retired",
    "unapproved_instruction_version": "v2, used by many labels, has no approver",
    "overlapping_instruction_windows": "v1 is retired a month after v2 took effect",
    "split_version_mix": "3 test-split labels use v2 (dated in its window); the rest use v3",
    "missing_notes": "5 labels with confidence < 0.3 have no notes",
    "low_confidence_batch": "batch b0001 has confidences 0.35-0.49 throughout",
    "low_agreement": "batch b0001 is labelled at random (Krippendorff's alpha near 0)",
    "unadjudicated_disagreement": "5 items whose annotators disagree lost their adjudication",
    "invalid_adjudication_decision": "3 adjudications decide 'unknown' (not a label)",
    "missing_adjudication_rationale": "3 adjudications have no rationale",
    "unneeded_adjudication": "an item all annotators agreed on is adjudicated",
    "orphan_revision": "3 labels correct an annotation_id that does not exist",
    "revision_cycle": "a corrected label is recorded as correcting itself (a 1-cycle)",
    "revision_time_order": "3 corrections are dated an hour before the label they correct",
    "duplicate_current_revision": "2 corrections lost their parent link: two current labels",
    "undercovered_items": "3 items keep a single label; one item in items has none",
    "overcovered_items": "an item has 7 current labels (4 extra annotators)",
    "label_skew": "batch b0001 is ~90% 'cat' (label share above 60%)",
    "careless_annotator": "the annotator of the first label changes each of their labels to "
    "another class (the audit finds most of their audited labels wrong)",
}

Progress = Callable[[str], None]

_TRAIN_START, _TRAIN_SPAN = "2024-01-02", 59_000_000  # seconds: up to mid-November 2025
_HOLDOUT_START, _HOLDOUT_SPAN = "2025-01-02", 27_400_000  # validation/test: inside v3 only
_REGISTRY = """
    INSERT INTO instruction_versions VALUES
      ('v1', TIMESTAMP '2024-01-01', TIMESTAMP '2024-07-01', 'lead_anna',
       TIMESTAMP '2023-12-15', NULL),
      ('v2', TIMESTAMP '2024-07-01', TIMESTAMP '2025-01-01', 'lead_anna',
       TIMESTAMP '2024-06-20', 'v1'),
      ('v3', TIMESTAMP '2025-01-01', NULL, 'lead_omar', TIMESTAMP '2024-12-18', 'v2')
"""
_RATIONALES = (
    "majority label confirmed at full resolution",
    "guideline section 3 applies: the animal in front counts",
    "compared with the reference examples for this class",
    "decided with the annotators after discussion",
)


def _list(values: tuple[str, ...]) -> str:
    return "[" + ", ".join(_string(v) for v in values) + "]"


def _string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _range(lo: int, hi: int) -> str:
    return f"(SELECT i FROM range({lo}, {hi}) AS g(i))"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def version_at(ts: str) -> str:
    """SQL for the instruction version in force at timestamp expression `ts`."""
    return (
        f"CASE WHEN {ts} < TIMESTAMP '2024-07-01' THEN 'v1' "
        f"WHEN {ts} < TIMESTAMP '2025-01-01' THEN 'v2' ELSE 'v3' END"
    )


@dataclass(frozen=True)
class Layout:
    """Sizes and the per-item / per-label formulas; every formula is SQL text over `i`, `j`."""

    seed: int
    n_items: int
    n_batches: int
    n_annotators: int
    fault: str | None = None

    @classmethod
    def for_rows(cls, rows: int, seed: int, fault: str | None = None) -> Layout:
        n_items = max(25, round(rows / ROWS_PER_ITEM))
        # Tiny data sets still get a few batches, so batch-level rules have something to compare.
        n_batches = max(math.ceil(n_items / BATCH_ITEMS), min(5, n_items // 100), 1)
        # ~40+ labels per annotator at small sizes, 500 annotators from ~20k rows on.
        return cls(seed, n_items, n_batches, max(5, min(500, n_items // 10)), fault)

    def u(self, salt: str, *cols: str) -> str:
        """A uniform number in [0, 1) derived from (seed, salt, cols)."""
        return f"((hash({self.seed}, '{salt}', {', '.join(cols)}) % 1000000) / 1000000.0)"

    def pick(self, salt: str, n: int | str, *cols: str) -> str:
        """A whole number in [0, n) derived from (seed, salt, cols)."""
        return f"(hash({self.seed}, '{salt}', {', '.join(cols)}) % {n})::BIGINT"

    def fault_batch(self, name: str) -> int:
        """Batch index a batch-level fault rewrites (-1: none)."""
        return 0 if self.fault == name else -1

    def items_sql(self, source: str) -> str:
        """One row per item index `i` of `source`, with everything decided per item."""
        u, pick, labels = self.u, self.pick, _list(LABELS)
        bounds = [sum(PREVALENCE[: n + 1]) for n in range(len(LABELS) - 1)]
        prevalence = " ".join(
            f"WHEN u_truth < {b:.2f} THEN '{label}'"
            for b, label in zip(bounds, LABELS[:-1], strict=True)
        )
        skew = self.fault_batch("label_skew")
        first = f"""
            SELECT src.*, printf('it_%08d', i) AS item_id,
                   (i * {self.n_batches}) // {self.n_items} AS b,
                   CASE WHEN {u("split", "i")} < 0.8 THEN 'train'
                        WHEN {u("split", "i")} < 0.9 THEN 'validation' ELSE 'test' END AS split,
                   {u("truth", "i")} AS u_truth,
                   CASE WHEN b = {skew} AND u_truth < 0.9 THEN 'cat'
                        WHEN b = {skew} THEN {labels}[2 + {pick("other", 4, "i")}]
                        {prevalence} ELSE '{LABELS[-1]}' END AS truth,
                   3 + {pick("k", 3, "i")} AS k,
                   {pick("a0", self.n_annotators, "i")} AS a0,
                   1 + {pick("step", max(1, (self.n_annotators - 1) // 4), "i")} AS step,
                   CASE WHEN split = 'train'
                        THEN TIMESTAMP '{_TRAIN_START}'
                             + to_seconds(floor({u("t0", "i")} * {_TRAIN_SPAN})::BIGINT)
                        ELSE TIMESTAMP '{_HOLDOUT_START}'
                             + to_seconds(floor({u("t0", "i")} * {_HOLDOUT_SPAN})::BIGINT)
                   END AS t0,
                   {u("rev", "i")} < {REVISED_SHARE} AS revised,
                   {pick("r", "k", "i")} AS r,
                   revised AND {u("rev2", "i")} < 0.15 AS revised2
            FROM {source} AS src"""
        # Corrections follow the label they fix by 1-49 h, a second one by another 1-25 h.
        return f"""
            SELECT *, ts5 + to_seconds(3600 + floor({u("fix2", "i")} * 86400)::BIGINT) AS ts6
            FROM (SELECT *, {self.ts_sql("r")}
                            + to_seconds(3600 + floor({u("fix", "i")} * 172800)::BIGINT) AS ts5
                  FROM ({first}) AS it1) AS it2"""

    def ts_sql(self, j: str) -> str:
        """When slot `j` (< 5) of item `i` was labelled: one slot every ~3 hours."""
        return f"(t0 + to_seconds({j} * 10800 + floor({self.u('gap', 'i', j)} * 7200)::BIGINT))"

    def annotator_sql(self, j: str) -> str:
        # step * 4 < n_annotators, so the 5 slots of an item always get distinct annotators
        return f"((a0 + ({j}) * step) % {self.n_annotators})"

    def label_sql(self, j: str) -> str:
        """The first label of slot `j` (< 5): right with the annotator's skill (~0.9)."""
        labels, u, pick = _list(LABELS), self.u, self.pick
        skill = f"(0.84 + 0.12 * {u('skill', self.annotator_sql(j))})"
        skew = self.fault_batch("label_skew")
        return (
            f"CASE WHEN b = {self.fault_batch('low_agreement')} "
            f"THEN {labels}[1 + {pick('noise', 5, 'i', j)}] "
            f"WHEN {u('acc', 'i', j)} < CASE WHEN b = {skew} THEN 0.98 ELSE {skill} END "
            f"THEN truth "
            f"ELSE {labels}[1 + (list_position({labels}, truth) + {pick('wrong', 4, 'i', j)})"
            f" % 5] END"
        )

    def annotations_sql(self, lo: int, hi: int) -> str:
        u, labels = self.u, _list(LABELS)
        low_batch = self.fault_batch("low_confidence_batch")
        noise = self.fault_batch("low_agreement")  # shuffled by a tool bug, not by doubt
        # Enumerating candidate ids in order (and filtering) writes rows in key order with no
        # sort: zone maps then make the fault updates on the first items cheap.
        source = (
            f"(SELECT id, id // {SLOTS} AS i, id % {SLOTS} AS j "
            f"FROM range({lo * SLOTS}, {hi * SLOTS}) AS g(id))"
        )
        rows = f"""
            SELECT *, CASE WHEN j >= 5 THEN r ELSE j END AS src_slot,
                   printf('ann_%d', {self.annotator_sql("src_slot")}) AS annotator_id,
                   CASE j WHEN 5 THEN ts5 WHEN 6 THEN ts6 ELSE {self.ts_sql("j")} END AS ts,
                   CASE WHEN j >= 5 THEN truth ELSE {self.label_sql("j")} END AS label
            FROM ({self.items_sql(source)}) AS it
            WHERE j < k OR (j = 5 AND revised) OR (j = 6 AND revised2)"""
        # ~8% of confidences fall below 0.5, more often on wrong labels; corrections are sure.
        scored = f"""
            SELECT *, CASE
                WHEN b = {low_batch} THEN round(0.35 + 0.14 * {u("conf", "i", "j")}, 2)
                WHEN j >= 5 THEN round(0.85 + 0.15 * {u("conf", "i", "j")}, 2)
                WHEN {u("low", "i", "j")} < CASE WHEN label = truth OR b = {noise} THEN 0.06
                                                 ELSE 0.25 END
                THEN round(0.05 + 0.44 * {u("conf", "i", "j")}, 2)
                ELSE round(0.6 + 0.4 * {u("conf", "i", "j")}, 2) END AS confidence
            FROM ({rows}) AS r0"""
        alt = (
            f"{labels}[1 + (list_position({labels}, label) + {self.pick('alt', 4, 'i', 'j')}) % 5]"
        )
        return f"""
            SELECT id AS annotation_id, item_id, annotator_id, label, confidence,
                   CASE WHEN confidence < 0.3 THEN 'unsure: ' || label || ' or ' || {alt}
                        WHEN j = 5 THEN 'relabelled after review'
                        WHEN j = 6 THEN 'relabelled again after a second review' END AS notes,
                   {version_at("ts")} AS instruction_version, ts AS annotated_at,
                   printf('b%04d', b + 1) AS batch_id,
                   CASE WHEN {self.pick("tool", 5, "b")} = 0 THEN 'cvat-2.11'
                        ELSE 'labelstudio-1.12' END AS tool,
                   split,
                   CASE j WHEN 5 THEN i * {SLOTS} + r WHEN 6 THEN i * {SLOTS} + 5 END
                     AS parent_annotation_id
            FROM ({scored}) AS r1"""

    def adjudication_cols(self, last_at: str) -> str:
        """Adjudication columns of an item row: the expert picks the true label, 1-72 h later."""
        return (
            f"item_id, truth AS decision, 'adj_' || (1 + {self.pick('adj', 12, 'i')}) "
            f"AS adjudicator_id, {_list(_RATIONALES)}[1 + {self.pick('why', 4, 'i')}] "
            f"AS rationale, {last_at} + to_seconds(3600 + floor({self.u('adjt', 'i')} "
            f"* 255600)::BIGINT) AS adjudicated_at"
        )

    def adjudications_sql(self, lo: int, hi: int) -> str:
        # The current label of a slot: the correction's (the true label) if it was corrected.
        current = ", ".join(
            f"CASE WHEN {j} >= k THEN NULL WHEN revised AND r = {j} THEN truth "
            f"ELSE {self.label_sql(f'{j}::BIGINT')} END"
            for j in range(5)
        )
        last = (
            f"greatest({self.ts_sql('(k - 1)')}, CASE WHEN revised THEN ts5 END, "
            f"CASE WHEN revised2 THEN ts6 END)"
        )
        return f"""
            SELECT {self.adjudication_cols("last_at")}
            FROM (SELECT *, len(list_distinct([{current}])) AS n_labels, {last} AS last_at
                  FROM ({self.items_sql(_range(lo, hi))}) AS it) AS a
            WHERE n_labels > 1"""

    def audits_sql(self, items: str, where: str = "TRUE") -> str:
        """Audit results of the labels of `items` (a relation of item indexes `i`) in the
        annotations table: ~20% of labels, judged against the item's true label by one of
        four auditors, 1-14 days after the label."""
        u, pick = self.u, self.pick
        return f"""
            SELECT a.annotation_id, a.item_id,
                   'aud_' || (1 + {pick("auditor", 4, "a.annotation_id")}) AS auditor_id,
                   CASE WHEN a.label = it.truth THEN 'correct' ELSE 'incorrect' END AS verdict,
                   CASE WHEN a.label = it.truth THEN NULL
                        WHEN {u("etype", "a.annotation_id")} < 0.8 THEN 'wrong_class'
                        ELSE 'guideline_violation' END AS error_type,
                   a.annotated_at + to_seconds(86400 + floor({u("audt", "a.annotation_id")}
                     * 1123200)::BIGINT) AS audited_at
            FROM annotations AS a JOIN ({self.items_sql(items)}) AS it ON it.item_id = a.item_id
            WHERE {u("audit", "a.annotation_id")} < {AUDITED_SHARE} AND {where}"""

    def items_table_sql(self, lo: int, hi: int) -> str:
        return f"""
            SELECT item_id, split, 's3://labelpact-example/items/' || item_id || '.jpg' AS uri
            FROM ({self.items_sql(_range(lo, hi))}) AS it"""


class _Fault(NamedTuple):
    """How a fault is injected after generation."""

    sql: str  # statements run against the clean tables; may use lp_victims
    victims: str = ""  # SELECT of item_id values, kept in lp_victims before `sql` runs
    refresh: bool = False  # the victims' adjudications are recomputed afterwards


# Victims come from lp_head, the first items, and avoid rows that take part in a revision or
# items that are adjudicated whenever touching them would break a second rule too.
_HEAD = (
    f"CREATE OR REPLACE TEMP VIEW lp_head AS SELECT * FROM annotations "
    f"WHERE annotation_id < {SLOTS * HEAD_ITEMS}"
)
_PLAIN = (
    "parent_annotation_id IS NULL AND annotation_id NOT IN (SELECT parent_annotation_id "
    "FROM lp_head WHERE parent_annotation_id IS NOT NULL)"
)
_UNREVISED = "item_id NOT IN (SELECT item_id FROM lp_head WHERE parent_annotation_id IS NOT NULL)"
_AGREED = (
    "item_id NOT IN (SELECT item_id FROM adjudications "
    "WHERE item_id <= (SELECT max(item_id) FROM lp_head))"
)
_VICTIMS = "item_id IN (SELECT item_id FROM lp_victims)"
_VICTIM_INDEXES = "(SELECT DISTINCT CAST(substr(item_id, 4) AS BIGINT) AS i FROM lp_victims)"
# Labels no correction touches, over the whole table.
_PLAIN_ALL = (
    "parent_annotation_id IS NULL AND annotation_id NOT IN (SELECT parent_annotation_id "
    "FROM annotations WHERE parent_annotation_id IS NOT NULL)"
)


def _slot(n: int) -> str:
    return f"annotation_id % {SLOTS} = {n}"


def _rows(*where: str, n: int, column: str = "annotation_id") -> str:
    """`column` is one of the first `n` head rows matching all of `where`."""
    return (
        f"{column} IN (SELECT annotation_id FROM lp_head WHERE {' AND '.join(where)} "
        f"ORDER BY annotation_id LIMIT {n})"
    )


def _set(assignments: str, *where: str, n: int) -> _Fault:
    return _Fault(f"UPDATE annotations SET {assignments} WHERE {_rows(*where, n=n)}")


def _adjudicated(change: str, n: int) -> _Fault:
    return _Fault(
        f"{change} WHERE item_id IN (SELECT item_id FROM adjudications ORDER BY item_id LIMIT {n})"
    )


def _faults(layout: Layout) -> dict[str, _Fault]:
    moved = "p.annotated_at - INTERVAL 1 HOUR"
    extra_at = "a.annotated_at + INTERVAL (x.s * 3) HOUR"
    last_item = layout.n_items - 1
    faults = {
        "missing_column": _Fault("ALTER TABLE annotations DROP COLUMN tool"),
        "extra_column": _Fault("ALTER TABLE annotations ADD COLUMN extra_col VARCHAR"),
        "mistyped_column": _Fault("ALTER TABLE annotations ALTER COLUMN confidence TYPE VARCHAR"),
        "missing_provenance": _set("tool = NULL", _slot(1), n=5),
        "duplicate_key": _set(
            "annotation_id = annotation_id + 1",
            _slot(3),
            _UNREVISED,
            "annotation_id + 1 IN (SELECT annotation_id FROM lp_head)",
            n=3,
        ),
        "bad_label": _Fault(
            f"UPDATE annotations SET label = 'catt' WHERE {_rows(_slot(2), _VICTIMS, n=5)}",
            f"SELECT item_id FROM lp_head WHERE {_slot(2)} AND {_PLAIN} "
            f"ORDER BY annotation_id LIMIT 5",
            refresh=True,
        ),
        "bad_pattern": _set("annotator_id = 'annotator-7'", _slot(2), _PLAIN, n=5),
        "confidence_out_of_range": _set("confidence = 1.5", _slot(1), "notes IS NULL", n=5),
        "future_timestamp": _set(
            "annotated_at = TIMESTAMP '2099-06-01 12:00:00'",
            _slot(1),
            _PLAIN,
            _AGREED,
            "instruction_version = 'v3'",
            n=3,
        ),
        "orphan_item": _Fault(
            f"DELETE FROM items WHERE item_id = (SELECT min(item_id) FROM lp_head WHERE {_AGREED})"
        ),
        "unknown_instruction_version": _set(
            "instruction_version = 'v9'", _slot(2), "split = 'train'", n=5
        ),
        "retired_instruction_version": _set(
            "annotated_at = TIMESTAMP '2024-09-02 10:00:00'",
            _slot(2),
            _PLAIN,
            _AGREED,
            "instruction_version = 'v1'",
            n=3,
        ),
        "unapproved_instruction_version": _Fault(
            "UPDATE instruction_versions SET approved_by = NULL WHERE version = 'v2'"
        ),
        "overlapping_instruction_windows": _Fault(
            "UPDATE instruction_versions SET retired_at = TIMESTAMP '2024-08-01' "
            "WHERE version = 'v1'"
        ),
        "split_version_mix": _set(
            "instruction_version = 'v2', annotated_at = TIMESTAMP '2024-09-02 10:00:00'",
            _slot(2),
            _PLAIN,
            "split = 'test'",
            n=3,
        ),
        "missing_notes": _set("notes = NULL", "confidence < 0.3", n=5),
        "unadjudicated_disagreement": _adjudicated("DELETE FROM adjudications", 5),
        "invalid_adjudication_decision": _adjudicated(
            "UPDATE adjudications SET decision = 'unknown'", 3
        ),
        "missing_adjudication_rationale": _adjudicated(
            "UPDATE adjudications SET rationale = NULL", 3
        ),
        "unneeded_adjudication": _Fault(
            "INSERT INTO adjudications SELECT item_id, min(label), 'adj_3', 'second opinion "
            f"requested by QA', max(annotated_at) + INTERVAL 1 DAY FROM lp_head WHERE {_VICTIMS}"
            " GROUP BY item_id",
            f"SELECT min(item_id) AS item_id FROM lp_head WHERE {_AGREED} AND {_UNREVISED}",
        ),
        "orphan_revision": _set(
            "parent_annotation_id = annotation_id + 9000000000000000", _slot(2), _PLAIN, n=3
        ),
        # A 1-cycle on a label that was already corrected: its lineage keeps exactly one
        # current row and no timestamp order is broken. Any longer cycle would also date a
        # correction before its parent (a second rule).
        "revision_cycle": _set(
            "parent_annotation_id = annotation_id",
            "parent_annotation_id IS NULL",
            "annotation_id IN (SELECT parent_annotation_id FROM lp_head)",
            n=1,
        ),
        "revision_time_order": _Fault(
            f"UPDATE annotations AS c SET annotated_at = {moved}, instruction_version = "
            f"{version_at(moved)} FROM lp_head AS p WHERE p.annotation_id = "
            "c.parent_annotation_id AND "
            + _rows(_slot(5), "split = 'train'", n=3, column="c.annotation_id")
        ),
        # First corrections (one per item) that kept their parent's label: which items
        # disagree is unchanged and no item goes above 6 current labels.
        "duplicate_current_revision": _Fault(
            "UPDATE annotations SET parent_annotation_id = NULL WHERE annotation_id IN (SELECT "
            "c.annotation_id FROM lp_head AS c JOIN lp_head AS p ON p.annotation_id = "
            f"c.parent_annotation_id WHERE c.{_slot(5)} AND c.label = p.label "
            "ORDER BY c.annotation_id LIMIT 2)"
        ),
        "undercovered_items": _Fault(
            f"DELETE FROM annotations WHERE {_VICTIMS} AND (annotation_id % {SLOTS} > 0 "
            f"OR annotation_id // {SLOTS} = {last_item})",
            f"(SELECT item_id FROM lp_head WHERE {_slot(0)} AND {_UNREVISED} ORDER BY item_id "
            f"LIMIT 3) UNION ALL SELECT printf('it_%08d', {last_item})",
            refresh=True,
        ),
        "overcovered_items": _Fault(
            f"INSERT INTO annotations SELECT a.annotation_id + x.s, a.item_id, "
            f"printf('ann_%d', {layout.n_annotators} + x.s - 3), a.label, a.confidence, a.notes,"
            f" {version_at(extra_at)}, {extra_at}, a.batch_id, a.tool, a.split, NULL "
            f"FROM lp_head AS a, range(3, 7) AS x(s) WHERE a.{_VICTIMS} AND a.{_slot(0)}",
            f"SELECT item_id FROM lp_head WHERE {_slot(0)} AND {_UNREVISED} AND annotation_id + 3"
            f" NOT IN (SELECT annotation_id FROM lp_head) ORDER BY annotation_id LIMIT 1",
            refresh=True,
        ),
    }
    # One annotator labels carelessly: each of their plain (never corrected) labels becomes
    # another class; the items' adjudications and the audits of their labels follow.
    careless = "annotator_id = (SELECT annotator_id FROM lp_head ORDER BY annotation_id LIMIT 1)"
    labels = _list(LABELS)
    faults["careless_annotator"] = _Fault(
        f"UPDATE annotations SET label = {labels}[1 + (list_position({labels}, label) + "
        f"{layout.pick('careless', 4, 'annotation_id')}) % 5] WHERE {careless} AND {_PLAIN_ALL};"
        f"DELETE FROM audit_results WHERE annotation_id IN (SELECT annotation_id FROM "
        f"annotations WHERE {careless});"
        f"INSERT INTO audit_results {layout.audits_sql(_VICTIM_INDEXES, 'a.' + careless)}",
        f"SELECT DISTINCT item_id FROM annotations WHERE {careless}",
        refresh=True,
    )
    # These three are built into the generated batch b0001 (see Layout.fault_batch).
    for name in ("low_confidence_batch", "low_agreement", "label_skew"):
        faults[name] = _Fault("")
    return faults


def _inject(con: Any, layout: Layout, fault: str) -> None:
    spec = _faults(layout)[fault]
    con.execute(_HEAD)
    if spec.victims:
        con.execute(f"CREATE OR REPLACE TEMP TABLE lp_victims AS {spec.victims}")
    if spec.sql:
        con.execute(spec.sql)
    if spec.refresh:
        _refresh_adjudications(con, layout)
    con.execute("DROP VIEW IF EXISTS lp_head")
    con.execute("DROP TABLE IF EXISTS lp_victims")


def _refresh_adjudications(con: Any, layout: Layout) -> None:
    """Recompute the victims' adjudications from their (changed) labels."""
    items = layout.items_sql(
        "(SELECT DISTINCT CAST(substr(item_id, 4) AS BIGINT) AS i FROM lp_victims)"
    )
    con.execute(f"""
        DELETE FROM adjudications WHERE {_VICTIMS};
        INSERT INTO adjudications
        SELECT {layout.adjudication_cols("g.last_at")}
        FROM ({items}) AS it
        JOIN (SELECT item_id AS victim, max(annotated_at) AS last_at,
                     count(DISTINCT label) FILTER (WHERE annotation_id NOT IN (
                       SELECT parent_annotation_id FROM annotations
                       WHERE {_VICTIMS} AND parent_annotation_id IS NOT NULL)) AS n_labels
              FROM annotations WHERE {_VICTIMS} GROUP BY item_id) AS g ON g.victim = it.item_id
        WHERE g.n_labels > 1""")


def rows_note(asked: int, counts: dict[str, int]) -> str:
    """Why the annotations table does not hold exactly the rows asked for (or "")."""
    got = counts.get("annotations", asked)
    if got == asked:
        return ""
    return (
        f"--rows {asked:,} sets the number of items ({counts.get('items', 0):,}, 3-5 labels "
        f"each plus corrections), so the annotations table holds {got:,} rows"
    )


def _count(con: Any, table: str) -> int:
    row = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(row[0])


def generate(
    target: Path,
    *,
    rows: int = 10_000,
    seed: int = 7,
    fault: str | None = None,
    fmt: str = "duckdb",
    schema: str = "raw",
    progress: Progress | None = None,
) -> dict[str, int]:
    """Write the four example tables; returns row counts per table.

    `fmt="duckdb"`: `target` is a DuckDB file whose `<schema>.annotations`, ... are replaced.
    `fmt="parquet"`: `target` is a directory that receives `annotations.parquet`, ...

    >>> generate(Path("target/demo.duckdb"), rows=2000, fault="bad_label")  # doctest: +SKIP
    {'annotations': 1985, 'instruction_versions': 3, 'adjudications': 167, 'items': 489}
    """
    import duckdb

    if fault is not None and fault not in FAULTS:
        raise ValueError(f"unknown fault '{fault}'; choose one of: {', '.join(FAULTS)}")
    if fmt not in ("duckdb", "parquet"):
        raise ValueError(f"unknown format '{fmt}'; choose duckdb or parquet")
    if rows < 100:
        raise ValueError("rows must be at least 100")
    say = progress or (lambda _message: None)
    layout = Layout.for_rows(rows, seed, fault)
    target = Path(target)
    if fmt == "duckdb":
        target.parent.mkdir(parents=True, exist_ok=True)
        db_path = target
    else:  # build in a scratch database beside the output (it may be larger than /tmp)
        target.mkdir(parents=True, exist_ok=True)
        scratch = target / ".labelpact-generate"
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir()
        db_path = scratch / "generate.duckdb"
    # Modest resources: generation runs beside other work; progress goes through `say`.
    con = duckdb.connect(str(db_path), config={"threads": 2, "memory_limit": "4GB"})
    con.execute("SET enable_progress_bar = false")
    try:
        _create_tables(con, schema)
        _fill(con, layout, say)
        if fault:
            say(f"fault {fault}: {FAULTS[fault]}")
            _inject(con, layout, fault)
        counts = {t: _count(con, t) for t in TABLES}
        if fmt == "parquet":
            for table in TABLES:
                say(f"parquet: {table}")
                out = _string(str(target / f"{table}.parquet"))
                con.execute(f"COPY {table} TO {out} (FORMAT parquet)")
        con.execute("CHECKPOINT")
        return counts
    finally:
        con.close()
        if fmt == "parquet":
            shutil.rmtree(db_path.parent, ignore_errors=True)


def append_batches(
    target: Path,
    *,
    base_rows: int,
    rows: int,
    seed: int = 7,
    schema: str = "raw",
    missing_tool: int = 0,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Append about `rows` annotation rows for new items, in new batches, to a DuckDB file
    that `generate(target, rows=base_rows, seed=seed)` wrote (and earlier appends grew);
    returns rows added per table. `missing_tool` new labels arrive without their tool.

    The new items continue the item numbering under the same layout, so they land in batches
    the data does not have yet (and bring their own items and adjudications), as a new
    labelling batch would.
    """
    import duckdb

    say = progress or (lambda _message: None)
    layout = Layout.for_rows(base_rows, seed)
    con = duckdb.connect(str(target), config={"threads": 2, "memory_limit": "4GB"})
    try:
        con.execute(f"SET schema = {_string(schema)}")
        before = {t: _count(con, t) for t in TABLES}
        lo = before["items"]
        if lo < layout.n_items:
            raise ValueError(
                f"{target} holds {lo:,} items, fewer than the {layout.n_items:,} of "
                f"{base_rows:,} generated rows; was it generated with those?"
            )
        hi = lo + max(1, round(rows / ROWS_PER_ITEM))
        _insert_items(con, layout, lo, hi, say)
        if missing_tool:
            con.execute(
                "UPDATE annotations SET tool = NULL WHERE annotation_id IN (SELECT "
                f"annotation_id FROM annotations ORDER BY annotation_id DESC LIMIT {missing_tool})"
            )
        con.execute("CHECKPOINT")
        return {t: _count(con, t) - before[t] for t in TABLES}
    finally:
        con.close()


def _create_tables(con: Any, schema: str) -> None:
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {_ident(schema)}")
    con.execute(f"SET schema = {_string(schema)}")
    for table, columns in COLUMNS.items():
        con.execute(f"DROP TABLE IF EXISTS {table}")
        con.execute(f"CREATE TABLE {table} ({', '.join(f'{c} {t}' for c, t in columns)})")
    con.execute(_REGISTRY)


def _fill(con: Any, layout: Layout, say: Progress) -> None:
    say(
        f"{layout.n_items:,} items in {layout.n_batches:,} batches, "
        f"{layout.n_annotators} annotators"
    )
    _insert_items(con, layout, 0, layout.n_items, say)


def _insert_items(con: Any, layout: Layout, lo: int, hi: int, say: Progress) -> None:
    """Items `lo`..`hi - 1` with their annotations and adjudications, chunk by chunk."""
    chunks = math.ceil((hi - lo) / CHUNK_ITEMS)
    for c, start in enumerate(range(lo, hi, CHUNK_ITEMS), start=1):
        end = min(hi, start + CHUNK_ITEMS)
        say(f"chunk {c}/{chunks}: items {start:,}-{end - 1:,}")
        con.execute(f"INSERT INTO items {layout.items_table_sql(start, end)}")
        con.execute(f"INSERT INTO annotations {layout.annotations_sql(start, end)}")
        con.execute(f"INSERT INTO adjudications {layout.adjudications_sql(start, end)}")
        chunk = f"a.annotation_id BETWEEN {start * SLOTS} AND {end * SLOTS - 1}"
        con.execute(f"INSERT INTO audit_results {layout.audits_sql(_range(start, end), chunk)}")


def duckdb_tables(con: Any, schema: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """(table, [(column, DuckDB type), ...]) for every table of `schema`, in name order."""
    tables = [
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ? "
            "ORDER BY table_name",
            [schema],
        ).fetchall()
    ]
    return [
        (
            t,
            [
                (c, ty)
                for c, ty in con.execute(
                    "SELECT column_name, data_type FROM information_schema.columns WHERE "
                    "table_schema = ? AND table_name = ? ORDER BY ordinal_position",
                    [schema, t],
                ).fetchall()
            ],
        )
        for t in tables
    ]


def main(argv: list[str] | None = None) -> int:
    """Command line: `python -m validator.example.data [options] TARGET`."""
    parser = argparse.ArgumentParser(
        prog="python -m validator.example.data",
        description="Write deterministic example annotation data (DuckDB or Parquet), "
        "optionally with one injected fault.",
        epilog="example:\n  python -m validator.example.data --rows 100000 --fault bad_label "
        "target/bad/labelpact.duckdb\n  python -m validator.example.data --format parquet "
        "target/parquet/",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "target", type=Path, nargs="?", help="DuckDB file, or directory for --format parquet"
    )
    parser.add_argument("--rows", type=int, default=10_000, help="annotation rows (approx.)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--fault",
        choices=sorted(FAULTS),
        default=None,
        metavar="NAME",
        help="inject one fault (see --list-faults)",
    )
    parser.add_argument("--format", choices=("duckdb", "parquet"), default="duckdb")
    parser.add_argument("--schema", default="raw", help="schema of the DuckDB tables")
    parser.add_argument("--list-faults", action="store_true", help="list faults and exit")
    args = parser.parse_args(argv)
    if args.list_faults:
        for name, what in FAULTS.items():
            print(f"{name:34} {what}")
        return 0
    if args.target is None:
        parser.error("TARGET is required")
    counts = generate(
        args.target,
        rows=args.rows,
        seed=args.seed,
        fault=args.fault,
        fmt=args.format,
        schema=args.schema,
        progress=lambda message: print(message, file=sys.stderr),
    )
    print(", ".join(f"{table}: {n:,} rows" for table, n in counts.items()))
    return 0


def _pg_type(duckdb_type: str) -> str:
    """PostgreSQL's name for a DuckDB column type, from the dialect layer's type map."""
    from validator.compiler.sql.dialects import get_dialect

    logical = duckdb_type.lower()
    return get_dialect("postgres").type_names.get(logical, logical)


def load_into_postgres(
    duckdb_path: Path, params: dict[str, str], schema: str = "raw", source_schema: str = "raw"
) -> dict[str, int]:
    """Copy the generated tables from a DuckDB file into PostgreSQL (replacing `schema`).

    Streams CSV through COPY, so no extension download is needed (DuckDB's postgres
    extension would fetch one at run time).
    """
    import io

    import duckdb
    import psycopg2

    src = duckdb.connect(str(duckdb_path), read_only=True)
    con = psycopg2.connect(
        host=params["host"],
        port=int(params["port"]),
        user=params["user"],
        password=params.get("password", ""),
        dbname=params["dbname"],
    )
    counts: dict[str, int] = {}
    try:
        cur = con.cursor()
        cur.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        cur.execute(f'CREATE SCHEMA "{schema}"')
        for table, columns in duckdb_tables(src, source_schema):
            ddl = ", ".join(f'"{c}" {_pg_type(t)}' for c, t in columns)
            cur.execute(f'CREATE TABLE "{schema}"."{table}" ({ddl})')
            buffer = io.StringIO()
            rows = src.execute(f'SELECT * FROM "{source_schema}"."{table}"').fetchall()
            import csv

            writer = csv.writer(buffer)
            for row in rows:
                writer.writerow(["\\N" if v is None else v for v in row])
            buffer.seek(0)
            cur.copy_expert(
                f'COPY "{schema}"."{table}" FROM STDIN WITH (FORMAT csv, NULL \'\\N\')', buffer
            )
            counts[table] = len(rows)
        con.commit()
    finally:
        con.close()
        src.close()
    return counts


if __name__ == "__main__":
    raise SystemExit(main())

"""Sizes, columns and per-item formulas of the example data (SQL text over item `i`, slot `j`),
shared by the generator (`data`) and the faults it injects (`faults`)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

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
        ("seconds_spent", "DOUBLE"),
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
                     AS parent_annotation_id,
                   {self.seconds_sql("annotator_id", "i", "j")} AS seconds_spent
            FROM ({scored}) AS r1"""

    def seconds_sql(self, annotator: str, *cols: str) -> str:
        """Active seconds spent on a label: 8-48 s, times the annotator's pace (0.7-1.3)."""
        u = self.u
        return f"round((8 + 40 * {u('took', *cols)}) * (0.7 + 0.6 * {u('pace', annotator)}), 1)"

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

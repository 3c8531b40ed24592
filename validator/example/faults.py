"""The faults `labelpact generate --fault` injects: each one real problem of annotation data,
as SQL over the generated tables, that exactly the checks of the tests' EXPECTED map catch.

The fault table is long on purpose: every fault is one entry (what it breaks and how) in one place.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from validator.example.layout import (
    HEAD_ITEMS,
    LABELS,
    SLOTS,
    Layout,
    _list,
    version_at,
)

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
    "skewed_annotator": "the busiest annotator labels everything 'other' (their label mix is far "
    "from everyone's; the audit and their agreement find them too)",
    "unsure_annotator": "the second-busiest annotator gives every label a confidence of 0.35-0.49",
    "hasty_annotator": "the fourth-busiest annotator spends 0.5-2 s on each label (implausibly "
    "fast)",
    "overcorrected_annotator": "every plain label of the third-busiest annotator is corrected "
    "(with the same label, an hour later): half their labels are corrected ones",
}


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
    # One entry per fault, each a few lines of SQL: long as a table is, and read as one.
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
            f" {version_at(extra_at)}, {extra_at}, a.batch_id, a.tool, a.split, NULL, "
            f"a.seconds_spent "
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
    faults |= _annotator_faults(layout)
    # These three are built into the generated batch b0001 (see Layout.fault_batch).
    for name in ("low_confidence_batch", "low_agreement", "label_skew"):
        faults[name] = _Fault("")
    return faults


def _busiest(rank: int) -> str:
    """The annotator with the `rank`-th most labels (1: the most; ties by id)."""
    return (
        "annotator_id = (SELECT annotator_id FROM annotations GROUP BY annotator_id "
        f"ORDER BY count(*) DESC, annotator_id LIMIT 1 OFFSET {rank - 1})"
    )


def _annotator_faults(layout: Layout) -> dict[str, _Fault]:
    """Faults of one annotator's work inside otherwise healthy batches (`annotators:` rules).
    The busiest annotators have enough labels for the rules to judge them at any size."""
    skewed, unsure, fixed, hasty = _busiest(1), _busiest(2), _busiest(3), _busiest(4)
    u = layout.u
    later = "a.annotated_at + INTERVAL 1 HOUR"
    return {
        # Their labels change, so the items' adjudications and the audits follow.
        "skewed_annotator": _Fault(
            f"UPDATE annotations SET label = 'other' WHERE {skewed} AND {_PLAIN_ALL};"
            f"DELETE FROM audit_results WHERE annotation_id IN (SELECT annotation_id FROM "
            f"annotations WHERE {skewed});"
            f"INSERT INTO audit_results {layout.audits_sql(_VICTIM_INDEXES, 'a.' + skewed)}",
            f"SELECT DISTINCT item_id FROM annotations WHERE {skewed}",
            refresh=True,
        ),
        # 0.35-0.49: below 0.5, above the 0.3 under which notes are required.
        "unsure_annotator": _Fault(
            f"UPDATE annotations SET confidence = round(0.35 + 0.14 * "
            f"{u('unsure', 'annotation_id')}, 2) WHERE {unsure}"
        ),
        # 0.5-2 s a label: too fast to have looked at the item.
        "hasty_annotator": _Fault(
            f"UPDATE annotations SET seconds_spent = round(0.5 + 1.5 * "
            f"{u('hasty', 'annotation_id')}, 1) WHERE {hasty}"
        ),
        # Slot 7 is free: one correction per plain label, same label (the current labels and
        # so every agreement, coverage and adjudication rule are unchanged).
        "overcorrected_annotator": _Fault(
            f"INSERT INTO annotations SELECT a.annotation_id - a.annotation_id % {SLOTS} + 7, "
            f"a.item_id, a.annotator_id, a.label, 0.9, 'relabelled after review', "
            f"{version_at(later)}, {later}, a.batch_id, a.tool, a.split, a.annotation_id, "
            f"{layout.seconds_sql('a.annotator_id', 'a.annotation_id', '7')} "
            f"FROM annotations AS a WHERE a.{fixed} AND a.{_PLAIN_ALL}"
        ),
    }


def inject(con: Any, layout: Layout, fault: str) -> None:
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

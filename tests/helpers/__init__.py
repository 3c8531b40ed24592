"""Helpers shared by the test modules (test modules never import from each other).

`ROOT` is the repository; `EXPECTED` maps each injectable fault of the example data to exactly
the check ids that must fail on it (dbt and GX alike). Golden files: `goldens.py` (`./run regen`
rewrites every one of them). Servers: `pgserver`, `sparkserver`.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
E2E_ROWS = 3000  # enough for every batch-level rule, small enough for ~1 s per dbt build

# fault -> exactly the check ids that must fail (errors and warnings)
EXPECTED: dict[str, set[str]] = {
    "missing_column": {"annotations.schema"},
    "extra_column": {"annotations.schema"},
    "mistyped_column": {"annotations.schema"},
    "missing_provenance": {"annotations.tool.not_null"},
    "duplicate_key": {"annotations.annotation_id.unique"},
    "bad_label": {"annotations.label.accepted_values"},
    "bad_pattern": {"annotations.annotator_id.pattern"},
    "confidence_out_of_range": {"annotations.confidence.between"},
    "future_timestamp": {"annotations.annotated_at.not_in_future"},
    "orphan_item": {"annotations.item_id.relationship"},
    "unknown_instruction_version": {"annotations.instructions.known"},
    "retired_instruction_version": {"annotations.instructions.active"},
    "unapproved_instruction_version": {"annotations.instructions.approved"},
    "overlapping_instruction_windows": {"instruction_versions.registry.no_overlap"},
    # test-split labels under v2, which v3 superseded: the contract rejects those in test
    "split_version_mix": {
        "annotations.instructions.split_single_version",
        "annotations.instructions.superseded_reject",
    },
    "missing_notes": {"annotations.uncertainty.notes_required"},
    "low_confidence_batch": {
        "annotations.uncertainty.batch_low_confidence",
        "annotations.uncertainty.batch_mean_confidence",
    },
    # the randomly labelled batch is also what the audit finds wrong, and the annotators who
    # worked in it have audited error rates above the limit
    "low_agreement": {
        "annotations.agreement.krippendorff_alpha",
        "annotations.audits.annotator_error_rate",
        "annotations.audits.batch_error_rate",
    },
    "unadjudicated_disagreement": {"annotations.adjudication.missing"},
    "invalid_adjudication_decision": {
        "annotations.adjudication.decision",
        "adjudications.decision.accepted_values",
    },
    "missing_adjudication_rationale": {"adjudications.rationale.not_null"},
    "unneeded_adjudication": {"annotations.adjudication.unneeded"},
    "orphan_revision": {"annotations.revisions.parent_exists"},
    "revision_cycle": {"annotations.revisions.no_cycles"},
    "revision_time_order": {"annotations.revisions.time_order"},
    "duplicate_current_revision": {"annotations.revisions.single_current"},
    "undercovered_items": {
        "annotations.coverage.min_annotations",
        "annotations.coverage.unannotated_items",
    },
    "overcovered_items": {"annotations.coverage.max_annotations"},
    "label_skew": {
        "annotations.label_distribution.share",
        "annotations.label_distribution.divergence",
    },
    # the audit finds the careless annotator, and so does their agreement with the reference
    "careless_annotator": {
        "annotations.audits.annotator_error_rate",
        "annotations.agreement.per_annotator",
    },
    # an annotator who labels everything 'other' (10% of items): their mix, and (being mostly
    # wrong) the audit and their agreement with the reference
    "skewed_annotator": {
        "annotations.annotators.label_mix",
        "annotations.audits.annotator_error_rate",
        "annotations.agreement.per_annotator",
    },
    "unsure_annotator": {"annotations.annotators.low_confidence"},
    "overcorrected_annotator": {"annotations.annotators.corrected"},
    "hasty_annotator": {"annotations.annotators.turnaround"},
}
SCHEMA_FAULTS = {"missing_column", "extra_column", "mistyped_column"}


def assert_croissant_loads_cleanly(doc: dict) -> None:  # type: ignore[type-arg]
    """`mlcroissant.Dataset` loads the JSON-LD with neither errors nor warnings."""
    import mlcroissant

    dataset = mlcroissant.Dataset(jsonld=doc)
    issues = dataset.metadata.ctx.issues
    assert not issues.errors and not issues.warnings, (issues.errors, issues.warnings)

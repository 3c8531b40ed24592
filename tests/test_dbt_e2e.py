"""Real `dbt build` on DuckDB: clean data passes, every injected fault fails the right checks."""

from __future__ import annotations

import pytest
from conftest import ROOT

from validator import exampledata
from validator.plan import build_plans
from validator.resolve import load_contracts

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
    "split_version_mix": {"annotations.instructions.split_single_version",
                          "annotations.instructions.superseded_reject"},
    "missing_notes": {"annotations.uncertainty.notes_required"},
    "low_confidence_batch": {"annotations.uncertainty.batch_low_confidence",
                             "annotations.uncertainty.batch_mean_confidence"},
    "low_agreement": {"annotations.agreement.krippendorff_alpha"},
    "unadjudicated_disagreement": {"annotations.adjudication.missing"},
    "invalid_adjudication_decision": {"annotations.adjudication.decision",
                                      "adjudications.decision.accepted_values"},
    "missing_adjudication_rationale": {"adjudications.rationale.not_null"},
    "unneeded_adjudication": {"annotations.adjudication.unneeded"},
    "orphan_revision": {"annotations.revisions.parent_exists"},
    "revision_cycle": {"annotations.revisions.no_cycles"},
    "revision_time_order": {"annotations.revisions.time_order"},
    "duplicate_current_revision": {"annotations.revisions.single_current"},
    "undercovered_items": {"annotations.coverage.min_annotations",
                           "annotations.coverage.unannotated_items"},
    "overcovered_items": {"annotations.coverage.max_annotations"},
    "label_skew": {"annotations.label_distribution.share",
                   "annotations.label_distribution.divergence"},
}
SCHEMA_FAULTS = {"missing_column", "extra_column", "mistyped_column"}


def test_every_fault_has_an_expectation() -> None:
    assert set(EXPECTED) == set(exampledata.FAULTS)


def test_clean_data_passes_every_check(engine) -> None:  # type: ignore[no-untyped-def]
    result = engine.build(None)
    assert result.success
    assert result.failing_ids == set()
    statuses = {o.status for o in result.outcomes.values()}
    assert statuses == {"pass"}
    # every check of the plan ran, one dbt node each (schema checks map to models)
    plan_ids = {c.id for p in build_plans(load_contracts([ROOT / "contracts"])) for c in p.checks}
    assert set(result.outcomes) == plan_ids


@pytest.mark.parametrize("fault", sorted(EXPECTED))
def test_fault_fails_exactly_its_checks(engine, fault: str) -> None:  # type: ignore[no-untyped-def]
    result = engine.build(fault)
    assert result.failing_ids == EXPECTED[fault]
    if fault not in SCHEMA_FAULTS:  # a failing check must not keep others from running
        assert {c for c, o in result.outcomes.items() if o.status == "skipped"} == set()
    warn_only = all(result.outcomes[c].severity == "warn" for c in EXPECTED[fault])
    assert result.success is warn_only  # a warn-severity check alone does not fail the build


@pytest.mark.parametrize("fault", sorted(SCHEMA_FAULTS))
def test_schema_faults_fail_with_dbts_contract_message(engine, fault: str) -> None:  # type: ignore[no-untyped-def]
    outcome = engine.build(fault).outcomes["annotations.schema"]
    assert outcome.status == "error"
    assert "This model has an enforced contract that failed" in outcome.message
    column = {"missing_column": "tool", "extra_column": "extra_col",
              "mistyped_column": "confidence"}[fault]
    assert column in outcome.message


def test_failures_report_counts(engine) -> None:  # type: ignore[no-untyped-def]
    outcome = engine.build("missing_provenance").outcomes["annotations.tool.not_null"]
    assert outcome.failures == 5
    assert "is null" in outcome.sql.lower() and "tool" in outcome.sql

"""Check kinds (validator/compiler/kinds/): each class declares what it reads, how it runs
incrementally and how each target renders it."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest
from sqlglot import exp

from validator.compiler.kinds import KINDS, DbtForm, Incremental, Kind, Params, Role, role
from validator.compiler.plan import build_plans
from validator.compiler.sql.dialects import get_dialect
from validator.contract.resolve import load_contracts
from validator.verdict.incremental import mode, other_relations

ROOT = Path(__file__).resolve().parent.parent
DUCKDB = get_dialect("duckdb")

# How `validate --incremental` computes each kind: the README's table, kind by kind.
INCREMENTAL = {
    Incremental.SCHEMA: {Kind.SCHEMA},
    Incremental.ROWS: {
        Kind.NOT_NULL, Kind.ACCEPTED_VALUES, Kind.PATTERN, Kind.BETWEEN, Kind.NOT_IN_FUTURE,
        Kind.NOTES_REQUIRED, Kind.CUSTOM_EXPRESSION, Kind.RELATIONSHIP, Kind.INSTRUCTION_KNOWN,
        Kind.INSTRUCTION_APPROVED, Kind.INSTRUCTION_ACTIVE, Kind.SPLIT_ALLOWED_VERSIONS,
        Kind.SUPERSEDED_VERSION, Kind.ROLE_NOT_NULL, Kind.REVISION_PARENT, Kind.REVISION_CYCLE,
        Kind.REVISION_TIME_ORDER,
    },
    Incremental.PER_GROUP: {
        Kind.AGREEMENT, Kind.BATCH_LOW_CONFIDENCE, Kind.BATCH_MEAN_CONFIDENCE, Kind.LABEL_SHARE,
        Kind.LABEL_DIVERGENCE,
    },
    Incremental.UNIQUE: {Kind.UNIQUE, Kind.UNIQUE_KEY},
    Incremental.PER_ITEM: {
        Kind.COVERAGE_MIN, Kind.COVERAGE_MAX, Kind.ADJUDICATION_MISSING,
        Kind.ADJUDICATION_UNNEEDED, Kind.ADJUDICATION_DECISION, Kind.REVISION_SINGLE_CURRENT,
    },
    Incremental.ITEM_SUMS: {Kind.ANNOTATOR_AGREEMENT},
    Incremental.ROW_SUMS: {
        Kind.ANNOTATOR_LOW_CONFIDENCE, Kind.ANNOTATOR_CORRECTED, Kind.AUDIT_ERROR_RATE,
        Kind.ANNOTATOR_LABEL_MIX,
    },
    Incremental.FULL: {
        Kind.SPLIT_SINGLE_VERSION, Kind.REGISTRY_NO_OVERLAP, Kind.ANNOTATOR_TURNAROUND,
    },
    Incremental.UNMATCHED: {Kind.COVERAGE_MISSING},
}  # fmt: skip


@pytest.fixture(scope="module")
def plans(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The example contracts, plus the kinds they do not use: a compound key, the versions
    allowed per split, and (from the export example's filtered sections) role not-nulls."""
    out = tmp_path_factory.mktemp("contracts")
    shutil.copytree(ROOT / "contracts", out, dirs_exist_ok=True)
    ann = out / "annotations.yml"
    ann.write_text(
        ann.read_text(encoding="utf-8").replace(
            "splits: {column: split, single_version: [validation, test]}",
            "splits: {column: split, single_version: [validation, test], "
            "allowed: {train: [v1, v2]}}",
        ),
        encoding="utf-8",
    )
    adj = out / "adjudications.yml"
    adj.write_text(
        adj.read_text(encoding="utf-8").replace("key: [item_id]", "key: [item_id, adjudicator_id]"),
        encoding="utf-8",
    )
    shutil.copytree(ROOT / "examples" / "export" / "contracts", out, dirs_exist_ok=True)
    return {p.contract.name: p for p in build_plans(load_contracts([out]))}


def test_every_kind_has_one_class() -> None:
    assert set(KINDS) == set(Kind)
    assert all(cls.kind is kind for kind, cls in KINDS.items())


@pytest.mark.parametrize("how", list(Incremental))
def test_each_kind_declares_how_it_runs_incrementally(how: Incremental) -> None:
    assert {k for k, cls in KINDS.items() if cls.incremental is how} == INCREMENTAL[how]


def test_generic_dbt_tests_are_declared_by_their_kinds() -> None:
    generic = {
        k for k, cls in KINDS.items() if cls.dbt in (DbtForm.COLUMN_TEST, DbtForm.MODEL_TEST)
    }
    assert generic == {
        Kind.NOT_NULL,
        Kind.UNIQUE,
        Kind.UNIQUE_KEY,
        Kind.ACCEPTED_VALUES,
        Kind.PATTERN,
        Kind.BETWEEN,
        Kind.NOT_IN_FUTURE,
        Kind.RELATIONSHIP,
    }
    assert KINDS[Kind.SCHEMA].dbt is DbtForm.MODEL_CONTRACT
    assert not any(
        dataclasses.fields(cls) for k, cls in KINDS.items() if k in (Kind.NOT_NULL, Kind.UNIQUE)
    )


def test_every_planned_check_renders_in_every_target(plans) -> None:  # type: ignore[no-untyped-def]
    checks = [c for p in plans.values() for c in p.checks]

    def plan_key(check):  # type: ignore[no-untyped-def]
        return plans[check.contract].contract.key

    assert {c.kind for c in checks} == set(Kind)
    for check in checks:
        p = check.params
        if p.dbt in (DbtForm.COLUMN_TEST, DbtForm.MODEL_TEST):
            name, _ = p.dbt_test()
            assert name
        else:
            with pytest.raises(ValueError, match="not a generic dbt test"):
                p.dbt_test()
        if check.kind is not Kind.SCHEMA:
            assert p.failing_rows(check, exp.to_table, DUCKDB, plan_key(check)).sql()
        else:
            with pytest.raises(ValueError, match="no SQL rendering"):
                p.failing_rows(check, exp.to_table, DUCKDB, ())


def test_relations_read_are_the_declared_relation_fields(plans) -> None:  # type: ignore[no-untyped-def]
    read = {c.id: other_relations(c) for c in plans["annotations"].checks if other_relations(c)}
    assert read == {
        "annotations.item_id.relationship": {"items"},
        "annotations.instructions.known": {"instruction_versions"},
        "annotations.instructions.approved": {"instruction_versions"},
        "annotations.instructions.active": {"instruction_versions"},
        "annotations.instructions.superseded_reject": {"instruction_versions"},
        "annotations.adjudication.missing": {"adjudications"},
        "annotations.adjudication.decision": {"adjudications"},
        "annotations.adjudication.unneeded": {"adjudications"},
        "annotations.coverage.unannotated_items": {"items"},
        "annotations.agreement.per_annotator": {"adjudications"},
        "annotations.audits.annotator_error_rate": {"audit_results"},
        "annotations.audits.batch_error_rate": {"audit_results"},
    }


def test_incremental_mode_follows_the_grouping_and_item_columns(plans) -> None:  # type: ignore[no-untyped-def]
    plan = plans["annotations"]
    modes = {c.id: mode(c, plan.contract) for c in plan.checks}
    assert modes["annotations.agreement.krippendorff_alpha"] == "rows"  # by the batch column
    assert modes["annotations.coverage.min_annotations"] == "items"
    assert modes["annotations.revisions.single_current"] == "items"  # lineage has the item
    assert modes["annotations.revisions.no_cycles"] == "rows"  # chains never span old and new
    assert modes["annotations.agreement.per_annotator"] == "sums"
    assert modes["annotations.annotators.low_confidence"] == "row_sums"
    assert modes["annotations.audits.annotator_error_rate"] == "row_sums"  # audits name labels
    assert modes["annotations.audits.batch_error_rate"] == "rows"  # per batch: new groups only
    assert modes["annotations.annotators.turnaround"] == "full"
    assert modes["annotations.annotation_id.unique"] == "unique"
    assert modes["annotations.schema"] == "schema"


def test_name_fields_are_declared(plans) -> None:  # type: ignore[no-untyped-def]
    """Every string parameter naming a column or a contract is declared as one (else the shape
    cache would key on the name, and incremental runs would not see the relation)."""
    for plan in plans.values():
        names = set(plan.contract.columns) | set(plans)
        for check in plan.checks:
            if not check.params.by_shape:
                continue
            for fld in dataclasses.fields(check.params):
                value = getattr(check.params, fld.name)
                if isinstance(value, str) and value in names:
                    assert role(fld) is not Role.VALUE, (check.id, fld.name)


def test_params_are_immutable(plans) -> None:  # type: ignore[no-untyped-def]
    check = next(c for c in plans["annotations"].checks if c.kind is Kind.ACCEPTED_VALUES)
    assert isinstance(check.params, Params)
    with pytest.raises(dataclasses.FrozenInstanceError):
        check.params.values = ("x",)  # type: ignore[attr-defined]

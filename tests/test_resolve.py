"""Resolver: defaults, implied requirements, and the plan built from resolved contracts."""

from __future__ import annotations

from pathlib import Path

import pytest

from validator.compiler.kinds import SupersededVersion
from validator.compiler.plan import Kind, build_plans
from validator.contract.resolve import load_contracts
from validator.errors import ContractError

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def contracts():  # type: ignore[no-untyped-def]
    return {c.name: c for c in load_contracts([ROOT / "contracts"])}


def test_defaults_are_applied(contracts) -> None:  # type: ignore[no-untyped-def]
    items = contracts["items"]
    assert items.extra_columns == "forbid"
    assert items.materialized == "view"
    ann = contracts["annotations"]
    assert ann.sections.instructions is not None and ann.sections.uncertainty is not None
    assert ann.sections.instructions.require_approved is True
    assert ann.sections.uncertainty.range == (0, 1)


def test_roles_imply_non_null(contracts) -> None:  # type: ignore[no-untyped-def]
    ann = contracts["annotations"]
    # provenance.tool and agreement.rater make these required even if the column did not say so
    assert ann.columns["tool"].required
    assert ann.columns["annotator_id"].required
    assert not ann.columns["confidence"].required


def test_dependencies_between_contracts(contracts) -> None:  # type: ignore[no-untyped-def]
    assert contracts["annotations"].depends_on() == {
        "items",
        "instruction_versions",
        "adjudications",
        "audit_results",
    }


def test_check_ids_are_unique_and_stable(contracts) -> None:  # type: ignore[no-untyped-def]
    plans = build_plans(list(contracts.values()))
    ids = [c.id for p in plans for c in p.checks]
    assert len(ids) == len(set(ids))
    again = [c.id for p in build_plans(list(contracts.values())) for c in p.checks]
    assert ids == again
    kinds = {c.kind for p in plans for c in p.checks}
    assert kinds >= {
        Kind.AGREEMENT,
        Kind.COVERAGE_MIN,
        Kind.REVISION_CYCLE,
        Kind.INSTRUCTION_ACTIVE,
        Kind.ADJUDICATION_MISSING,
        Kind.LABEL_SHARE,
    }


def test_load_contracts_raises_with_every_problem(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text("contract: a\nversion: x\n")
    with pytest.raises(ContractError) as info:
        load_contracts([tmp_path])
    assert len(info.value.problems) == 4
    assert "a.yml:2:10" in str(info.value)


def test_ordinal_agreement_takes_categories_from_accepted_values(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text(
        "contract: a\nversion: 1.0.0\nowner: o\nsource: {dbt_source: raw.a}\ncolumns:\n"
        "  i: {type: varchar}\n  r: {type: varchar}\n"
        "  l: {type: varchar, accepted_values: [low, mid, high]}\n"
        "agreement: {item: i, rater: r, label: l, metric: krippendorff_alpha, level: ordinal, "
        "min: 0.5}\n"
    )
    (a,) = load_contracts([tmp_path])
    assert a.sections.agreement is not None
    assert a.sections.agreement.categories == ("low", "mid", "high")


def test_contract_referencing_an_invalid_contract_is_not_planned(tmp_path: Path) -> None:
    # Found by fuzz/fuzz_contracts.py: a broken registry left its dependant "valid".
    import shutil

    from validator.contract.resolve import lint_paths

    shutil.copytree(ROOT / "contracts", tmp_path / "contracts")
    registry = tmp_path / "contracts" / "instruction_versions.yml"
    registry.write_text(registry.read_text().replace("version: 1.0.0", "version: '0'"))
    contracts, problems = lint_paths([tmp_path / "contracts"])
    assert {c.name for c in contracts} == {"items", "adjudications", "audit_results"}
    assert [p.loc.path for p in problems] == [str(registry)]
    build_plans(contracts)  # plans what remains without a KeyError


@pytest.mark.parametrize(("policy", "severity"), [("flag", "warn"), ("reject", "error")])
def test_superseded_policy_becomes_a_check(tmp_path: Path, policy: str, severity: str) -> None:
    import shutil

    shutil.copytree(ROOT / "contracts", tmp_path / "contracts")
    path = tmp_path / "contracts" / "annotations.yml"
    path.write_text(
        path.read_text().replace(
            "superseded: {train: accept, validation: reject, test: reject}",
            f"superseded: {{all: {policy}}}",
        )
    )
    plans = {p.contract.name: p for p in build_plans(load_contracts([tmp_path / "contracts"]))}
    (check,) = [c for c in plans["annotations"].checks if c.kind == Kind.SUPERSEDED_VERSION]
    assert (check.id, check.severity) == (f"annotations.instructions.superseded_{policy}", severity)
    assert isinstance(check.params, SupersededVersion)
    assert check.params.splits is None  # every split


def test_superseded_accept_adds_no_check() -> None:
    plans = build_plans(load_contracts([ROOT / "contracts"]))
    ids = {c.id for p in plans for c in p.checks}
    assert "annotations.instructions.superseded_reject" in ids
    assert not any(i.endswith("superseded_accept") for i in ids)


def test_numeric_categories_for_a_numeric_label(tmp_path: Path) -> None:
    """Regression: `categories: [1, 2, 3]` on an integer label gave one error per element."""
    (tmp_path / "ratings.yml").write_text(
        "contract: ratings\nversion: 1.0.0\nowner: a@b.c\nsource: {dbt_source: raw.ratings}\n"
        "columns:\n  item_id: {type: varchar, required: true}\n"
        "  rater: {type: varchar, required: true}\n  stars: {type: integer, required: true}\n"
        "agreement: {item: item_id, rater: rater, label: stars, metric: krippendorff_alpha,\n"
        "            level: ordinal, categories: [1, 2, 3], min: 0.5}\n"
    )
    (contract,) = load_contracts([tmp_path])
    assert contract.sections.agreement is not None
    assert contract.sections.agreement.categories == ("1", "2", "3")

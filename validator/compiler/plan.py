"""The engine-neutral check plan (IR): every rule of a contract becomes one named `Check`.

A check's parameters are an instance of its kind's class (`compiler/kinds/`), which also says
how every target renders it, so a rule cannot be present in one output and missing from
another.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from validator.compiler import plan_sections as sections
from validator.compiler.kinds import DbtForm, Kind, Params
from validator.compiler.plan_annotators import plan_annotators
from validator.compiler.plan_filters import plan_filtered_roles
from validator.contract.model import Contract
from validator.errors import Location

__all__ = ["Check", "Kind", "Plan", "build_plan", "build_plans"]


@dataclass(frozen=True)
class Check:
    """One named, stable check of one contract."""

    id: str
    contract: str
    version: str
    owner: str
    severity: str
    description: str
    loc: Location
    params: Params
    column: str | None = None

    @property
    def kind(self) -> Kind:
        return self.params.kind

    @property
    def test_name(self) -> str:
        """A warehouse- and dbt-safe name derived from the id."""
        return "lp_" + "".join(ch if ch.isalnum() else "_" for ch in self.id.replace(".", "__"))

    @property
    def is_column_rule(self) -> bool:
        """A rule on one column, rendered as a generic data test on that column in dbt."""
        return self.params.dbt is DbtForm.COLUMN_TEST


@dataclass(frozen=True)
class Plan:
    """All checks of one contract, in a stable order."""

    contract: Contract
    checks: tuple[Check, ...]


def build_plan(contract: Contract, contracts: dict[str, Contract]) -> Plan:
    """Translate a resolved contract into its checks (pure; same input, same plan)."""
    b = Builder(contract)
    sections.plan_schema(b)
    sections.plan_columns(b)
    plan_filtered_roles(b)
    sections.plan_key(b)
    sections.plan_instructions(b, contracts)
    sections.plan_registry(b)
    sections.plan_uncertainty(b)
    sections.plan_agreement(b, contracts)
    sections.plan_adjudication(b, contracts)
    sections.plan_audits(b, contracts)
    sections.plan_revisions(b)
    sections.plan_coverage(b)
    sections.plan_label_distribution(b)
    plan_annotators(b)
    sections.plan_custom(b)
    return Plan(contract, tuple(b.checks))


class Builder:
    """One contract's checks as the section planners (`plan_sections.py`) add them."""

    def __init__(self, contract: Contract) -> None:
        self.c = contract
        self.s = contract.sections
        self.checks: list[Check] = []

    def add(
        self,
        id_: str,
        params: Params,
        description: str,
        *,
        severity: str = "error",
        column: str | None = None,
    ) -> None:
        self.checks.append(
            Check(
                id=f"{self.c.name}.{id_}",
                contract=self.c.name,
                version=self.c.version,
                owner=self.c.owner,
                severity=severity,
                description=description,
                loc=self.c.columns[column].loc if column else self.c.loc,
                params=params,
                column=column,
            )
        )

    def current(self) -> dict[str, Any]:
        """Parameters restricting a check to current (non-superseded) rows, if revised."""
        if self.s.revisions is None:
            return {}
        return {"current_key": self.c.key[0], "current_parent": self.s.revisions.parent}


def build_plans(contracts: list[Contract]) -> list[Plan]:
    """Plans for every contract, in name order."""
    by_name = {c.name: c for c in contracts}
    return [build_plan(c, by_name) for c in sorted(contracts, key=lambda c: c.name)]

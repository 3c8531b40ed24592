"""References between contracts: each names a contract that exists and has the needed section
and columns, and no contracts reference each other in a cycle."""

from __future__ import annotations

from collections.abc import Callable

from validator.contract.model import Column, Contract, RawContract
from validator.contract.yamlload import Node
from validator.errors import Location, Problem, did_you_mean


def check_links(
    contract: Contract,
    contracts: dict[str, Contract],
    raws: dict[str, RawContract],
    invalid: set[str],
) -> list[Problem]:
    """References to other contracts: they exist, have the needed section and columns."""
    problems: list[Problem] = []
    node = raws[contract.name].node
    names = list(contracts) + [n for n in raws if n not in contracts]

    def missing(ref: str, loc: Location, where: str) -> bool:
        if ref in contracts:
            return False
        if ref in raws or ref in invalid:  # exists but is invalid; its own problems say why
            return True
        problems.append(
            Problem(
                loc,
                f"{where} names contract '{ref}', which is not among the linted contracts",
                did_you_mean(ref, names),
            )
        )
        return True

    for col in contract.columns.values():
        if col.references:
            ref_contract = col.references[0]
            rnode = node.value["columns"].value[col.name].value["references"]
            if not missing(
                ref_contract, rnode.value["contract"].loc, f"columns.{col.name}.references"
            ):
                problems.extend(_check_reference(col, contracts[ref_contract], rnode))
    _section_links(contract, contracts, node, missing, problems)
    return problems


def _section_links(
    contract: Contract,
    contracts: dict[str, Contract],
    node: Node,
    missing: Callable[[str, Location, str], bool],
    problems: list[Problem],
) -> None:
    """The contracts a section names have the section or column it needs; appends to
    `problems`, as `missing` does for a contract that does not exist (one list, in order)."""
    s = contract.sections
    if (i := s.instructions) is not None:
        loc = node.value["instructions"].value["registry"].loc
        if not missing(i.registry, loc, "instructions.registry"):
            if contracts[i.registry].sections.registry is None:
                problems.append(
                    Problem(
                        loc,
                        f"instructions.registry: contract '{i.registry}'"
                        " has no `registry:` section",
                    )
                )
    if (a := s.adjudication) is not None:
        loc = node.value["adjudication"].value["contract"].loc
        if not missing(a.contract, loc, "adjudication.contract"):
            if contracts[a.contract].sections.adjudication_record is None:
                problems.append(
                    Problem(
                        loc,
                        f"adjudication.contract: contract '{a.contract}'"
                        " has no `adjudication_record:` section",
                    )
                )
    if (au := s.audits) is not None:
        loc = node.value["audits"].value["contract"].loc
        if not missing(au.contract, loc, "audits.contract"):
            if contracts[au.contract].sections.audit_record is None:
                problems.append(
                    Problem(
                        loc,
                        f"audits.contract: contract '{au.contract}' has no `audit_record:` section",
                    )
                )
    if (c := s.coverage) is not None and c.items is not None:
        inode = node.value["coverage"].value["items"]
        if not missing(c.items.contract, inode.value["contract"].loc, "coverage.items"):
            other = contracts[c.items.contract]
            if c.items.item not in other.columns:
                problems.append(
                    Problem(
                        inode.value["item"].loc,
                        f"coverage.items: contract '{other.name}' has no column '{c.items.item}'",
                        did_you_mean(c.items.item, list(other.columns)),
                    )
                )


def _check_reference(col: Column, other: Contract, rnode: Node) -> list[Problem]:
    """A column's `references`: the referenced column exists and has the same type."""
    assert col.references is not None
    ref_contract, ref_col = col.references
    if ref_col not in other.columns:
        return [
            Problem(
                rnode.value["column"].loc,
                f"columns.{col.name}.references: contract "
                f"'{ref_contract}' has no column '{ref_col}'",
                did_you_mean(ref_col, list(other.columns)),
            )
        ]
    if other.columns[ref_col].type != col.type:
        return [
            Problem(
                rnode.value["column"].loc,
                f"columns.{col.name} is {col.type} but "
                f"references {ref_contract}.{ref_col} ({other.columns[ref_col].type})",
            )
        ]
    return []


def check_cycles(contracts: dict[str, Contract]) -> list[Problem]:
    """Contracts referencing each other in a loop cannot be built in any order."""
    problems: list[Problem] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(name: str) -> None:
        state[name] = 1
        stack.append(name)
        for dep in sorted(contracts[name].depends_on()):
            if dep not in contracts:
                continue
            if state.get(dep) == 1:
                cycle = [*stack[stack.index(dep) :], dep]
                problems.append(
                    Problem(
                        contracts[name].loc,
                        "contracts reference each other in a cycle: " + " -> ".join(cycle),
                    )
                )
            elif dep not in state:
                visit(dep)
        stack.pop()
        state[name] = 2

    for name in sorted(contracts):
        if name not in state:
            visit(name)
    return problems

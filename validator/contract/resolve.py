"""From raw contract files to validated `Contract`s, reporting every problem in one pass."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from validator.contract import spec as S
from validator.contract.model import Column, Contract, RawContract, Source
from validator.contract.sections import (
    SECTION_TYPES,
    Coverage,
    CustomCheck,
    Instructions,
    LabelDistribution,
    Revisions,
    Sections,
    Uncertainty,
    from_plain,
)
from validator.contract.sections import Agreement as AgreementSection
from validator.contract.yamlload import Node, load_file
from validator.errors import ContractError, Location, Problem, did_you_mean

# Role fields whose column is non-null by definition: a label without them is untraceable.
REQUIRED_ROLES = {
    "provenance": ("annotator", "timestamp", "tool", "batch"),
    "instructions": ("column", "active_at"),
    "registry": ("version", "effective_from"),
    "agreement": ("item", "rater", "label"),
    "adjudication_record": ("item", "decision", "adjudicator", "rationale"),
    "coverage": ("item",),
}
MAX_NAME = 63  # PostgreSQL truncates longer identifiers silently


def discover(paths: list[Path]) -> list[Path]:
    """Contract files under the given files/directories (*.yml, *.yaml), sorted."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                sorted(p for p in path.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file())
            )
        elif path.exists():
            found.append(path)
        else:
            raise ContractError([Problem(Location(str(path), 1, 1), "no such file or directory")])
    return found


def load_contracts(paths: list[Path], strict: bool = False) -> list[Contract]:
    """Load, validate and resolve contracts; raises `ContractError` with every problem."""
    contracts, problems = lint_paths(paths, strict=strict)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise ContractError(errors)
    return contracts


def lint_paths(paths: list[Path], strict: bool = False) -> tuple[list[Contract], list[Problem]]:
    """Every problem in every file under `paths`, plus the contracts that resolved cleanly."""
    problems: list[Problem] = []
    raws: list[RawContract] = []
    for path in discover(paths):
        node, found = load_file(path)
        problems.extend(found)
        if node is not None:
            raws.append(RawContract(str(path), node))
    contracts, found = resolve(raws, strict=strict)
    return contracts, problems + found


def resolve(raws: list[RawContract], strict: bool = False) -> tuple[list[Contract], list[Problem]]:
    """Validate structure, then references within and between contracts."""
    problems: list[Problem] = []
    valid: list[RawContract] = []
    for raw in raws:
        found: list[Problem] = []
        if not raw.node.is_map:
            problems.append(
                Problem(
                    raw.node.loc,
                    "a contract file must be a mapping with `contract:`, `version:` and `columns:`",
                )
            )
            continue
        S.validate(raw.node, S.CONTRACT, "contract file", found)
        problems.extend(found)
        if not found:
            valid.append(raw)
    by_name: dict[str, RawContract] = {}
    for raw in valid:
        name = raw.name or ""
        if name in by_name:
            first = by_name[name].node.get("contract")
            assert first is not None
            problems.append(
                Problem(
                    raw.node.value["contract"].loc,
                    f"contract '{name}' is also defined in {first.loc}",
                )
            )
            continue
        by_name[name] = raw
    contracts: dict[str, Contract] = {}
    for name, raw in by_name.items():
        contract, found = _resolve_one(raw, strict)
        problems.extend(found)
        if contract is not None:
            contracts[name] = contract
    # Contracts that exist but are themselves invalid: references to them are not "missing".
    invalid = {r.name for r in raws if r.name and r.name not in contracts}
    for contract in contracts.values():
        problems.extend(_check_links(contract, contracts, by_name, invalid))
    problems.extend(_check_cycles(contracts))
    bad = {p.loc.path for p in problems if p.severity == "error"}
    good = {n: c for n, c in contracts.items() if c.path not in bad}
    # A contract whose referenced contract is invalid cannot be planned either (its checks
    # read that contract's relation); the referenced file's own problems say why.
    changed = True
    while changed:
        changed = False
        for name, contract in list(good.items()):
            if not contract.depends_on() <= good.keys():
                del good[name]
                changed = True
    return list(good.values()), problems


def _resolve_one(raw: RawContract, strict: bool) -> tuple[Contract | None, list[Problem]]:
    node = raw.node
    problems: list[Problem] = []
    columns_node = node.value["columns"]
    columns: dict[str, Column] = {}
    folded: dict[str, str] = {}
    for name, cnode in columns_node.value.items():
        loc = columns_node.key_locs[name]
        problems.extend(_check_column_name(name, loc, folded))
        columns[name] = _column(name, cnode, loc, problems)
    problems.extend(_check_column_refs(node, columns))
    if problems:
        return None, problems
    sections = _sections(node)
    columns = _with_required_roles(columns, sections, node.plain().get("key", []))
    problems.extend(_check_sections(node, sections, columns))
    problems.extend(_check_expressions(node, columns))
    if problems:
        return None, problems
    values = node.plain()
    source_kind = next(k for k in ("dbt_source", "ref", "path") if k in values["source"])
    contract = Contract(
        name=values["contract"],
        version=values["version"],
        owner=values["owner"],
        description=values.get("description") or "",
        path=raw.path,
        loc=node.loc,
        source=Source(source_kind, values["source"][source_kind]),
        columns=columns,
        key=tuple(values.get("key") or ()),
        extra_columns=values.get("extra_columns", "forbid"),
        materialized=values.get("materialized", "view"),
        sections=_with_categories(sections, columns),
    )
    if strict:
        problems.extend(
            Problem(col.loc, f"column '{col.name}' has no description (strict mode)")
            for col in columns.values()
            if not col.description
        )
    if strict and not contract.description:
        problems.append(
            Problem(node.loc, f"contract '{contract.name}' has no description (strict mode)")
        )
    return contract, problems


def _check_column_refs(node: Node, columns: dict[str, Column]) -> list[Problem]:
    """Column references: existence, did-you-mean, and type constraints."""
    problems: list[Problem] = []
    for where, ref, ref_spec in S.walk_refs(node, S.CONTRACT, "contract file"):
        if not isinstance(ref_spec, S.ColRef):
            continue
        target = ref.value
        if target not in columns:
            problems.append(
                Problem(
                    ref.loc,
                    f"{where} names column '{target}', which is not declared in `columns`",
                    did_you_mean(target, list(columns)),
                )
            )
        elif ref_spec.types and columns[target].type not in ref_spec.types:
            problems.append(
                Problem(
                    ref.loc,
                    f"{where} must name a "
                    f"{'/'.join(sorted(ref_spec.types))} column; '{target}' is "
                    f"{columns[target].type}",
                )
            )
    return problems


def _sections(node: Node) -> Sections:
    """The typed sections of a structurally valid contract, with defaults applied."""
    found: dict[str, Any] = {}
    for name, cls in SECTION_TYPES.items():
        if name in node.value:
            found[name] = from_plain(
                cls, _with_defaults(node.value[name], S.CONTRACT.fields[name].spec)
            )
    checks = node.get("checks")
    custom = tuple(from_plain(CustomCheck, item) for item in (checks.plain() if checks else []))
    return Sections(**found, custom_checks=custom)


def _with_required_roles(
    columns: dict[str, Column], sections: Sections, key: list[str]
) -> dict[str, Column]:
    """Columns with role columns and key columns made required (non-null by definition)."""
    out = dict(columns)
    for section, roles in REQUIRED_ROLES.items():
        block = getattr(sections, section)
        for role in roles:
            col = getattr(block, role) if block is not None else None
            if col and not out[col].required:
                out[col] = replace(out[col], required=True)
    for col in key:
        out[col] = replace(out[col], required=True)
    return out


def _needs_order(a: AgreementSection) -> bool:
    return (a.metric == "krippendorff_alpha" and a.level == "ordinal") or (
        a.metric == "cohen_kappa" and a.weights != "none"
    )


def _with_categories(sections: Sections, columns: dict[str, Column]) -> Sections:
    """Ordinal alpha and weighted kappa without `categories` take the label's accepted values
    in their order (`_check_agreement` reported the case where there are none)."""
    a = sections.agreement
    accepted = columns[a.label].accepted_values if a is not None else None
    if a is None or a.categories or not _needs_order(a) or not accepted:
        return sections
    return replace(sections, agreement=replace(a, categories=tuple(str(x) for x in accepted)))


def _check_column_name(name: str, loc: Location, folded: dict[str, str]) -> list[Problem]:
    problems = []
    if not name.strip():
        problems.append(Problem(loc, "column name must not be empty"))
    elif any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        problems.append(Problem(loc, f"column name {name!r} contains a control character"))
    elif '"' in name or "`" in name:
        # dbt's adapter.quote() does not escape embedded quotes, so the built model would
        # break (or worse); such names cannot be carried safely to every warehouse.
        problems.append(
            Problem(
                loc,
                f"column name {name!r} contains a quote character, which "
                "dbt cannot quote safely; rename the column",
            )
        )
    elif len(name.encode("utf-8")) > MAX_NAME:
        problems.append(
            Problem(
                loc,
                f"column name '{name[:20]}...' is longer than {MAX_NAME} "
                "bytes; PostgreSQL would truncate it",
            )
        )
    key = name.casefold()
    if key in folded:
        problems.append(
            Problem(
                loc,
                f"column '{name}' differs from column '{folded[key]}' only "
                "in case; most warehouses treat them as the same column",
            )
        )
    folded.setdefault(key, name)
    return problems


def _column(name: str, cnode: Node, loc: Location, problems: list[Problem]) -> Column:
    v = cnode.plain()
    ctype = v["type"]
    if v.get("pattern") is not None and ctype != "varchar":
        problems.append(
            Problem(
                cnode.value["pattern"].loc,
                f"columns.{name}.pattern applies to varchar columns; '{name}' is {ctype}",
            )
        )
    if v.get("not_in_future") and ctype not in S.TEMPORAL_TYPES:
        problems.append(
            Problem(
                cnode.value["not_in_future"].loc,
                f"columns.{name}.not_in_future "
                f"applies to date/timestamp columns; '{name}' is {ctype}",
            )
        )
    between = v.get("between")
    if between is not None:
        if ctype not in S.NUMERIC_TYPES:
            problems.append(
                Problem(
                    cnode.value["between"].loc,
                    f"columns.{name}.between applies to numeric columns; '{name}' is {ctype}",
                )
            )
        lo, hi = between
        if lo is None and hi is None:
            problems.append(
                Problem(
                    cnode.value["between"].loc, f"columns.{name}.between needs at least one bound"
                )
            )
        elif lo is not None and hi is not None and lo > hi:
            problems.append(
                Problem(
                    cnode.value["between"].loc,
                    f"columns.{name}.between is an impossible range: {lo} > {hi}",
                )
            )
    accepted = v.get("accepted_values")
    if accepted is not None:
        for item, anode in zip(accepted, cnode.value["accepted_values"].value, strict=True):
            problems.extend(_value_fits(name, ctype, item, anode.loc))
    refs = v.get("references")
    return Column(
        name=name,
        type=ctype,
        loc=loc,
        required=bool(v.get("required")),
        unique=bool(v.get("unique")),
        pattern=v.get("pattern"),
        accepted_values=tuple(accepted) if accepted is not None else None,
        between=(between[0], between[1]) if between is not None else None,
        not_in_future=bool(v.get("not_in_future")),
        description=v.get("description") or "",
        pii=bool(v.get("pii")),
        references=(refs["contract"], refs["column"]) if refs else None,
        severity=v.get("severity", "error"),
    )


def _value_fits(column: str, ctype: str, value: Any, loc: Location) -> list[Problem]:
    ok = {
        "varchar": isinstance(value, str),
        "bigint": isinstance(value, int) and not isinstance(value, bool),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "double": isinstance(value, (int, float)) and not isinstance(value, bool),
        "boolean": isinstance(value, bool),
    }.get(ctype, isinstance(value, str))
    if ok:
        return []
    return [Problem(loc, f"columns.{column}.accepted_values: {value!r} is not a {ctype} value")]


def _with_defaults(node: Node, spec: S.Spec) -> Any:
    if isinstance(spec, S.Obj) and isinstance(node.value, dict):
        out = {k: _with_defaults(v, spec.fields[k].spec) for k, v in node.value.items()}
        for key, fld in spec.fields.items():
            if key not in out and fld.default is not None:
                out[key] = fld.default
        return out
    return node.plain()


def _check_expressions(node: Node, columns: dict[str, Column]) -> list[Problem]:
    """User SQL must be one read-only boolean expression over declared columns."""
    from validator.compiler.sql.predicates import UnsafePredicate, parse_predicate

    problems: list[Problem] = []
    checks = node.get("checks")
    seen: set[str] = set()
    for i, item in enumerate(checks.value if checks is not None else []):
        name, expression = item.value["name"].value, item.value["expression"]
        if name in seen:
            problems.append(
                Problem(item.value["name"].loc, f"checks[{i}]: name '{name}' is used twice")
            )
        seen.add(name)
        try:
            parse_predicate(expression.value, list(columns))
        except UnsafePredicate as exc:
            problems.append(Problem(expression.loc, f"checks[{i}].expression: {exc}"))
    return problems


def _check_sections(node: Node, s: Sections, columns: dict[str, Column]) -> list[Problem]:
    """Rules between the keys of a section (never changes the sections)."""

    def at(*keys: str) -> Location:
        cur = node
        for key in keys:
            nxt = cur.get(key)
            if nxt is None:
                break
            cur = nxt
        return cur.loc

    key = node.plain().get("key") or []
    return [
        *_check_uncertainty(s.uncertainty, at),
        *_check_agreement(s.agreement, columns, at),
        *_check_coverage(s.coverage, at),
        *_check_distribution(s.label_distribution, at),
        *_check_instructions(s.instructions, columns, at),
        *_check_revisions(s.revisions, key, columns, at),
    ]


At = Callable[..., Location]


def _check_uncertainty(u: Uncertainty | None, at: At) -> list[Problem]:
    if u is None:
        return []
    problems: list[Problem] = []
    lo, hi = u.range
    if lo is None or hi is None or lo > hi:
        problems.append(
            Problem(
                at("uncertainty", "range"), "uncertainty.range must be [min, max] with min <= max"
            )
        )
    if u.notes_required_below is not None and not u.notes:
        problems.append(
            Problem(
                at("uncertainty", "notes_required_below"),
                "uncertainty.notes_required_below needs uncertainty.notes",
            )
        )
    batch = u.batch
    mb = batch.mean_between if batch is not None else None
    if mb and (mb[0] is None or mb[1] is None or mb[0] > mb[1]):
        problems.append(
            Problem(
                at("uncertainty", "batch", "mean_between"),
                "uncertainty.batch.mean_between must be [min, max] with min <= max",
            )
        )
    if batch is not None and batch.max_low_share is None and not mb:
        problems.append(
            Problem(
                at("uncertainty", "batch"), "uncertainty.batch needs max_low_share or mean_between"
            )
        )
    return problems


def _check_agreement(
    a: AgreementSection | None, columns: dict[str, Column], at: At
) -> list[Problem]:
    if a is None:
        return []
    problems: list[Problem] = []
    label = columns[a.label]
    if _needs_order(a) and not a.categories and not label.accepted_values:
        problems.append(
            Problem(
                at("agreement"),
                "agreement needs `categories` (the label "
                "order) for ordinal alpha or weighted kappa",
            )
        )
    if (
        a.metric == "krippendorff_alpha"
        and a.level == "interval"
        and (label.type not in S.NUMERIC_TYPES)
    ):
        problems.append(
            Problem(
                at("agreement", "level"),
                f"interval agreement needs a numeric label column; '{label.name}' is {label.type}",
            )
        )
    return problems


def _check_coverage(c: Coverage | None, at: At) -> list[Problem]:
    if c is not None and c.max_annotations is not None and (c.max_annotations < c.min_annotations):
        return [
            Problem(
                at("coverage", "max_annotations"),
                "coverage.max_annotations is below min_annotations",
            )
        ]
    return []


def _check_distribution(d: LabelDistribution | None, at: At) -> list[Problem]:
    if d is None:
        return []
    problems: list[Problem] = []
    if (d.reference is None) != (d.max_divergence is None):
        problems.append(
            Problem(
                at("label_distribution"),
                "label_distribution.reference and max_divergence go together",
            )
        )
    elif d.reference and abs(sum(d.reference.values()) - 1) > 1e-6:
        problems.append(
            Problem(
                at("label_distribution", "reference"),
                f"label_distribution.reference shares sum to {sum(d.reference.values()):g}, not 1",
            )
        )
    if d.min_share is None and d.max_share is None and d.reference is None:
        problems.append(
            Problem(
                at("label_distribution"),
                "label_distribution needs min_share, max_share or reference",
            )
        )
    elif d.min_share is not None and d.max_share is not None and d.min_share > d.max_share:
        problems.append(
            Problem(at("label_distribution"), "label_distribution.min_share is above max_share")
        )
    return problems


def _check_instructions(
    i: Instructions | None, columns: dict[str, Column], at: At
) -> list[Problem]:
    if i is None:
        return []
    problems: list[Problem] = []
    named = set(i.superseded or {}) - {"all"}
    if named and i.splits is None:
        problems.append(
            Problem(
                at("instructions", "superseded"),
                "instructions.superseded names splits but instructions.splits.column is not set",
            )
        )
    if i.splits is None:
        return problems
    split_col = columns[i.splits.column]
    allowed = split_col.accepted_values
    if not allowed:
        return problems
    names = (
        list(i.splits.single_version or [])
        + list((i.splits.allowed or {}).keys())
        + [k for k in (i.superseded or {}) if k != "all"]
    )
    for name in names:
        if name not in allowed:
            problems.append(
                Problem(
                    at("instructions", "splits"),
                    f"instructions.splits "
                    f"names split '{name}', which is not an accepted "
                    f"value of '{split_col.name}'",
                    did_you_mean(name, [str(x) for x in allowed]),
                )
            )
    return problems


def _check_revisions(
    r: Revisions | None, key: list[str], columns: dict[str, Column], at: At
) -> list[Problem]:
    if r is None:
        return []
    parent = columns[r.parent]
    if len(key) != 1:
        return [
            Problem(at("revisions"), "revisions need a single-column `key` for parents to point at")
        ]
    if columns[key[0]].type != parent.type:
        return [
            Problem(
                at("revisions", "parent"),
                f"revisions.parent '{parent.name}' is "
                f"{parent.type} but the key '{key[0]}' is {columns[key[0]].type}",
            )
        ]
    return []


def _check_links(
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
    return problems


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


def _check_cycles(contracts: dict[str, Contract]) -> list[Problem]:
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

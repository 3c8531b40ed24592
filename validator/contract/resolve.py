"""From raw contract files to validated `Contract`s, reporting every problem in one pass."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from validator.contract import spec as S
from validator.contract import structure
from validator.contract.links import check_cycles, check_links
from validator.contract.model import Column, Contract, RawContract, Source
from validator.contract.rules import check_sections, with_categories
from validator.contract.sections import (
    SECTION_TYPES,
    CustomCheck,
    Sections,
    from_plain,
)
from validator.contract.yamlload import Node, load_file
from validator.errors import ContractError, Location, Problem, did_you_mean

# Role fields whose column is non-null by definition: a label without them is untraceable.
REQUIRED_ROLES = {
    "provenance": ("annotator", "timestamp", "tool", "batch"),
    "instructions": ("column", "active_at"),
    "registry": ("version", "effective_from"),
    "agreement": ("item", "rater", "label"),
    "adjudication_record": ("item", "decision", "adjudicator", "rationale"),
    "audit_record": ("annotation", "item", "auditor", "verdict", "audited_at"),
    "coverage": ("item",),
    "annotators": ("annotator",),
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
        structure.validate(raw.node, S.CONTRACT, "contract file", found)
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
        problems.extend(check_links(contract, contracts, by_name, invalid))
    problems.extend(check_cycles(contracts))
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
    problems.extend(check_sections(node, sections, columns))
    problems.extend(_check_expressions(node, columns))
    problems.extend(_check_filters(node, columns))
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
        sections=with_categories(sections, columns),
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
    for where, ref, ref_spec in structure.walk_refs(node, S.CONTRACT, "contract file"):
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
    """Columns with role columns and key columns made required (non-null by definition).

    A section with a row filter (`where:`) requires its roles only on the rows it keeps (a
    cancelled task may carry no label): the plan checks that with the filter instead.
    """
    out = dict(columns)
    for section, roles in REQUIRED_ROLES.items():
        block = getattr(sections, section)
        if getattr(block, "where", None) is not None:
            continue
        for role in roles:
            col = getattr(block, role) if block is not None else None
            if col and not out[col].required:
                out[col] = replace(out[col], required=True)
    for col in key:
        out[col] = replace(out[col], required=True)
    return out


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
        problems.extend(_between_fits(name, ctype, between, cnode.value["between"].loc))
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


def _between_fits(name: str, ctype: str, between: list[Any], loc: Location) -> list[Problem]:
    """A `between` range on a numeric column with at least one bound, low <= high."""
    problems = []
    if ctype not in S.NUMERIC_TYPES:
        problems.append(
            Problem(loc, f"columns.{name}.between applies to numeric columns; '{name}' is {ctype}")
        )
    lo, hi = between
    if lo is None and hi is None:
        problems.append(Problem(loc, f"columns.{name}.between needs at least one bound"))
    elif lo is not None and hi is not None and lo > hi:
        problems.append(Problem(loc, f"columns.{name}.between is an impossible range: {lo} > {hi}"))
    return problems


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


def _check_filters(node: Node, columns: dict[str, Column]) -> list[Problem]:
    from validator.contract.filters import check_filters  # imports the SQL layer: when needed

    return check_filters(node, columns)


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

"""Contracts to and from the Open Data Contract Standard (ODCS v3), through its pydantic models.

What ODCS expresses goes into ODCS's own fields: the contract is one schema object (`name`,
`physicalName` = the source table, `physicalType` = `materialized`, `description`); each column
a property (`logicalType` and the labelpact type as `physicalType`, `required`, `unique`,
`primaryKey`/`primaryKeyPosition` from `key`, `classification: pii`, `logicalTypeOptions`
`pattern` / `minimum` / `maximum`, a `foreignKey` relationship for `references`, an
`invalidValues` quality rule with `validValues` for `accepted_values`); custom SQL checks are
`sql` quality rules; the owner is the team member with role `owner`. Everything else (the
annotation sections: provenance, instructions, uncertainty, agreement, adjudication, revisions,
coverage, label distribution, incremental, registry, and any rule ODCS has no field for) travels
in `customProperties` with `vendor: labelpact`, unchanged. Importing reverses each mapping, so a
labelpact -> ODCS -> labelpact round trip gives the contract as written (comments aside).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from open_data_contract_standard.model import (
    CustomProperty,
    DataQuality,
    OpenDataContractStandard,
    Relationship,
    SchemaObject,
    SchemaProperty,
    Team,
    TeamMember,
)

from validator.contract import spec as S
from validator.contract.resolve import discover, load_contracts
from validator.contract.yamlload import load_file
from validator.errors import ContractError, RecordError

API_VERSION = "v3.2.0"  # the version the package's models and JSON Schema describe
VENDOR = "labelpact"
LOGICAL = {
    "bigint": "integer",
    "integer": "integer",
    "varchar": "string",
    "double": "number",
    "boolean": "boolean",
    "date": "date",
    "timestamp": "timestamp",
}
FROM_LOGICAL = {
    "integer": "bigint",
    "string": "varchar",
    "number": "double",
    "boolean": "boolean",
    "date": "date",
    "timestamp": "timestamp",
    "time": "timestamp",
}
SEVERITY_TO = {"error": "error", "warn": "warning"}
SEVERITY_FROM = {v: k for k, v in SEVERITY_TO.items()}
CHECK_SQL = "SELECT COUNT(*) FROM ${{table}} WHERE NOT ({expression})"
CHECK_RE = re.compile(r"^SELECT COUNT\(\*\) FROM \$\{table\} WHERE NOT \((?P<e>.*)\)$", re.S)
# contract keys ODCS carries in its own fields (everything else becomes a custom property)
NATIVE_TOP = (
    "contract",
    "version",
    "owner",
    "description",
    "source",
    "key",
    "materialized",
    "columns",
    "checks",
)
NATIVE_COLUMN = ("type", "required", "unique", "description", "references")


def camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part.title() for part in rest)


def snake(key: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", lambda m: "_" + m.group(1).lower(), key)


# --- export -------------------------------------------------------------------------------------


def export_contracts(paths: list[Path]) -> dict[str, str]:
    """`{<contract>.odcs.yaml: text}` for every contract under `paths` (which must lint clean)."""
    load_contracts(paths)  # every problem at once, before anything is converted
    out: dict[str, str] = {}
    for path in discover(paths):
        node, problems = load_file(path)
        if node is None:  # pragma: no cover - load_contracts raised already
            raise ContractError(problems)
        raw = node.plain()
        out[f"{raw['contract']}.odcs.yaml"] = to_odcs(raw).to_yaml()
    return out


def to_odcs(raw: dict[str, Any]) -> OpenDataContractStandard:
    """One contract (the plain YAML mapping as written) as an ODCS document."""
    key = list(raw.get("key", []))
    obj = SchemaObject(
        name=raw["contract"],
        physicalName=next(iter(raw["source"].values())),
        physicalType=raw.get("materialized"),
        description=raw.get("description"),
        properties=[_property(n, c, key) for n, c in raw["columns"].items()],
        quality=[_check(c) for c in raw.get("checks", [])] or None,
        customProperties=_custom(
            {k: v for k, v in raw.items() if k not in NATIVE_TOP}
            | ({} if "dbt_source" in raw["source"] else {"source": raw["source"]})
        ),
    )
    return OpenDataContractStandard(
        apiVersion=API_VERSION,
        kind="DataContract",
        id=raw["contract"],
        name=raw["contract"],
        version=raw["version"],
        status="active",
        team=Team(members=[TeamMember(username=raw["owner"], role="owner")]),
        schema=[obj],
    )


def _custom(values: dict[str, Any]) -> list[CustomProperty] | None:
    props = [CustomProperty(property=camel(k), value=v, vendor=VENDOR) for k, v in values.items()]
    return props or None


def _property(name: str, col: dict[str, Any], key: list[str]) -> SchemaProperty:
    logical = LOGICAL[col["type"]]
    rest = {k: v for k, v in col.items() if k not in NATIVE_COLUMN}
    options: dict[str, Any] = {}
    if "pattern" in rest and logical == "string":
        options["pattern"] = rest.pop("pattern")
    between = rest.get("between")
    if between is not None and logical in ("integer", "number") and between != [None, None]:
        rest.pop("between")
        for bound, value in zip(("minimum", "maximum"), between, strict=True):
            if value is not None:
                options[bound] = value
    quality = None
    if "accepted_values" in rest:
        valid = rest.pop("accepted_values")
        quality = [
            DataQuality.model_validate(
                {
                    "type": "library",
                    "metric": "invalidValues",
                    "mustBe": 0,
                    "arguments": {"validValues": valid},
                }
            )
        ]
    classification = "pii" if rest.get("pii") is True else None
    if classification:
        rest.pop("pii")
    ref = col.get("references")
    return SchemaProperty(
        name=name,
        logicalType=logical,
        physicalType=col["type"],
        description=col.get("description"),
        required=col.get("required"),
        unique=col.get("unique"),
        primaryKey=True if name in key else None,
        primaryKeyPosition=key.index(name) + 1 if name in key else None,
        classification=classification,
        logicalTypeOptions=options or None,
        relationships=[Relationship(type="foreignKey", to=f"{ref['contract']}.{ref['column']}")]
        if ref
        else None,
        quality=quality,
        customProperties=_custom(rest),
    )


def _check(check: dict[str, Any]) -> DataQuality:
    return DataQuality.model_validate(
        {
            "type": "sql",
            "name": check["name"],
            "description": check.get("description"),
            "severity": SEVERITY_TO.get(check["severity"]) if "severity" in check else None,
            "query": CHECK_SQL.format(expression=check["expression"]),
            "mustBe": 0,
        }
    )


# --- import -------------------------------------------------------------------------------------


def import_document(path: Path, notes: list[str] | None = None) -> dict[str, str]:
    """`{<contract>.yml: text}` for each schema object of an ODCS v3 document.

    Quality rules labelpact has no rule for are not carried; each is named in `notes`.
    """
    notes = [] if notes is None else notes
    node, problems = load_file(path)  # size, depth and alias limits for an untrusted file
    if node is None or problems:
        raise ContractError(problems)
    try:
        doc = OpenDataContractStandard.model_validate(node.plain())
    except ValueError as exc:  # pydantic's ValidationError
        raise RecordError(str(path), "document", f"not an ODCS v3 document: {exc}") from None
    if not doc.schema_:
        raise RecordError(str(path), "schema", "the document describes no schema object")
    out: dict[str, str] = {}
    for i, obj in enumerate(doc.schema_):
        raw = from_odcs(doc, obj, str(path), f"schema[{i}] ({obj.name})", notes)
        out[f"{raw['contract']}.yml"] = dump(raw)
    return out


def dump(raw: dict[str, Any]) -> str:
    return yaml.safe_dump(raw, sort_keys=False, allow_unicode=True, width=100)


def from_odcs(
    doc: OpenDataContractStandard,
    obj: SchemaObject,
    path: str,
    where: str,
    notes: list[str] | None = None,
) -> dict[str, Any]:
    """One schema object of an ODCS document as a labelpact contract (a plain mapping)."""
    if not obj.name or not obj.properties:
        raise RecordError(path, where, "a schema object needs a `name` and `properties`")
    custom = _custom_values(obj.customProperties)
    raw: dict[str, Any] = {
        "contract": obj.name,
        "version": doc.version or "0.1.0",
        "owner": _owner(doc),
    }
    if obj.description is not None:
        raw["description"] = obj.description
    raw["source"] = custom.pop("source", None) or _source(obj)
    key = sorted(
        (p for p in obj.properties if p.primaryKey),
        key=lambda p: p.primaryKeyPosition if p.primaryKeyPosition is not None else 0,
    )
    if key:
        raw["key"] = [p.name for p in key]
    if obj.physicalType in ("view", "table"):
        raw["materialized"] = obj.physicalType
    raw["columns"] = {
        p.name: _column(p, path, f"{where}.properties[{j}]", notes)
        for j, p in enumerate(obj.properties)
    }
    checks = [
        _check_back(q, path, f"{where}.quality[{j}]") for j, q in enumerate(obj.quality or [])
    ]
    if notes is not None:
        notes.extend(
            f"{where}.quality[{j}]: quality rule {q.name or q.metric or q.type!s} is not carried"
            for j, (q, c) in enumerate(zip(obj.quality or [], checks, strict=True))
            if c is None
        )
    if any(checks):
        raw["checks"] = [c for c in checks if c]
    raw.update(custom)
    order = list(S.CONTRACT.fields)
    return dict(sorted(raw.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else 99))


def _custom_values(props: list[CustomProperty] | None) -> dict[str, Any]:
    return {snake(p.property): p.value for p in props or [] if p.property and p.vendor == VENDOR}


def _owner(doc: OpenDataContractStandard) -> str:
    team = doc.team
    members = team.members if isinstance(team, Team) else team
    for member in sorted(members or [], key=lambda m: m.role != "owner"):
        if member.username:
            return member.username
    return team.name if isinstance(team, Team) and team.name else "unassigned"


def _source(obj: SchemaObject) -> dict[str, str]:
    name = obj.physicalName or obj.name or ""
    if re.match(r"^[A-Za-z_]\w*\.[A-Za-z_]\w*$", name):
        return {"dbt_source": name}
    return {"ref": name}


def _column(
    prop: SchemaProperty, path: str, where: str, notes: list[str] | None = None
) -> dict[str, Any]:
    col: dict[str, Any] = {"type": _type(prop, path, where)}
    for name in ("required", "unique"):
        if getattr(prop, name) is not None:
            col[name] = getattr(prop, name)
    options = prop.logicalTypeOptions or {}
    if "pattern" in options:
        col["pattern"] = options["pattern"]
    if "minimum" in options or "maximum" in options:
        col["between"] = [options.get("minimum"), options.get("maximum")]
    for q in prop.quality or []:
        _column_rule(q, col, notes, f"{where} ({prop.name})")
    if prop.description is not None:
        col["description"] = prop.description
    if prop.classification == "pii":
        col["pii"] = True
    for rel in prop.relationships or []:
        target = rel.to if isinstance(rel.to, str) else None
        if rel.type in (None, "foreignKey") and target and target.count(".") == 1:
            contract, column = target.split(".")
            col["references"] = {"contract": contract, "column": column}
    col.update(_custom_values(prop.customProperties))
    order = list(S.COLUMN.fields)
    return dict(sorted(col.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else 99))


def _type(prop: SchemaProperty, path: str, where: str) -> str:
    if prop.physicalType in S.TYPES:
        return prop.physicalType
    if prop.logicalType in FROM_LOGICAL:
        return FROM_LOGICAL[prop.logicalType]
    raise RecordError(
        path,
        where,
        f"column '{prop.name}' has logicalType {prop.logicalType!r}, which labelpact "
        f"has no type for (expected one of {', '.join(sorted(FROM_LOGICAL))})",
    )


def _column_rule(q: DataQuality, col: dict[str, Any], notes: list[str] | None, where: str) -> None:
    """ODCS library rules that are labelpact column rules; any other is named in `notes`."""
    args = q.arguments or {}
    zero = q.mustBe == 0 and q.type in (None, "library")
    if zero and q.metric == "invalidValues" and "validValues" in args:
        col["accepted_values"] = args["validValues"]
    elif zero and q.metric == "invalidValues" and "pattern" in args and "pattern" not in col:
        col["pattern"] = args["pattern"]
    elif zero and q.metric == "nullValues" and "required" not in col:
        col["required"] = True
    elif zero and q.metric == "duplicateValues" and "unique" not in col:
        col["unique"] = True
    elif notes is not None:
        notes.append(f"{where}: quality rule {q.name or q.metric or q.type!s} is not carried")


def _check_back(q: DataQuality, path: str, where: str) -> dict[str, Any] | None:
    """A custom SQL check written by `to_odcs`; other quality rules are not labelpact's."""
    match = CHECK_RE.match(q.query or "") if q.type == "sql" else None
    if not match:
        return None
    if not q.name:
        raise RecordError(path, where, "a SQL quality rule needs a `name`")
    check: dict[str, Any] = {"name": q.name, "expression": match.group("e")}
    if q.description is not None:
        check["description"] = q.description
    if q.severity is not None:
        check["severity"] = SEVERITY_FROM.get(q.severity, q.severity)
    return check

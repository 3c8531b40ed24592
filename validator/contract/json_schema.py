"""The JSON Schema of contract files, generated from the language (`spec`) for editors."""

from __future__ import annotations

from typing import Any

from validator.contract.spec import (
    CONTRACT,
    Bool,
    Enum,
    Field,
    ListOf,
    MapOf,
    Num,
    Obj,
    Scalar,
    Spec,
    Str,
)


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) for contract files, for editor autocompletion."""
    schema = _to_json(CONTRACT)
    schema.update(
        {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": "https://labelpact.dev/schema/contract.schema.json",
            "title": "labelpact contract",
        }
    )
    return schema


def _to_json(spec: Spec) -> dict[str, Any]:
    out: dict[str, Any]
    if isinstance(spec, Obj):
        out = {
            "type": "object",
            "additionalProperties": False,
            "properties": {k: _field_json(f) for k, f in spec.fields.items()},
        }
        required = [k for k, f in spec.fields.items() if f.required]
        if required:
            out["required"] = required
        if spec.one_of:
            out["oneOf"] = [{"required": [k]} for k in spec.one_of]
    elif isinstance(spec, MapOf):
        out = {"type": "object", "additionalProperties": _to_json(spec.value)}
        if spec.min_items:
            out["minProperties"] = spec.min_items
    elif isinstance(spec, ListOf):
        out = {"type": "array", "items": _to_json(spec.item)}
        if spec.min_items:
            out["minItems"] = spec.min_items
        if spec.max_items is not None:
            out["maxItems"] = spec.max_items
        if spec.unique:
            out["uniqueItems"] = True
    elif isinstance(spec, Enum):
        out = {"type": "string", "enum": list(spec.choices)}
    elif isinstance(spec, Bool):
        out = {"type": "boolean"}
    elif isinstance(spec, Num):
        out = {"type": "integer"} if spec.integer else {"type": ["number", "null"]}
        if spec.minimum is not None:
            out["minimum"] = spec.minimum
        if spec.maximum is not None:
            out["maximum"] = spec.maximum
    elif isinstance(spec, Scalar):
        out = {"type": ["string", "number", "boolean"]}
    else:
        out = {"type": "string", "minLength": 1}
        if isinstance(spec, Str) and spec.pattern:
            out["pattern"] = spec.pattern
    if spec.doc:
        out["description"] = spec.doc
    return out


def _field_json(fld: Field) -> dict[str, Any]:
    out = _to_json(fld.spec)
    if fld.default is not None:
        out["default"] = fld.default
    return out

"""Structural validation of contract YAML against the language (`spec`): every problem, located."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from validator.contract.spec import (
    Bool,
    ColRef,
    ContractRef,
    Enum,
    ListOf,
    MapOf,
    Num,
    Obj,
    Scalar,
    Spec,
    Str,
)
from validator.contract.yamlload import Node
from validator.errors import Problem, did_you_mean

_RESERVED = ("{{", "{%", "{#", "__lp_")


def control_char(text: str) -> str | None:
    """The first control character other than tab and newline, if any."""
    return next((c for c in text if (ord(c) < 32 and c not in "\t\n") or ord(c) == 127), None)


def reserved_text(text: str) -> str | None:
    """The reserved sequence found in `text`, if any."""
    return next((r for r in _RESERVED if r in text), None)


def validate(node: Node, spec: Spec, where: str, problems: list[Problem]) -> None:
    """Structural validation of `node` against `spec`; appends every problem found."""
    if isinstance(node.value, str) and _text_problem(node, where, problems):
        return
    for cls in type(spec).__mro__:
        if cls in _VALIDATORS:
            _VALIDATORS[cls](node, spec, where, problems)
            return


def _text_problem(node: Node, where: str, problems: list[Problem]) -> bool:
    """Reserved sequences and control characters, refused in every string of a contract."""
    value = node.value
    if bad := reserved_text(value):
        problems.append(
            Problem(
                node.loc,
                f"{where} contains '{bad}', which is reserved "
                "(Jinja delimiters and labelpact placeholders cannot appear "
                "in contracts)",
            )
        )
        return True
    if ctl := control_char(value):
        # dbt renders schema YAML through Jinja, which rewrites \r\n to \n: such a value
        # would silently stop matching the data.
        problems.append(
            Problem(
                node.loc,
                f"{where} contains the control character {ctl!r}, "
                "which dbt does not carry through unchanged",
            )
        )
        return True
    return False


def _validate_obj(node: Node, spec: Any, where: str, problems: list[Problem]) -> None:
    value = node.value
    if not isinstance(value, dict):
        problems.append(_type_problem(node, where, "a mapping"))
        return
    for key, child in value.items():
        if key not in spec.fields:
            hint = did_you_mean(key, list(spec.fields))
            problems.append(
                Problem(node.key_locs.get(key, node.loc), f"unknown key '{key}' in {where}", hint)
            )
            continue
        validate(child, spec.fields[key].spec, _join(where, key), problems)
    for key, fld in spec.fields.items():
        if fld.required and key not in value:
            problems.append(Problem(node.loc, f"{where} is missing required key '{key}'"))
    if spec.one_of:
        present = [k for k in spec.one_of if k in value]
        if len(present) != 1:
            problems.append(
                Problem(
                    node.loc,
                    f"{where} needs exactly one of {', '.join(spec.one_of)} (found {len(present)})",
                )
            )


def _validate_map(node: Node, spec: Any, where: str, problems: list[Problem]) -> None:
    value = node.value
    if not isinstance(value, dict):
        problems.append(_type_problem(node, where, "a mapping"))
        return
    if len(value) < spec.min_items:
        problems.append(Problem(node.loc, f"{where} must not be empty"))
    for key, child in value.items():
        if bad := reserved_text(key):
            problems.append(
                Problem(
                    node.key_locs.get(key, node.loc),
                    f"{where} key '{key}' contains '{bad}', which is reserved",
                )
            )
        validate(child, spec.value, f"{where}.{key}", problems)


def _validate_list(node: Node, spec: Any, where: str, problems: list[Problem]) -> None:
    value = node.value
    if not isinstance(value, list):
        problems.append(_type_problem(node, where, "a list"))
        return
    if len(value) < spec.min_items:
        problems.append(
            Problem(
                node.loc,
                f"{where} needs at least {spec.min_items} item{'s' if spec.min_items > 1 else ''}",
            )
        )
    if spec.max_items is not None and len(value) > spec.max_items:
        problems.append(Problem(node.loc, f"{where} takes at most {spec.max_items} items"))
    seen: set[Any] = set()
    for i, child in enumerate(value):
        validate(child, spec.item, f"{where}[{i}]", problems)
        if spec.unique and isinstance(child.value, (str, int, float, bool)):
            if child.value in seen:
                problems.append(Problem(child.loc, f"{where} lists {child.value!r} twice"))
            seen.add(child.value)


def _validate_enum(node: Node, spec: Any, where: str, problems: list[Problem]) -> None:
    value = node.value
    if not isinstance(value, str):
        problems.append(_type_problem(node, where, "one of " + ", ".join(spec.choices)))
    elif value not in spec.choices:
        hint = (
            f"did you mean '{spec.synonyms[value.lower()]}'?"
            if value.lower() in spec.synonyms
            else did_you_mean(value, spec.choices)
        )
        problems.append(Problem(node.loc, f"{where}: unknown value '{value}'", hint))


def _validate_bool(node: Node, spec: Any, where: str, problems: list[Problem]) -> None:
    if not isinstance(node.value, bool):
        problems.append(_type_problem(node, where, "true or false"))


def _validate_num(node: Node, spec: Any, where: str, problems: list[Problem]) -> None:
    value = node.value
    if value is None and where.endswith("]"):
        return  # open end of a [min, max] pair
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        problems.append(_type_problem(node, where, "an integer" if spec.integer else "a number"))
    elif spec.integer and not isinstance(value, int):
        problems.append(_type_problem(node, where, "an integer"))
    elif value != value or value in (float("inf"), float("-inf")):
        problems.append(Problem(node.loc, f"{where} must be a finite number"))
    elif spec.minimum is not None and value < spec.minimum:
        problems.append(Problem(node.loc, f"{where} must be >= {spec.minimum:g}, got {value}"))
    elif spec.maximum is not None and value > spec.maximum:
        problems.append(Problem(node.loc, f"{where} must be <= {spec.maximum:g}, got {value}"))


def _validate_scalar(node: Node, spec: Any, where: str, problems: list[Problem]) -> None:
    if not isinstance(node.value, (str, int, float, bool)):
        problems.append(_type_problem(node, where, "a string, number or boolean"))


def _validate_text(node: Node, spec: Any, where: str, problems: list[Problem]) -> None:
    value = node.value
    if not isinstance(value, str):
        doc = spec.pattern_doc if isinstance(spec, Str) else ""
        problems.append(
            _type_problem(node, where, f"a string ({doc}; quote it)" if doc else "a string")
        )
    elif not value.strip():
        problems.append(Problem(node.loc, f"{where} must not be empty"))
    elif isinstance(spec, Str) and spec.pattern and not re.match(spec.pattern, value):
        problems.append(
            Problem(node.loc, f"{where}: '{value}' is not {spec.pattern_doc or 'valid'}")
        )
    elif isinstance(spec, Str) and spec.regex:
        try:
            re.compile(value)
        except re.error as exc:
            problems.append(Problem(node.loc, f"{where}: invalid regular expression: {exc}"))


_VALIDATORS: dict[type, Callable[[Node, Any, str, list[Problem]], None]] = {
    Obj: _validate_obj,
    MapOf: _validate_map,
    ListOf: _validate_list,
    Enum: _validate_enum,
    Bool: _validate_bool,
    Num: _validate_num,
    Scalar: _validate_scalar,
    Str: _validate_text,
    ColRef: _validate_text,
    ContractRef: _validate_text,
}


def _join(where: str, key: str) -> str:
    return key if where == "contract file" else f"{where}.{key}"


def _type_problem(node: Node, where: str, expected: str) -> Problem:
    got = node.value
    kind = (
        "nothing (null)"
        if got is None
        else "a mapping"
        if isinstance(got, dict)
        else "a list"
        if isinstance(got, list)
        else f"{type(got).__name__} {got!r}"
    )
    return Problem(node.loc, f"{where} must be {expected}, got {kind}")


def walk_refs(node: Node, spec: Spec, where: str) -> list[tuple[str, Node, Spec]]:
    """Every ColRef / ContractRef value in a structurally valid node, with its key path."""
    found: list[tuple[str, Node, Spec]] = []
    if isinstance(spec, (ColRef, ContractRef)) and isinstance(node.value, str):
        found.append((where, node, spec))
    elif isinstance(spec, Obj) and isinstance(node.value, dict):
        for key, child in node.value.items():
            if key in spec.fields:
                found.extend(walk_refs(child, spec.fields[key].spec, _join(where, key)))
    elif isinstance(spec, ListOf) and isinstance(node.value, list):
        for i, child in enumerate(node.value):
            found.extend(walk_refs(child, spec.item, f"{where}[{i}]"))
    return found

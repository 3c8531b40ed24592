"""Lint of row filters (`where:` of the sections in `FILTERED_SECTIONS`): each must be one
read-only boolean expression over this contract's declared columns, checked as custom check
expressions are (`compiler/sql/predicates.py`), reported at the filter's file:line:col."""

from __future__ import annotations

from validator.compiler.sql.filters import FILTERED_SECTIONS, UnsafePredicate, parse_filter
from validator.contract.model import Column
from validator.contract.yamlload import Node
from validator.errors import Problem


def check_filters(node: Node, columns: dict[str, Column]) -> list[Problem]:
    """Problems of every `where:` of the contract `node` (empty: all are safe)."""
    types = {name: col.type for name, col in columns.items()}
    problems: list[Problem] = []
    for section in FILTERED_SECTIONS:
        where = (node.get(section) or Node(None, node.loc)).get("where")
        if where is None:
            continue
        try:
            parse_filter(where.value, list(columns), types)
        except UnsafePredicate as exc:
            message = str(exc).replace("in a check expression", "in a filter")
            problems.append(Problem(where.loc, f"{section}.where: {message}"))
    return problems

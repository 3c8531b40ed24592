"""Resolved contracts: typed, defaults applied, every reference checked.

`RawContract` is a file as written (a located YAML tree); `Contract` is what the
rest of the program sees after `resolve.resolve()`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from validator.contract.sections import Sections
from validator.contract.yamlload import Node
from validator.errors import Location


@dataclass(frozen=True)
class RawContract:
    """One contract file as written, before defaults and references."""

    path: str
    node: Node

    @property
    def name(self) -> str | None:
        value = self.node.get("contract")
        return value.value if value is not None and isinstance(value.value, str) else None


@dataclass(frozen=True)
class Column:
    """A contracted column and its rules."""

    name: str
    type: str
    loc: Location
    required: bool = False
    unique: bool = False
    pattern: str | None = None
    accepted_values: tuple[Any, ...] | None = None
    between: tuple[float | None, float | None] | None = None
    not_in_future: bool = False
    description: str = ""
    pii: bool = False
    references: tuple[str, str] | None = None  # (contract, column)
    severity: str = "error"


@dataclass(frozen=True)
class Source:
    """Where the contracted relation comes from."""

    kind: str  # dbt_source | ref | path
    value: str

    @property
    def schema_table(self) -> tuple[str, str]:
        schema, _, table = self.value.partition(".")
        return schema, table


@dataclass(frozen=True)
class Contract:
    """A validated contract; `sections` hold the typed sections with defaults applied."""

    name: str
    version: str
    owner: str
    description: str
    path: str
    loc: Location
    source: Source
    columns: dict[str, Column]
    key: tuple[str, ...] = ()
    extra_columns: str = "forbid"
    materialized: str = "view"
    sections: Sections = field(default_factory=Sections)

    @property
    def pii_columns(self) -> frozenset[str]:
        return frozenset(c.name for c in self.columns.values() if c.pii)

    def depends_on(self) -> set[str]:
        """Names of other contracts this one references."""
        deps = {c.references[0] for c in self.columns.values() if c.references}
        s = self.sections
        if s.instructions is not None:
            deps.add(s.instructions.registry)
        if s.adjudication is not None:
            deps.add(s.adjudication.contract)
        if s.audits is not None:
            deps.add(s.audits.contract)
        if s.coverage is not None and s.coverage.items is not None:
            deps.add(s.coverage.items.contract)
        deps.discard(self.name)
        return deps

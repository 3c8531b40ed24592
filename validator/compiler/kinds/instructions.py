"""Kinds about labelling-instruction versions: the registry, approval, validity, splits."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from sqlglot import exp

from validator.compiler.kinds.base import (
    Current,
    Incremental,
    Kind,
    Params,
    RelationFor,
    column,
    from_current,
    relation,
)
from validator.compiler.sql.rows import col, key_ids, key_select, shown
from validator.compiler.sql.templates import template

if TYPE_CHECKING:
    from validator.compiler.plan import Check
    from validator.compiler.sql.dialects import Dialect


@dataclass(frozen=True, kw_only=True)
class _Instruction(Params):
    """A label's instruction version, checked against the registry contract."""

    incremental: ClassVar[Incremental] = Incremental.ROWS
    version_column: str = column()
    active_at: str = column()
    registry: str = relation()
    reg_version: str = column()
    reg_from: str = column()
    reg_to: str | None = column(default=None)

    def ids(self, key: tuple[str, ...]) -> dict[str, str]:
        ids = {
            "p_v": self.version_column,
            "p_at": self.active_at,
            "p_rv": self.reg_version,
            "p_from": self.reg_from,
        }
        if self.reg_to:
            ids["p_to"] = self.reg_to
        return ids | key_ids(key)


@dataclass(frozen=True, kw_only=True)
class InstructionKnown(_Instruction):
    kind: ClassVar[Kind] = Kind.INSTRUCTION_KNOWN

    def failing_rows(
        self, check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]
    ) -> exp.Query:
        return template(
            f"SELECT {key_select(key, 't', 'p_v')} FROM r_t AS t LEFT JOIN (SELECT DISTINCT "
            "p_rv FROM r_r AS r) AS r ON r.p_rv = t.p_v WHERE t.p_v IS NOT NULL AND r.p_rv IS "
            "NULL",
            ids=self.ids(key),
            tables={"r_t": rel(check.contract), "r_r": rel(self.registry)},
        )


@dataclass(frozen=True, kw_only=True)
class InstructionApproved(_Instruction):
    kind: ClassVar[Kind] = Kind.INSTRUCTION_APPROVED
    approved_by: str = column()
    approved_at: str | None = column(default=None)

    def failing_rows(
        self, check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]
    ) -> exp.Query:
        cond = "r.p_by IS NULL"
        ids = self.ids(key) | {"p_by": self.approved_by}
        if self.approved_at:
            cond += " OR r.p_appr IS NULL OR r.p_appr > t.p_at"
            ids["p_appr"] = self.approved_at
        return template(
            f"SELECT {key_select(key, 't', 'p_v')} FROM r_t AS t JOIN r_r AS r "
            f"ON r.p_rv = t.p_v WHERE {cond}",
            ids=ids,
            tables={"r_t": rel(check.contract), "r_r": rel(self.registry)},
        )


@dataclass(frozen=True, kw_only=True)
class InstructionActive(_Instruction):
    kind: ClassVar[Kind] = Kind.INSTRUCTION_ACTIVE

    def failing_rows(
        self, check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]
    ) -> exp.Query:
        cond = "t.p_at < r.p_from"
        if self.reg_to:
            cond += " OR (r.p_to IS NOT NULL AND t.p_at >= r.p_to)"
        return template(
            f"SELECT {key_select(key, 't', 'p_v', 'p_at')} FROM r_t AS t JOIN r_r AS r "
            f"ON r.p_rv = t.p_v WHERE t.p_at IS NOT NULL AND ({cond})",
            ids=self.ids(key),
            tables={"r_t": rel(check.contract), "r_r": rel(self.registry)},
        )


@dataclass(frozen=True, kw_only=True)
class SupersededVersion(_Instruction, Current):
    """No current label (in `splits`; None: every split) uses a version a later one
    superseded."""

    kind: ClassVar[Kind] = Kind.SUPERSEDED_VERSION
    reg_supersedes: str = column()
    split: str | None = column(default=None)
    splits: tuple[str, ...] | None = None  # split names (values, not columns)

    def failing_rows(
        self, check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]
    ) -> exp.Query:
        scope = ""
        values: dict[str, Any] = {}
        if self.splits:
            scope = " AND t.p_split IN (v_splits)"
            values["v_splits"] = list(self.splits)
        return template(
            f"SELECT {key_select(key, 't', 'p_v')} FROM r_t AS t WHERE t.p_v IS NOT NULL"
            f"{scope} AND EXISTS (SELECT 1 FROM r_r AS r WHERE r.p_sup = t.p_v)",
            ids=self.ids(key) | {"p_sup": self.reg_supersedes, "p_split": self.split or "x"},
            values=values,
            tables={"r_t": from_current(check, rel)(check.contract), "r_r": rel(self.registry)},
        )


@dataclass(frozen=True, kw_only=True)
class SplitSingleVersion(Params):
    """The listed splits together use a single instruction version."""

    kind: ClassVar[Kind] = Kind.SPLIT_SINGLE_VERSION
    version_column: str = column()
    split: str = column()
    splits: tuple[str, ...]  # split names (values)

    def failing_rows(
        self, check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]
    ) -> exp.Query:
        return template(
            "SELECT p_v, n_rows FROM (SELECT t.p_v, COUNT(*) AS n_rows, COUNT(*) OVER () AS "
            "n_versions FROM r_t AS t WHERE t.p_s IN (v_splits) AND t.p_v IS NOT NULL "
            "GROUP BY t.p_v) AS g WHERE n_versions > 1",
            ids={"p_v": self.version_column, "p_s": self.split},
            values={"v_splits": list(self.splits)},
            tables={"r_t": rel(check.contract)},
        )


@dataclass(frozen=True, kw_only=True)
class SplitAllowedVersions(Params):
    """Each split uses only the instruction versions allowed for it."""

    kind: ClassVar[Kind] = Kind.SPLIT_ALLOWED_VERSIONS
    incremental: ClassVar[Incremental] = Incremental.ROWS
    version_column: str = column()
    split: str = column()
    allowed: Mapping[str, tuple[str, ...]]  # split name -> version names (values)

    def failing_rows(
        self, check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]
    ) -> exp.Query:
        ors = []
        for split, versions in sorted(self.allowed.items()):
            part = template(
                "SELECT 1 WHERE p_s = v_split AND NOT p_v IN (v_versions)",
                ids={"p_s": self.split, "p_v": self.version_column},
                values={"v_split": split, "v_versions": list(versions)},
            )
            ors.append(part.args["where"].this)
        cols = shown(key, self.split, self.version_column)
        return exp.select(*[col(c) for c in cols]).from_(rel(check.contract)).where(exp.or_(*ors))


@dataclass(frozen=True, kw_only=True)
class RegistryNoOverlap(Params):
    """The validity windows of a registry's versions do not overlap."""

    kind: ClassVar[Kind] = Kind.REGISTRY_NO_OVERLAP
    version: str = column()
    effective_from: str = column()
    retired_at: str | None = column(default=None)

    def failing_rows(
        self, check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]
    ) -> exp.Query:
        if self.retired_at:
            cond = "(b.p_to IS NULL OR a.p_from < b.p_to) AND (a.p_to IS NULL OR b.p_from < a.p_to)"
        else:  # without an end, every two versions overlap from the later start on
            cond = "TRUE"
        return template(
            f"SELECT a.p_v AS version_a, b.p_v AS version_b FROM r_r AS a JOIN r_r AS b "
            f"ON a.p_v < b.p_v WHERE {cond}",
            ids={
                "p_v": self.version,
                "p_from": self.effective_from,
                "p_to": self.retired_at or "x",
            },
            tables={"r_r": rel(check.contract)},
        )

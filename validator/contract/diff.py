"""`labelpact diff OLD NEW`: what changed between two versions of a contract, and whether it
breaks anyone.

A change is **breaking** when data that satisfied the old contract can fail the new one
(a stricter rule: tightened range, removed accepted value, new required column or role, higher
agreement minimum ...) or when consumers lose something they relied on (a removed or retyped
column, a moved source). Loosening a rule and editing documentation are not breaking. A
breaking change needs a major version bump; `diff` fails (exit 1) without one.
"""

from __future__ import annotations

import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from validator.contract import spec as S
from validator.contract import structure
from validator.contract.yamlload import load_bytes
from validator.errors import ContractError, Location, Problem, UsageError

# Numeric section parameters where a larger value is stricter; the rest of min/max follow
# their name (raising a minimum or lowering a maximum tightens).
STRICTER_WHEN_HIGHER = {
    "notes_required_below",
    "low_confidence_below",
    "min",
    "min_annotations",
    "min_share",
    "below",
    "min_median",
}
STRICTER_WHEN_LOWER = {"max_low_share", "max_annotations", "max_share"}
# annotators: a lower bound or a smaller minimum number of labels judges more annotators
STRICTER_WHEN_LOWER |= {"max_rate", "max_divergence", "max_median", "max_p90", "min_labels"}


@dataclass(frozen=True)
class Change:
    """One classified difference."""

    kind: str
    path: str
    breaking: bool
    detail: str


@dataclass
class DiffReport:
    old_version: str
    new_version: str
    changes: list[Change]

    @property
    def breaking(self) -> list[Change]:
        return [c for c in self.changes if c.breaking]

    @property
    def needs_major(self) -> bool:
        return bool(self.breaking)

    @property
    def version_problem(self) -> str | None:
        old, new = _semver(self.old_version), _semver(self.new_version)
        if new < old:
            return f"version went backwards ({self.old_version} -> {self.new_version})"
        if self.breaking and new[0] <= old[0]:
            return (
                f"{len(self.breaking)} breaking change(s) need a major version bump "
                f"({self.old_version} -> {old[0] + 1}.0.0), got {self.new_version}"
            )
        if self.changes and new == old:
            return f"the contract changed but its version stayed {self.new_version}"
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "old_version": self.old_version,
            "new_version": self.new_version,
            "breaking": len(self.breaking),
            "version_problem": self.version_problem,
            "changes": [asdict(c) for c in self.changes],
        }

    def render(self) -> str:
        lines = [
            f"{c.path}: {'BREAKING' if c.breaking else 'ok'} {c.kind}: {c.detail}"
            for c in self.changes
        ] or ["no changes"]
        problem = self.version_problem
        lines.append(
            f"version {self.old_version} -> {self.new_version}: "
            + (f"FAIL: {problem}" if problem else "ok")
        )
        return "\n".join(lines)


def _semver(text: str) -> tuple[int, int, int]:
    core = text.split("-")[0].split(".")
    return int(core[0]), int(core[1]), int(core[2])


def read_contract(ref: str, cwd: Path | None = None) -> dict[str, Any]:
    """A contract as plain data from a file path or `REV:path` (a git revision)."""
    path = Path(ref)
    if not path.exists() and ":" in ref:
        rev, _, rel = ref.partition(":")
        try:
            raw = subprocess.run(
                ["git", "show", f"{rev}:{rel}"], cwd=cwd, check=True, capture_output=True
            ).stdout
        except (subprocess.CalledProcessError, FileNotFoundError) as exc:
            raise UsageError(
                f"cannot read {ref!r} from git: "
                f"{getattr(exc, 'stderr', b'').decode().strip() or exc}"
            ) from exc
        shown = ref
    elif path.exists():
        raw, shown = path.read_bytes(), str(path)
    else:
        raise UsageError(f"{ref}: no such file (use a path or REV:path)")
    node, problems = load_bytes(raw, shown)
    if node is not None:
        structure.validate(node, S.CONTRACT, "contract file", problems)
    if problems or node is None:
        raise ContractError(problems or [Problem(Location(shown, 1, 1), "empty contract")])
    return node.plain()


def diff(old: dict[str, Any], new: dict[str, Any]) -> DiffReport:
    """Classify every difference between two contracts (plain data)."""
    changes: list[Change] = []
    add = changes.append
    for key, breaking in (
        ("source", True),
        ("key", True),
        ("owner", False),
        ("description", False),
        ("materialized", False),
    ):
        if old.get(key) != new.get(key):
            add(Change(f"{key}_changed", key, breaking, f"{old.get(key)!r} -> {new.get(key)!r}"))
    old_extra, new_extra = old.get("extra_columns", "forbid"), new.get("extra_columns", "forbid")
    if old_extra != new_extra:
        add(
            Change(
                "extra_columns_changed",
                "extra_columns",
                new_extra == "forbid",
                f"{old_extra} -> {new_extra}",
            )
        )
    _columns(old.get("columns", {}), new.get("columns", {}), add)
    for section in S.SECTIONS:
        _section(section, old.get(section), new.get(section), add)
    _custom_checks(old.get("checks") or [], new.get("checks") or [], add)
    return DiffReport(str(old.get("version", "0.0.0")), str(new.get("version", "0.0.0")), changes)


def _custom_checks(old: list[dict[str, Any]], new: list[dict[str, Any]], add: Any) -> None:
    """Custom SQL checks (`checks:`), matched by name: a new or changed expression can fail
    data that passed; a removed check cannot."""
    before = {c["name"]: c for c in old}
    after = {c["name"]: c for c in new}
    for name in before:
        if name not in after:
            add(Change("custom_check_removed", f"checks.{name}", False, "it no longer runs"))
    for name, n in after.items():
        where = f"checks.{name}"
        o = before.get(name)
        if o is None:
            add(
                Change(
                    "custom_check_added",
                    where,
                    True,
                    f"every row must now satisfy: {n['expression']}",
                )
            )
            continue
        if o["expression"] != n["expression"]:
            add(
                Change(
                    "custom_check_changed",
                    where,
                    True,
                    f"{o['expression']!r} -> {n['expression']!r}",
                )
            )
        _severity(where, o.get("severity", "error"), n.get("severity", "error"), add)
        if o.get("description") != n.get("description"):
            add(
                Change(
                    "description_changed",
                    where,
                    False,
                    f"{o.get('description')!r} -> {n.get('description')!r}",
                )
            )


def _columns(old: dict[str, Any], new: dict[str, Any], add: Any) -> None:
    for name in old:
        if name not in new:
            add(Change("column_removed", f"columns.{name}", True, "consumers lose the column"))
    for name in new:
        if name not in old:
            add(
                Change(
                    "column_added",
                    f"columns.{name}",
                    True,
                    "data without the column fails the schema check",
                )
            )
    for name in old.keys() & new.keys():
        _column(f"columns.{name}", old[name], new[name], add)


def _column(where: str, o: dict[str, Any], n: dict[str, Any], add: Any) -> None:
    """The changes to one column present in both versions."""
    if o.get("type") != n.get("type"):
        add(Change("column_type_changed", where, True, f"{o.get('type')} -> {n.get('type')}"))
    for flag, kind in (
        ("required", "required"),
        ("unique", "unique"),
        ("not_in_future", "not_in_future"),
    ):
        before, after = bool(o.get(flag)), bool(n.get(flag))
        if before != after:
            add(
                Change(
                    f"{kind}_{'added' if after else 'removed'}",
                    where,
                    after,
                    f"{flag}: {before} -> {after}",
                )
            )
    _accepted(where, o.get("accepted_values"), n.get("accepted_values"), add)
    _between(where, o.get("between"), n.get("between"), add)
    if o.get("pattern") != n.get("pattern"):
        kind = (
            "pattern_added"
            if not o.get("pattern")
            else "pattern_removed"
            if not n.get("pattern")
            else "pattern_changed"
        )
        add(
            Change(
                kind,
                where,
                kind != "pattern_removed",
                f"{o.get('pattern')!r} -> {n.get('pattern')!r}",
            )
        )
    if o.get("references") != n.get("references"):
        add(
            Change(
                "reference_changed",
                where,
                bool(n.get("references")),
                f"{o.get('references')} -> {n.get('references')}",
            )
        )
    _severity(where, o.get("severity", "error"), n.get("severity", "error"), add)
    for doc in ("description", "pii"):
        if o.get(doc) != n.get(doc):
            add(Change(f"{doc}_changed", where, False, f"{o.get(doc)!r} -> {n.get(doc)!r}"))


def _severity(where: str, old: str, new: str, add: Any) -> None:
    if old != new:
        raised = new == "error"
        add(
            Change(
                f"severity_{'raised' if raised else 'lowered'}", where, raised, f"{old} -> {new}"
            )
        )


def _accepted(where: str, old: list[Any] | None, new: list[Any] | None, add: Any) -> None:
    if old == new:
        return
    if old is None:
        add(Change("accepted_values_added", where, True, f"now only {new}"))
    elif new is None:
        add(Change("accepted_values_removed", where, False, "any value accepted"))
    else:
        removed = [v for v in old if v not in new]
        added = [v for v in new if v not in old]
        if removed:
            add(Change("accepted_value_removed", where, True, f"no longer accepted: {removed}"))
        if added:
            add(Change("accepted_value_added", where, False, f"now also accepted: {added}"))


def _between(where: str, old: list[Any] | None, new: list[Any] | None, add: Any) -> None:
    if old == new:
        return
    if old is None or new is None:
        add(
            Change(
                "range_added" if old is None else "range_removed",
                where,
                old is None,
                f"{old} -> {new}",
            )
        )
        return
    lo_o, hi_o = old
    lo_n, hi_n = new
    tighter = (lo_n is not None and (lo_o is None or lo_n > lo_o)) or (
        hi_n is not None and (hi_o is None or hi_n < hi_o)
    )
    add(
        Change("range_tightened" if tighter else "range_widened", where, tighter, f"{old} -> {new}")
    )


def _section(name: str, old: Any, new: Any, add: Any) -> None:
    if old == new:
        return
    if old is None:
        add(Change("role_added", name, True, "a new rule set applies to existing data"))
        return
    if new is None:
        add(Change("role_removed", name, False, "its checks no longer run"))
        return
    for key in sorted(set(old) | set(new)):
        o, n = old.get(key), new.get(key)
        if o == n:
            continue
        where = f"{name}.{key}"
        if isinstance(o, (int, float)) and isinstance(n, (int, float)) and not isinstance(o, bool):
            if key in STRICTER_WHEN_HIGHER:
                stricter = n > o
            elif key in STRICTER_WHEN_LOWER:
                stricter = n < o
            else:
                stricter = True
            add(
                Change(
                    f"threshold_{'tightened' if stricter else 'loosened'}",
                    where,
                    stricter,
                    f"{o} -> {n}",
                )
            )
        elif key == "severity":
            raised = n == "error"
            add(
                Change(
                    f"severity_{'raised' if raised else 'lowered'}", where, raised, f"{o} -> {n}"
                )
            )
        elif key == "where":
            _filter(where, o, n, add)
        elif isinstance(o, dict) or isinstance(n, dict):
            _section(where, o, n, add)
        else:
            add(Change("rule_changed", where, True, f"{o!r} -> {n!r}"))


def _filter(where: str, old: str | None, new: str | None, add: Any) -> None:
    """A row filter (`where:`) decides which rows a section's rules count: any change can fail
    data that passed (a filter added or widened lets rows in as well as out)."""
    change = (
        "filter_added" if old is None else "filter_removed" if new is None else "filter_changed"
    )
    add(Change(change, where, True, f"{old!r} -> {new!r}"))

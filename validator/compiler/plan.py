"""The engine-neutral check plan (IR): every rule of a contract becomes one named `Check`.

Targets (dbt, Great Expectations, plain SQL) only render these nodes, so a rule cannot be
present in one output and missing from another.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from validator.contract.model import Contract
from validator.errors import Location


class Kind(StrEnum):
    """Check types. Column rules first, then contract-level annotation-quality checks."""

    SCHEMA = "schema"
    NOT_NULL = "not_null"
    UNIQUE = "unique"
    UNIQUE_KEY = "unique_key"
    ACCEPTED_VALUES = "accepted_values"
    PATTERN = "pattern"
    BETWEEN = "between"
    NOT_IN_FUTURE = "not_in_future"
    RELATIONSHIP = "relationship"
    INSTRUCTION_KNOWN = "instruction_known"
    INSTRUCTION_APPROVED = "instruction_approved"
    INSTRUCTION_ACTIVE = "instruction_active"
    SPLIT_SINGLE_VERSION = "split_single_version"
    SPLIT_ALLOWED_VERSIONS = "split_allowed_versions"
    REGISTRY_NO_OVERLAP = "registry_no_overlap"
    SUPERSEDED_VERSION = "superseded_version"
    NOTES_REQUIRED = "notes_required"
    BATCH_LOW_CONFIDENCE = "batch_low_confidence"
    BATCH_MEAN_CONFIDENCE = "batch_mean_confidence"
    AGREEMENT = "agreement"
    ADJUDICATION_MISSING = "adjudication_missing"
    ADJUDICATION_DECISION = "adjudication_decision"
    ADJUDICATION_UNNEEDED = "adjudication_unneeded"
    REVISION_PARENT = "revision_parent"
    REVISION_CYCLE = "revision_cycle"
    REVISION_SINGLE_CURRENT = "revision_single_current"
    REVISION_TIME_ORDER = "revision_time_order"
    COVERAGE_MIN = "coverage_min"
    COVERAGE_MAX = "coverage_max"
    COVERAGE_MISSING = "coverage_missing"
    LABEL_SHARE = "label_share"
    LABEL_DIVERGENCE = "label_divergence"
    CUSTOM_EXPRESSION = "custom_expression"


COLUMN_KINDS = frozenset(
    {
        Kind.NOT_NULL,
        Kind.UNIQUE,
        Kind.ACCEPTED_VALUES,
        Kind.PATTERN,
        Kind.BETWEEN,
        Kind.NOT_IN_FUTURE,
        Kind.RELATIONSHIP,
    }
)


@dataclass(frozen=True)
class Check:
    """One named, stable check of one contract."""

    id: str
    kind: Kind
    contract: str
    version: str
    owner: str
    severity: str
    description: str
    loc: Location
    column: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def test_name(self) -> str:
        """A warehouse- and dbt-safe name derived from the id."""
        return "lp_" + "".join(ch if ch.isalnum() else "_" for ch in self.id.replace(".", "__"))

    @property
    def is_column_rule(self) -> bool:
        return self.kind in COLUMN_KINDS


@dataclass(frozen=True)
class Plan:
    """All checks of one contract, in a stable order."""

    contract: Contract
    checks: tuple[Check, ...]


def build_plan(contract: Contract, contracts: dict[str, Contract]) -> Plan:
    """Translate a resolved contract into its checks (pure; same input, same plan)."""
    b = _Builder(contract)
    _schema(b)
    _columns(b)
    _key(b)
    _instructions(b, contracts)
    _registry(b)
    _uncertainty(b)
    _agreement(b)
    _adjudication(b, contracts)
    _revisions(b)
    _coverage(b)
    _label_distribution(b)
    _custom(b)
    return Plan(contract, tuple(b.checks))


class _Builder:
    def __init__(self, contract: Contract) -> None:
        self.c = contract
        self.checks: list[Check] = []

    def add(
        self,
        id_: str,
        kind: Kind,
        description: str,
        *,
        severity: str = "error",
        column: str | None = None,
        **params: Any,
    ) -> None:
        self.checks.append(
            Check(
                id=f"{self.c.name}.{id_}",
                kind=kind,
                contract=self.c.name,
                version=self.c.version,
                owner=self.c.owner,
                severity=severity,
                description=description,
                loc=self.c.columns[column].loc if column else self.c.loc,
                column=column,
                params=params,
            )
        )


def _schema(b: _Builder) -> None:
    cols = {name: col.type for name, col in b.c.columns.items()}
    closed = b.c.extra_columns == "forbid"
    b.add(
        "schema",
        Kind.SCHEMA,
        f"{b.c.name} has exactly the contracted columns with their "
        f"types{'' if closed else ' (extra columns allowed)'}",
        columns=cols,
        closed=closed,
    )


def _columns(b: _Builder) -> None:
    for name, col in b.c.columns.items():
        sev = col.severity
        if col.required:
            b.add(
                f"{name}.not_null",
                Kind.NOT_NULL,
                f"{name} is never null",
                severity=sev,
                column=name,
            )
        if col.unique:
            b.add(f"{name}.unique", Kind.UNIQUE, f"{name} is unique", severity=sev, column=name)
        if col.accepted_values is not None:
            shown = ", ".join(map(str, col.accepted_values))
            b.add(
                f"{name}.accepted_values",
                Kind.ACCEPTED_VALUES,
                f"{name} is one of: {shown}",
                severity=sev,
                column=name,
                values=list(col.accepted_values),
            )
        if col.pattern is not None:
            b.add(
                f"{name}.pattern",
                Kind.PATTERN,
                f"{name} matches /{col.pattern}/",
                severity=sev,
                column=name,
                pattern=col.pattern,
            )
        if col.between is not None:
            lo, hi = col.between
            b.add(
                f"{name}.between",
                Kind.BETWEEN,
                f"{name} lies in [{_num(lo)}, {_num(hi)}]",
                severity=sev,
                column=name,
                min=lo,
                max=hi,
            )
        if col.not_in_future:
            b.add(
                f"{name}.not_in_future",
                Kind.NOT_IN_FUTURE,
                f"{name} is not in the future",
                severity=sev,
                column=name,
            )
        if col.references:
            other, other_col = col.references
            b.add(
                f"{name}.relationship",
                Kind.RELATIONSHIP,
                f"every {name} exists in {other}.{other_col}",
                severity=sev,
                column=name,
                to=other,
                to_column=other_col,
            )


def _num(value: float | None) -> str:
    return "-inf" if value is None else f"{value:g}"


def _key(b: _Builder) -> None:
    key = list(b.c.key)
    if len(key) == 1 and b.c.columns[key[0]].unique:
        return  # already checked as a column rule
    if key:
        b.add("key.unique", Kind.UNIQUE_KEY, f"({', '.join(key)}) identifies one row", columns=key)


def _instructions(b: _Builder, contracts: dict[str, Contract]) -> None:
    s = b.c.section("instructions")
    if s is None:
        return
    reg = contracts[s["registry"]].sections["registry"]
    sev = s["severity"]
    common = dict(
        version_column=s["column"],
        active_at=s["active_at"],
        registry=s["registry"],
        reg_version=reg["version"],
        reg_from=reg["effective_from"],
        reg_to=reg.get("retired_at"),
    )
    b.add(
        "instructions.known",
        Kind.INSTRUCTION_KNOWN,
        f"every {s['column']} exists in the {s['registry']} registry",
        severity=sev,
        **common,
    )
    if s["require_approved"] and reg.get("approved_by"):
        b.add(
            "instructions.approved",
            Kind.INSTRUCTION_APPROVED,
            f"every {s['column']} was "
            "approved (approver and approval time recorded) before the label was given",
            severity=sev,
            approved_by=reg["approved_by"],
            approved_at=reg.get("approved_at"),
            **common,
        )
    b.add(
        "instructions.active",
        Kind.INSTRUCTION_ACTIVE,
        f"{s['column']} was in force at "
        f"{s['active_at']} (effective_from <= {s['active_at']} < retired_at)",
        severity=sev,
        **common,
    )
    for policy in ("flag", "reject"):
        scope = sorted(k for k, v in (s.get("superseded") or {}).items() if v == policy)
        if not scope or not reg.get("supersedes"):
            continue
        where = "every split" if "all" in scope else f"splits {', '.join(scope)}"
        b.add(
            f"instructions.superseded_{policy}",
            Kind.SUPERSEDED_VERSION,
            f"in {where}, no current label uses an instruction version a later one "
            f"superseded ({'flagged' if policy == 'flag' else 're-label them'})",
            severity="warn" if policy == "flag" else sev,
            splits=None if "all" in scope else scope,
            split=(s.get("splits") or {}).get("column"),
            reg_supersedes=reg["supersedes"],
            **common,
            **_current_filter(b),
        )
    splits = s.get("splits") or {}
    if splits.get("single_version"):
        names = list(splits["single_version"])
        b.add(
            "instructions.split_single_version",
            Kind.SPLIT_SINGLE_VERSION,
            f"splits {', '.join(names)} together use a single {s['column']}",
            severity=sev,
            version_column=s["column"],
            split=splits["column"],
            splits=names,
        )
    if splits.get("allowed"):
        b.add(
            "instructions.split_allowed_versions",
            Kind.SPLIT_ALLOWED_VERSIONS,
            f"each split uses only its allowed {s['column']} values",
            severity=sev,
            version_column=s["column"],
            split=splits["column"],
            allowed={k: list(v) for k, v in splits["allowed"].items()},
        )


def _registry(b: _Builder) -> None:
    s = b.c.section("registry")
    if s is None or not s["non_overlapping"]:
        return
    b.add(
        "registry.no_overlap",
        Kind.REGISTRY_NO_OVERLAP,
        "instruction-version validity windows do not overlap",
        severity=s["severity"],
        version=s["version"],
        effective_from=s["effective_from"],
        retired_at=s.get("retired_at"),
    )


def _uncertainty(b: _Builder) -> None:
    s = b.c.section("uncertainty")
    if s is None:
        return
    sev = s["severity"]
    conf = s["confidence"]
    lo, hi = s["range"]
    if b.c.columns[conf].between != (lo, hi):
        b.add(
            "uncertainty.confidence_range",
            Kind.BETWEEN,
            f"{conf} lies in [{lo}, {hi}]",
            severity=sev,
            column=conf,
            min=lo,
            max=hi,
        )
    if s.get("notes_required_below") is not None:
        t = s["notes_required_below"]
        b.add(
            "uncertainty.notes_required",
            Kind.NOTES_REQUIRED,
            f"{s['notes']} is present whenever {conf} < {t:g}",
            severity=sev,
            confidence=conf,
            notes=s["notes"],
            below=t,
        )
    batch = s.get("batch")
    if batch:
        if batch.get("max_low_share") is not None:
            b.add(
                "uncertainty.batch_low_confidence",
                Kind.BATCH_LOW_CONFIDENCE,
                f"per {batch['by']}, at most {batch['max_low_share']:.0%} of labels have "
                f"{conf} < {batch['low_confidence_below']:g}",
                severity=sev,
                confidence=conf,
                by=batch["by"],
                below=batch["low_confidence_below"],
                max_share=batch["max_low_share"],
            )
        if batch.get("mean_between"):
            mlo, mhi = batch["mean_between"]
            b.add(
                "uncertainty.batch_mean_confidence",
                Kind.BATCH_MEAN_CONFIDENCE,
                f"per {batch['by']}, mean {conf} lies in [{mlo:g}, {mhi:g}]",
                severity=sev,
                confidence=conf,
                by=batch["by"],
                min=mlo,
                max=mhi,
            )


def _current_filter(b: _Builder) -> dict[str, Any]:
    """Parameters that restrict a check to current (non-superseded) rows, if revisions exist."""
    r = b.c.section("revisions")
    if r is None:
        return {}
    return {"current_key": b.c.key[0], "current_parent": r["parent"]}


def _agreement(b: _Builder) -> None:
    s = b.c.section("agreement")
    if s is None:
        return
    metric = s["metric"]
    detail = {
        "krippendorff_alpha": f"Krippendorff's alpha ({s['level']})",
        "fleiss_kappa": "Fleiss' kappa",
        "cohen_kappa": "Cohen's kappa"
        + ("" if s["weights"] == "none" else f" ({s['weights']} weights)"),
    }[metric]
    per = f"per {s['by']}" if s.get("by") else "over the whole table"
    b.add(
        f"agreement.{metric}",
        Kind.AGREEMENT,
        f"{detail} {per} is at least {s['min']:g}",
        severity=s["severity"],
        item=s["item"],
        rater=s["rater"],
        label=s["label"],
        by=s.get("by"),
        metric=metric,
        level=s["level"],
        weights=None if s["weights"] == "none" else s["weights"],
        categories=s.get("categories"),
        min=s["min"],
        **_current_filter(b),
    )


def _adjudication(b: _Builder, contracts: dict[str, Contract]) -> None:
    s = b.c.section("adjudication")
    if s is None:
        return
    other = contracts[s["contract"]]
    rec = other.sections["adjudication_record"]
    sev = s["severity"]
    common = dict(
        item=s["item"],
        label=s["label"],
        records=other.name,
        rec_item=rec["item"],
        rec_decision=rec["decision"],
        **_current_filter(b),
    )
    b.add(
        "adjudication.missing",
        Kind.ADJUDICATION_MISSING,
        f"every {s['item']} whose annotators disagree has an adjudication in {other.name}",
        severity=sev,
        **common,
    )
    accepted = b.c.columns[s["label"]].accepted_values
    if accepted:
        b.add(
            "adjudication.decision",
            Kind.ADJUDICATION_DECISION,
            f"every {other.name}.{rec['decision']} is an accepted {s['label']}",
            severity=sev,
            values=list(accepted),
            **common,
        )
    if s["flag_unneeded"]:
        b.add(
            "adjudication.unneeded",
            Kind.ADJUDICATION_UNNEEDED,
            f"{other.name} holds no adjudication for items whose annotators all agree",
            severity=sev,
            **common,
        )


def _revisions(b: _Builder) -> None:
    s = b.c.section("revisions")
    if s is None:
        return
    sev = s["severity"]
    key, parent = b.c.key[0], s["parent"]
    b.add(
        "revisions.parent_exists",
        Kind.REVISION_PARENT,
        f"every {parent} references an existing {key}",
        severity=sev,
        key=key,
        parent=parent,
    )
    b.add(
        "revisions.no_cycles",
        Kind.REVISION_CYCLE,
        "correction chains have no cycles",
        severity=sev,
        key=key,
        parent=parent,
    )
    if s.get("lineage"):
        b.add(
            "revisions.single_current",
            Kind.REVISION_SINGLE_CURRENT,
            f"each ({', '.join(s['lineage'])}) lineage has exactly one current row",
            severity=sev,
            key=key,
            parent=parent,
            lineage=list(s["lineage"]),
        )
    if s.get("timestamp"):
        b.add(
            "revisions.time_order",
            Kind.REVISION_TIME_ORDER,
            f"{s['timestamp']} increases along each correction chain",
            severity=sev,
            key=key,
            parent=parent,
            timestamp=s["timestamp"],
        )


def _coverage(b: _Builder) -> None:
    s = b.c.section("coverage")
    if s is None:
        return
    sev = s["severity"]
    b.add(
        "coverage.min_annotations",
        Kind.COVERAGE_MIN,
        f"every {s['item']} has at least {s['min_annotations']} current annotations",
        severity=sev,
        item=s["item"],
        min=s["min_annotations"],
        **_current_filter(b),
    )
    if s.get("max_annotations") is not None:
        b.add(
            "coverage.max_annotations",
            Kind.COVERAGE_MAX,
            f"every {s['item']} has at most {s['max_annotations']} current annotations",
            severity=sev,
            item=s["item"],
            max=s["max_annotations"],
            **_current_filter(b),
        )
    if s.get("items"):
        b.add(
            "coverage.unannotated_items",
            Kind.COVERAGE_MISSING,
            f"every item in {s['items']['contract']} has at least one annotation",
            severity=sev,
            item=s["item"],
            items=s["items"]["contract"],
            items_item=s["items"]["item"],
        )


def _label_distribution(b: _Builder) -> None:
    s = b.c.section("label_distribution")
    if s is None:
        return
    per = f"per {s['by']}" if s.get("by") else "overall"
    if s.get("reference"):
        b.add(
            "label_distribution.divergence",
            Kind.LABEL_DIVERGENCE,
            f"{per}, the {s['label']} "
            f"shares are within total-variation distance {s['max_divergence']:g} of the "
            "reference",
            severity=s["severity"],
            label=s["label"],
            by=s.get("by"),
            reference=dict(s["reference"]),
            max_divergence=s["max_divergence"],
            **_current_filter(b),
        )
    if s.get("min_share") is None and s.get("max_share") is None:
        return
    bounds = []
    if s.get("min_share") is not None:
        bounds.append(f">= {s['min_share']:.0%}")
    if s.get("max_share") is not None:
        bounds.append(f"<= {s['max_share']:.0%}")
    b.add(
        "label_distribution.share",
        Kind.LABEL_SHARE,
        f"{per}, each {s['label']}'s share is {' and '.join(bounds)}",
        severity=s["severity"],
        label=s["label"],
        by=s.get("by"),
        min_share=s.get("min_share"),
        max_share=s.get("max_share"),
        **_current_filter(b),
    )


def _custom(b: _Builder) -> None:
    for item in (b.c.section("checks") or {}).get("items", []):
        b.add(
            f"checks.{item['name']}",
            Kind.CUSTOM_EXPRESSION,
            item.get("description") or f"every row satisfies: {item['expression']}",
            severity=item.get("severity", "error"),
            expression=item["expression"],
            columns=list(b.c.columns),
        )


def build_plans(contracts: list[Contract]) -> list[Plan]:
    """Plans for every contract, in name order."""
    by_name = {c.name: c for c in contracts}
    return [build_plan(c, by_name) for c in sorted(contracts, key=lambda c: c.name)]

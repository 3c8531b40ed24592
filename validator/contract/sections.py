"""The sections of a resolved contract, typed, with defaults applied.

One frozen dataclass per section of the contract language (`spec.CONTRACT`); field names are the
language's keys, so a section is built from its checked YAML by `from_plain`. Custom SQL checks
are a section of their own (`Sections.custom_checks`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

Bound = tuple[float | None, float | None]  # [min, max]; None: an open end


@dataclass(frozen=True)
class Provenance:
    annotator: str | None = None
    timestamp: str | None = None
    tool: str | None = None
    batch: str | None = None
    severity: str = "error"


@dataclass(frozen=True)
class UncertaintyBatch:
    by: str
    low_confidence_below: float = 0.5
    max_low_share: float | None = None
    mean_between: Bound | None = None


@dataclass(frozen=True)
class Uncertainty:
    NESTED: ClassVar[dict[str, type]] = {"batch": UncertaintyBatch}
    confidence: str
    range: Bound = (0, 1)
    notes: str | None = None
    notes_required_below: float | None = None
    batch: UncertaintyBatch | None = None
    where: str | None = None  # a row filter (contract/filters.py)
    severity: str = "error"


@dataclass(frozen=True)
class Splits:
    column: str
    single_version: tuple[str, ...] | None = None
    allowed: Mapping[str, tuple[str, ...]] | None = None


@dataclass(frozen=True)
class Instructions:
    NESTED: ClassVar[dict[str, type]] = {"splits": Splits}
    column: str
    registry: str
    active_at: str
    require_approved: bool = True
    superseded: Mapping[str, str] | None = None  # split (or `all`) -> accept | flag | reject
    splits: Splits | None = None
    severity: str = "error"


@dataclass(frozen=True)
class Registry:
    version: str
    effective_from: str
    retired_at: str | None = None
    approved_by: str | None = None
    approved_at: str | None = None
    non_overlapping: bool = False
    supersedes: str | None = None
    severity: str = "error"


@dataclass(frozen=True)
class PerAnnotator:
    min: float
    min_items: int = 20


@dataclass(frozen=True)
class Agreement:
    NESTED: ClassVar[dict[str, type]] = {"per_annotator": PerAnnotator}
    item: str
    rater: str
    label: str
    metric: str
    min: float
    by: str | None = None
    level: str = "nominal"
    weights: str = "none"
    categories: tuple[str, ...] | None = None
    per_annotator: PerAnnotator | None = None
    where: str | None = None  # a row filter (contract/filters.py)
    severity: str = "error"


@dataclass(frozen=True)
class Adjudication:
    contract: str
    item: str
    label: str
    flag_unneeded: bool = True
    where: str | None = None  # a row filter (contract/filters.py)
    severity: str = "error"


@dataclass(frozen=True)
class AdjudicationRecord:
    item: str
    decision: str
    adjudicator: str
    rationale: str


@dataclass(frozen=True)
class Audits:
    contract: str
    max_error_rate: float
    annotator: str | None = None
    batch: str | None = None
    error_verdicts: tuple[str, ...] = ("incorrect",)
    confidence: float = 0.95
    severity: str = "error"


@dataclass(frozen=True)
class AuditRecord:
    annotation: str
    item: str
    auditor: str
    verdict: str
    audited_at: str
    error_type: str | None = None


@dataclass(frozen=True)
class Revisions:
    parent: str
    lineage: tuple[str, ...] | None = None
    timestamp: str | None = None
    severity: str = "error"


@dataclass(frozen=True)
class CoverageItems:
    contract: str
    item: str


@dataclass(frozen=True)
class Coverage:
    NESTED: ClassVar[dict[str, type]] = {"items": CoverageItems}
    item: str
    min_annotations: int
    max_annotations: int | None = None
    items: CoverageItems | None = None
    where: str | None = None  # a row filter (contract/filters.py)
    severity: str = "error"


@dataclass(frozen=True)
class IncrementalBatches:
    batch: str


@dataclass(frozen=True)
class LabelDistribution:
    label: str
    by: str | None = None
    min_share: float | None = None
    max_share: float | None = None
    reference: Mapping[str, float] | None = None
    max_divergence: float | None = None
    where: str | None = None  # a row filter (contract/filters.py)
    severity: str = "error"


@dataclass(frozen=True)
class LabelMix:
    label: str
    max_divergence: float
    measure: str = "total_variation"


@dataclass(frozen=True)
class LowConfidence:
    confidence: str
    max_rate: float
    below: float = 0.5


@dataclass(frozen=True)
class Corrected:
    max_rate: float


@dataclass(frozen=True)
class Turnaround:
    seconds: str | None = None
    started: str | None = None
    finished: str | None = None
    by: str | None = None
    min_median: float | None = None
    max_median: float | None = None
    max_p90: float | None = None


@dataclass(frozen=True)
class Annotators:
    """Per-annotator quality rules (`annotators:`)."""

    NESTED: ClassVar[dict[str, type]] = {
        "label_mix": LabelMix,
        "low_confidence": LowConfidence,
        "corrected": Corrected,
        "turnaround": Turnaround,
    }
    annotator: str
    min_labels: int = 30
    label_mix: LabelMix | None = None
    low_confidence: LowConfidence | None = None
    corrected: Corrected | None = None
    turnaround: Turnaround | None = None
    severity: str = "error"


@dataclass(frozen=True)
class CustomCheck:
    """A user's SQL row check (`checks:` in a contract)."""

    name: str
    expression: str
    description: str | None = None
    severity: str = "error"


@dataclass(frozen=True)
class Sections:
    """Every section of one contract (None: absent)."""

    provenance: Provenance | None = None
    uncertainty: Uncertainty | None = None
    instructions: Instructions | None = None
    registry: Registry | None = None
    agreement: Agreement | None = None
    adjudication: Adjudication | None = None
    adjudication_record: AdjudicationRecord | None = None
    audits: Audits | None = None
    audit_record: AuditRecord | None = None
    revisions: Revisions | None = None
    coverage: Coverage | None = None
    label_distribution: LabelDistribution | None = None
    annotators: Annotators | None = None
    incremental: IncrementalBatches | None = None
    custom_checks: tuple[CustomCheck, ...] = ()

    def roles(self) -> list[tuple[str, str, Any]]:
        """(section, key, value) of every key of every present role section, in order."""
        out: list[tuple[str, str, Any]] = []
        for fld in dataclasses.fields(self):
            section = getattr(self, fld.name)
            if section is None or fld.name == "custom_checks":
                continue
            out.extend(
                (fld.name, f.name, getattr(section, f.name)) for f in dataclasses.fields(section)
            )
        return out


SECTION_TYPES: dict[str, type] = {
    "provenance": Provenance,
    "uncertainty": Uncertainty,
    "instructions": Instructions,
    "registry": Registry,
    "agreement": Agreement,
    "adjudication": Adjudication,
    "adjudication_record": AdjudicationRecord,
    "audits": Audits,
    "audit_record": AuditRecord,
    "revisions": Revisions,
    "coverage": Coverage,
    "label_distribution": LabelDistribution,
    "annotators": Annotators,
    "incremental": IncrementalBatches,
}

T = TypeVar("T")


def from_plain(cls: type[T], data: Mapping[str, Any]) -> T:
    """A section from its structurally valid plain data (lists become tuples)."""
    nested: dict[str, type] = getattr(cls, "NESTED", {})
    return cls(
        **{
            k: from_plain(nested[k], v) if k in nested and v is not None else _frozen(v)
            for k, v in data.items()
        }
    )


def _frozen(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, dict):
        return {k: _frozen(v) for k, v in value.items()}
    return value

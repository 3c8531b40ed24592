"""One planner per contract section: each turns its section into named checks on the builder.

`plan.build_plan` calls them in a fixed order, so check order (and every golden) is stable.
"""

from __future__ import annotations

from statistics import NormalDist
from typing import TYPE_CHECKING, Any

from validator.compiler import kinds as K
from validator.compiler.kinds import Params
from validator.compiler.plan_filters import filtered, scope
from validator.contract.model import Column, Contract
from validator.contract.sections import Instructions, Registry, Uncertainty

if TYPE_CHECKING:
    from validator.compiler.plan import Builder


def plan_schema(b: Builder) -> None:
    cols = {name: col.type for name, col in b.c.columns.items()}
    closed = b.c.extra_columns == "forbid"
    b.add(
        "schema",
        K.Schema(columns=cols, closed=closed),
        f"{b.c.name} has exactly the "
        f"contracted columns with their types{'' if closed else ' (extra columns allowed)'}",
    )


def plan_columns(b: Builder) -> None:
    for name, col in b.c.columns.items():
        _column_rules(b, name, col)


def _column_rules(b: Builder, name: str, col: Column) -> None:
    def add(rule: str, params: Params, description: str) -> None:
        b.add(f"{name}.{rule}", params, description, severity=col.severity, column=name)

    if col.required:
        add("not_null", K.NotNull(), f"{name} is never null")
    if col.unique:
        add("unique", K.Unique(), f"{name} is unique")
    if col.accepted_values is not None:
        shown = ", ".join(map(str, col.accepted_values))
        add(
            "accepted_values",
            K.AcceptedValues(values=col.accepted_values),
            f"{name} is one of: {shown}",
        )
    if col.pattern is not None:
        add("pattern", K.Pattern(pattern=col.pattern), f"{name} matches /{col.pattern}/")
    if col.between is not None:
        lo, hi = col.between
        add("between", K.Between(min=lo, max=hi), f"{name} lies in [{_num(lo)}, {_num(hi)}]")
    if col.not_in_future:
        add("not_in_future", K.NotInFuture(), f"{name} is not in the future")
    if col.references:
        other, other_col = col.references
        add(
            "relationship",
            K.Relationship(to=other, to_column=other_col),
            f"every {name} exists in {other}.{other_col}",
        )


def _num(value: float | None) -> str:
    return "-inf" if value is None else f"{value:g}"


def plan_key(b: Builder) -> None:
    key = b.c.key
    if len(key) == 1 and b.c.columns[key[0]].unique:
        return  # already checked as a column rule
    if key:
        b.add("key.unique", K.UniqueKey(columns=key), f"({', '.join(key)}) identifies one row")


def plan_instructions(b: Builder, contracts: dict[str, Contract]) -> None:
    s = b.s.instructions
    if s is None:
        return
    reg = contracts[s.registry].sections.registry
    assert reg is not None  # resolve checked the registry contract has the section
    sev = s.severity
    common: dict[str, Any] = dict(
        version_column=s.column,
        active_at=s.active_at,
        registry=s.registry,
        reg_version=reg.version,
        reg_from=reg.effective_from,
        reg_to=reg.retired_at,
    )
    b.add(
        "instructions.known",
        K.InstructionKnown(**common),
        f"every {s.column} exists in the {s.registry} registry",
        severity=sev,
    )
    if s.require_approved and reg.approved_by:
        b.add(
            "instructions.approved",
            K.InstructionApproved(
                approved_by=reg.approved_by, approved_at=reg.approved_at, **common
            ),
            f"every {s.column} was approved (approver and approval time recorded) before the "
            "label was given",
            severity=sev,
        )
    b.add(
        "instructions.active",
        K.InstructionActive(**common),
        f"{s.column} was in force at {s.active_at} (effective_from <= {s.active_at} < retired_at)",
        severity=sev,
    )
    _superseded(b, s, reg, common)
    _splits(b, s)


def _superseded(b: Builder, s: Instructions, reg: Registry, common: dict[str, Any]) -> None:
    for policy in ("flag", "reject"):
        scope = sorted(k for k, v in (s.superseded or {}).items() if v == policy)
        if not scope or not reg.supersedes:
            continue
        where = "every split" if "all" in scope else f"splits {', '.join(scope)}"
        params = K.SupersededVersion(
            splits=None if "all" in scope else tuple(scope),
            split=s.splits.column if s.splits else None,
            reg_supersedes=reg.supersedes,
            **common,
            **b.current(),
        )
        b.add(
            f"instructions.superseded_{policy}",
            params,
            f"in {where}, no current label uses an instruction version a later one "
            f"superseded ({'flagged' if policy == 'flag' else 're-label them'})",
            severity="warn" if policy == "flag" else s.severity,
        )


def _splits(b: Builder, s: Instructions) -> None:
    splits = s.splits
    if splits is None:
        return
    if splits.single_version:
        names = splits.single_version
        b.add(
            "instructions.split_single_version",
            K.SplitSingleVersion(version_column=s.column, split=splits.column, splits=names),
            f"splits {', '.join(names)} together use a single {s.column}",
            severity=s.severity,
        )
    if splits.allowed:
        b.add(
            "instructions.split_allowed_versions",
            K.SplitAllowedVersions(
                version_column=s.column, split=splits.column, allowed=dict(splits.allowed)
            ),
            f"each split uses only its allowed {s.column} values",
            severity=s.severity,
        )


def plan_registry(b: Builder) -> None:
    s = b.s.registry
    if s is None or not s.non_overlapping:
        return
    b.add(
        "registry.no_overlap",
        K.RegistryNoOverlap(
            version=s.version, effective_from=s.effective_from, retired_at=s.retired_at
        ),
        "instruction-version validity windows do not overlap",
        severity=s.severity,
    )


def plan_uncertainty(b: Builder) -> None:
    s = b.s.uncertainty
    if s is None:
        return
    conf = s.confidence
    lo, hi = s.range
    if b.c.columns[conf].between != (lo, hi):
        b.add(
            "uncertainty.confidence_range",
            K.Between(min=lo, max=hi),
            f"{conf} lies in [{lo}, {hi}]",
            severity=s.severity,
            column=conf,
        )
    if s.notes_required_below is not None:
        t = s.notes_required_below
        assert s.notes is not None  # resolve requires notes with notes_required_below
        b.add(
            "uncertainty.notes_required",
            K.NotesRequired(confidence=conf, notes=s.notes, below=t, **filtered(b, s)),
            f"{s.notes} is present whenever {conf} < {t:g}{scope(s)}",
            severity=s.severity,
        )
    _batch_uncertainty(b, s)


def _batch_uncertainty(b: Builder, s: Uncertainty) -> None:
    batch, conf = s.batch, s.confidence
    if batch is None:
        return
    if batch.max_low_share is not None:
        b.add(
            "uncertainty.batch_low_confidence",
            K.BatchLowConfidence(
                confidence=conf,
                by=batch.by,
                below=batch.low_confidence_below,
                max_share=batch.max_low_share,
                **filtered(b, s),
            ),
            f"per {batch.by}, at most {batch.max_low_share:.0%} of labels have "
            f"{conf} < {batch.low_confidence_below:g}{scope(s)}",
            severity=s.severity,
        )
    if batch.mean_between:
        mlo, mhi = batch.mean_between
        b.add(
            "uncertainty.batch_mean_confidence",
            K.BatchMeanConfidence(confidence=conf, by=batch.by, min=mlo, max=mhi, **filtered(b, s)),
            f"per {batch.by}, mean {conf} lies in [{mlo:g}, {mhi:g}]{scope(s)}",
            severity=s.severity,
        )


def plan_agreement(b: Builder, contracts: dict[str, Contract]) -> None:
    s = b.s.agreement
    if s is None:
        return
    detail = {
        "krippendorff_alpha": f"Krippendorff's alpha ({s.level})",
        "fleiss_kappa": "Fleiss' kappa",
        "cohen_kappa": "Cohen's kappa" + ("" if s.weights == "none" else f" ({s.weights} weights)"),
    }[s.metric]
    per = f"per {s.by}" if s.by else "over the whole table"
    params = K.Agreement(
        item=s.item,
        rater=s.rater,
        label=s.label,
        by=s.by,
        metric=s.metric,
        level=s.level,
        weights=None if s.weights == "none" else s.weights,
        categories=s.categories,
        min=s.min,
        **b.current(),
        **filtered(b, s),
    )
    b.add(
        f"agreement.{s.metric}",
        params,
        f"{detail} {per} is at least {s.min:g}{scope(s)}",
        severity=s.severity,
    )
    if s.per_annotator is not None:
        _per_annotator(b, contracts)


def _per_annotator(b: Builder, contracts: dict[str, Contract]) -> None:
    s, adj = b.s.agreement, b.s.adjudication
    assert s is not None and s.per_annotator is not None
    rec = contracts[adj.contract].sections.adjudication_record if adj else None
    pa = s.per_annotator
    b.add(
        "agreement.per_annotator",
        K.AnnotatorAgreement(
            key=b.c.key[0],
            item=s.item,
            rater=s.rater,
            label=s.label,
            records=adj.contract if adj and rec else None,
            rec_item=rec.item if rec else None,
            rec_decision=rec.decision if rec else None,
            min=pa.min,
            min_items=pa.min_items,
            **b.current(),
            **filtered(b, s),
        ),
        f"each {s.rater} agrees with the reference label (the adjudicated decision, else the "
        f"majority of the other annotators) on at least {pa.min:.0%} of their labels (from "
        f"{pa.min_items} labels with a reference on){scope(s)}",
        severity=s.severity,
    )


def plan_adjudication(b: Builder, contracts: dict[str, Contract]) -> None:
    s = b.s.adjudication
    if s is None:
        return
    other = contracts[s.contract]
    rec = other.sections.adjudication_record
    assert rec is not None  # resolve checked the records contract has the section
    common: dict[str, Any] = dict(
        item=s.item,
        label=s.label,
        records=other.name,
        rec_item=rec.item,
        rec_decision=rec.decision,
        **b.current(),
    )
    b.add(
        "adjudication.missing",
        K.AdjudicationMissing(**common, **filtered(b, s)),
        f"every {s.item} whose annotators disagree has an adjudication in {other.name}{scope(s)}",
        severity=s.severity,
    )
    accepted = b.c.columns[s.label].accepted_values
    if accepted:
        b.add(
            "adjudication.decision",
            K.AdjudicationDecision(values=accepted, **common),
            f"every {other.name}.{rec.decision} is an accepted {s.label}",
            severity=s.severity,
        )
    if s.flag_unneeded:
        b.add(
            "adjudication.unneeded",
            K.AdjudicationUnneeded(**common, **filtered(b, s)),
            f"{other.name} holds no adjudication for items whose annotators all agree{scope(s)}",
            severity=s.severity,
        )


def plan_audits(b: Builder, contracts: dict[str, Contract]) -> None:
    s = b.s.audits
    if s is None:
        return
    rec = contracts[s.contract].sections.audit_record
    assert rec is not None  # resolve checked the results contract has the section
    z = NormalDist().inv_cdf(0.5 + s.confidence / 2)
    for role, by in (("annotator", s.annotator), ("batch", s.batch)):
        if by is None:
            continue
        b.add(
            f"audits.{role}_error_rate",
            K.AuditErrorRate(
                by=by,
                key=b.c.key[0],
                records=s.contract,
                rec_annotation=rec.annotation,
                rec_verdict=rec.verdict,
                errors=s.error_verdicts,
                max_rate=s.max_error_rate,
                z=z,
            ),
            f"per {by}, the audited error rate ({rec.verdict}: "
            f"{' or '.join(s.error_verdicts)}) is at most {s.max_error_rate:g}: fails only when "
            f"the lower bound of its {s.confidence:.0%} Wilson interval exceeds it",
            severity=s.severity,
        )


def plan_revisions(b: Builder) -> None:
    s = b.s.revisions
    if s is None:
        return
    key, parent, sev = b.c.key[0], s.parent, s.severity
    b.add(
        "revisions.parent_exists",
        K.RevisionParent(key=key, parent=parent),
        f"every {parent} references an existing {key}",
        severity=sev,
    )
    b.add(
        "revisions.no_cycles",
        K.RevisionCycle(key=key, parent=parent),
        "correction chains have no cycles",
        severity=sev,
    )
    if s.lineage:
        b.add(
            "revisions.single_current",
            K.RevisionSingleCurrent(key=key, parent=parent, lineage=s.lineage),
            f"each ({', '.join(s.lineage)}) lineage has exactly one current row",
            severity=sev,
        )
    if s.timestamp:
        b.add(
            "revisions.time_order",
            K.RevisionTimeOrder(key=key, parent=parent, timestamp=s.timestamp),
            f"{s.timestamp} increases along each correction chain",
            severity=sev,
        )


def plan_coverage(b: Builder) -> None:
    s = b.s.coverage
    if s is None:
        return
    b.add(
        "coverage.min_annotations",
        K.CoverageMin(item=s.item, min=s.min_annotations, **b.current(), **filtered(b, s)),
        f"every {s.item} has at least {s.min_annotations} current annotations{scope(s)}",
        severity=s.severity,
    )
    if s.max_annotations is not None:
        b.add(
            "coverage.max_annotations",
            K.CoverageMax(item=s.item, max=s.max_annotations, **b.current(), **filtered(b, s)),
            f"every {s.item} has at most {s.max_annotations} current annotations{scope(s)}",
            severity=s.severity,
        )
    if s.items is not None:
        b.add(
            "coverage.unannotated_items",
            K.CoverageMissing(
                item=s.item, items=s.items.contract, items_item=s.items.item, **filtered(b, s)
            ),
            f"every item in {s.items.contract} has at least one annotation{scope(s)}",
            severity=s.severity,
        )


def plan_label_distribution(b: Builder) -> None:
    s = b.s.label_distribution
    if s is None:
        return
    per = f"per {s.by}" if s.by else "overall"
    if s.reference:
        assert s.max_divergence is not None  # resolve: reference and max_divergence together
        b.add(
            "label_distribution.divergence",
            K.LabelDivergence(
                label=s.label,
                by=s.by,
                reference=dict(s.reference),
                max_divergence=s.max_divergence,
                **b.current(),
                **filtered(b, s),
            ),
            f"{per}, the {s.label} shares are within total-variation distance "
            f"{s.max_divergence:g} of the reference{scope(s)}",
            severity=s.severity,
        )
    if s.min_share is None and s.max_share is None:
        return
    bounds = []
    if s.min_share is not None:
        bounds.append(f">= {s.min_share:.0%}")
    if s.max_share is not None:
        bounds.append(f"<= {s.max_share:.0%}")
    b.add(
        "label_distribution.share",
        K.LabelShare(
            label=s.label,
            by=s.by,
            min_share=s.min_share,
            max_share=s.max_share,
            **b.current(),
            **filtered(b, s),
        ),
        f"{per}, each {s.label}'s share is {' and '.join(bounds)}{scope(s)}",
        severity=s.severity,
    )


def plan_custom(b: Builder) -> None:
    for item in b.s.custom_checks:
        b.add(
            f"checks.{item.name}",
            K.CustomExpression(expression=item.expression, columns=tuple(b.c.columns)),
            item.description or f"every row satisfies: {item.expression}",
            severity=item.severity,
        )

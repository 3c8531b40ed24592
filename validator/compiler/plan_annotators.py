"""The planner of the `annotators:` section: one check per per-annotator rule.

Check ids are `annotators.<rule>` (label_mix, low_confidence, corrected, turnaround), in that
order, after every other section's checks (`plan.build_plan`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from validator.compiler import kinds as K
from validator.contract.sections import Annotators

if TYPE_CHECKING:
    from validator.compiler.plan import Builder

MEASURE_NAMES = {
    "total_variation": "total-variation distance",
    "jensen_shannon": "Jensen-Shannon divergence",
}


def plan_annotators(b: Builder) -> None:
    s = b.s.annotators
    if s is None:
        return
    who = f"each {s.annotator} with at least {s.min_labels} labels"
    if (mix := s.label_mix) is not None:
        b.add(
            "annotators.label_mix",
            K.AnnotatorLabelMix(
                annotator=s.annotator,
                label=mix.label,
                measure=mix.measure,
                max_divergence=mix.max_divergence,
                min_labels=s.min_labels,
                **b.current(),
            ),
            f"{who}: their {mix.label} shares are within {MEASURE_NAMES[mix.measure]} "
            f"{mix.max_divergence:g} of all annotators' shares (current labels)",
            severity=s.severity,
        )
    if (low := s.low_confidence) is not None:
        b.add(
            "annotators.low_confidence",
            K.AnnotatorLowConfidence(
                annotator=s.annotator,
                confidence=low.confidence,
                below=low.below,
                max_rate=low.max_rate,
                min_labels=s.min_labels,
            ),
            f"{who}: at most {low.max_rate:.0%} of their labels have {low.confidence} < "
            f"{low.below:g}",
            severity=s.severity,
        )
    _corrected(b, s)
    _turnaround(b, s)


def _corrected(b: Builder, s: Annotators) -> None:
    if s.corrected is None:
        return
    assert b.s.revisions is not None  # resolve: annotators.corrected needs revisions
    b.add(
        "annotators.corrected",
        K.AnnotatorCorrected(
            annotator=s.annotator,
            key=b.c.key[0],
            parent=b.s.revisions.parent,
            max_rate=s.corrected.max_rate,
            min_labels=s.min_labels,
        ),
        f"each {s.annotator} with at least {s.min_labels} labels: at most "
        f"{s.corrected.max_rate:.0%} of their labels are later corrected "
        f"({b.s.revisions.parent} names them)",
        severity=s.severity,
    )


def _turnaround(b: Builder, s: Annotators) -> None:
    t = s.turnaround
    if t is None:
        return
    by = t.by or s.annotator
    took = t.seconds or f"{t.finished} - {t.started}"
    bounds = []
    if t.min_median is not None:
        bounds.append(f"median >= {t.min_median:g} s")
    if t.max_median is not None:
        bounds.append(f"median <= {t.max_median:g} s")
    if t.max_p90 is not None:
        bounds.append(f"90th percentile <= {t.max_p90:g} s")
    b.add(
        "annotators.turnaround",
        K.AnnotatorTurnaround(
            by=by,
            seconds=t.seconds,
            started=t.started,
            finished=t.finished,
            min_median=t.min_median,
            max_median=t.max_median,
            max_p90=t.max_p90,
            min_labels=s.min_labels,
        ),
        f"per {by} with at least {s.min_labels} labels, the time per label ({took}): "
        f"{', '.join(bounds)}",
        severity=s.severity,
    )

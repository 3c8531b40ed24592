"""The dashboard's sections, each a function of the gathered `Metrics` returning HTML (empty
when the contract has nothing to show there)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from validator.output.dashboard import history
from validator.output.dashboard.charts import (
    UNDEFINED,
    bar_chart,
    esc,
    heat_table,
    interval_chart,
    line_chart,
    table,
)
from validator.verdict.run_metrics import wilson

if TYPE_CHECKING:
    from validator.output.health import Metrics

MAX_ANNOTATOR_ROWS = 40


def agreement(m: Metrics) -> str:
    """Agreement per batch and per annotator, against their minimums."""
    out = []
    if m.agreement_by_batch:
        undefined = [b for b, v in m.agreement_by_batch if v is None]
        note = (
            f"<p class='note'>{UNDEFINED}: no pairable ratings, agreement undefined "
            f"(the check does not fail it): {esc(', '.join(undefined))}</p>"
            if undefined
            else ""
        )
        out.append(
            bar_chart(
                f"Agreement per batch ({m.agreement_metric})",
                m.agreement_by_batch,
                "agreement-batch",
                limit=m.agreement_min,
                limit_label=f"min {m.agreement_min}",
                below_is_bad=True,
                max_value=1.0,
            )
            + note
        )
    judged = sorted(
        (f.agreement, who, f.agreement_items)
        for who, f in m.key.annotators.items()
        if f.agreement is not None
    )
    if judged:
        note = (
            f"; annotators with fewer than {m.annotator_min_items} labels with a reference "
            "are not judged"
            if m.annotator_min_items
            else ""
        )
        out.append(
            bar_chart(
                "Agreement per annotator with the adjudicated or majority label (lowest first)",
                [(f"{who} ({n})", value) for value, who, n in judged],
                "agreement-annotator",
                limit=m.annotator_min,
                limit_label=f"min {m.annotator_min}" if m.annotator_min is not None else "",
                below_is_bad=True,
                max_value=1.0,
            )
            + f"<p class='note'>labels with a reference in brackets{esc(note)}</p>"
        )
    return "".join(out)


def who_labels_what(m: Metrics) -> str:
    """The annotator x label heat map (each annotator's label mix, most unusual first) and
    the confusion between annotators' labels and adjudicated decisions."""
    out = []
    if m.annotator_labels:
        counts: dict[tuple[str, str], int] = {(a, lab): n for a, lab, n in m.annotator_labels}
        labels = sorted({lab for _, lab in counts})
        totals: dict[str, int] = {}
        for (a, _), n in counts.items():
            totals[a] = totals.get(a, 0) + n
        overall = sum(totals.values())
        pop = {lab: sum(n for (_, x), n in counts.items() if x == lab) / overall for lab in labels}

        def divergence(a: str) -> float:
            return sum(abs(counts.get((a, lab), 0) / totals[a] - pop[lab]) for lab in labels) / 2

        rows = sorted(totals, key=lambda a: (-divergence(a), a))
        shares = {(a, lab): counts.get((a, lab), 0) / totals[a] for a in rows for lab in labels}
        shown = {(a, lab): str(counts.get((a, lab), 0)) for a in rows for lab in labels}
        note = (
            f"showing the {MAX_ANNOTATOR_ROWS} of {len(rows)} annotators whose mix is furthest "
            "from everyone's"
            if len(rows) > MAX_ANNOTATOR_ROWS
            else "annotators whose mix is furthest from everyone's first"
        )
        out.append(
            heat_table(
                "Labels per annotator (cell: labels; shade: share of the annotator's labels)",
                rows[:MAX_ANNOTATOR_ROWS],
                labels,
                shares,
                "heatmap",
                shown,
            )
            + f"<p class='note'>{esc(note)}</p>"
        )
    if m.label_vs_decision:
        cells = {(lab, dec): n for lab, dec, n in m.label_vs_decision}
        given = sorted({lab for lab, _ in cells})
        decided = sorted({dec for _, dec in cells})
        row_total = {g: sum(n for (x, _), n in cells.items() if x == g) for g in given}
        out.append(
            heat_table(
                "Annotators' labels (rows) against adjudicated decisions (columns), adjudicated "
                "items",
                given,
                decided,
                {k: n / row_total[k[0]] for k, n in cells.items()},
                "confusion",
                {(g, d): str(cells.get((g, d), 0)) for g in given for d in decided},
            )
        )
    return "".join(out)


def audits(m: Metrics) -> str:
    """Audited error rates per annotator and per batch with Wilson intervals."""
    out = []
    level = f"{m.audit_confidence:.0%}"
    for role, groups in sorted(m.key.audits.items()):
        rows = []
        for group, (n, errors) in groups.items():
            lo, hi = wilson(errors, n, m.audit_confidence)
            rows.append((group, errors / n if n else 0.0, lo, hi, n, errors))
        rows.sort(key=lambda r: (-r[2], r[0]))  # the surest excess first
        alt = table(
            [role, "audited", "errors", "error rate", f"{level} low", f"{level} high"],
            [(g, n, e, rate, lo, hi) for g, rate, lo, hi, n, e in rows],
            f"audit-{role}-table",
        )
        out.append(
            interval_chart(
                f"Audited error rate per {role} with {level} Wilson intervals",
                [(g, rate, lo, hi) for g, rate, lo, hi, _, _ in rows],
                f"audit-{role}",
                m.audit_max_rate,
                alt,
            )
        )
    return "".join(out)


def trends(m: Metrics) -> str:
    """The key metrics over the ledger's validations of this contract."""
    pts = m.history
    if not pts:
        return ""
    runs = [f"#{p.seq}" for p in pts]
    charts = [
        ("Agreement per batch over validations", "trend-agreement", history.agreement(pts)),
        ("Low-confidence share over validations", "trend-low", history.low_share(pts)),
        ("Label shares over validations", "trend-labels", history.label_shares(pts)),
        (
            "Per-annotator agreement over validations: lowest, median, highest",
            "trend-annotator-spread",
            history.annotator_spread(pts),
        ),
        (
            "Lowest per-annotator agreement over validations",
            "trend-annotators",
            history.annotator_agreement(pts),
        ),
        (
            "Audited error rate per batch over validations",
            "trend-audits",
            history.audit_error_rate(pts, "batch"),
        ),
    ]
    out = [
        table(
            ["validation", "started at", "verdict", "metrics recorded", "annotators below min"],
            [
                (
                    f"#{p.seq}",
                    p.started_at,
                    p.status,
                    "yes" if p.metrics else "no",
                    history.below_min(p),
                )
                for p in pts
            ],
            "trend-runs",
        )
    ]
    out += [line_chart(title, runs, series, ident) for title, ident, series in charts if series]
    out.append(
        "<p class='note'>Up to 8 lines per chart: the groups whose newest value is worst. "
        "Validations without recorded metrics (before metrics were kept, incremental runs) "
        "are gaps. Per-annotator lines are kept only where annotator ids are not personal data "
        "or a pseudonym key is set.</p>"
    )
    return "".join(out)


def drift(m: Metrics) -> str:
    """Instruction-version shares per month and the label mix per batch."""
    out = []
    if m.version_share_by_month:
        out.append(
            "<h3>Instruction-version share per month</h3>"
            + table(["month", "version", "share"], m.version_share_by_month, "drift")
        )
    if m.label_mix_by_batch:
        cells = {(b, lab): s for b, lab, s in m.label_mix_by_batch}
        labels = sorted({lab for _, lab in cells} | set(m.label_reference))
        batches = sorted({b for b, _ in cells})
        # the contract's reference in the table's footer: a batch may be named `reference`
        footer = ("reference (contract)", m.label_reference) if m.label_reference else None
        out.append(
            heat_table(
                "Label mix per batch (share of current labels)",
                batches,
                labels,
                cells,
                "label-mix",
                footer=footer,
            )
        )
    return "".join(out)


def data_health(m: Metrics) -> str:
    """Provenance completeness, confidence, coverage and the two backlogs."""
    out = []
    if m.completeness:
        out.append(
            bar_chart(
                "Provenance completeness (share non-null)",
                list(m.completeness.items()),
                "completeness",
                limit=1.0,
                below_is_bad=True,
                limit_label="100%",
                digits=4,
            )
        )
    if m.confidence_histogram:
        out.append(
            bar_chart(
                "Confidence distribution (labels per bin)",
                [(k, float(v)) for k, v in m.confidence_histogram],
                "confidence",
                digits=0,
            )
        )
    if m.low_share_by_batch:
        out.append(
            bar_chart(
                "Low-confidence share per batch",
                m.low_share_by_batch,
                "low-share",
                limit=m.low_share_limit,
                limit_label=f"max {m.low_share_limit}",
            )
        )
    if m.coverage_histogram:
        out.append(
            bar_chart(
                "Coverage: items by number of annotations",
                [(f"{k} annotations", float(n)) for k, n in m.coverage_histogram],
                "coverage",
                digits=0,
            )
        )
    if m.unresolved_uncertainty_rate is not None:
        out.append(
            "<h3>Unresolved uncertainty</h3><p id='unresolved'>"
            f"{m.unresolved_uncertainty_rate:.4f} of current labels are "
            "low-confidence on items without an adjudication</p>"
        )
    if m.adjudication_backlog is not None:
        out.append(
            f"<h3>Adjudication backlog</h3><p id='backlog'>"
            f"{m.adjudication_backlog} disagreeing item(s) without adjudication</p>"
        )
    return "".join(out)

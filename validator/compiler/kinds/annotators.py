"""Kinds judging each annotator on their own (the `annotators:` section): label mix, rate of
low-confidence labels, rate of corrected labels, turnaround.

Each kind has `values` (one row per annotator, or per group: the figures reports show) and
fails the rows of `values` out of bounds, for annotators with at least `min_labels` labels.
An annotator's labels span batches: the rates of low-confidence and of corrected labels are
counts that add up over batches, and the label mix follows from counts per annotator and label
that do (ROW_SUMS: an incremental run adds the new batches' counts to the stored ones); the
turnaround percentiles read the whole table.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from sqlglot import exp

from validator.compiler.kinds.base import (
    Current,
    Incremental,
    Kind,
    Params,
    RatioSums,
    RelationFor,
    Summed,
    column,
    from_current,
)
from validator.compiler.sql.templates import template

if TYPE_CHECKING:
    from validator.compiler.plan import Check
    from validator.compiler.sql.dialects import Dialect

# Per label of the population: the annotator's share p and the population's share q.
_TOTAL_VARIATION = "SUM(ABS(p - q)) / 2"
# Jensen-Shannon divergence in bits: the mean of KL(p || m) and KL(q || m), m = (p + q) / 2;
# a label with share 0 contributes 0. q > 0 for every label of the population.
_JENSEN_SHANNON = (
    "SUM(CASE WHEN p > 0 THEN p * LN(2 * p / (p + q)) ELSE 0 END + q * LN(2 * q / (p + q))) "
    "/ (2 * LN(2))"
)
MEASURES = {"total_variation": _TOTAL_VARIATION, "jensen_shannon": _JENSEN_SHANNON}


def _judged(values: exp.Expr, min_labels: int, out_of_bounds: str, **bounds: object) -> exp.Select:
    """The rows of `values` (a query, or a subquery named q) with at least `min_labels` labels
    whose figures are out of bounds."""
    return template(
        f"SELECT * FROM r_q AS q WHERE q.n_labels >= v_min_labels AND ({out_of_bounds})",
        values={"v_min_labels": min_labels, **bounds},
        tables={"r_q": values.subquery("q") if isinstance(values, exp.Select) else values},
    )


@dataclass(frozen=True, kw_only=True)
class AnnotatorLabelMix(Summed, Current):
    """Per annotator, the label shares of their current labels are within `max_divergence` of
    the population's (all current labels), by total variation or Jensen-Shannon divergence."""

    kind: ClassVar[Kind] = Kind.ANNOTATOR_LABEL_MIX
    # The divergence is no sum, but it follows from the counts per annotator and label, which
    # add up over batches (`sums`; corrections never cross old and new batches, so the old
    # rows stay current or not as stored).
    incremental: ClassVar[Incremental] = Incremental.ROW_SUMS
    annotator: str = column()
    label: str = column()
    measure: str = "total_variation"
    max_divergence: float
    min_labels: int

    def sums(self, check: Check, rel: RelationFor) -> exp.Select:
        """Per annotator and label of the current labels: `annotator`, `label` (as text), `n`."""
        return template(
            "SELECT t.p_ann AS annotator, CAST(t.p_label AS VARCHAR) AS label, COUNT(*) AS n "
            "FROM r_t AS t WHERE t.p_label IS NOT NULL AND t.p_ann IS NOT NULL "
            "GROUP BY t.p_ann, CAST(t.p_label AS VARCHAR)",
            ids={"p_ann": self.annotator, "p_label": self.label},
            tables={"r_t": from_current(check, rel)(check.contract)},
        )

    def add(self, *runs: Iterable[Sequence[Any]]) -> list[tuple[Any, ...]]:
        total: dict[tuple[Any, Any], int] = {}
        for rows in runs:
            for annotator, label, n in rows:
                total[(annotator, label)] = total.get((annotator, label), 0) + int(n)
        return [(a, lab, n) for (a, lab), n in sorted(total.items(), key=lambda r: str(r[0]))]

    def judge_rows(self, rows: Sequence[Sequence[Any]]) -> exp.Query:
        held = exp.values([tuple(r) for r in rows], alias="v", columns=["annotator", "label", "n"])
        return self._judge(self._values(exp.select("annotator", "label", "n").from_(held)))

    def values(self, check: Check, rel: RelationFor) -> exp.Select:
        """Per annotator: `annotator`, `n_labels`, `divergence`."""
        return self._values(self.sums(check, rel))

    def _values(self, counts: exp.Select) -> exp.Select:
        """`values` from the rows of `sums`: the population's shares are summed from them."""
        return template(
            "WITH per AS (SELECT * FROM r_c AS c), "
            "pop AS (SELECT label, CAST(SUM(n) AS DOUBLE PRECISION) / SUM(SUM(n)) OVER () "
            "AS q FROM per GROUP BY label), "
            "tot AS (SELECT annotator, SUM(n) AS n_labels FROM per GROUP BY annotator), "
            "grid AS (SELECT s.annotator, s.n_labels, o.q, CAST(COALESCE(r.n, 0) AS DOUBLE "
            "PRECISION) / s.n_labels AS p FROM tot AS s CROSS JOIN pop AS o LEFT JOIN per AS r "
            "ON r.annotator = s.annotator AND r.label = o.label) "
            f"SELECT annotator, n_labels, {MEASURES[self.measure]} AS divergence FROM grid "
            "GROUP BY annotator, n_labels",
            tables={"r_c": counts.subquery("c")},
        )

    def failing_rows(
        self, check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]
    ) -> exp.Query:
        return self._judge(self.values(check, rel))

    def _judge(self, values: exp.Select) -> exp.Query:
        return _judged(values, self.min_labels, "q.divergence > v_max", v_max=self.max_divergence)


@dataclass(frozen=True, kw_only=True)
class AnnotatorLowConfidence(RatioSums, Params):
    """Per annotator, the share of their labels (with a confidence) below `below` is at most
    `max_rate`. Every label counts, corrected ones too: each was given with that confidence."""

    kind: ClassVar[Kind] = Kind.ANNOTATOR_LOW_CONFIDENCE
    incremental: ClassVar[Incremental] = Incremental.ROW_SUMS
    sum_columns = ("annotator", "n_labels", "n_low", "low_rate")
    annotator: str = column()
    confidence: str = column()
    below: float
    max_rate: float
    min_labels: int

    def values(self, check: Check, rel: RelationFor) -> exp.Select:
        """Per annotator: `annotator`, `n_labels` (with a confidence), `n_low` (of those, below
        `below`), `low_rate`."""
        return template(
            "SELECT annotator, n_labels, n_low, CAST(n_low AS DOUBLE PRECISION) / n_labels AS "
            "low_rate FROM (SELECT t.p_ann AS annotator, COUNT(*) AS n_labels, SUM(CASE WHEN "
            "t.p_c < v_below THEN 1 ELSE 0 END) AS n_low FROM r_t AS t WHERE t.p_c IS NOT NULL "
            "AND t.p_ann IS NOT NULL GROUP BY t.p_ann) AS g",
            ids={"p_ann": self.annotator, "p_c": self.confidence},
            values={"v_below": self.below},
            tables={"r_t": rel(check.contract)},
        )

    def failing_rows(
        self, check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]
    ) -> exp.Query:
        return self.judge(self.values(check, rel))

    def judge(self, values: exp.Expr) -> exp.Select:
        return _judged(values, self.min_labels, "q.low_rate > v_max", v_max=self.max_rate)


@dataclass(frozen=True, kw_only=True)
class AnnotatorCorrected(RatioSums, Params):
    """Per annotator, the share of their labels that a later row corrects (its `parent` names
    the label's key) is at most `max_rate`; every label of theirs counts, corrections too."""

    kind: ClassVar[Kind] = Kind.ANNOTATOR_CORRECTED
    # Whether a label is corrected depends on the rows naming it: an incremental run goes on
    # only while no row of a new batch and no row of an old one name each other, so the
    # counts of old labels stay as stored.
    incremental: ClassVar[Incremental] = Incremental.ROW_SUMS
    sum_columns = ("annotator", "n_labels", "n_corrected", "corrected_rate")
    annotator: str = column()
    key: str = column()
    parent: str = column()
    max_rate: float
    min_labels: int

    def values(self, check: Check, rel: RelationFor) -> exp.Select:
        """Per annotator: `annotator`, `n_labels`, `n_corrected`, `corrected_rate`."""
        return template(
            "SELECT annotator, n_labels, n_corrected, CAST(n_corrected AS DOUBLE PRECISION) / "
            "n_labels AS corrected_rate FROM (SELECT t.p_ann AS annotator, COUNT(*) AS n_labels, "
            "SUM(CASE WHEN c.corrected IS NULL THEN 0 ELSE 1 END) AS n_corrected "
            "FROM r_t AS t LEFT JOIN (SELECT DISTINCT f.p_parent AS corrected FROM r_t AS f "
            "WHERE f.p_parent IS NOT NULL) AS c ON c.corrected = t.p_key "
            "WHERE t.p_ann IS NOT NULL GROUP BY t.p_ann) AS g",
            ids={"p_ann": self.annotator, "p_key": self.key, "p_parent": self.parent},
            tables={"r_t": rel(check.contract)},
        )

    def failing_rows(
        self, check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]
    ) -> exp.Query:
        return self.judge(self.values(check, rel))

    def judge(self, values: exp.Expr) -> exp.Select:
        return _judged(values, self.min_labels, "q.corrected_rate > v_max", v_max=self.max_rate)


@dataclass(frozen=True, kw_only=True)
class AnnotatorTurnaround(Params):
    """Per group (`by`: the annotator or e.g. the batch), the median time per label lies in
    [min_median, max_median] and the 90th percentile is at most `max_p90` (seconds; linear
    interpolation between ranks, as PERCENTILE_CONT). The time per label is the `seconds`
    column, or `finished - started`; labels without one do not count."""

    kind: ClassVar[Kind] = Kind.ANNOTATOR_TURNAROUND
    incremental: ClassVar[Incremental] = Incremental.FULL
    by: str = column()
    seconds: str | None = column(default=None)
    started: str | None = column(default=None)
    finished: str | None = column(default=None)
    min_median: float | None = None
    max_median: float | None = None
    max_p90: float | None = None
    min_labels: int

    def values(self, check: Check, rel: RelationFor, d: Dialect) -> exp.Select:
        """Per group: `group_key` (the `by` value), `n_labels`, `median_seconds`,
        `p90_seconds`."""
        if self.seconds:
            took: exp.Expr = exp.cast(exp.column(self.seconds, "t", quoted=True), "double")
        else:
            assert self.started and self.finished  # resolve: seconds, or started and finished
            took = d.seconds_between(
                exp.column(self.started, "t", quoted=True),
                exp.column(self.finished, "t", quoted=True),
            )
        # Exact PERCENTILE_CONT from the group's distinct times and their running counts:
        # the value at 0-based rank r is the least time whose running count exceeds r, and
        # the q quantile interpolates between ranks floor(h) and ceil(h), h = (n - 1) * q. A
        # grouping and a window (both spill to disk) instead of a percentile aggregate, which
        # holds every time of a group in memory (100M labels ran out of memory in 1 GB).
        return template(
            "WITH d AS (SELECT t.p_by AS grp, v_took AS s FROM r_t AS t WHERE t.p_by IS NOT "
            "NULL), "
            "times AS (SELECT grp, s, COUNT(*) AS n FROM d WHERE s IS NOT NULL GROUP BY grp, s), "
            "ranked AS (SELECT grp, s, SUM(n) OVER (PARTITION BY grp ORDER BY s ROWS BETWEEN "
            "UNBOUNDED PRECEDING AND CURRENT ROW) AS upto, SUM(n) OVER (PARTITION BY grp) AS "
            "total FROM times), "
            "ranks AS (SELECT grp, s, upto, total, CAST(total - 1 AS DOUBLE PRECISION) * 0.5 AS "
            "h5, CAST(total - 1 AS DOUBLE PRECISION) * 0.9 AS h9 FROM ranked), "
            "ends AS (SELECT grp, MAX(total) AS total, MAX(h5) AS h5, MAX(h9) AS h9, "
            "MIN(CASE WHEN upto > FLOOR(h5) THEN s END) AS lo5, "
            "MIN(CASE WHEN upto > CEIL(h5) THEN s END) AS hi5, "
            "MIN(CASE WHEN upto > FLOOR(h9) THEN s END) AS lo9, "
            "MIN(CASE WHEN upto > CEIL(h9) THEN s END) AS hi9 FROM ranks GROUP BY grp) "
            "SELECT grp AS group_key, CAST(total AS BIGINT) AS n_labels, "
            "lo5 + (h5 - FLOOR(h5)) * (hi5 - lo5) AS median_seconds, "
            "lo9 + (h9 - FLOOR(h9)) * (hi9 - lo9) AS p90_seconds FROM ends",
            ids={"p_by": self.by},
            values={"v_took": took},
            tables={"r_t": rel(check.contract)},
        )

    def failing_rows(
        self, check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]
    ) -> exp.Query:
        conds = []
        if self.min_median is not None:
            conds.append("q.median_seconds < v_lo")
        if self.max_median is not None:
            conds.append("q.median_seconds > v_hi")
        if self.max_p90 is not None:
            conds.append("q.p90_seconds > v_p90")
        return _judged(
            self.values(check, rel, d),
            self.min_labels,
            " OR ".join(conds),
            v_lo=self.min_median,
            v_hi=self.max_median,
            v_p90=self.max_p90,
        )

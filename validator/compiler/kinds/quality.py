"""Kinds about label quality: uncertainty, inter-annotator agreement, the label mix."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from sqlglot import exp

from validator.compiler.kinds.base import (
    Current,
    Filtered,
    Incremental,
    Kind,
    Params,
    RatioSums,
    RelationFor,
    column,
    current_rows,
    filtered_rows,
    from_current,
    relation,
)
from validator.compiler.sql.rows import col, shown
from validator.compiler.sql.templates import literal, template

if TYPE_CHECKING:
    from validator.compiler.plan import Check
    from validator.compiler.sql.dialects import Dialect


@dataclass(frozen=True, kw_only=True)
class NotesRequired(Filtered):
    """Notes are present whenever confidence is below a threshold."""

    kind: ClassVar[Kind] = Kind.NOTES_REQUIRED
    incremental: ClassVar[Incremental] = Incremental.ROWS
    confidence: str = column()
    notes: str = column()
    below: float

    def failing_rows(
        self, check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]
    ) -> exp.Query:
        cond = template(
            "SELECT 1 WHERE p_c < v_below AND (p_n IS NULL OR TRIM(p_n) = '')",
            ids={"p_c": self.confidence, "p_n": self.notes},
            values={"v_below": self.below},
        )
        cols = shown(key, self.confidence)
        return (
            exp.select(*[col(c) for c in cols])
            .from_(filtered_rows(check, rel))
            .where(cond.args["where"].this)
        )


@dataclass(frozen=True, kw_only=True)
class BatchLowConfidence(Filtered):
    """Per group, at most `max_share` of the labels have confidence below `below`."""

    kind: ClassVar[Kind] = Kind.BATCH_LOW_CONFIDENCE
    incremental: ClassVar[Incremental] = Incremental.PER_GROUP
    confidence: str = column()
    by: str = column()
    below: float
    max_share: float

    def group_column(self) -> str | None:
        return self.by

    def failing_rows(
        self, check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]
    ) -> exp.Query:
        return template(
            "SELECT * FROM (SELECT t.p_by, COUNT(t.p_c) AS n_labels, "
            "CAST(SUM(CASE WHEN t.p_c < v_below THEN 1 ELSE 0 END) AS DOUBLE PRECISION) / "
            "COUNT(t.p_c) AS low_share FROM r_t AS t WHERE t.p_c IS NOT NULL GROUP BY t.p_by) "
            "AS g WHERE low_share > v_max",
            ids={"p_by": self.by, "p_c": self.confidence},
            values={"v_below": self.below, "v_max": self.max_share},
            tables={"r_t": filtered_rows(check, rel)},
        )


@dataclass(frozen=True, kw_only=True)
class BatchMeanConfidence(Filtered):
    """Per group, the mean confidence lies in [min, max]."""

    kind: ClassVar[Kind] = Kind.BATCH_MEAN_CONFIDENCE
    incremental: ClassVar[Incremental] = Incremental.PER_GROUP
    confidence: str = column()
    by: str = column()
    min: float | None
    max: float | None

    def group_column(self) -> str | None:
        return self.by

    def failing_rows(
        self, check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]
    ) -> exp.Query:
        return template(
            "SELECT * FROM (SELECT t.p_by, COUNT(t.p_c) AS n_labels, "
            "AVG(CAST(t.p_c AS DOUBLE PRECISION)) AS mean_confidence FROM r_t AS t "
            "WHERE t.p_c IS NOT NULL GROUP BY t.p_by) AS g "
            "WHERE mean_confidence < v_min OR mean_confidence > v_max",
            ids={"p_by": self.by, "p_c": self.confidence},
            values={"v_min": self.min, "v_max": self.max},
            tables={"r_t": filtered_rows(check, rel)},
        )


@dataclass(frozen=True, kw_only=True)
class Agreement(Current):
    """An agreement coefficient per group (`by`; None: the whole table) is at least `min`."""

    kind: ClassVar[Kind] = Kind.AGREEMENT
    incremental: ClassVar[Incremental] = Incremental.PER_GROUP
    item: str = column()
    rater: str = column()
    label: str = column()
    by: str | None = column(default=None)
    metric: str
    level: str = "nominal"
    weights: str | None = None  # None: unweighted
    categories: tuple[str, ...] | None = None  # label order (ordinal alpha, weighted kappa)
    min: float

    def group_column(self) -> str | None:
        return self.by

    def values(self, check: Check, rel: RelationFor) -> exp.Select:
        """Per group: `group_key`, `n_items`, `n_ratings`, `value`, over current rows (the
        check fails the groups below its minimum; reports show them all)."""
        from validator.compiler.sql.agreement import (
            agreement_query,
        )  # the heaviest renderer: loaded when needed

        return agreement_query(
            current_rows(check, rel),
            item=self.item,
            rater=self.rater,
            label=self.label,
            by=self.by,
            metric=self.metric,
            level=self.level,
            weights=self.weights,
            categories=None if self.categories is None else list(self.categories),
        )

    def failing_rows(
        self, check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]
    ) -> exp.Query:
        return template(
            "SELECT * FROM r_q AS a WHERE a.value < v_min",
            values={"v_min": self.min},
            tables={"r_q": self.values(check, rel).subquery("q")},
        )


@dataclass(frozen=True, kw_only=True)
class LabelShare(Current):
    """Per segment, each label's share of the current rows is within bounds."""

    kind: ClassVar[Kind] = Kind.LABEL_SHARE
    incremental: ClassVar[Incremental] = Incremental.PER_GROUP
    label: str = column()
    by: str | None = column(default=None)
    min_share: float | None = None
    max_share: float | None = None

    def group_column(self) -> str | None:
        return self.by

    def failing_rows(
        self, check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]
    ) -> exp.Query:
        conds = []
        if self.max_share is not None:
            conds.append("share > v_max")
        if self.min_share is not None:
            conds.append("share < v_min")
        group = "t.p_by, t.p_label" if self.by else "t.p_label"
        part = "PARTITION BY t.p_by" if self.by else ""
        return template(
            f"SELECT * FROM (SELECT {group}, COUNT(*) AS n_labels, CAST(COUNT(*) AS DOUBLE "
            f"PRECISION) / SUM(COUNT(*)) OVER ({part}) AS share FROM r_t AS t WHERE t.p_label "
            f"IS NOT NULL GROUP BY {group}) AS g WHERE {' OR '.join(conds)}",
            ids={"p_by": self.by or "x", "p_label": self.label},
            values={"v_max": self.max_share, "v_min": self.min_share},
            tables={"r_t": from_current(check, rel)(check.contract)},
        )


@dataclass(frozen=True, kw_only=True)
class LabelDivergence(Current):
    """Per segment, the label shares are within a total-variation distance of `reference`."""

    kind: ClassVar[Kind] = Kind.LABEL_DIVERGENCE
    incremental: ClassVar[Incremental] = Incremental.PER_GROUP
    label: str = column()
    by: str | None = column(default=None)
    reference: Mapping[str, float]
    max_divergence: float

    def group_column(self) -> str | None:
        return self.by

    def failing_rows(
        self, check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]
    ) -> exp.Query:
        rows = [
            exp.select(
                exp.alias_(literal(str(label)), "label"),
                exp.alias_(exp.cast(literal(float(share)), "double"), "share"),
            )
            for label, share in sorted(self.reference.items())
        ]
        ref: exp.Query = rows[0]
        for row in rows[1:]:
            ref = exp.union(ref, row, distinct=False)
        segment = (
            exp.cast(exp.column(self.by, quoted=True), "text")
            if self.by
            else exp.Literal.string("all")
        )
        # Total variation: half the summed absolute share differences, over the union of the
        # labels seen and the labels expected (a missing label counts with share 0).
        return template(
            "WITH obs AS (SELECT v_seg AS seg, CAST(t.p_label AS VARCHAR) AS label, COUNT(*) "
            "AS n FROM r_t AS t WHERE t.p_label IS NOT NULL GROUP BY 1, 2), "
            "shares AS (SELECT seg, label, CAST(n AS DOUBLE PRECISION) / SUM(n) OVER "
            "(PARTITION BY seg) AS share FROM obs), "
            "grid AS (SELECT s.seg, r.label, r.share FROM (SELECT DISTINCT seg FROM obs) AS s "
            "CROSS JOIN r_ref AS r), "
            "diffs AS (SELECT COALESCE(g.seg, o.seg) AS seg, ABS(COALESCE(o.share, 0) - "
            "COALESCE(g.share, 0)) AS d FROM grid AS g FULL OUTER JOIN shares AS o "
            "ON o.seg = g.seg AND o.label = g.label) "
            "SELECT seg, SUM(d) / 2 AS divergence FROM diffs GROUP BY seg "
            "HAVING SUM(d) / 2 > v_max",
            ids={"p_label": self.label},
            values={"v_seg": segment, "v_max": self.max_divergence},
            tables={"r_t": from_current(check, rel)(check.contract), "r_ref": ref.subquery("r")},
        )


def wilson_interval(k: int, n: int, z: float) -> tuple[float, float]:
    """The Wilson score interval of the proportion k / n (n > 0) at normal quantile `z`, as
    `AuditErrorRate` computes its lower bound in SQL (not clipped to [0, 1])."""
    p, z2 = k / n, z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return centre - half, centre + half


@dataclass(frozen=True, kw_only=True)
class AuditErrorRate(RatioSums, Params):
    """Per group (`by`), the audited error rate is not above `max_rate` with confidence: the
    lower bound of its Wilson score interval (z from the section's confidence level) must not
    exceed `max_rate`. A group with few audits has a wide interval and fails only on a clear
    excess, where a bare ratio would fail (or pass) it by the luck of a small sample."""

    kind: ClassVar[Kind] = Kind.AUDIT_ERROR_RATE
    # Each audit result names one label: the audits of the new batches' labels add to each
    # group's counts, while the audits of older labels are as before (`matched_records`; results
    # arriving later for older labels make the run read the whole table).
    incremental: ClassVar[Incremental] = Incremental.ROW_SUMS
    by: str = column()
    key: str = column()  # the audited contract's key, named by each audit result
    records: str = relation()
    rec_annotation: str = column()
    rec_verdict: str = column()
    errors: tuple[str, ...]
    max_rate: float
    z: float

    def value_columns(self) -> tuple[str, ...]:
        return (self.by, "n_audited", "n_errors", "error_rate", "error_rate_lower")

    def group_column(self) -> str | None:
        return self.by

    def matched_records(self) -> tuple[str, str, str] | None:
        return self.records, self.rec_annotation, self.key

    def derive(self, n: int, k: int) -> tuple[Any, ...]:
        return k / n, wilson_interval(k, n, self.z)[0]

    def values(self, check: Check, rel: RelationFor) -> exp.Select:
        """Per group: `by`, `n_audited` (labels audited), `n_errors` (audits finding an
        error), `error_rate`, `error_rate_lower` (the Wilson lower bound)."""
        # Wilson lower bound: (p + z^2/2n - z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n)
        return template(
            "SELECT w.p_by, w.n_audited, w.n_errors, w.error_rate, (w.error_rate + v_z2 / "
            "(2 * w.n) - v_z * SQRT(w.error_rate * (1 - w.error_rate) / w.n + v_z2 / (4 * w.n "
            "* w.n))) / (1 + v_z2 / w.n) AS error_rate_lower FROM (SELECT c.p_by, c.n_audited, "
            "c.n_errors, CAST(c.n_errors AS DOUBLE PRECISION) / c.n_audited AS error_rate, "
            "CAST(c.n_audited AS DOUBLE PRECISION) AS n FROM (SELECT t.p_by, COUNT(*) AS "
            "n_audited, SUM(CASE WHEN a.p_verdict IN (v_errors) THEN 1 ELSE 0 END) AS n_errors "
            "FROM r_t AS t JOIN r_a AS a ON a.p_ann = t.p_key GROUP BY t.p_by) AS c) AS w",
            ids={
                "p_by": self.by,
                "p_key": self.key,
                "p_ann": self.rec_annotation,
                "p_verdict": self.rec_verdict,
            },
            values={"v_errors": list(self.errors), "v_z": self.z, "v_z2": self.z * self.z},
            tables={"r_t": rel(check.contract), "r_a": rel(self.records)},
        )

    def failing_rows(
        self, check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]
    ) -> exp.Query:
        return self.judge(self.values(check, rel).subquery("q"))

    def judge(self, values: exp.Expr) -> exp.Query:
        return template(
            "SELECT * FROM r_q AS q WHERE q.error_rate_lower > v_max",
            values={"v_max": self.max_rate},
            tables={"r_q": values},
        )


@dataclass(frozen=True, kw_only=True)
class AnnotatorAgreement(RatioSums, Current):
    """Per annotator, the share of their current labels equal to the item's reference label
    is at least `min` (annotators with fewer than `min_items` labels with a reference are not
    judged). The reference is the adjudicated decision (`records`) where there is one, else the
    unique majority of the other annotators' current labels of the item."""

    kind: ClassVar[Kind] = Kind.ANNOTATOR_AGREEMENT
    # An annotator's labels span batches, but a label's reference depends only on its item:
    # labels of new items add to each annotator's counts (`add`).
    incremental: ClassVar[Incremental] = Incremental.ITEM_SUMS
    sum_columns = ("rater", "n_items", "n_agree", "agreement")
    key: str = column()
    item: str = column()
    rater: str = column()
    label: str = column()
    records: str | None = relation(default=None)
    rec_item: str | None = column(default=None)
    rec_decision: str | None = column(default=None)
    min: float
    min_items: int

    def values(self, check: Check, rel: RelationFor) -> exp.Select:
        """Per annotator: `rater`, `n_items` (labels with a reference), `n_agree` (of those,
        equal to it), `agreement`.

        Whether a label agrees with the others' unique majority depends only on its item's
        label counts: the top count, how many labels reach it (k1), the lowest and highest of
        those (lo1, hi1), and whether the top stays ahead without the label itself (`firm`:
        top - 1 above the next count and above zero). So each label is joined once to one row
        per item, not to per-(item, label) counts and then per-item figures: at 100M labels
        the two joins spilled (67 s against 2.7 s at 10M; now 41 s against 2.0 s)."""
        adjudicated = self.records is not None and self.rec_item and self.rec_decision
        decision = "CAST(a.p_dec AS VARCHAR)" if adjudicated else "CAST(NULL AS VARCHAR)"
        join = "LEFT JOIN r_a AS a ON a.p_ritem = i.item" if adjudicated else ""
        return template(
            "WITH counts AS (SELECT item, label, COUNT(*) AS n FROM r_cur AS c "
            "GROUP BY item, label), "
            "tops AS (SELECT item, label, n, MAX(n) OVER (PARTITION BY item) AS m1 "
            "FROM counts), "
            "items AS (SELECT item, SUM(CASE WHEN n = m1 THEN 1 ELSE 0 END) AS k1, "
            "MIN(CASE WHEN n = m1 THEN label END) AS lo1, MAX(CASE WHEN n = m1 THEN label END) "
            "AS hi1, CASE WHEN MAX(m1) - 1 > COALESCE(MAX(CASE WHEN n < m1 THEN n END), 0) "
            "THEN 1 ELSE 0 END AS firm FROM tops GROUP BY item), "
            # an adjudicated item's decision is every label's reference; three or more tied
            # tops leave none, for any label of the item
            f"refs AS (SELECT i.item, {decision} AS dec, i.k1, i.lo1, i.hi1, i.firm "
            f"FROM items AS i {join} WHERE NOT {decision} IS NULL OR i.k1 <= 2), "
            # a unique top: the others' majority for every other label, and for itself when
            # firm; two tied tops: each one's reference is the other, other labels have none
            "judged AS (SELECT c.rater, CASE WHEN NOT r.dec IS NULL THEN 1 WHEN r.k1 = 1 THEN "
            "CASE WHEN c.label = r.lo1 THEN r.firm ELSE 1 END WHEN c.label = r.lo1 OR c.label "
            "= r.hi1 THEN 1 ELSE 0 END AS has_ref, CASE WHEN NOT r.dec IS NULL THEN CASE WHEN "
            "c.label = r.dec THEN 1 ELSE 0 END WHEN r.k1 = 1 AND c.label = r.lo1 THEN r.firm "
            "ELSE 0 END AS agrees FROM r_cur AS c JOIN refs AS r ON r.item = c.item) "
            "SELECT rater, SUM(has_ref) AS n_items, SUM(agrees) AS n_agree, "
            "CAST(SUM(agrees) AS DOUBLE PRECISION) / SUM(has_ref) AS agreement FROM judged "
            "GROUP BY rater HAVING SUM(has_ref) > 0",
            ids={"p_ritem": self.rec_item or "x", "p_dec": self.rec_decision or "x"},
            tables={
                "r_cur": self._current(check, rel),
                **({"r_a": rel(self.records)} if adjudicated and self.records else {}),
            },
        )

    def _current(self, check: Check, rel: RelationFor) -> exp.Subquery:
        """`item`, `rater`, `label` (as text) of the current labels that have all three. Read
        twice (counted, then judged) rather than shared in a CTE: DuckDB writes a CTE read twice
        to disk, which cost more than the second read at 100M."""
        return template(
            "SELECT t.p_item AS item, t.p_rater AS rater, CAST(t.p_label AS VARCHAR) AS label "
            "FROM r_t AS t WHERE t.p_label IS NOT NULL AND t.p_item IS NOT NULL "
            "AND t.p_rater IS NOT NULL",
            ids={"p_item": self.item, "p_rater": self.rater, "p_label": self.label},
            tables={"r_t": from_current(check, rel)(check.contract)},
        ).subquery("c")

    def failing_rows(
        self, check: Check, rel: RelationFor, d: Dialect, key: tuple[str, ...]
    ) -> exp.Query:
        return self.judge(self.values(check, rel).subquery("q"))

    def judge(self, values: exp.Expr) -> exp.Query:
        """The annotators of `values` (rows as `values` returns them) that fail the rule."""
        return template(
            "SELECT * FROM r_q AS q WHERE q.n_items >= v_n AND q.agreement < v_min",
            values={"v_n": self.min_items, "v_min": self.min},
            tables={"r_q": values},
        )

    def item_columns(self) -> tuple[str, ...]:
        return (self.item,)

    def item_records(self) -> tuple[str, str] | None:
        if self.records is not None and self.rec_item and self.rec_decision:
            return self.records, self.rec_item
        return None

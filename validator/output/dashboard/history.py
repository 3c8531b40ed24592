"""Trends across validations: each verdict of a contract in the ledger, with the key metrics
its run recorded (entries from before metrics were kept, and incremental runs, have none:
the trend shows them as gaps, their verdict still counts)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from validator.verdict.ledger import Entry
from validator.verdict.run_metrics import KeyMetrics, from_record

MAX_POINTS = 50  # the newest validations the page plots
MAX_SERIES = 8  # lines per chart: the groups whose latest value is worst


@dataclass(frozen=True)
class Point:
    """One validation of the contract."""

    seq: int
    started_at: str
    status: str
    metrics: KeyMetrics | None


def points(entries: list[Entry], contract: str) -> list[Point]:
    """The newest `MAX_POINTS` validations of `contract`, oldest first."""
    out = []
    for e in entries:
        verdict = e.record.get("contracts", {}).get(contract)
        if verdict is None:
            continue
        data = e.record.get("metrics", {}).get(contract)
        out.append(
            Point(
                e.seq,
                str(e.record.get("started_at", "")),
                str(verdict.get("status", "")),
                None if data is None else from_record(data),
            )
        )
    return out[-MAX_POINTS:]


Series = dict[str, list[float | None]]


def _worst(series: Series, lowest: bool) -> Series:
    """At most `MAX_SERIES` lines: those whose newest value is worst (lowest or highest)."""
    if len(series) <= MAX_SERIES:
        return series

    def latest(name: str) -> float:
        known = [v for v in series[name] if v is not None]
        if not known:
            return float("inf")
        return known[-1] if lowest else -known[-1]

    keep = sorted(series, key=lambda n: (latest(n), n))[:MAX_SERIES]
    return {n: series[n] for n in sorted(keep)}


def _series(pts: list[Point], pick: Any) -> Series:
    names: set[str] = set()
    for p in pts:
        if p.metrics is not None:
            names |= set(pick(p.metrics))
    return {
        n: [None if p.metrics is None else pick(p.metrics).get(n) for p in pts]
        for n in sorted(names)
    }


def agreement(pts: list[Point]) -> Series:
    return _worst(_series(pts, lambda m: m.agreement), lowest=True)


def low_share(pts: list[Point]) -> Series:
    values = [None if p.metrics is None else p.metrics.low_share for p in pts]
    return {"low-confidence share": values} if any(v is not None for v in values) else {}


def label_shares(pts: list[Point]) -> Series:
    return _worst(_series(pts, lambda m: m.label_shares), lowest=False)


def annotator_agreement(pts: list[Point]) -> Series:
    series = _series(
        pts,
        lambda m: {k: f.agreement for k, f in m.annotators.items() if f.agreement is not None},
    )
    return _worst(series, lowest=True)


def annotator_spread(pts: list[Point]) -> Series:
    """The lowest, median and highest per-annotator agreement (recorded without ids)."""
    summaries = [None if p.metrics is None else p.metrics.annotator_summary for p in pts]
    values: Series = {
        name: [None if s is None else float(getattr(s, name)) for s in summaries]
        for name in ("lowest", "median", "highest")
    }
    return values if any(v is not None for v in values["median"]) else {}


def below_min(p: Point) -> int | None:
    """How many annotators fell below the per-annotator minimum at that validation."""
    summary = p.metrics.annotator_summary if p.metrics else None
    return None if summary is None else summary.below_min


def audit_error_rate(pts: list[Point], role: str) -> Series:
    def rates(m: KeyMetrics) -> dict[str, float]:
        return {g: e / n for g, (n, e) in m.audits.get(role, {}).items() if n}

    return _worst(_series(pts, rates), lowest=False)

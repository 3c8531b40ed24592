"""The dashboard page: the verdict first, then agreement, who labels what, audits, trends,
drift and the data's health, each a `<section>` a reader reaches from the contents list."""

from __future__ import annotations

from typing import TYPE_CHECKING

from validator.output.dashboard import sections
from validator.output.dashboard.charts import esc, fmt, table

if TYPE_CHECKING:
    from validator.output.health import Metrics

STYLE = (
    "body{font-family:sans-serif;margin:2em;max-width:1000px;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 8px}"
    ".num{text-align:right}.note{color:#555;font-size:12px}"
    ".verdict{padding:.6em 1em;border-radius:4px;color:#fff;font-size:1.3em}"
    ".verdict.fail{background:#c0392b}.verdict.warn{background:#b9770e}"
    ".verdict.pass{background:#1e8449}.verdict.none{background:#555}"
    "figure{margin:1em 0}figcaption{font-weight:bold;margin-bottom:.3em}"
    "section{margin-top:1.5em;border-top:1px solid #ddd}nav li{display:inline;margin-right:1em}"
    "caption{text-align:left;font-weight:bold;white-space:nowrap}.heatmap td{min-width:3em}"
    ".sample{font-size:12px}"
)


def render(m: Metrics) -> str:
    """One self-contained HTML page: inline SVG and tables, no script, no external resource."""
    parts = [
        ("verdict", "Verdict", _verdict(m)),
        ("agreement", "Agreement", sections.agreement(m)),
        ("labels", "Who labels what", sections.who_labels_what(m)),
        ("audits", "Audits", sections.audits(m)),
        ("trends", "Trends", sections.trends(m)),
        ("drift", "Drift", sections.drift(m)),
        ("health", "Data health", sections.data_health(m)),
    ]
    shown = [(i, title, body) for i, title, body in parts if body]
    nav = "".join(f"<li><a href='#s-{i}'>{esc(title)}</a></li>" for i, title, _ in shown)
    body = "".join(
        f"<section id='s-{i}' aria-labelledby='h-{i}'><h2 id='h-{i}'>{esc(title)}</h2>{b}</section>"
        for i, title, b in shown
    )
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>labelpact "
        f"report: {esc(m.contract)}</title><style>{STYLE}</style></head><body>"
        f"<h1>Label quality: {esc(m.contract)}</h1><nav aria-label='contents'><ul>{nav}</ul>"
        f"</nav>{body}</body></html>\n"
    )


def _verdict(m: Metrics) -> str:
    status = m.status or "none"
    when = (
        f"validated {esc(m.validated_at)} (ledger entry {m.ledger_seq})"
        if m.validated_at
        else "not validated yet (no ledger entry)"
    )
    banner = (
        f"<p id='verdict' class='verdict {esc(status)}'>{esc(status.upper())}: {when}; "
        f"{m.rows:,} rows</p>"
    )
    return banner + _failing_checks(m)


def _failing_checks(m: Metrics) -> str:
    if not m.failing_checks:
        return "<h3>Failing checks</h3><p id='failing'>none</p>"
    rows = [
        (c["id"], c["status"], c["severity"], c["failures"], c["owner"]) for c in m.failing_checks
    ]
    out = [
        "<h3>Failing checks</h3>",
        table(["check", "status", "severity", "failing", "owner"], rows, "failing"),
    ]
    for c in m.failing_checks:
        if not c["sample"]:
            continue
        names = list(c["sample"][0])
        sample = table(names, [[_cell(r.get(n)) for n in names] for r in c["sample"]])
        out.append(
            f"<details class='sample' open><summary>Sample of {esc(c['id'])} "
            f"({len(c['sample'])} rows)</summary>{sample}</details>"
        )
    return "".join(out)


def _cell(value: object) -> str | int | float | None:
    if value is None or isinstance(value, str | int | float):
        return value
    return fmt(str(value))

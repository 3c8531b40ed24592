"""How a failing check reads in a terminal: schema mismatches as a column table, per-group
coefficients with the grouping column, and checks that did not run collapsed to their cause."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol


class Result(Protocol):
    check_id: str
    contract: str
    kind: str
    status: str
    message: str
    sample: list[dict[str, Any]]
    group_by: str | None


@dataclass(frozen=True)
class Mismatch:
    column: str
    warehouse_type: str
    contract_type: str
    problem: str  # missing | extra | type mismatch


_PROBLEMS = {
    "missing in definition": "missing",
    "missing in contract": "extra",
    "data type mismatch": "type mismatch",
}
_ROW = re.compile(r"^\s*\|(.+)\|\s*$")


def schema_mismatches(message: str) -> list[Mismatch]:
    """The column table of dbt's enforced-contract error (empty when the message has none)."""
    rows = [m.group(1) for line in message.splitlines() if (m := _ROW.match(line))]
    out = []
    for row in rows[2:]:  # after the header and its rule
        cells = [c.strip() for c in row.split("|")]
        if len(cells) == 4:
            column, found, declared, reason = cells
            out.append(Mismatch(column, found, declared, _PROBLEMS.get(reason, reason)))
    return out


def schema_lines(message: str, indent: str) -> list[str]:
    mismatches = schema_mismatches(message)
    if not mismatches:
        return [f"{indent}{message.splitlines()[0][:300]}"] if message else []
    header = ("column", "warehouse type", "contract type", "problem")
    table = [header] + [
        (m.column, m.warehouse_type or "-", m.contract_type or "-", m.problem) for m in mismatches
    ]
    widths = [max(len(r[i]) for r in table) for i in range(4)]
    lines = [f"{indent}the table does not match the contract:"]
    lines += [
        indent + "  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
        for r in table
    ]
    return lines


def sample_lines(r: Result, indent: str, limit: int = 3) -> list[str]:
    """A few failing rows; per-group coefficients as `<column> <group>: <value>`."""
    lines = []
    for sample in r.sample[:limit]:
        if "group_key" in sample and "value" in sample:
            value = sample["value"]
            shown = f"{value:.3f}" if isinstance(value, int | float) else "n/a"
            extra = ", ".join(
                f"{sample[k]:,} {k[2:].replace('_', ' ')}"
                for k in ("n_items", "n_ratings")
                if isinstance(sample.get(k), int)
            )
            group = f"{r.group_by} {sample['group_key']}" if r.group_by else "whole table"
            lines.append(f"{indent}  {group}: {shown}" + (f" ({extra})" if extra else ""))
        else:
            lines.append(f"{indent}  e.g. {json.dumps(sample, ensure_ascii=False)[:200]}")
    return lines


def not_run_lines(results: Sequence[Result]) -> list[str]:
    """One line per contract whose checks were skipped, naming what failed before them."""
    lines = []
    by_contract: dict[str, int] = {}
    for r in results:
        if r.status == "skipped":
            by_contract[r.contract] = by_contract.get(r.contract, 0) + 1
    for contract, n in sorted(by_contract.items()):
        causes = [
            r.check_id
            for r in results
            if r.contract == contract and r.kind == "schema" and r.status in ("error", "fail")
        ]
        cause = f"{causes[0]} failed" if causes else "their model was not built"
        lines.append(f"{n} check{'s' if n != 1 else ''} not run: {cause}")
    return lines

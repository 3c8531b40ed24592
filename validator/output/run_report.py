"""Render a validation run: console table, JSON, JUnit XML and an OpenLineage facet."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import asdict
from typing import Any

from validator.output.failures import not_run_lines, sample_lines, schema_lines
from validator.verdict.validate import ValidationRun

OPENLINEAGE_FACET_SCHEMA = (
    "https://openlineage.io/spec/facets/1-0-1/DataQualityAssertionsDatasetFacet.json"
)
OPENLINEAGE_PRODUCER = "https://github.com/labelpact/labelpact"


def console(run: ValidationRun, verbose: bool = False) -> str:
    """A table a person reads in a terminal: failing checks first, with owners and samples;
    checks that did not run are collapsed to one line naming the failure they follow."""
    order = {"error": 0, "fail": 1, "warn": 2, "skipped": 3, "pass": 4}
    rows = sorted(run.results, key=lambda r: (order.get(r.status, 9), r.check_id))
    width = max((len(r.check_id) for r in rows), default=10)
    lines = [f"{'status':8} {'check':{width}} {'failing':>8}  owner"]
    indent = " " * 9
    for r in rows:
        if (r.status == "pass" or r.status == "skipped") and not verbose:
            continue
        failing = "" if r.failures is None else f"{r.failures:,}"
        lines.append(f"{r.status.upper():8} {r.check_id:{width}} {failing:>8}  {r.owner}")
        if r.status in ("pass", "skipped"):
            continue
        lines.append(f"{indent}{r.description}")
        if r.status == "error" and r.kind == "schema":
            lines += schema_lines(r.message, indent)
        elif r.status == "error" and r.message:
            lines.append(f"{indent}{r.message.splitlines()[0][:300]}")
        lines += sample_lines(r, indent)
    lines += not_run_lines(run.results)
    if len(lines) == 1:  # nothing to list: no header over an empty table
        lines = []
    passed = sum(1 for r in run.results if r.status == "pass")
    lines.append("")
    for name, v in sorted(run.verdicts.items()):
        lines.append(
            f"{name} {v.version}: {v.status.upper()} ({v.fingerprint['rows']:,} rows, "
            f"fingerprint {v.fingerprint['hash'][:16]})"
        )
    ledger = f", ledger entry {run.ledger_seq}" if run.ledger_seq else ""
    mode = " (incremental: new batches)" if run.mode == "incremental" else ""
    not_run = sum(1 for r in run.results if r.status == "skipped")
    skipped = f", {not_run} not run" if not_run else ""
    lines.append(
        f"{passed}/{len(run.results)} checks passed{skipped} in {run.duration:.1f}s{mode}{ledger}"
    )
    lines += [f"warning: {w}" for w in run.warnings]
    return "\n".join(lines)


def to_json(run: ValidationRun) -> dict[str, Any]:
    return {
        "started_at": run.started_at,
        "duration_s": round(run.duration, 3),
        "mode": run.mode,
        "exit_code": int(run.exit_code),
        "ledger_seq": run.ledger_seq,
        "verdicts": {n: asdict(v) for n, v in sorted(run.verdicts.items())},
        "checks": [asdict(r) for r in run.results],
        "environment": run.environment,
        "warnings": run.warnings,
    }


def junit(run: ValidationRun) -> str:
    """JUnit XML: one testsuite per contract, one testcase per check (CI annotations)."""
    suites = ET.Element(
        "testsuites", name="labelpact", tests=str(len(run.results)), time=f"{run.duration:.3f}"
    )
    by_contract: dict[str, list[Any]] = {}
    for r in run.results:
        by_contract.setdefault(r.contract, []).append(r)
    for contract, results in sorted(by_contract.items()):
        failures = sum(1 for r in results if r.status in ("fail", "warn"))
        errors = sum(1 for r in results if r.status == "error")
        skipped = sum(1 for r in results if r.status == "skipped")
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=contract,
            tests=str(len(results)),
            failures=str(failures),
            errors=str(errors),
            skipped=str(skipped),
            time=f"{sum(r.duration for r in results):.3f}",
        )
        for r in results:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"labelpact.{contract}",
                name=r.check_id,
                time=f"{r.duration:.3f}",
            )
            detail = f"{r.description} (owner {r.owner}; severity {r.severity})"
            if r.status in ("fail", "warn"):
                count = "" if r.failures is None else f"{r.failures} failing: "
                node = ET.SubElement(
                    case, "failure", type=r.severity, message=f"{count}{r.description}"
                )
                node.text = detail + "\n" + "\n".join(json.dumps(s) for s in r.sample)
            elif r.status == "error":
                node = ET.SubElement(case, "error", type="error", message=r.message[:500])
                node.text = detail
            elif r.status == "skipped":
                ET.SubElement(case, "skipped", message=r.message[:500])
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode")


def openlineage(run: ValidationRun, namespace: str = "labelpact") -> dict[str, Any]:
    """OpenLineage input datasets carrying a `dataQualityAssertions` facet each."""
    datasets = []
    for name, verdict in sorted(run.verdicts.items()):
        assertions = [
            {
                "assertion": r.check_id,
                "success": r.status == "pass",
                **({"column": _column(r.check_id)} if _column(r.check_id) else {}),
            }
            for r in run.results
            if r.contract == name
        ]
        datasets.append(
            {
                "namespace": namespace,
                "name": verdict.fingerprint.get("relation", name),
                "inputFacets": {
                    "dataQualityAssertions": {
                        "_producer": OPENLINEAGE_PRODUCER,
                        "_schemaURL": OPENLINEAGE_FACET_SCHEMA,
                        "assertions": assertions,
                    }
                },
            }
        )
    return {"inputs": datasets}


def _column(check_id: str) -> str | None:
    parts = check_id.split(".")
    return (
        parts[1]
        if len(parts) == 3
        and parts[1]
        not in {
            "instructions",
            "uncertainty",
            "agreement",
            "adjudication",
            "revisions",
            "coverage",
            "label_distribution",
            "registry",
            "key",
        }
        else None
    )

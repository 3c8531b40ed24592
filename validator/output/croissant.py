"""Croissant 1.0 dataset metadata with the Responsible-AI (RAI) fields, from a contract and the
numbers of its health report.

The document uses the standard Croissant 1.0 `@context` (the one `mlcroissant` writes and
expects: anything else loads with a warning) and the dataset metadata Croissant requires or
recommends (`name`, `description`, `conformsTo`, `license`, `url`, `creator`, `datePublished`,
`citeAs`). Which RAI field comes from which contract section is in `RAI_SOURCES` (and the
README). Fields nothing in a contract can speak to (annotator demographics, data collection,
social impact) are left out rather than invented.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from validator.contract.model import Contract
from validator.output.health import Metrics

CONFORMS_TO = "http://mlcommons.org/croissant/1.0"

# The standard Croissant 1.0 context, as mlcroissant's `make_context()` writes it.
CONTEXT: dict[str, Any] = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "citeAs": "cr:citeAs",
    "column": "cr:column",
    "conformsTo": "dct:conformsTo",
    "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "dct": "http://purl.org/dc/terms/",
    "equivalentProperty": "cr:equivalentProperty",
    "examples": {"@id": "cr:examples", "@type": "@json"},
    "extract": "cr:extract",
    "field": "cr:field",
    "fileProperty": "cr:fileProperty",
    "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet",
    "format": "cr:format",
    "includes": "cr:includes",
    "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath",
    "key": "cr:key",
    "md5": "cr:md5",
    "parentField": "cr:parentField",
    "path": "cr:path",
    "recordSet": "cr:recordSet",
    "references": "cr:references",
    "regex": "cr:regex",
    "repeated": "cr:repeated",
    "replace": "cr:replace",
    "samplingRate": "cr:samplingRate",
    "sc": "https://schema.org/",
    "separator": "cr:separator",
    "source": "cr:source",
    "subField": "cr:subField",
    "transform": "cr:transform",
}

# RAI field -> the contract sections (and report numbers) it is written from.
RAI_SOURCES: dict[str, str] = {
    "rai:dataAnnotationProtocol": "instructions, adjudication, revisions, coverage",
    "rai:dataAnnotationPlatform": "provenance.tool (the distinct tools in the data)",
    "rai:dataAnnotationAnalysis": "agreement (measured per group), uncertainty, label_distribution",
    "rai:annotationsPerItem": "coverage (current annotations per item, measured)",
    "rai:personalSensitiveInformation": "columns marked pii: true",
    "rai:dataLimitations": "the failing checks of the latest ledger verdict",
    "rai:dataReleaseMaintenancePlan": "the ledger verdict, incremental, the contract version",
}


def croissant_metadata(
    m: Metrics,
    contract: Contract,
    *,
    license: str = "unspecified",
    url: str | None = None,
    cite_as: str | None = None,
    today: dt.date | None = None,
) -> dict[str, Any]:
    """The Croissant JSON-LD document for one contract's data (loads in `mlcroissant.Dataset`).

    `license` should be a license URL (an SPDX page); `datePublished` is the day of the latest
    validation, or `today` when there is none.
    """
    published = (m.validated_at or "")[:10] or (today or dt.date.today()).isoformat()
    owner = contract.owner
    creator: dict[str, Any] = {"@type": "sc:Organization", "name": owner}
    if "@" in owner:
        creator["email"] = owner
    doc: dict[str, Any] = {
        "@context": CONTEXT,
        "@type": "sc:Dataset",
        "conformsTo": CONFORMS_TO,
        "name": contract.name,
        "description": contract.description or f"Rows of the labelpact contract {contract.name}.",
        "version": contract.version,
        "license": license,
        "creator": creator,
        "datePublished": published,
        "citeAs": cite_as
        or f"{contract.name} {contract.version} ({owner}), validated by labelpact",
    }
    if url:
        doc["url"] = url
    doc.update(_rai(m, contract))
    return doc


def _rai(m: Metrics, contract: Contract) -> dict[str, Any]:
    out: dict[str, Any] = {
        "rai:dataAnnotationProtocol": _protocol(contract),
        "rai:dataAnnotationAnalysis": _analysis(m, contract),
    }
    if m.tools:
        out["rai:dataAnnotationPlatform"] = m.tools
    items = sum(n for _, n in m.coverage_histogram)
    if items:
        per_item = sum(k * n for k, n in m.coverage_histogram) / items
        out["rai:annotationsPerItem"] = (
            f"{per_item:.2f} current annotations per item on average over {items} items"
        )
    pii = sorted(contract.pii_columns)
    if pii:
        out["rai:personalSensitiveInformation"] = (
            f"Columns {', '.join(pii)} hold personal data (pseudonymous ids); labelpact never "
            "shows their values in failure samples."
        )
    if m.failing_checks:
        out["rai:dataLimitations"] = [
            f"{c['id']} {c['status']} ({c['failures']} failing) at the latest validation"
            for c in m.failing_checks
        ]
    incremental = contract.sections.incremental
    plan = f"Validated by labelpact; latest verdict {m.validated_at or 'none'}. "
    if incremental:
        plan += f"New batches ({incremental.batch}) are validated as they arrive. "
    plan += f"Contract {contract.name} {contract.version}: a breaking change needs a major version."
    out["rai:dataReleaseMaintenancePlan"] = plan
    return out


def _protocol(contract: Contract) -> list[str]:
    lines = [f"Contract {contract.name} {contract.version}, owner {contract.owner}."]
    s = contract.sections
    if ins := s.instructions:
        text = (
            f"Labels follow versioned instructions (registry: {ins.registry}; version in "
            f"{ins.column}, in force at {ins.active_at})"
        )
        if ins.require_approved:
            text += "; versions are approved before use"
        lines.append(text + ".")
        if superseded := ins.superseded:
            policy = ", ".join(f"{split}: {rule}" for split, rule in superseded.items())
            lines.append(f"Labels made under superseded instructions, per split: {policy}.")
    if adj := s.adjudication:
        lines.append(
            f"Disagreements on {adj.item} are adjudicated with a rationale ({adj.contract})."
        )
    if s.revisions:
        lines.append("Corrections keep their history (each points at the label it corrects).")
    if cov := s.coverage:
        most = f" and at most {cov.max_annotations}" if cov.max_annotations else ""
        lines.append(f"Each item gets at least {cov.min_annotations}{most} current labels.")
    return lines


def _analysis(m: Metrics, contract: Contract) -> list[str]:
    lines: list[str] = []
    agreement = [v for _, v in m.agreement_by_batch if v is not None]
    s = contract.sections
    if agr := s.agreement:
        measured = (
            f": min {min(agreement):.3f}, max {max(agreement):.3f} over {len(agreement)} groups"
            if agreement
            else ": not measured"
        )
        lines.append(f"{agr.metric} per {agr.by or 'table'}, required >= {agr.min}{measured}.")
    if unc := s.uncertainty:
        text = f"Annotators report confidence ({unc.confidence})"
        if batch := unc.batch:
            text += f"; labels below {batch.low_confidence_below} count as low-confidence"
            if batch.max_low_share is not None:
                text += f", at most {batch.max_low_share} of a batch"
        lines.append(text + ".")
    if (dist := s.label_distribution) and dist.reference:
        lines.append(
            f"Label mix per {dist.by or 'table'} is compared with a reference "
            f"(max total variation {dist.max_divergence})."
        )
    return lines or ["No annotation-quality analysis is declared in the contract."]

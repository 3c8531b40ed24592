"""Croissant metadata for every example contract loads in mlcroissant without errors or warnings.

(The metadata computed from a real warehouse is checked in test_report.py.)
"""

from __future__ import annotations

import datetime as dt

import mlcroissant
import pytest
from helpers import ROOT, assert_croissant_loads_cleanly

from validator.contract.resolve import load_contracts
from validator.output.croissant import RAI_SOURCES, croissant_metadata
from validator.output.health import Metrics

CONTRACTS = {c.name: c for c in load_contracts([ROOT / "contracts"])}


def _metrics(name: str) -> Metrics:
    return Metrics(
        name,
        rows=10,
        agreement_by_batch=[("b1", 0.71), ("b2", None), ("b3", 0.64)],
        agreement_min=0.6,
        agreement_metric="krippendorff_alpha",
        coverage_histogram=[(2, 3), (3, 1)],
        tools=["cvat-2.4", "labelstudio-1.9"],
        failing_checks=[{"id": f"{name}.x.y", "status": "warn", "failures": 2, "owner": "o"}],
    )


@pytest.mark.parametrize("name", sorted(CONTRACTS))
def test_every_contract_gives_a_clean_croissant(name: str) -> None:
    doc = croissant_metadata(
        _metrics(name),
        CONTRACTS[name],
        license="https://spdx.org/licenses/CC-BY-4.0.html",
        url="https://example.org/data",
        today=dt.date(2026, 11, 30),
    )
    assert_croissant_loads_cleanly(doc)
    metadata = mlcroissant.Dataset(jsonld=doc).metadata
    assert metadata.name == name and metadata.version == CONTRACTS[name].version
    assert metadata.date_published == dt.datetime(2026, 11, 30)
    assert (
        metadata.annotations_per_item == "2.25 current annotations per item on average over 4 items"
    )
    assert metadata.data_annotation_platform == ["cvat-2.4", "labelstudio-1.9"]
    assert set(RAI_SOURCES) >= {k for k in doc if k.startswith("rai:")}


def test_pii_and_protocol_come_from_the_contract() -> None:
    doc = croissant_metadata(_metrics("annotations"), CONTRACTS["annotations"])
    assert "annotator_id" in doc["rai:personalSensitiveInformation"]
    protocol = " ".join(doc["rai:dataAnnotationProtocol"])
    assert "at least 2 and at most 6 current labels" in protocol
    assert "validation: reject" in protocol  # the superseded-instructions policy
    assert doc["license"] == "unspecified" and "url" not in doc


def test_the_old_non_standard_document_is_what_mlcroissant_rejected() -> None:
    # the regression of issue 19: a document without the standard context and sc:Dataset type
    bad = {"@context": {"@vocab": "https://schema.org/"}, "@type": "cr:Dataset", "name": "x"}
    with pytest.raises(mlcroissant.ValidationError):
        mlcroissant.Dataset(jsonld=bad)

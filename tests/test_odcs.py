"""ODCS v3 both ways: every export validates against the JSON Schema shipped with the
`open-data-contract-standard` package, and labelpact -> ODCS -> labelpact gives the contract
as written, for every example contract and for contracts using every part of the language."""

from __future__ import annotations

import dataclasses
import importlib.resources
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from helpers import ROOT

from validator.cli import main
from validator.contract.lint import lint
from validator.contract.resolve import load_contracts
from validator.contract.yamlload import load_file
from validator.errors import ContractError, RecordError
from validator.interop.odcs import export_contracts, import_document

SCHEMA = json.loads(
    importlib.resources.files("open_data_contract_standard").joinpath("schema.json").read_text()
)
VALIDATOR = jsonschema.Draft201909Validator(SCHEMA)
EXAMPLES = sorted(p.name for p in (ROOT / "contracts").glob("*.yml"))

# Every section and rule, the other source kinds, explicit defaults, open ranges, severities.
KITCHEN_SINK = {
    "labels.yml": """
contract: labels
version: 2.0.0-rc.1
owner: team@example.org
source: {path: data/labels.parquet}
key: [id]
extra_columns: allow
materialized: table
columns:
  id: {type: varchar, required: true}
  notes: {type: varchar}
  item: {type: varchar, required: true, references: {contract: queue, column: item}}
  rater: {type: varchar, required: true, pattern: '^r[0-9]+$', pii: true, severity: warn}
  label: {type: varchar, required: true, accepted_values: [a, b, 'n/a']}
  score: {type: double, between: [0, null], unique: false, required: false}
  rank: {type: integer, between: [null, 5]}
  weight: {type: bigint, between: [-1, 1000000.5]}
  flag: {type: boolean, accepted_values: [true]}
  at: {type: timestamp, required: true, not_in_future: true, pii: false}
  day: {type: date}
  version: {type: varchar, required: true}
  parent: {type: varchar}
provenance: {annotator: rater, timestamp: at, severity: warn}
uncertainty: {confidence: score, range: [0, 1], notes: notes, notes_required_below: 0.1}
instructions: {column: version, registry: versions, active_at: at, require_approved: false,
               superseded: {all: flag}}
agreement: {item: item, rater: rater, label: label, metric: cohen_kappa, weights: linear,
            categories: [a, b], min: 0.2, severity: warn}
revisions: {parent: parent, lineage: [item, rater]}
coverage: {item: item, min_annotations: 1}
label_distribution: {label: label, min_share: 0.01}
checks:
  - {name: weekday, expression: "EXTRACT(dow FROM at) BETWEEN 1 AND 5 AND (label <> 'n/a')",
     severity: warn, description: "Only on workdays (a 'quoted' word)."}
  - {name: scored, expression: score IS NOT NULL}
""",
    "queue.yml": """
contract: queue
version: 0.0.1
owner: queue-owner
source: {ref: stg_queue}
columns:
  item: {type: varchar, unique: true}
""",
    "versions.yml": """
contract: versions
version: 1.0.0
owner: o
description: Registry.
source: {dbt_source: raw.versions}
key: [from_at, v]
columns:
  v: {type: varchar, required: true}
  from_at: {type: timestamp, required: true}
registry: {version: v, effective_from: from_at, non_overlapping: true}
""",
}


def _round_trip(contracts: Path, tmp: Path) -> dict[str, tuple[dict[str, Any], str]]:
    """{file: (ODCS document, contract YAML imported back)} for every contract file."""
    out: dict[str, tuple[dict[str, Any], str]] = {}
    for name, text in export_contracts([contracts]).items():
        (tmp / name).write_text(text)
        ((back_name, back),) = import_document(tmp / name).items()
        out[back_name] = (yaml.safe_load(text), back)
    return out


def _check(contracts: Path, tmp: Path) -> dict[str, dict[str, Any]]:
    docs = _round_trip(contracts, tmp / "odcs")
    back_dir = tmp / "back"
    back_dir.mkdir()
    for name, (doc, back) in docs.items():
        errors = [e.message for e in VALIDATOR.iter_errors(doc)]
        assert errors == [], (name, errors)
        assert yaml.safe_load(back) == load_file(contracts / name)[0].plain(), name
        (back_dir / name).write_text(back)
    # the imported contracts lint as cleanly and resolve to the same contracts
    assert lint([back_dir]).problems == lint([contracts]).problems == []
    ignore = {"path": "", "loc": None}
    before = {c.name: dataclasses.replace(c, **ignore) for c in load_contracts([contracts])}
    after = {c.name: dataclasses.replace(c, **ignore) for c in load_contracts([back_dir])}
    assert _without_locations(after) == _without_locations(before)
    return {name: doc for name, (doc, _) in docs.items()}


def _without_locations(contracts: dict[str, Any]) -> dict[str, Any]:
    return {
        n: dataclasses.replace(
            c, columns={k: dataclasses.replace(v, loc=None) for k, v in c.columns.items()}
        )
        for n, c in contracts.items()
    }


def test_every_example_contract_round_trips(tmp_path: Path) -> None:
    (tmp_path / "odcs").mkdir()
    docs = _check(ROOT / "contracts", tmp_path)
    assert sorted(docs) == EXAMPLES


def test_every_part_of_the_language_round_trips(tmp_path: Path) -> None:
    contracts = tmp_path / "contracts"
    contracts.mkdir()
    (tmp_path / "odcs").mkdir()
    for name, text in KITCHEN_SINK.items():
        (contracts / name).write_text(text)
    docs = _check(contracts, tmp_path)
    labels = docs["labels.yml"]["schema"][0]
    assert labels["physicalName"] == "data/labels.parquet" and labels["physicalType"] == "table"
    checks = {q["name"]: q for q in labels["quality"]}
    assert checks["weekday"]["severity"] == "warning" and checks["weekday"]["mustBe"] == 0


def test_odcs_fields_carry_what_odcs_can_express(tmp_path: Path) -> None:
    doc = yaml.safe_load(export_contracts([ROOT / "contracts"])["annotations.odcs.yaml"])
    assert doc["apiVersion"] == "v3.2.0" and doc["kind"] == "DataContract"
    assert doc["team"]["members"] == [
        {"username": "labeling-platform@example.org", "role": "owner"}
    ]
    (obj,) = doc["schema"]
    props = {p["name"]: p for p in obj["properties"]}
    assert props["annotation_id"] | {} == {
        "name": "annotation_id",
        "physicalType": "bigint",
        "logicalType": "integer",
        "description": "Surrogate key of the label.",
        "primaryKey": True,
        "primaryKeyPosition": 1,
        "required": True,
        "unique": True,
    }
    assert props["label"]["quality"] == [
        {
            "type": "library",
            "metric": "invalidValues",
            "arguments": {"validValues": ["cat", "dog", "bird", "fish", "other"]},
            "mustBe": 0,
        }
    ]
    assert props["item_id"]["relationships"] == [{"type": "foreignKey", "to": "items.item_id"}]
    assert props["annotator_id"]["classification"] == "pii"
    assert props["annotator_id"]["logicalTypeOptions"] == {"pattern": "^ann_[0-9]+$"}
    assert props["confidence"]["logicalTypeOptions"] == {"minimum": 0, "maximum": 1}
    # only what ODCS has no field for is a custom property
    custom = {p["name"]: p.get("customProperties") for p in obj["properties"]}
    assert {k: v for k, v in custom.items() if v} == {
        "annotated_at": [{"property": "notInFuture", "value": True, "vendor": "labelpact"}]
    }
    sections = [c["property"] for c in obj["customProperties"]]
    assert sections == [
        "extraColumns",
        "provenance",
        "uncertainty",
        "instructions",
        "agreement",
        "adjudication",
        "audits",
        "revisions",
        "coverage",
        "labelDistribution",
        "annotators",
        "incremental",
    ]
    (check,) = obj["quality"]
    assert check["query"] == (
        "SELECT COUNT(*) FROM ${table} WHERE NOT (tool LIKE 'labelstudio-%' OR tool LIKE 'cvat-%')"
    )


FOREIGN = """
apiVersion: v3.0.2
kind: DataContract
id: 53581432-6c55-4ba2-a65f-72344a91553a
version: 1.1.0
status: active
team:
  - username: ceastwood
    role: Data Scientist
  - username: mhopper
    role: owner
schema:
  - name: tbl
    physicalName: sales.tbl_1
    properties:
      - name: txn_ref_dt
        logicalType: date
        required: false
        description: Reference date for transaction
      - name: rcvr_id
        primaryKey: true
        primaryKeyPosition: 1
        logicalType: string
        physicalType: varchar(18)
        quality:
          - {metric: nullValues, mustBe: 0, description: no nulls}
          - {metric: duplicateValues, mustBe: 0}
          - {metric: invalidValues, arguments: {pattern: '^[A-Z0-9]+$'}, mustBe: 0}
          - {metric: rowCount, mustBeGreaterThan: 100, name: enough_rows}
      - name: amount
        logicalType: number
        logicalTypeOptions: {minimum: 0}
"""


def test_a_foreign_odcs_document_imports_as_a_contract_that_lints(tmp_path: Path) -> None:
    source = tmp_path / "foreign.yaml"
    source.write_text(FOREIGN)
    notes: list[str] = []
    files = import_document(source, notes)
    assert list(files) == ["tbl.yml"]
    assert notes == [
        "schema[0] (tbl).properties[1] (rcvr_id): quality rule enough_rows is not carried"
    ]
    contract = yaml.safe_load(files["tbl.yml"])
    assert contract == {
        "contract": "tbl",
        "version": "1.1.0",
        "owner": "mhopper",
        "source": {"dbt_source": "sales.tbl_1"},
        "key": ["rcvr_id"],
        "columns": {
            "txn_ref_dt": {
                "type": "date",
                "required": False,
                "description": "Reference date for transaction",
            },
            "rcvr_id": {
                "type": "varchar",
                "required": True,
                "unique": True,
                "pattern": "^[A-Z0-9]+$",
            },
            "amount": {"type": "double", "between": [0, None]},
        },
    }
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "tbl.yml").write_text(files["tbl.yml"])
    assert lint([tmp_path / "c"]).problems == []


@pytest.mark.parametrize(
    ("text", "error", "message"),
    [
        ("- just\n- a list\n", RecordError, "not an ODCS v3 document"),
        ("apiVersion: v3.1.0\nkind: DataContract\nsurprise: 1\n", RecordError, "surprise"),
        (
            "apiVersion: v3.1.0\nkind: DataContract\nid: x\nversion: 1.0.0\n",
            RecordError,
            "describes no schema object",
        ),
        (
            "version: 1.0.0\nschema:\n- name: t\n  properties:\n"
            "  - {name: tags, logicalType: array}\n",
            RecordError,
            "schema[0] (t).properties[0]: column 'tags' has logicalType 'array'",
        ),
        ("a: &a [1]\n" + "".join(f"b{i}: *a\n" for i in range(200)), ContractError, "aliases"),
    ],
    ids=["list", "unknown-key", "no-schema", "array-type", "alias-bomb"],
)
def test_bad_odcs_documents_are_refused(
    text: str, error: type[Exception], message: str, tmp_path: Path
) -> None:
    source = tmp_path / "doc.yaml"
    source.write_text(text)
    with pytest.raises(error) as info:
        import_document(source)
    assert message in str(info.value)


def test_cli_export_then_import(tmp_path: Path) -> None:
    assert main(["export", "odcs", str(ROOT / "contracts"), "--to", str(tmp_path / "odcs")]) == 0
    assert sorted(p.name for p in (tmp_path / "odcs").iterdir()) == [
        n.replace(".yml", ".odcs.yaml") for n in EXAMPLES
    ]
    for doc in sorted((tmp_path / "odcs").iterdir()):
        assert main(["import", "odcs", str(doc), "--to", str(tmp_path / "contracts")]) == 0
    assert lint([tmp_path / "contracts"]).problems == []
    assert sorted(p.name for p in (tmp_path / "contracts").iterdir()) == EXAMPLES

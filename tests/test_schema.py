"""The published JSON Schema is current and agrees with the loader on the examples."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import yaml

from validator.contract.json_schema import json_schema

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_FILE = ROOT / "validator" / "schema" / "contract.schema.json"


def test_committed_schema_is_current() -> None:
    committed = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert committed == json_schema(), "run: labelpact schema -o " + str(SCHEMA_FILE)


def test_schema_is_valid_draft_2020_12() -> None:
    jsonschema.Draft202012Validator.check_schema(json_schema())


def test_example_contracts_validate_against_schema() -> None:
    validator = jsonschema.Draft202012Validator(json_schema())
    for path in sorted((ROOT / "contracts").glob("*.yml")):
        errors = list(validator.iter_errors(yaml.safe_load(path.read_text())))
        assert errors == [], f"{path.name}: {[e.message for e in errors]}"


def test_schema_rejects_what_lint_rejects() -> None:
    validator = jsonschema.Draft202012Validator(json_schema())
    bad = {
        "contract": "a",
        "version": "1.0.0",
        "owner": "o",
        "source": {"dbt_source": "r.a"},
        "columns": {"id": {"type": "strng", "requried": True}},
    }
    messages = sorted(e.message for e in validator.iter_errors(bad))
    assert len(messages) == 2

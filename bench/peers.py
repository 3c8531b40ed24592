"""The same 14 simple checks, written for every contender of the side-by-side benchmark.

The checks (issue #17): not null on 8 columns, a unique id, accepted values on 2 columns, one
regex, one range, and the column set with its types. Each contender gets them in its own
language: a labelpact contract (validate, and its compiled GX suite), plain dbt generic tests
plus an enforced model contract, one hand-written DuckDB scan (the floor), and an ODCS
contract for datacontract-cli.

datacontract-cli is a peer, not a dependency: it is installed from the package registry into
its own virtualenv under target/bench/ the first time the benchmark needs it, and reused after
that. It pins an older DuckDB that cannot open files written by the DuckDB labelpact uses, so
its DuckDB file is rebuilt with its own DuckDB from the Parquet export of the same table.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable

DATACONTRACT = "datacontract-cli[duckdb,parquet]==1.2.8"
DATACONTRACT_VENV = ROOT / "target" / "bench" / "datacontract-cli-1.2.8"

LABELS = ["cat", "dog", "bird", "fish", "other"]
SPLITS = ["train", "validation", "test"]
PATTERN = "^ann_[0-9]+$"
REQUIRED = [
    "annotation_id",
    "item_id",
    "annotator_id",
    "label",
    "instruction_version",
    "annotated_at",
    "batch_id",
    "tool",
]
# (column, DuckDB type, ODCS logical type) of raw.annotations, in table order
COLUMNS = [
    ("annotation_id", "BIGINT", "integer"),
    ("item_id", "VARCHAR", "string"),
    ("annotator_id", "VARCHAR", "string"),
    ("label", "VARCHAR", "string"),
    ("confidence", "DOUBLE", "number"),
    ("notes", "VARCHAR", "string"),
    ("instruction_version", "VARCHAR", "string"),
    ("annotated_at", "TIMESTAMP", "timestamp"),
    ("batch_id", "VARCHAR", "string"),
    ("tool", "VARCHAR", "string"),
    ("split", "VARCHAR", "string"),
    ("parent_annotation_id", "BIGINT", "integer"),
    ("seconds_spent", "DOUBLE", "number"),
]

# The 14 checks by the ids labelpact gives them; every contender's results are mapped to these.
SCHEMA = "annotations.schema"
UNIQUE = "annotations.annotation_id.unique"
BAD_LABEL = "annotations.label.accepted_values"
CHECKS = [
    SCHEMA,
    *(f"annotations.{c}.not_null" for c in REQUIRED),
    UNIQUE,
    BAD_LABEL,
    "annotations.split.accepted_values",
    "annotations.annotator_id.pattern",
    "annotations.confidence.between",
]

SIMPLE_CONTRACT = {
    "contract": "annotations",
    "version": "1.0.0",
    "owner": "bench@example.org",
    "description": "The 14 simple checks every contender of bench/run.py runs.",
    "source": {"dbt_source": "raw.annotations"},
    "extra_columns": "forbid",
    "columns": {
        name: {
            "type": kind.lower(),
            **({"required": True} if name in REQUIRED else {}),
            **({"unique": True} if name == "annotation_id" else {}),
            **({"pattern": PATTERN} if name == "annotator_id" else {}),
            **({"accepted_values": LABELS} if name == "label" else {}),
            **({"accepted_values": SPLITS} if name == "split" else {}),
            **({"between": [0, 1]} if name == "confidence" else {}),
        }
        for name, kind, _ in COLUMNS
    },
}


def simple_project(project: Path) -> Path:
    """A labelpact project holding only the simple contract, compiled; returns its root."""
    shutil.rmtree(project, ignore_errors=True)
    (project / "contracts").mkdir(parents=True)
    for name in ("dbt_project.yml", "profiles.yml"):
        shutil.copy(ROOT / name, project / name)
    shutil.copytree(ROOT / "macros", project / "macros")
    (project / "contracts" / "annotations.yml").write_text(
        yaml.safe_dump(SIMPLE_CONTRACT, sort_keys=False)
    )
    subprocess.run(
        [
            PY,
            "-m",
            "validator",
            "compile",
            str(project / "contracts"),
            "--project-dir",
            str(project),
        ],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return project


# --- the floor: one hand-written DuckDB scan ---------------------------------------------


def floor_sql() -> str:
    """Every row check as one aggregate, so DuckDB reads the table once."""
    labels = ", ".join(f"'{v}'" for v in LABELS)
    splits = ", ".join(f"'{v}'" for v in SPLITS)
    counts = [
        f'count(*) FILTER (WHERE {c} IS NULL) AS "annotations.{c}.not_null"' for c in REQUIRED
    ]
    counts += [
        f'count(annotation_id) - count(DISTINCT annotation_id) AS "{UNIQUE}"',
        f'count(*) FILTER (WHERE label NOT IN ({labels})) AS "{BAD_LABEL}"',
        f'count(*) FILTER (WHERE split NOT IN ({splits})) AS "annotations.split.accepted_values"',
        f"count(*) FILTER (WHERE NOT regexp_matches(annotator_id, '{PATTERN}')) "
        '"annotations.annotator_id.pattern"',
        'count(*) FILTER (WHERE confidence < 0 OR confidence > 1) "annotations.confidence.between"',
    ]
    return "SELECT\n  " + ",\n  ".join(counts) + "\nFROM raw.annotations"


FLOOR_SCRIPT = """
import json, sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
con.execute("SET threads = 2")
names = [d[0] for d in con.execute(sys.argv[2]).description]
row = con.fetchone()
failures = dict(zip(names, row))
columns = con.execute("SELECT column_name, data_type FROM information_schema.columns WHERE "
                      "table_schema = 'raw' AND table_name = 'annotations' "
                      "ORDER BY ordinal_position").fetchall()
failures[sys.argv[4]] = 0 if [list(c) for c in columns] == json.loads(sys.argv[3]) else 1
print(json.dumps(failures))
sys.exit(1 if any(failures.values()) else 0)
"""


def floor_command(db: Path) -> list[str]:
    expected = json.dumps([[name, kind] for name, kind, _ in COLUMNS])
    return [PY, "-c", FLOOR_SCRIPT, str(db), floor_sql(), expected, SCHEMA]


# --- plain dbt: generic tests and an enforced model contract -------------------------------

PLAIN_TESTS_SQL = """
{% test lp_bench_pattern(model, column_name, pattern) %}
select * from {{ model }} where not regexp_matches({{ column_name }}, '{{ pattern }}')
{% endtest %}

{% test lp_bench_between(model, column_name, lo, hi) %}
select * from {{ model }} where {{ column_name }} < {{ lo }} or {{ column_name }} > {{ hi }}
{% endtest %}
"""


def _plain_column(name: str, kind: str) -> dict[str, object]:
    tests: list[object] = []
    if name in REQUIRED:
        tests.append({"not_null": {"name": f"annotations__{name}__not_null"}})
    if name == "annotation_id":
        tests.append({"unique": {"name": f"annotations__{name}__unique"}})
    values = {"label": LABELS, "split": SPLITS}.get(name)
    if values:
        tests.append(
            {
                "accepted_values": {
                    "name": f"annotations__{name}__accepted_values",
                    "arguments": {"values": values},
                }
            }
        )
    if name == "annotator_id":
        tests.append(
            {
                "lp_bench_pattern": {
                    "name": f"annotations__{name}__pattern",
                    "arguments": {"pattern": PATTERN},
                }
            }
        )
    if name == "confidence":
        tests.append(
            {
                "lp_bench_between": {
                    "name": f"annotations__{name}__between",
                    "arguments": {"lo": 0, "hi": 1},
                }
            }
        )
    return {"name": name, "data_type": kind.lower(), "data_tests": tests}


def plain_dbt_project(project: Path) -> Path:
    """A dbt project with no labelpact in it: the 13 row checks as generic tests on the
    `annotations` view, whose enforced contract is the column set and types."""
    shutil.rmtree(project, ignore_errors=True)
    (project / "models").mkdir(parents=True)
    (project / "macros").mkdir()
    (project / "dbt_project.yml").write_text(
        "name: plain\nversion: '1.0'\nconfig-version: 2\nprofile: plain\n"
        "flags: {send_anonymous_usage_stats: false}\n"
    )
    (project / "profiles.yml").write_text(
        "plain:\n  target: d\n  outputs:\n    d: {type: duckdb, threads: 2, "
        "path: \"{{ env_var('LABELPACT_DUCKDB') }}\", settings: {memory_limit: 1GB}}\n"
    )
    (project / "macros" / "tests.sql").write_text(PLAIN_TESTS_SQL)
    (project / "models" / "annotations.sql").write_text(
        "{{ config(materialized='view') }}\nselect * from {{ source('raw', 'annotations') }}\n"
    )
    schema = {
        "version": 2,
        "sources": [{"name": "raw", "schema": "raw", "tables": [{"name": "annotations"}]}],
        "models": [
            {
                "name": "annotations",
                "config": {"contract": {"enforced": True}},
                "columns": [_plain_column(n, k) for n, k, _ in COLUMNS],
            }
        ],
    }
    (project / "models" / "schema.yml").write_text(yaml.safe_dump(schema, sort_keys=False))
    return project


# --- datacontract-cli ---------------------------------------------------------------------


def datacontract_venv(say: object = print) -> Path:
    """The virtualenv with datacontract-cli, created (from the package registry) on first use."""
    marker = DATACONTRACT_VENV / ".installed"
    if marker.exists() and marker.read_text() == DATACONTRACT:
        return DATACONTRACT_VENV
    say(f"installing {DATACONTRACT} into {DATACONTRACT_VENV} (first run only) ...")  # type: ignore[operator]
    shutil.rmtree(DATACONTRACT_VENV, ignore_errors=True)
    subprocess.run([PY, "-m", "venv", str(DATACONTRACT_VENV)], check=True)
    subprocess.run(
        [
            str(DATACONTRACT_VENV / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            DATACONTRACT,
        ],
        check=True,
    )
    marker.write_text(DATACONTRACT)
    return DATACONTRACT_VENV


def datacontract_ready() -> bool:
    marker = DATACONTRACT_VENV / ".installed"
    return marker.exists() and marker.read_text() == DATACONTRACT


def rebuild_for_datacontract(parquet: Path, db: Path) -> None:
    """raw.annotations from `parquet` in a DuckDB file written by datacontract-cli's DuckDB."""
    db.unlink(missing_ok=True)
    code = (
        "import duckdb, sys; c = duckdb.connect(sys.argv[1]); c.execute('SET threads = 2');"
        "c.execute('SET enable_progress_bar = false');"
        "c.execute('CREATE SCHEMA raw');"
        "c.execute('CREATE TABLE raw.annotations AS SELECT * FROM read_parquet(?)', "
        "[sys.argv[2]]); c.close()"
    )
    subprocess.run(
        [str(DATACONTRACT_VENV / "bin" / "python"), "-c", code, str(db), str(parquet)], check=True
    )


def odcs_contract(db: Path, parquet: Path) -> dict[str, object]:
    """The simple checks as an ODCS v3 contract with a DuckDB and a Parquet server."""
    properties: list[dict[str, object]] = []
    for name, kind, logical in COLUMNS:
        prop: dict[str, object] = {"name": name, "logicalType": logical, "physicalType": kind}
        if name in REQUIRED:
            prop["required"] = True
        if name == "annotation_id":
            prop["unique"] = True
        if name == "annotator_id":
            prop["logicalTypeOptions"] = {"pattern": PATTERN}
        if name == "confidence":
            prop["logicalTypeOptions"] = {"minimum": 0, "maximum": 1}
        values = {"label": LABELS, "split": SPLITS}.get(name)
        if values:
            prop["quality"] = [
                {
                    "type": "library",
                    "metric": "invalidValues",
                    "arguments": {"validValues": values},
                    "mustBe": 0,
                }
            ]
        properties.append(prop)
    return {
        "apiVersion": "v3.1.0",
        "kind": "DataContract",
        "id": "labelpact-bench-annotations",
        "name": "annotations",
        "version": "1.0.0",
        "status": "active",
        "servers": [
            {"server": "duckdb", "type": "duckdb", "database": str(db), "schema": "raw"},
            {"server": "parquet", "type": "local", "format": "parquet", "path": str(parquet)},
        ],
        "schema": [
            {
                "name": "annotations",
                "physicalName": "annotations",
                "physicalType": "table",
                "properties": properties,
            }
        ],
    }


# datacontract-cli's check types -> the 14 checks (presence and type of a column: the schema)
DATACONTRACT_KINDS = {
    "field_required": "not_null",
    "field_unique": "unique",
    "field_invalid_values": "accepted_values",
    "field_regex": "pattern",
    "field_minimum": "between",
    "field_maximum": "between",
}


def datacontract_failing(report: dict[str, object]) -> set[str]:
    """The simple checks that failed in a `datacontract test --output-format json` report."""
    failing = set()
    for check in report["checks"]:  # type: ignore[attr-defined]
        if check["result"] not in ("failed", "error"):
            continue
        kind = DATACONTRACT_KINDS.get(check["type"])
        failing.add(f"annotations.{check['field']}.{kind}" if kind else SCHEMA)
    return failing

"""Warehouses we cannot run here, compiled by their real dbt adapter plugins.

For Snowflake, BigQuery, Databricks, Trino and Redshift, the example project is compiled for
every dialect and then by `dbt compile` with a profile of that adapter type, through the
installed plugin (dbt-snowflake, dbt-bigquery, ...). The profiles name no reachable server and
the dbt processes run with the network refused (any socket connect or name lookup raises): the
compile must not need a connection. Each compiled check must be exactly the SQL labelpact
renders for that adapter's dialect alone, the column rules must take the adapter's own macro
(`adapter.dispatch`), and the model columns the adapter's type names. The rendered-and-parsed
dialect goldens (tests/golden_dialects) stay the review surface for the SQL itself.
"""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlglot
from helpers import ROOT

from validator.compiler.artifacts import compile_contracts
from validator.compiler.plan import build_plans
from validator.compiler.sql.dialects import dialect_for_adapter
from validator.contract.resolve import load_contracts

pytestmark = pytest.mark.dbt

ALL_DIALECTS = ("duckdb", "postgres", "spark", "snowflake", "bigquery", "trino")
# adapter type -> its profile (credentials that are never used: nothing connects)
PROFILES: dict[str, dict[str, Any]] = {
    "snowflake": {
        "account": "labelpact-offline",
        "user": "nobody",
        "password": "never-used",
        "database": "analytics",
        "warehouse": "compute_wh",
        "schema": "labelpact",
    },
    # oauth-secrets with a token: no credential lookup (the default `oauth` method asks the
    # metadata server for application default credentials at compile time)
    "bigquery": {
        "method": "oauth-secrets",
        "token": "never-used",
        "project": "labelpact-offline",
        "dataset": "labelpact",
    },
    "databricks": {
        "host": "labelpact-offline.invalid",
        "http_path": "/sql/1.0/warehouses/offline",
        "token": "never-used",
        "catalog": "main",
        "schema": "labelpact",
    },
    "trino": {
        "method": "none",
        "user": "nobody",
        "host": "labelpact-offline.invalid",
        "port": 8080,
        "database": "memory",
        "schema": "labelpact",
    },
    "redshift": {
        "host": "labelpact-offline.invalid",
        "user": "nobody",
        "password": "never-used",
        "port": 5439,
        "dbname": "analytics",
        "schema": "labelpact",
    },
}
# The column rule `pattern` takes each adapter's own regex search (labelpact_sql.sql).
REGEX_SEARCH = {
    "snowflake": "regexp_instr(",
    "bigquery": "regexp_contains(",
    "databricks": " rlike ",
    "trino": "regexp_like(",
    "redshift": " ~ ",
}
# Written out by hand (not derived from dialects.py, which the compile itself uses): what the
# agreement check must contain on each adapter, the relation as that adapter's plugin names
# it, and the warehouse type of a varchar column.
KRIPPENDORFF = {
    "snowflake": ['CAST("label" AS VARCHAR)', "SUBSTRING(t.g, 2)", "AS DOUBLE)"],
    "bigquery": ["CAST(`label` AS STRING)", "SUBSTRING(t.g, 2)"],
    "databricks": ["CAST(`label` AS STRING)", "SUBSTRING(t.g, 2)"],
    "trino": ['CAST("label" AS VARCHAR)', "SUBSTR(t.g, 2)"],
    "redshift": ['CAST("label" AS TEXT)', "SUBSTRING(t.g FROM 2)", "AS DOUBLE PRECISION)"],
}
RELATION = {
    "snowflake": "analytics.labelpact.annotations",
    "bigquery": "`labelpact-offline`.`labelpact`.`annotations`",
    "databricks": "`main`.`labelpact`.`annotations`",
    "trino": '"memory"."labelpact"."annotations"',
    "redshift": '"analytics"."labelpact"."annotations"',
}
VARCHAR = {
    "snowflake": "varchar",
    "bigquery": "string",
    "databricks": "string",
    "trino": "varchar",
    "redshift": "character varying",
}

# Runs dbt with the network refused: a compile that tried to connect fails loudly.
OFFLINE_DBT = """
import socket, sys
def refuse(*args, **kwargs):
    raise OSError("labelpact test: no network while compiling")
socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
from dbt.cli.main import dbtRunner
result = dbtRunner().invoke(sys.argv[1:])
sys.exit(0 if result.success else 1)
"""


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example project compiled for every dialect, then by each adapter's dbt compile."""
    root = tmp_path_factory.mktemp("adapters")
    (root / "dbt_project.yml").write_text((ROOT / "dbt_project.yml").read_text())
    for rel, text in compile_contracts(_contracts(), ALL_DIALECTS, root).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    outputs = {t: {"type": t, "threads": 1, **p} for t, p in PROFILES.items()}
    profile = {"labelpact": {"target": "snowflake", "outputs": outputs}}
    (root / "profiles.yml").write_text(json.dumps(profile))  # JSON is YAML
    env = {k: v for k, v in os.environ.items() if not k.startswith("DBT_")}
    runs = {
        adapter: subprocess.Popen(
            [
                sys.executable,
                "-c",
                OFFLINE_DBT,
                "compile",
                "--project-dir",
                str(root),
                "--profiles-dir",
                str(root),
                "--target",
                adapter,
                "--target-path",
                f"target_{adapter}",
                "--no-populate-cache",
                "--no-partial-parse",
                "--no-send-anonymous-usage-stats",
                "--no-use-colors",
            ],
            cwd=root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for adapter in PROFILES
    }
    for adapter, run in runs.items():
        out, _ = run.communicate(timeout=600)
        if run.returncode != 0:  # kept for that adapter's tests to fail with
            (root / f"failed_{adapter}.log").write_text(out)
    return root


def _contracts() -> list[Any]:
    return load_contracts([ROOT / "contracts"])


def _manifest(root: Path, adapter: str) -> dict[str, Any]:
    log = root / f"failed_{adapter}.log"
    if log.exists():
        errors = [line for line in log.read_text().splitlines() if "rror" in line]
        pytest.fail(f"dbt compile for {adapter} failed: " + "\n".join(errors[-20:]))
    data: dict[str, Any] = json.loads((root / f"target_{adapter}" / "manifest.json").read_text())
    return data


_REF = re.compile(r"\{\{ ref\('(\w+)'\) \}\}")
_BRANCH = re.compile(
    r"\{%- (?:if|elif) target\.type in \(([^)]*)\) %\}\n(.*?)\n(?=\{%- (?:elif|else))", re.S
)


def _branches(text: str) -> dict[str, str]:
    """adapter type -> the SQL of its branch in a singular test file."""
    out = {}
    for types, sql in _BRANCH.findall(text):
        for t in re.findall(r"'(\w+)'", types):
            out[t] = sql
    return out


@functools.cache
def _single(adapter: str) -> dict[str, str]:
    """Each singular test file as compiled for this adapter's dialect alone."""
    single = compile_contracts(_contracts(), (dialect_for_adapter(adapter).name,), None)
    return {
        Path(rel).stem: text
        for rel, text in single.items()
        if rel.startswith("checks/labelpact/") and rel.endswith(".sql")
    }


def _expected(adapter: str, manifest: dict[str, Any]) -> dict[str, str]:
    """Each singular check as labelpact renders it for this adapter's dialect alone, with the
    relations dbt resolved for this adapter (read from its manifest)."""
    relations = {
        n["name"]: n["relation_name"]
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model"
    }
    out = {}
    for name, text in _single(adapter).items():
        (sql,) = set(_branches(text).values())
        out[name] = _REF.sub(lambda m: relations[m.group(1)], sql)
    return out


def _compiled_body(path: Path) -> str:
    lines = path.read_text().splitlines()
    return "\n".join(line for line in lines if not line.startswith("-- ")).strip()


@pytest.mark.parametrize("adapter", list(PROFILES))
def test_each_check_compiles_to_the_sql_of_its_adapter(adapter: str, compiled: Path) -> None:
    manifest = _manifest(compiled, adapter)
    expected = _expected(adapter, manifest)
    singular = [
        ch.test_name
        for plan in build_plans(_contracts())
        for ch in plan.checks
        if ch.params.dbt.name == "SINGULAR"
    ]
    assert sorted(expected) == sorted(singular) and len(singular) > 20
    checks = compiled / f"target_{adapter}" / "compiled" / "labelpact" / "checks" / "labelpact"
    dialect = dialect_for_adapter(adapter)
    picked_apart = 0  # checks whose SQL for this adapter differs from another dialect's
    for name, sql in expected.items():
        got = _compiled_body(checks / f"{name}.sql")
        assert got == sql.strip(), f"{adapter}: {name} is not the SQL rendered for {adapter}"
        sqlglot.parse_one(got, read=dialect.sqlglot)  # it is SQL of the adapter's dialect
        source = (compiled / "checks" / "labelpact" / f"{name}.sql").read_text()
        branches = _branches(source)
        assert branches[adapter] == _branches(_single(adapter)[name])[adapter]
        others = {s for t, s in branches.items() if t not in dialect.dbt_types}
        if branches[adapter] not in others:
            picked_apart += 1
    # a wrong target type would have picked different SQL for at least one check
    assert picked_apart >= 1


@pytest.mark.parametrize("adapter", list(PROFILES))
def test_column_rules_take_the_adapters_own_macro(adapter: str, compiled: Path) -> None:
    _manifest(compiled, adapter)  # the compile succeeded
    tests = compiled / f"target_{adapter}" / "compiled" / "labelpact" / "models" / "labelpact"
    pattern = (tests / "annotations.yml" / "lp_annotations__annotator_id__pattern.sql").read_text()
    assert REGEX_SEARCH[adapter] in pattern
    for other, construct in REGEX_SEARCH.items():
        if other != adapter and construct.strip() not in REGEX_SEARCH[adapter]:
            assert construct not in pattern, (adapter, other)
    assert sqlglot.parse_one(pattern, read=dialect_for_adapter(adapter).sqlglot)


@pytest.mark.parametrize("adapter", list(PROFILES))
def test_model_columns_carry_the_adapters_type_names(adapter: str, compiled: Path) -> None:
    dialect = dialect_for_adapter(adapter)
    nodes = _manifest(compiled, adapter)["nodes"]
    renamed = 0
    for contract in _contracts():
        columns = nodes[f"model.labelpact.{contract.name}"]["columns"]
        for name, column in contract.columns.items():
            expected = dialect.type_names.get(column.type, column.type)
            assert columns[name]["data_type"] == expected, (adapter, contract.name, name)
            renamed += expected != column.type
    # BigQuery and Databricks rename types; the others keep the logical names
    assert (renamed > 0) == bool(dialect.type_names), renamed


@pytest.mark.parametrize("adapter", list(PROFILES))
def test_compiled_checks_hold_the_adapters_constructs(adapter: str, compiled: Path) -> None:
    columns = _manifest(compiled, adapter)["nodes"]["model.labelpact.annotations"]["columns"]
    checks = compiled / f"target_{adapter}" / "compiled" / "labelpact" / "checks" / "labelpact"
    sql = (checks / "lp_annotations__agreement__krippendorff_alpha.sql").read_text()
    for construct in KRIPPENDORFF[adapter]:
        assert construct in sql, (adapter, construct)
    for other, constructs in KRIPPENDORFF.items():
        if constructs != KRIPPENDORFF[adapter] and other not in ("bigquery", "databricks"):
            assert not all(c in sql for c in constructs), (adapter, other)
    assert f"FROM {RELATION[adapter]}" in sql
    assert columns["item_id"]["data_type"] == VARCHAR[adapter]

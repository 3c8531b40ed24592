"""`validate`'s `dbt run`, replayed without dbt when nothing dbt reads has changed (issue #17).

Before its checks, `validate` has dbt build the models of the selected contracts (views over
the sources, each with its enforced model contract: the schema check, and the shared per-item
tables). Importing dbt and parsing the project cost more than the checks themselves on the
simple contract at 10M rows. So after dbt built them, labelpact records what dbt ran: each
model's relation, materialization and compiled SQL, in dbt's order, and the columns (names and
types) each relation had once dbt had built it and accepted its contract. The record is keyed
by a digest of the profile (see `recorded.py`), of every file dbt reads (dbt_project.yml, the
project's model, macro, test, seed, snapshot, analysis and docs paths, installed packages), of
the environment variables those files name and of the selection.

A later `validate` with the same digest, on the recorded DuckDB connection, runs the same
compiled SQL the way dbt-duckdb materializes it (`CREATE OR REPLACE VIEW/TABLE ... AS (<the
compiled SQL>)`, one transaction) and compares every relation's columns with the record. The
same compiled SQL and the same declared contract with the same columns give dbt's verdict on
the contract: a pass. Any difference (a column added, dropped or retyped in a source, a model
that fails) and dbt builds the models as before, with dbt's own verdict, and records again.

Recorded are only runs where every model built and is a plain view or table (no hooks, grants
or persisted docs, no enforced contract on a table, no on-run-start/end hooks in the project
or its packages): the DDL above is all dbt ran for them.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import yaml
from sqlglot import exp

from validator.engines.dbt_runner import BuildResult, CheckOutcome
from validator.engines.recorded import (
    RECORD_FORMAT,
    DuckDBFile,
    _write_json,
    digest,
    environment,
    file_digests,
    plain_duckdb,
    profile_digest,
    read_json,
    state_dir,
)
from validator.engines.warehouse import Warehouse
from validator.errors import EngineError
from validator.settings import Settings

# dbt_project.yml keys naming the directories dbt reads, with dbt's defaults.
_PATHS = {
    "model-paths": ["models"],
    "macro-paths": ["macros"],
    "test-paths": ["tests"],
    "seed-paths": ["seeds"],
    "snapshot-paths": ["snapshots"],
    "analysis-paths": ["analyses"],
    "docs-paths": [],
    "packages-install-path": ["dbt_packages"],
}
_FILES = ("dbt_project.yml", "packages.yml", "dependencies.yml", "selectors.yml")
_HOOKS = ("on-run-start", "on-run-end", "on_run_start", "on_run_end")


@dataclass
class Models:
    """The models of a run, built by dbt or replayed: what `validate` reads of them."""

    build: BuildResult
    relations: dict[str, str]  # contract -> the relation of its model (every contract's)
    shared: dict[str, str]  # shared per-item model -> its relation
    sources: dict[str, str]  # selected contract -> the relation its model reads
    replayed: bool = False


def _project(root: Path) -> dict[str, Any] | None:
    try:
        data = yaml.safe_load((root / "dbt_project.yml").read_text())
    except (OSError, yaml.YAMLError):
        return None
    return data if isinstance(data, dict) else None


def _inputs(root: Path) -> list[Path] | None:
    """Every file and directory dbt reads in the project at `root`; None when that cannot be
    told without dbt (a path given by Jinja) or the project or a package has run hooks."""
    project = _project(root)
    if project is None or any(project.get(k) for k in _HOOKS):
        return None
    out = [root / name for name in _FILES]
    for key, default in _PATHS.items():
        given = project.get(key, default)
        given = [given] if isinstance(given, str) else given
        if not isinstance(given, list) or not all(isinstance(p, str) for p in given):
            return None
        if any("{{" in p for p in given):
            return None
        out += [root / p for p in given]
    packages = root / str(project.get("packages-install-path", "dbt_packages"))
    for package in sorted(packages.glob("*/")) if packages.is_dir() else []:
        if _inputs_have_hooks(package):
            return None
    return out


def _inputs_have_hooks(package: Path) -> bool:
    project = _project(package)
    return bool(project and any(project.get(k) for k in _HOOKS))


def run_digest(settings: Settings, selector: str) -> str | None:
    """The digest of everything `dbt run --select selector` reads for `settings`."""
    inputs = _inputs(settings.project_dir)
    if inputs is None:
        return None
    files, names = file_digests(inputs)
    return digest(
        {
            "format": RECORD_FORMAT,
            "profile": profile_digest(settings),
            "files": files,
            "env": environment(names, settings),
            "selector": selector,
        }
    )


def _path(settings: Settings, selector: str) -> Path:
    return state_dir(settings) / f"dbt-run-{digest(selector)[:16]}.json"


def replayable(models: Models, wh: Warehouse) -> bool:
    """Whether the DDL `_ddl` renders is all dbt ran for these models on this connection: a
    plain DuckDB file, every model built, each a plain view or table (no enforced contract on
    a table: dbt creates that one with the declared types first)."""
    if not isinstance(wh, DuckDBFile) and plain_duckdb(wh) is None:
        return False
    build = models.build
    return build.success and all(
        n["status"] == "success"
        and n["materialized"] in ("view", "table")
        and not n["extras"]
        and not (n["materialized"] == "table" and n["enforced"])
        for n in build.nodes
    )


def record(settings: Settings, selector: str, key: str, models: Models, wh: Warehouse) -> None:
    """Record what dbt ran for `selector` (after a `dbt run` that built every model), under
    `key` (`run_digest`), when it is `replayable`."""
    if not replayable(models, wh):
        return
    build = models.build
    nodes = [{**n, "columns": [list(c) for c in wh.schema(n["relation"])]} for n in build.nodes]
    _write_json(
        _path(settings, selector),
        {
            "format": RECORD_FORMAT,
            "digest": key,
            "selector": selector,
            "nodes": nodes,
            "outcomes": {k: asdict(v) for k, v in build.outcomes.items()},
            "relations": models.relations,
            "shared": models.shared,
            "sources": models.sources,
        },
    )


def load(settings: Settings, selector: str, key: str) -> dict[str, Any] | None:
    """The record of `selector`, when it was made under `key` (nothing dbt reads changed)."""
    data = read_json(_path(settings, selector))
    if data is None or data.get("selector") != selector or data.get("digest") != key:
        return None
    return data


def _ddl(node: dict[str, Any]) -> list[str]:
    """What dbt-duckdb runs for a plain view or table, as one replaceable statement each: the
    compiled SQL is dbt's text, run as dbt runs it (wrapped, never re-rendered)."""
    table = exp.to_table(node["relation"], dialect="duckdb")
    schema = exp.Table(db=table.args.get("db"), catalog=table.args.get("catalog"))
    head = exp.Create(this=table, kind=node["materialized"].upper(), replace=True)
    return [
        exp.Create(this=schema, kind="SCHEMA", exists=True).sql("duckdb"),
        f"{head.sql('duckdb')} AS (\n{node['sql']}\n)",
    ]


def replay(data: dict[str, Any], wh: Warehouse) -> Models | None:
    """Build the recorded models on `wh` with dbt's compiled SQL; None when the warehouse
    differs from what dbt built and accepted (dbt must judge it) or `wh` is not the recorded
    DuckDB connection."""
    if not isinstance(wh, DuckDBFile):
        return None
    seconds: dict[str, float] = {}
    for node in data["nodes"]:
        started = time.monotonic()
        try:
            wh.materialize(_ddl(node))
        except EngineError:
            return None  # dbt runs it, and reports the failure its own way
        seconds[node["name"]] = time.monotonic() - started
    try:
        for node in data["nodes"]:
            if [list(c) for c in wh.schema(node["relation"])] != node["columns"]:
                return None
    except EngineError:
        return None
    outcomes = {k: CheckOutcome(**v) for k, v in data["outcomes"].items()}
    for node in data["nodes"]:
        if node["check_id"] in outcomes:
            outcomes[node["check_id"]] = replace(
                outcomes[node["check_id"]], duration=seconds[node["name"]]
            )
    nodes = [{**n, "seconds": seconds[n["name"]]} for n in data["nodes"]]
    build = BuildResult(success=True, outcomes=outcomes, nodes=nodes)
    return Models(
        build, dict(data["relations"]), dict(data["shared"]), dict(data["sources"]), replayed=True
    )

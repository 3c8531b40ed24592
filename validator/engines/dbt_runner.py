"""Run the compiled dbt project in-process and map dbt's results back to check ids.

dbt is parsed once per `DbtProject`; every later `build()` reuses the manifest, so a caller
that builds many warehouses (tests, `validate` over several targets) pays dbt's parse once.
"""

from __future__ import annotations

import contextlib
import io
import os
import random
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from validator.errors import EngineError
from validator.settings import Settings

LOCK = threading.Lock()  # dbt keeps process-global state; one invocation at a time


@dataclass(frozen=True)
class CheckOutcome:
    """What one check returned in one run."""

    check_id: str
    contract: str
    status: str  # pass | fail | warn | error | skipped
    failures: int | None
    message: str
    severity: str
    duration: float = 0.0
    sql: str = ""

    @property
    def failed(self) -> bool:
        return self.status in ("fail", "error", "warn")


@dataclass
class BuildResult:
    """Every check outcome of one `dbt build`, keyed by check id."""

    success: bool
    outcomes: dict[str, CheckOutcome] = field(default_factory=dict)
    log: str = ""
    # What dbt ran for each model, in the order its results came (`replay.py` runs it again).
    nodes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def models(self) -> dict[str, str]:
        """Every model the run built, by name: dbt's status (success | error | skipped)."""
        return {n["name"]: n["status"] for n in self.nodes}

    @property
    def shared(self) -> list[tuple[list[str], float]]:
        """The shared per-item models' times: (the checks reading one, seconds)."""
        return [(n["shared_by"], n["seconds"]) for n in self.nodes if n["shared_by"]]

    @property
    def failing_ids(self) -> set[str]:
        """Checks that failed (errors and warnings both count), schema checks included."""
        return {cid for cid, o in self.outcomes.items() if o.failed}

    @property
    def error_ids(self) -> set[str]:
        return {cid for cid, o in self.outcomes.items() if o.status in ("fail", "error")}


@contextlib.contextmanager
def _env(extra: Mapping[str, str]) -> Iterator[None]:
    old = {k: os.environ.get(k) for k in extra}
    os.environ.update(extra)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def release_duckdb() -> None:
    """Close dbt-duckdb's process-wide database handle after each invocation.

    dbt-duckdb caches one DuckDB instance per process (`DuckDBConnectionManager._ENV`) and
    keeps the file open after `invoke()` returns. That holds DuckDB's single-writer lock
    against other processes and makes a later read-only `duckdb.connect()` in this process
    fail ("different configuration"). Closing it costs one reopen per build.
    """
    if "dbt.adapters.duckdb.connections" not in sys.modules:
        return  # no DuckDB build ran in this process (importing it now only adds noise)
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:
        env = DuckDBConnectionManager._ENV
        if env is not None:
            with contextlib.suppress(Exception):
                env.close()
            DuckDBConnectionManager._ENV = None


BUSY_RETRIES = 8


class WarehouseBusy(EngineError):
    """Another process holds the warehouse's write lock; retrying later will work."""


def _is_busy(result: Any, log: str) -> bool:
    """True when dbt failed only because DuckDB's file lock is held by another process."""
    texts = [log, str(result.exception or "")]
    if result.result is not None:
        texts += [str(r.message or "") for r in result.result.results]
    return any("Could not set lock on file" in t or "Conflicting lock" in t for t in texts)


class DbtProject:
    """A dbt project directory driven through `dbtRunner`, parsed once."""

    def __init__(
        self,
        project_dir: Path,
        profiles_dir: Path | None = None,
        target: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.project_dir = project_dir.resolve()
        self.profiles_dir = (profiles_dir or project_dir).resolve()
        self.target = target
        self.env = dict(env or {})
        self._manifest: Any = None

    @classmethod
    def from_settings(cls, settings: Settings) -> DbtProject:
        """The project, profiles directory, target and profile environment of `settings`."""
        return cls(settings.project_dir, settings.profiles, settings.target, settings.env)

    def _args(self, command: str, *extra: str) -> list[str]:
        args = [
            command,
            "--project-dir",
            str(self.project_dir),
            "--profiles-dir",
            str(self.profiles_dir),
            "--quiet",
            "--no-use-colors",
            # labelpact reads dbt's results in-process: writing manifest.json and
            # run_results.json (0.2-0.4 s a run) would only overwrite the team's own artifacts.
            "--no-write-json",
        ]
        if self.target:
            args += ["--target", self.target]
        return args + list(extra)

    def _invoke(self, args: list[str], env: Mapping[str, str]) -> tuple[Any, str]:
        from dbt.cli.main import dbtRunner

        buffer = io.StringIO()
        with LOCK, _env(self.env | dict(env)), contextlib.redirect_stdout(buffer):
            runner = dbtRunner(manifest=self._manifest) if self._manifest else dbtRunner()
            try:
                result = runner.invoke(args)
            finally:
                release_duckdb()
        return result, buffer.getvalue()

    def parse(self) -> Any:
        """Parse the project (once) and keep the manifest for later invocations."""
        if self._manifest is None:
            result, log = self._invoke(self._args("parse"), {})
            if not result.success:
                raise EngineError(
                    f"dbt could not parse {self.project_dir}: "
                    f"{result.exception or log.strip()[-2000:]}"
                )
            self._manifest = result.result
        return self._manifest

    def relation_name(self, model: str) -> str:
        """The warehouse relation dbt builds for `model` (e.g. `"db"."main"."annotations"`)."""
        manifest = self.parse()
        for node in manifest.nodes.values():
            if node.resource_type == "model" and node.name == model:
                return str(node.relation_name)
        raise EngineError(f"model '{model}' is not in the dbt project; run `labelpact compile`")

    def build(
        self,
        env: Mapping[str, str] | None = None,
        select: str | None = None,
        vars: Mapping[str, Any] | None = None,
        command: str = "build",
    ) -> BuildResult:
        """`dbt build` against whatever `env` points the profile at (`command="run"`: only
        the models, with their enforced contracts: the schema checks)."""
        import json

        self.parse()
        extra: list[str] = []
        if select:
            extra += ["--select", select]
        if vars:
            extra += ["--vars", json.dumps(dict(vars))]
        for attempt in range(BUSY_RETRIES + 1):
            result, log = self._invoke(self._args(command, *extra), env or {})
            busy = _is_busy(result, log)
            if not busy:
                break
            if attempt == BUSY_RETRIES:
                raise WarehouseBusy(
                    "the warehouse is busy: another process holds DuckDB's write lock; retry later"
                )
            time.sleep(min(0.5 * 2**attempt, 5.0) * (1 + random.random()))
        if result.result is None:
            raise EngineError(
                f"dbt {command} did not run: {result.exception or log.strip()[-2000:]}"
            )
        return _collect(result, log)


def _collect(result: Any, log: str) -> BuildResult:
    outcomes: dict[str, CheckOutcome] = {}
    nodes: list[dict[str, Any]] = []
    for node_result in result.result.results:
        node = node_result.node
        meta = (node.config.meta or {}).get("labelpact", {})
        status = str(node_result.status).lower()
        if node.resource_type == "model":
            nodes.append(_model_node(node, node_result))
        if node.resource_type == "model" and meta.get("shared_by"):
            continue
        if node.resource_type == "model":
            check_id = meta.get("schema_check_id")
            if not check_id:
                continue
            contract = meta.get("contract", "")
            severity = "error"
            # A model that fails to build is a schema (contract) failure: dbt's own message.
            status = {"success": "pass", "error": "error", "skipped": "skipped"}.get(status, status)
        elif node.resource_type in ("test", "unit_test"):
            check_id = meta.get("check_id")
            if not check_id:
                continue
            contract = meta.get("contract", "")
            severity = str(node.config.severity).lower()
            status = {
                "pass": "pass",
                "fail": "fail",
                "warn": "warn",
                "error": "error",
                "skipped": "skipped",
            }.get(status, status)
        else:
            continue
        failures = getattr(node_result, "failures", None)
        outcomes[check_id] = CheckOutcome(
            check_id=check_id,
            contract=contract,
            status=status,
            failures=int(failures) if failures is not None else None,
            message=str(node_result.message or ""),
            severity=severity,
            duration=float(node_result.execution_time or 0.0),
            sql=str(getattr(node, "compiled_code", "") or ""),
        )
    build = BuildResult(success=bool(result.success), outcomes=outcomes, log=log, nodes=nodes)
    # A model computed once for several checks (a per-item aggregate): its time is theirs.
    for check_ids, seconds in build.shared:
        readers = [i for i in check_ids if i in outcomes]
        for i in readers:
            outcomes[i] = replace(
                outcomes[i], duration=outcomes[i].duration + seconds / len(readers)
            )
    return build


def _model_node(node: Any, node_result: Any) -> dict[str, Any]:
    """A model as dbt built it: its relation, materialization and compiled SQL, and what
    else dbt did around the SQL (hooks, grants, comments, an enforced contract)."""
    config = node.config
    contract = getattr(config, "contract", None)
    meta = (config.meta or {}).get("labelpact") or {}
    return {
        "name": str(node.name),
        "relation": str(node.relation_name or ""),
        "materialized": str(config.materialized),
        "sql": str(getattr(node, "compiled_code", "") or ""),
        "status": str(node_result.status).lower(),
        "seconds": float(node_result.execution_time or 0.0),
        "enforced": bool(getattr(contract, "enforced", False)),
        "check_id": str(meta.get("schema_check_id") or ""),  # its schema check, if any
        "shared_by": list(meta.get("shared_by") or []),
        "extras": bool(
            getattr(config, "pre_hook", None)
            or getattr(config, "post_hook", None)
            or getattr(config, "grants", None)
            or getattr(config, "persist_docs", None)
        ),
    }
